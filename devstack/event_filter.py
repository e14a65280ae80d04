"""Lambda event filtering (an event source mapping's ``FilterCriteria``), for the patterns this stack uses.

Lambda hands a function only the records that match at least one of the mapping's filter patterns, and
drops the others without invoking it (nor billing an invocation). A pattern is a JSON object whose
leaves are lists of allowed values: a plain value matches that value, ``{"anything-but": [...]}`` any
value present and not listed, ``{"exists": true|false}`` the key's presence or absence. A pattern key
must be present in the record unless it asks ``{"exists": false}``; nested objects match nested objects
(AWS Lambda Developer Guide, "Control which events Lambda sends to your function"). This module reads
the template's patterns and answers, for a record shaped as Lambda hands it, whether it gets through.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from devstack.template import function_event

_MISSING = object()


def _leaf_matches(value: Any, allowed: Sequence[Any]) -> bool:
    for rule in allowed:
        if isinstance(rule, Mapping):
            if "exists" in rule:
                if bool(rule["exists"]) == (value is not _MISSING):
                    return True
            elif "anything-but" in rule:
                excluded = rule["anything-but"]
                excluded = excluded if isinstance(excluded, list) else [excluded]
                if value is not _MISSING and value not in excluded:
                    return True
            else:
                raise ValueError(f"filter rule not supported locally: {rule}")
        elif value is not _MISSING and value == rule:
            return True
    return False


def matches(pattern: Mapping[str, Any], record: Any) -> bool:
    """Whether ``record`` (a JSON-like object) matches one filter ``pattern``."""
    for key, expected in pattern.items():
        value = record.get(key, _MISSING) if isinstance(record, Mapping) else _MISSING
        if isinstance(expected, Mapping):
            if value is _MISSING or not matches(expected, value):
                return False
        elif not _leaf_matches(value, expected):
            return False
    return True


def passes(patterns: Sequence[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """Whether Lambda hands ``record`` to the function: no patterns, or at least one that matches."""
    return not patterns or any(matches(pattern, record) for pattern in patterns)


def stream_record(old_item: Mapping[str, Any] | None, new_item: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filtered part of a ``NEW_AND_OLD_IMAGES`` stream record of a write ``old_item`` -> ``new_item``
    (resource-layer items, None: no item before / after), with the images in DynamoDB's JSON as Lambda
    hands them."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    data: dict[str, Any] = {}
    for name, item in (("OldImage", old_item), ("NewImage", new_item)):
        if item is not None:
            data[name] = {key: serializer.serialize(value) for key, value in item.items()}
    name = "INSERT" if old_item is None else "REMOVE" if new_item is None else "MODIFY"
    return {"eventName": name, "eventSource": "aws:dynamodb", "dynamodb": data}


def event_patterns(event: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    """The filter patterns of an event source's properties (``FilterCriteria``; none: empty)."""
    return tuple(json.loads(item["Pattern"]) for item in event.get("FilterCriteria", {}).get("Filters", []))


def template_patterns(function_logical_id: str, event_type: str) -> tuple[dict[str, Any], ...]:
    """The filter patterns of the function's first ``event_type`` event in template.yaml (none: empty)."""
    _function, event = function_event(function_logical_id, event_type)
    return event_patterns(event)
