"""State-change events: what a status change of a task tells the pipelines that follow it. Pure.

The publisher (``zego_media_tasks.events``) reads the tasks table's stream; for each write it hands the
old and the new record here and publishes what comes back to EventBridge. One event per status change,
whatever caused it (registration, poll, callback, deadline, malformed input); a write that changed no
status (a poll that saw nothing new) has no event. The schema is ``docs/state-change-event.schema.json``.

Consumers can rely on:

- ``sequence``: the record's sequence, one more with every status change of that task, so an event
  with a sequence at or below the last one seen is stale or repeated;
- ``eventId``: the same for every delivery of one change (a UUID derived from vendor, task and sequence),
  so a redelivery, or a re-publication after a publisher crash, is recognised;
- the size: a detail stays far under EventBridge's 256 KB entry limit whatever the record holds (lists
  are cut to their first :data:`MAX_LISTED_URLS` entries and :data:`MAX_LIST_BYTES`, with the full count
  and a ``...Truncated`` flag; the record link gives everything). A record itself holds at most the first
  64 KiB of a list (``domain.lists``); the counts are then the full ones, the flags true.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import ChangeSource, TaskStatus

DETAIL_TYPE: Final = "ZEGO Media Task State Change"
DEFAULT_SOURCE: Final = "zego-media-tasks"
SCHEMA_VERSION: Final = "1"
MAX_LISTED_URLS: Final = 100
MAX_LIST_BYTES: Final = 64 * 1024
MAX_DETAIL_BYTES: Final = 200 * 1024
"""Below EventBridge's 256 KB entry (source, detail type, detail and resources together)."""
_EVENT_NAMESPACE: Final = uuid.UUID("8f8c7a52-6a8e-4d0e-9a57-3a3c0a6c2b11")
"""Fixed namespace of the event ids: changing it would change every id."""


@dataclass(frozen=True, slots=True)
class StateChange:
    """One event to publish: its deterministic id, its detail, and when the change happened."""

    event_id: str
    detail: dict[str, Any]
    time: str
    """The change's ``statusChangedAt`` (the event's ``Time``)."""

    def detail_json(self) -> str:
        """The detail as EventBridge receives it (compact JSON)."""
        return json.dumps(self.detail, separators=(",", ":"), ensure_ascii=False)


def event_id(task_id: str, vendor: str, sequence: int) -> str:
    """The id of the event of change ``sequence`` of (task, vendor): the same at every publication."""
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{vendor}\n{task_id}\n{sequence}"))


def record_path(record: TaskRecord) -> str:
    """The read API path of the record (relative to the API's stage URL)."""
    return f"/tasks/{quote(record.task_id, safe='')}?vendor={record.vendor.value}"


def change_source(old: TaskRecord | None, new: TaskRecord) -> ChangeSource:
    """What caused the change: the evidence that ended the task, a registration, else a poll."""
    if new.completed_by is not None and new.terminal:
        return new.completed_by
    if old is None and new.status is TaskStatus.PENDING:
        return ChangeSource.REGISTRATION
    return ChangeSource.POLL


def _bounded(values: Sequence[str]) -> tuple[list[str], bool]:
    kept: list[str] = []
    size = 0
    for value in values[:MAX_LISTED_URLS]:
        size += len(value.encode("utf-8")) + 3
        if size > MAX_LIST_BYTES:
            break
        kept.append(value)
    return kept, len(kept) < len(values)


def _detail(old: TaskRecord | None, new: TaskRecord, *, source: ChangeSource, lists: bool) -> dict[str, Any]:
    thumbnails, thumbnails_cut = _bounded(new.thumbnail_urls) if lists else ([], bool(new.thumbnail_urls))
    files, files_cut = _bounded(new.file_names) if lists else ([], bool(new.file_names))
    # A record's own list may be its first page already (domain.lists): the counts are the full ones.
    thumbnails_cut = thumbnails_cut or new.thumbnails_truncated
    files_cut = files_cut or new.file_names_truncated
    error = new.last_error
    return {
        "version": SCHEMA_VERSION,
        "eventId": event_id(new.task_id, new.vendor.value, new.sequence),
        "sequence": new.sequence,
        "taskId": new.task_id,
        "vendor": new.vendor.value,
        "status": new.status.value,
        "previousStatus": old.status.value if old is not None else None,
        "terminal": new.terminal,
        "source": source.value,
        "vendorStatus": new.vendor_status,
        "event": new.event,
        "kind": new.kind.value if new.kind else None,
        "fileId": new.file_id,
        "replayUrl": new.replay_url,
        "thumbnailUrls": thumbnails,
        "thumbnailCount": new.thumbnail_count,
        "thumbnailsTruncated": thumbnails_cut,
        "fileNames": files,
        "fileNameCount": new.file_name_count,
        "fileNamesTruncated": files_cut,
        "message": new.message,
        "resultCode": new.result_code,
        "lastError": (
            {"kind": error.kind, "code": error.code, "message": error.message, "at": error.at} if error else None
        ),
        "firstSeenAt": new.first_seen_at,
        "statusChangedAt": new.status_changed_at,
        "completedAt": new.completed_at,
        "completedBy": new.completed_by.value if new.completed_by else None,
        "record": record_path(new),
    }


def state_change(old: TaskRecord | None, new: TaskRecord | None) -> StateChange | None:
    """The event of the write ``old`` → ``new`` (None: no record before / after), or None when the write
    changed no status: a poll that saw nothing new, or the expiry (TTL) of a finished record."""
    if new is None:
        return None
    if old is not None and old.status is new.status and old.sequence == new.sequence:
        return None
    source = change_source(old, new)
    detail = _detail(old, new, source=source, lists=True)
    if len(json.dumps(detail, ensure_ascii=False).encode("utf-8")) > MAX_DETAIL_BYTES:
        detail = _detail(old, new, source=source, lists=False)  # the record link still gives every URL
    return StateChange(event_id=detail["eventId"], detail=detail, time=new.status_changed_at)
