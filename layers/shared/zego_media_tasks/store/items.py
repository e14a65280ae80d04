"""The mapping between :class:`TaskRecord` and DynamoDB items: the one place attribute names live.

Key design (see docs/architecture.md): partition key ``taskId``, sort key ``vendor``, so the same TaskId
can be tracked for both vendors and ``GET /tasks/{taskId}`` is one Query. Two GSIs list tasks by status,
newest change first: ``ByStatus`` (``status``, ``statusChangedAt``) and ``ByVendorStatus``
(``vendorStatusKey`` = ``"<Vendor>#<STATUS>"``, ``statusChangedAt``). ``expiresAt`` is the TTL attribute.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zego_media_tasks.domain.record import LastError, TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor

PARTITION_KEY = "taskId"
SORT_KEY = "vendor"
STATUS_INDEX = "ByStatus"
VENDOR_STATUS_INDEX = "ByVendorStatus"
STATUS_ATTR = "status"
VENDOR_STATUS_KEY_ATTR = "vendorStatusKey"
STATUS_CHANGED_ATTR = "statusChangedAt"
GENERATION_ATTR = "generation"
TTL_ATTR = "expiresAt"
MAX_RAW_JSON_BYTES = 64 * 1024
"""The raw vendor block is kept verbatim up to this size; DynamoDB items stop at 400 KB."""

_KNOWN = frozenset(
    {
        PARTITION_KEY,
        SORT_KEY,
        STATUS_ATTR,
        VENDOR_STATUS_KEY_ATTR,
        STATUS_CHANGED_ATTR,
        GENERATION_ATTR,
        TTL_ATTR,
        "firstSeenAt",
        "deadlineAt",
        "vendorStatus",
        "event",
        "fileId",
        "replayUrl",
        "thumbnailUrls",
        "fileNames",
        "message",
        "vendorRequestId",
        "zegoRequestId",
        "vendorCreatedAt",
        "vendorEndedAt",
        "rawJson",
        "lastPolledAt",
        "completedAt",
        "pollCount",
        "attempt",
        "nextPollAt",
        "lastError",
        "updatedAt",
    }
)


def vendor_status_key(vendor: Vendor, status: TaskStatus) -> str:
    """The ``ByVendorStatus`` partition key value."""
    return f"{vendor.value}#{status.value}"


def key_of(task_id: str, vendor: Vendor) -> dict[str, str]:
    """The primary key of a record."""
    return {PARTITION_KEY: task_id, SORT_KEY: vendor.value}


def _raw_json(raw: Any) -> str | None:
    if raw is None:
        return None
    text = json.dumps(raw, ensure_ascii=False, sort_keys=True)
    size = len(text.encode("utf-8"))
    if size > MAX_RAW_JSON_BYTES:
        # Keep the record writable: the normalized fields already hold what matters.
        return json.dumps({"truncated": True, "sizeBytes": size})
    return text


def record_to_item(record: TaskRecord) -> dict[str, Any]:
    """A DynamoDB item (resource-layer types) for ``record``; None/empty values are left out."""
    item: dict[str, Any] = dict(record.extra)
    item.update(
        {
            PARTITION_KEY: record.task_id,
            SORT_KEY: record.vendor.value,
            STATUS_ATTR: record.status.value,
            VENDOR_STATUS_KEY_ATTR: vendor_status_key(record.vendor, record.status),
            STATUS_CHANGED_ATTR: record.status_changed_at,
            GENERATION_ATTR: record.generation,
            "firstSeenAt": record.first_seen_at,
            "deadlineAt": record.deadline_at,
            "pollCount": record.poll_count,
            "attempt": record.attempt,
        }
    )
    optional: dict[str, Any] = {
        "vendorStatus": record.vendor_status,
        "event": record.event,
        "fileId": record.file_id,
        "replayUrl": record.replay_url,
        "thumbnailUrls": list(record.thumbnail_urls) or None,
        "fileNames": list(record.file_names) or None,
        "message": record.message,
        "vendorRequestId": record.vendor_request_id,
        "zegoRequestId": record.zego_request_id,
        "vendorCreatedAt": record.vendor_created_at,
        "vendorEndedAt": record.vendor_ended_at,
        # Raw vendor JSON kept verbatim as a string: DynamoDB maps cannot hold floats or empty keys.
        "rawJson": _raw_json(record.raw),
        "lastPolledAt": record.last_polled_at,
        "completedAt": record.completed_at,
        "nextPollAt": record.next_poll_at,
        TTL_ATTR: record.expires_at,
        "updatedAt": record.updated_at,
        "lastError": (
            {
                "kind": record.last_error.kind,
                "code": record.last_error.code,
                "message": record.last_error.message,
                "at": record.last_error.at,
            }
            if record.last_error
            else None
        ),
    }
    item.update({name: value for name, value in optional.items() if value not in (None, "")})
    return item


def _str(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value if isinstance(value, str) and value != "" else None


def _int(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return int(value)


def _strings(item: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name)
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def record_from_item(item: Mapping[str, Any]) -> TaskRecord:
    """The :class:`TaskRecord` for a DynamoDB item (resource-layer types; numbers may be Decimal)."""
    status_text = _str(item, STATUS_ATTR) or TaskStatus.UNKNOWN.value
    try:
        status = TaskStatus(status_text)
    except ValueError:
        status = TaskStatus.UNKNOWN
    raw_json = _str(item, "rawJson")
    error_map = item.get("lastError")
    last_error = None
    if isinstance(error_map, Mapping):
        last_error = LastError(
            kind=str(error_map.get("kind", "")),
            code=str(error_map.get("code", "")),
            message=str(error_map.get("message", "")),
            at=str(error_map.get("at", "")),
        )
    return TaskRecord(
        task_id=str(item[PARTITION_KEY]),
        vendor=Vendor(str(item[SORT_KEY])),
        status=status,
        generation=_int(item, GENERATION_ATTR) or 0,
        first_seen_at=_str(item, "firstSeenAt") or "",
        deadline_at=_str(item, "deadlineAt") or "",
        status_changed_at=_str(item, STATUS_CHANGED_ATTR) or "",
        vendor_status=_str(item, "vendorStatus"),
        event=_str(item, "event"),
        file_id=_str(item, "fileId"),
        replay_url=_str(item, "replayUrl"),
        thumbnail_urls=_strings(item, "thumbnailUrls"),
        file_names=_strings(item, "fileNames"),
        message=_str(item, "message"),
        vendor_request_id=_str(item, "vendorRequestId"),
        zego_request_id=_str(item, "zegoRequestId"),
        vendor_created_at=_str(item, "vendorCreatedAt"),
        vendor_ended_at=_str(item, "vendorEndedAt"),
        raw=json.loads(raw_json) if raw_json else None,
        last_polled_at=_str(item, "lastPolledAt"),
        completed_at=_str(item, "completedAt"),
        poll_count=_int(item, "pollCount") or 0,
        attempt=_int(item, "attempt") or 0,
        next_poll_at=_str(item, "nextPollAt"),
        last_error=last_error,
        expires_at=_int(item, TTL_ATTR),
        updated_at=_str(item, "updatedAt"),
        extra={k: v for k, v in item.items() if k not in _KNOWN},
    )
