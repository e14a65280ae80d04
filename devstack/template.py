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
