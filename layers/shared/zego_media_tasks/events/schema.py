"""The JSON Schema (draft 2020-12) of a state-change event as EventBridge delivers it, generated from the
code; committed as ``docs/state-change-event.schema.json``.

``python -m zego_media_tasks.events.schema`` rewrites the committed file; ``--check`` exits 1 when it is
stale. Nothing here is listed twice: the detail's members are the ones
:func:`~zego_media_tasks.domain.state_change.state_change` produces, in its order (a member without a
description here fails the generation); a member that carries a record field takes its type from the
record's declaration (:mod:`zego_media_tasks.domain.fields`); the status, vendor, kind and source
vocabularies are the enums of :mod:`zego_media_tasks.domain.status`; the limits are the constants of
:mod:`zego_media_tasks.domain.state_change`. Not part of the publisher: nothing imports it at run time.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from zego_media_tasks.documents import write_or_check
from zego_media_tasks.domain.fields import DeclaredField, declared_fields
from zego_media_tasks.domain.messages import MAX_TASK_ID_LENGTH, TASK_ID_PATTERN
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.state_change import (
    DEFAULT_SOURCE,
    DETAIL_TYPE,
    MAX_LIST_BYTES,
    MAX_LISTED_URLS,
    SCHEMA_VERSION,
    state_change,
)
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso

DOCUMENT_PATH: Final = Path(__file__).resolve().parents[4] / "docs" / "state-change-event.schema.json"
"""``docs/state-change-event.schema.json`` of the repository this module is checked out in."""
SCHEMA_ID: Final = "urn:zego-media-tasks:state-change-event"

_ENUMS: Final[dict[type[StrEnum], str]] = {
    TaskStatus: "status",
    Vendor: "vendor",
    TaskKind: "kind",
    ChangeSource: "changeSource",
}
"""Each vocabulary once, in ``$defs``, under this name."""

_LISTS = f"at most {MAX_LISTED_URLS} entries and {MAX_LIST_BYTES // 1024} KiB together"

DETAIL_MEMBERS: Final[dict[str, str]] = {
    "version": "The detail's schema version; this document describes version " + SCHEMA_VERSION + ".",
    "eventId": (
        "The change's id, the same at every delivery and every re-publication of it: a UUID derived from vendor, "
        "taskId and sequence. De-duplicate by it (EventBridge's own id differs at each publication)."
    ),
    "sequence": (
        "The record's sequence after this change: 1 for a registered record, one more with every status change. "
        "An event whose sequence is at or below the last one seen for (taskId, vendor) is stale or repeated; "
        "order a task's events by it."
    ),
    "taskId": "ZEGO's TaskId.",
    "vendor": "The CDN vendor running the task; a TaskId may exist for both.",
    "status": "The status the task changed to. SUCCEEDED, FAILED, CANCELED, NOT_FOUND, TIMED_OUT and REJECTED "
    "are terminal.",
    "previousStatus": "The status before the change; null when the change created the record.",
    "terminal": "Whether status is terminal: the last event of the task.",
    "source": (
        "What caused the change: REGISTRATION, POLL (a DescribeMediaTask answer), CALLBACK (ZEGO's signed "
        "completion callback), DEADLINE (polling gave up) or MALFORMED (a poll message could not be read)."
    ),
    "vendorStatus": "The vendor's own status, verbatim; null before ZEGO has described the task.",
    "event": "ZEGO's event name for the task (compose, transcode, or a snapshot event), when ZEGO gave one.",
    "kind": "merge, transcode or snapshot, when the registration (or a callback) said so.",
    "fileId": "The output file's id, when ZEGO reported one.",
    "replayUrl": "The output's playback URL, when ZEGO reported one.",
    "thumbnailUrls": f"The record's first thumbnail URLs ({_LISTS}); the record link gives them all.",
    "thumbnailCount": "How many thumbnail URLs the record holds.",
    "thumbnailsTruncated": "True when thumbnailUrls is not the record's whole list.",
    "fileNames": f"The record's first object names (Huawei snapshots; {_LISTS}); the record link gives them all.",
    "fileNameCount": "How many object names the record holds.",
    "fileNamesTruncated": "True when fileNames is not the record's whole list.",
    "message": "The vendor's message (for a failed task, its error text).",
    "resultCode": "The vendor's result code from a completion callback (0 on success).",
    "lastError": "The most recent failed DescribeMediaTask call (or rejection) for the task, or null.",
    "firstSeenAt": "When tracking of the task began.",
    "statusChangedAt": "When this change happened.",
    "completedAt": "When the task reached a terminal status; null until it did.",
    "completedBy": "What set the terminal status (POLL, CALLBACK, DEADLINE or MALFORMED); null until then.",
    "record": (
        "The read API path of the task's full record, relative to the API's stage URL "
        "(GET, authorized as every API call)."
    ),
}
"""What each member of the detail means: the schema's descriptions, and docs/architecture.md's table."""

_DERIVED: Final[dict[str, dict[str, Any]]] = {
    "version": {"const": SCHEMA_VERSION},
    "eventId": {"type": "string", "format": "uuid"},
    "previousStatus": {"anyOf": [{"$ref": "#/$defs/status"}, {"type": "null"}]},
    "terminal": {"type": "boolean"},
    "source": {"$ref": "#/$defs/changeSource"},
    "thumbnailUrls": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_LISTED_URLS},
    "thumbnailCount": {"type": "integer", "minimum": 0},
    "thumbnailsTruncated": {"type": "boolean"},
    "fileNames": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_LISTED_URLS},
    "fileNameCount": {"type": "integer", "minimum": 0},
    "fileNamesTruncated": {"type": "boolean"},
    "record": {"type": "string", "pattern": "^/tasks/[^?]+\\?vendor=(" + "|".join(v.value for v in Vendor) + ")$"},
}
"""The members that are not a record field: their types."""

_NARROWER: Final[dict[str, dict[str, Any]]] = {
    "taskId": {"minLength": 1, "maxLength": MAX_TASK_ID_LENGTH, "pattern": TASK_ID_PATTERN},
    "sequence": {"minimum": 1},
}
"""Record fields the event promises more about than their type."""


def sample_detail() -> dict[str, Any]:
    """A detail as the code produces it (a registration's): its members are the ones to describe."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    record = pending_record("t", Vendor.TENCENT, now=now, first_seen_at=to_iso(now), deadline_at=to_iso(now))
    change = state_change(None, record)
    if change is None:  # a new record always changes status
        raise AssertionError("a registration produced no state change")
    return change.detail


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def _described(item: DeclaredField) -> dict[str, Any]:
    return ({"description": item.info.doc} if item.info.doc else {}) | _field_schema(item)


def _field_schema(item: DeclaredField) -> dict[str, Any]:
    """The JSON Schema of a declared record field's value, as the event carries it."""
    hint = item.hint
    optional = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
    if optional:
        [hint] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    origin = typing.get_origin(hint) or hint
    schema: dict[str, Any]
    if item.info.timestamp:
        schema = {"$ref": "#/$defs/timestamp"}
    elif isinstance(origin, type) and issubclass(origin, StrEnum):
        schema = {"$ref": f"#/$defs/{_ENUMS[origin]}"}
    elif origin is str:
        schema = {"type": "string"}
    elif origin is int:
        schema = {"type": "integer", "minimum": 0}
    elif isinstance(origin, type) and dataclasses.is_dataclass(origin):
        members = declared_fields(origin)
        schema = {
            "type": "object",
            "additionalProperties": False,
            "required": [member.public_name for member in members],
            "properties": {member.public_name: _described(member) for member in members},
        }
    else:
        raise TypeError(f"{item.name}: no JSON Schema for {item.hint!r}; teach zego_media_tasks.events.schema")
    return _nullable(schema) if optional else schema


def detail_schema() -> dict[str, Any]:
    """The schema of the detail: every member the code produces, all required, nothing else allowed."""
    produced = list(sample_detail())
    undescribed = [name for name in produced if name not in DETAIL_MEMBERS]
    unproduced = [name for name in DETAIL_MEMBERS if name not in produced]
    if undescribed or unproduced:
        raise ValueError(f"detail members without a description: {undescribed}; described, not produced: {unproduced}")
    record_fields = {item.public_name: item for item in declared_fields(TaskRecord) if not item.info.internal}
    properties: dict[str, Any] = {}
    for name in produced:
        if name in _DERIVED:
            schema = dict(_DERIVED[name])
        elif name in record_fields:
            schema = {**_field_schema(record_fields[name]), **_NARROWER.get(name, {})}
        else:
            raise ValueError(f"detail member {name!r} is neither derived nor a record field")
        properties[name] = {"description": DETAIL_MEMBERS[name], **schema}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": produced,
        "properties": properties,
    }


