"""Lost poll chains: the watch time a record carries, and when the watchdog revives its chain.

Pure functions, no I/O (the watchdog's service reads and sends; :mod:`zego_media_tasks.domain.polling`
stamps the watch time). Design (docs/architecture.md, "Lost poll chains"):

- Every non-terminal record carries ``watchAt`` (Unix seconds), never earlier than its ``nextPollAt``.
  The sparse index ``ByWatchAt`` holds only records that have it (a terminal record drops it).
- ``watchAt`` moves only when the next poll would pass it, and then jumps ahead by several poll
  intervals (:func:`watch_at_after`), so the index is written about once every
  :data:`LOOKAHEAD_POLLS` polls instead of at every poll.
- Since ``watchAt >= nextPollAt``, a record with ``watchAt <= now - grace`` has a next poll overdue by
  more than the grace: its chain's message is gone (or stuck far longer than any live message can be).
  The watchdog reads only those, by index, and re-enqueues each at the record's current generation;
  the generation fence collapses the copy if the chain was alive after all.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.status import Vendor
from zego_media_tasks.domain.timestamps import from_iso

if TYPE_CHECKING:  # the record module stamps its first watch time from here
    from zego_media_tasks.domain.record import TaskRecord

DEFAULT_GRACE_SECONDS = 3600
"""The deployed grace: twice the shortest the template's defaults allow (180 s visibility x 5 receives),
so that a backlog of up to half an hour is not taken for lost chains either."""
WATCH_SHARDS = 4
"""Partition values of the ``ByWatchAt`` index (``watchShard`` ``"0"``..``"3"``): the index's writes
spread over several partition keys; the watchdog reads each with one Query."""
LOOKAHEAD_POLLS = 8
"""When ``watchAt`` must move, it moves this many poll intervals past the next poll."""
MIN_LOOKAHEAD_SECONDS = 60
MAX_LOOKAHEAD_SECONDS = 3600
"""Bounds of the jump: at least a minute (a first poll due now), at most an hour (a detection delay
that long is the price of one index write per hour for a slowly polled task)."""


def epoch_seconds(moment: datetime) -> int:
    """``moment`` as whole Unix seconds, rounded up (a watch time is never earlier than the moment)."""
    return math.ceil(moment.timestamp())


def watch_at_after(current: int | None, next_poll_at: datetime, now: datetime) -> int:
    """The record's watch time once its next poll is due at ``next_poll_at``.

    Unchanged while it is not earlier than the next poll (no index write); else the next poll plus
    :data:`LOOKAHEAD_POLLS` intervals (``next_poll_at - now``), within the lookahead bounds.
    """
    due = epoch_seconds(next_poll_at)
    if current is not None and current >= due:
        return current
    interval = max(0.0, (next_poll_at - now).total_seconds())
    lookahead = min(MAX_LOOKAHEAD_SECONDS, max(MIN_LOOKAHEAD_SECONDS, math.ceil(LOOKAHEAD_POLLS * interval)))
    return due + lookahead


def watch_shard(task_id: str, vendor: Vendor) -> str:
    """The record's ``ByWatchAt`` partition value: a stable hash of its key, 0..WATCH_SHARDS-1."""
    return str(zlib.crc32(f"{task_id}#{vendor.value}".encode()) % WATCH_SHARDS)


def minimum_grace_seconds(visibility_timeout_seconds: int, max_receive_count: int) -> int:
    """The shortest grace that never takes a live chain for a lost one.

    The overdue time starts at ``nextPollAt``, when the chain's (delayed) message becomes visible; a live
    message is late after that only while its receives fail, each costing a visibility timeout, until
    ``maxReceiveCount`` moves it to the dead-letter queue.
    """
    return visibility_timeout_seconds * max_receive_count


def overdue_cutoff(now: datetime, grace_seconds: int) -> int:
    """The largest ``watchAt`` of a record overdue by more than the grace at ``now``."""
    return math.floor(now.timestamp()) - grace_seconds


@dataclass(frozen=True, slots=True)
class WatchEntry:
    """One record the index names as possibly overdue (the index lags the table: read it before acting)."""

    task_id: str
    vendor: Vendor
    watch_at: int


@dataclass(frozen=True, slots=True)
class WatchPage:
    """One page of the index's overdue entries of one shard."""

    entries: tuple[WatchEntry, ...]
    last_key: Mapping[str, Any] | None
    """Where the next page starts (the store's own shape); None after the last page."""
    read_units: float = 0.0
    """The read capacity the page consumed, as the store reported it."""


class Verdict(StrEnum):
    """What the watchdog does with one record the index named."""

    REVIVE = "REVIVE"
    """Non-terminal with its next poll overdue by more than the grace: re-enqueue it."""
    TERMINAL = "TERMINAL"
    """Ended meanwhile (the index lags the table): nothing to do."""
    ON_TIME = "ON_TIME"
    """Its chain moved on meanwhile (a newer ``nextPollAt``): nothing to do."""
    GONE = "GONE"
    """No record any more (expired or deleted): nothing to do."""


def judge(record: TaskRecord | None, now: datetime, grace_seconds: int) -> Verdict:
    """The verdict on ``record`` as read (consistently) at ``now``.

    A Huawei merge or transcode that only its callback can end is judged like any other task: its chain
    carries it to its deadline in hops of SQS's longest delay, each with its ``nextPollAt``, so only a lost
    hop makes it overdue; revived, it goes on waiting (or ends ``TIMED_OUT`` at its deadline) without a
    ZEGO call.
    """
    if record is None:
        return Verdict.GONE
    if record.terminal:
        return Verdict.TERMINAL
    if epoch_seconds(due_at(record)) > overdue_cutoff(now, grace_seconds):
        return Verdict.ON_TIME
    return Verdict.REVIVE


def due_at(record: TaskRecord) -> datetime:
    """When the record's next poll is due (its last write, for a record without ``nextPollAt``)."""
    return from_iso(record.next_poll_at or record.updated_at or record.status_changed_at)


def resume_request(record: TaskRecord) -> PollRequest:
    """The poll message that carries ``record``'s chain on from its current generation."""
    return PollRequest(
        task_id=record.task_id,
        vendor=record.vendor,
        generation=record.generation,
        attempt=record.attempt,
        first_seen_at=record.first_seen_at,
        deadline_at=record.deadline_at,
        kind=record.kind,
    )
