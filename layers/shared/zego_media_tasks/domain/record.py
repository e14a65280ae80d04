"""The task record: everything we know about one tracked task, as stored and as served.

This dataclass is the single in-memory shape of a record. ``zego_media_tasks.store.items`` maps it to
DynamoDB attributes; the read API maps it to its JSON representation. Timestamps are ISO 8601 UTC
strings from :mod:`zego_media_tasks.domain.timestamps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zego_media_tasks.domain.status import TaskStatus, Vendor, is_terminal


@dataclass(frozen=True, slots=True)
class LastError:
    """The most recent failed call (or rejection) for a task."""

    kind: str
    """An ``OutcomeKind`` value, or ``MALFORMED`` for a message that could not be read."""
    code: str
    message: str
    at: str


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One tracked task, keyed by (task_id, vendor): a TaskId may exist for both vendors."""

    task_id: str
    vendor: Vendor
    status: TaskStatus
    generation: int
    """Poll-chain fencing token: only a message carrying this generation may poll the task."""
    first_seen_at: str
    deadline_at: str
    status_changed_at: str
    vendor_status: str | None = None
    event: str | None = None
    file_id: str | None = None
    replay_url: str | None = None
    thumbnail_urls: tuple[str, ...] = ()
    file_names: tuple[str, ...] = ()
    message: str | None = None
    vendor_request_id: str | None = None
    zego_request_id: str | None = None
    vendor_created_at: str | None = None
    vendor_ended_at: str | None = None
    raw: Mapping[str, Any] | None = None
    last_polled_at: str | None = None
    completed_at: str | None = None
    poll_count: int = 0
    """DescribeMediaTask calls made for this task, whatever their outcome."""
    attempt: int = 0
    """Counted attempts (throttled calls excluded); drives the backoff schedule."""
    next_poll_at: str | None = None
    last_error: LastError | None = None
    expires_at: int | None = None
    """DynamoDB TTL (Unix seconds), set once the record is terminal."""
    updated_at: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Attributes this version does not know, carried through unchanged."""

    @property
    def terminal(self) -> bool:
        """True once the record can no longer change."""
        return is_terminal(self.status)