def _enum_schema(enum: type[StrEnum]) -> dict[str, Any]:
    return {"type": "string", "enum": [member.value for member in enum]}


def event_schema() -> dict[str, Any]:
    """The whole event as a rule's target receives it: EventBridge's envelope around the detail."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": DETAIL_TYPE,
        "description": (
            "One event per status change of a ZEGO media task, as EventBridge delivers it to a rule's target. "
            "Generated from the code by python -m zego_media_tasks.events.schema; see docs/architecture.md."
        ),
        "type": "object",
        "required": ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"],
        "properties": {
            "version": {"description": "EventBridge's envelope version.", "const": "0"},
            "id": {
                "description": "EventBridge's id of this publication (not stable across re-publications: use "
                "detail.eventId).",
                "type": "string",
                "format": "uuid",
            },
            "detail-type": {"const": DETAIL_TYPE},
            "source": {
                "description": f"The stack's EventSource parameter ({DEFAULT_SOURCE} unless configured).",
                "type": "string",
                "minLength": 1,
                "maxLength": 256,
                "not": {"pattern": "^aws\\."},
            },
            "account": {"description": "The AWS account of the bus.", "type": "string", "pattern": "^[0-9]{12}$"},
            "time": {
                "description": "When the status changed (the detail's statusChangedAt, to the second).",
                "type": "string",
                "format": "date-time",
            },
            "region": {"description": "The AWS Region of the bus.", "type": "string", "minLength": 1},
            "resources": {"description": "Empty.", "type": "array", "items": {"type": "string"}},
            "detail": {"$ref": "#/$defs/detail"},
        },
        "$defs": {
            "detail": detail_schema(),
            **{name: _enum_schema(enum) for enum, name in _ENUMS.items()},
            "timestamp": {
                "description": "ISO 8601 UTC with milliseconds and Z, e.g. 2026-11-23T10:00:00.123Z.",
                "type": "string",
                "format": "date-time",
            },
        },
    }


def schema_json() -> str:
    """The document as committed: indented JSON with a final newline."""
    return json.dumps(event_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the document (default ``docs/state-change-event.schema.json``), or with ``--check`` report
    whether it is stale."""
    return write_or_check(
        argv, schema_json, default_path=DOCUMENT_PATH, module="zego_media_tasks.events.schema", doc=__doc__
    )


if __name__ == "__main__":
    raise SystemExit(main())
