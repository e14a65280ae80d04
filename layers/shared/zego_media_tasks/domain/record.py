"""The task record: everything we know about one tracked task, as stored and as served.

This dataclass is the one declaration of a record. ``zego_media_tasks.store.items`` maps it to DynamoDB
attributes and ``zego_media_tasks.api.models`` generates its JSON representation, both from the fields
declared here (and in :class:`~zego_media_tasks.domain.snapshot.TaskSnapshot`, whose vendor fields a
record extends), so adding a field is one edit: see :mod:`zego_media_tasks.domain.fields`. Timestamps
are ISO 8601 UTC strings from :mod:`zego_media_tasks.domain.timestamps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zego_media_tasks.domain.fields import about
from zego_media_tasks.domain.snapshot import TaskSnapshot
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus, Vendor, is_terminal
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.domain.watch import watch_at_after


@dataclass(frozen=True, slots=True)
class LastError:
    """The most recent failed call (or rejection) for a task."""

    kind: str = field(metadata=about("THROTTLED, TRANSIENT, REJECTED, CONFIGURATION or MALFORMED."))
    """An ``OutcomeKind`` value, or ``MALFORMED`` for a message that could not be read."""
    code: str = field(metadata=about("ZEGO's Code, HTTP_<status>, TIMEOUT, CONNECTION, BAD_RESPONSE, ..."))
    message: str = field(metadata=about())
    at: str = field(metadata=about(timestamp=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskRecord(TaskSnapshot):
    """One tracked task, keyed by (task_id, vendor): a TaskId may exist for both vendors.

    The vendor fields (inherited from :class:`TaskSnapshot`) hold what ZEGO last said; the fields below
    say how we track the task.
    """

    kind: TaskKind | None = field(
        default=None,
        metadata=about(
            "merge, transcode or snapshot, when the registration (or a callback) said so. A Huawei merge or "
            "transcode is never polled (DescribeMediaTask cannot describe it): its callback ends it."
        ),
    )
    first_seen_at: str = field(metadata=about("When we started tracking the task.", timestamp=True))
    last_polled_at: str | None = field(default=None, metadata=about(timestamp=True))
    status_changed_at: str = field(metadata=about(timestamp=True))
    completed_at: str | None = field(
        default=None, metadata=about("When the task reached a terminal status.", timestamp=True)
    )
    completed_by: ChangeSource | None = field(
        default=None,
        metadata=about(
            "What set the terminal status: POLL (a DescribeMediaTask answer), CALLBACK (ZEGO's signed completion "
            "callback), DEADLINE (polling gave up) or MALFORMED (a poll message could not be read)."
        ),
    )
    deadline_at: str = field(
        metadata=about("After this moment polling stops and the task is TIMED_OUT.", timestamp=True)
    )
    poll_count: int = field(default=0, metadata=about("DescribeMediaTask calls made for this task."))
    """DescribeMediaTask calls made for this task, whatever their outcome."""
    next_poll_at: str | None = field(default=None, metadata=about(timestamp=True))
    last_error: LastError | None = field(default=None, metadata=about())
    sequence: int = field(
        default=1,
        metadata=about(
            "Increases by one with every status change of the task (a new record is 1); its state-change event "
            "carries the same number, so a consumer can drop a stale or repeated event."
        ),
    )
    generation: int = field(metadata=about(internal=True))
    """Poll-chain fencing token: only a message carrying this generation may poll the task."""
    attempt: int = field(default=0, metadata=about(internal=True))
    """Counted attempts (throttled calls excluded); drives the backoff schedule."""
    expires_at: int | None = field(default=None, metadata=about(internal=True))
    """DynamoDB TTL (Unix seconds), set once the record is terminal."""
    updated_at: str | None = field(default=None, metadata=about(internal=True, timestamp=True))
    watch_at: int | None = field(default=None, metadata=about(internal=True))
    """Unix seconds, never earlier than ``next_poll_at``, on non-terminal records only: the sparse
    ``ByWatchAt`` index the watchdog reads lost chains from (:mod:`zego_media_tasks.domain.watch`)."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Attributes this version does not know, carried through unchanged (part of no mapping)."""

    @property
    def terminal(self) -> bool:
        """True once the record can no longer change."""
        return is_terminal(self.status)


def pending_record(
    task_id: str,
    vendor: Vendor,
    *,
    now: datetime,
    first_seen_at: str,
    deadline_at: str,
    attempt: int = 0,
    kind: TaskKind | None = None,
) -> TaskRecord:
    """The record of a task we start tracking: ``PENDING`` at generation 0, its first poll due now.

    The one place a new record is made, whether the read API registers the task or the poller meets a
    task it has no record of (a pipeline's message, or a registration whose record write was lost).
    """
    at = to_iso(now)
    return TaskRecord(
        task_id=task_id,
        vendor=vendor,
        status=TaskStatus.PENDING,
        generation=0,
        first_seen_at=first_seen_at,
        deadline_at=deadline_at,
        status_changed_at=at,
        next_poll_at=at,  # the generation-0 message is visible at once
        watch_at=watch_at_after(None, now, now),
        attempt=attempt,
        kind=kind,
        updated_at=at,
    )
