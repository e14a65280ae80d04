"""Read ``template.yaml`` as data: the one source of truth for resource shapes.

CloudFormation short-form tags (``!Ref``, ``!GetAtt``, ``!Sub`` ...) are turned into their long form
(``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``) so the document is plain dicts and lists.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that understands CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@functools.lru_cache(maxsize=4)
def _parsed(path: Path, modified_ns: int) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loader = _CfnLoader(handle)  # a SafeLoader subclass: no arbitrary object construction
        try:
            document = loader.get_single_data()
        finally:
            loader.dispose()
    if not isinstance(document, dict) or "Resources" not in document:
        raise ValueError(f"{path} is not a CloudFormation template")
    return document


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data (a private copy: parsed once per file version, then copied)."""
    return copy.deepcopy(_parsed(path, path.stat().st_mtime_ns))


def parameter_defaults(template: dict[str, Any]) -> dict[str, Any]:
    """Each template parameter's default value (as declared)."""
    return {
        name: spec.get("Default") for name, spec in template.get("Parameters", {}).items() if isinstance(spec, dict)
    }


def _with_parameters(value: Any, parameters: dict[str, Any]) -> Any:
    """``value`` with every ``{"Ref": <parameter>}`` replaced by the parameter's value."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        return {key: _with_parameters(item, parameters) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_parameters(item, parameters) for item in value]
    return value


def function_event(
    function_logical_id: str, event_type: str, parameter_overrides: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A template function's properties (``Timeout`` and the like falling back to ``Globals``) and the
    properties of its first event of ``event_type`` (``SQS``, ``DynamoDB``), parameters resolved (their
    defaults, or ``parameter_overrides``): what a local event source needs to behave as deployed."""
    template = load_template()
    parameters = {**parameter_defaults(template), **(parameter_overrides or {})}
    function = {
        **template.get("Globals", {}).get("Function", {}),
        **template["Resources"][function_logical_id]["Properties"],
    }
    events = [e["Properties"] for e in function.get("Events", {}).values() if e.get("Type") == event_type]
    if not events:
        raise ValueError(f"{function_logical_id} has no {event_type} event in template.yaml")
    return _with_parameters(function, parameters), _with_parameters(events[0], parameters)
