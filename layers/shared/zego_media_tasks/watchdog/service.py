"""One watchdog run: read the overdue records by index, in bounded pages, and revive each lost chain.

A run reads every shard of ``ByWatchAt`` for ``watchAt <= now - grace`` (:mod:`zego_media_tasks.domain.watch`),
one page of at most ``page_size`` keys at a time, and stops early when less than ``reserve_seconds`` of
the invocation are left. Each named record is read consistently and judged; a lost one is re-enqueued at
its current generation, then its ``watchAt`` is moved to now, which takes it out of the overdue range
for one grace. So a run that stopped early needs no cursor: the next run's query no longer finds what
this one revived and starts with the rest (and the shard it starts with turns every minute, so that no
shard waits behind another). The revived message is fenced like any other: if the chain was alive after
all, the older of the two copies is acknowledged as stale.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from zego_media_tasks.domain.ports import Clock, PollSender, RecordReads
from zego_media_tasks.domain.status import Vendor
from zego_media_tasks.domain.watch import (
    WATCH_SHARDS,
    Verdict,
    WatchEntry,
    WatchPage,
    due_at,
    epoch_seconds,
    judge,
    overdue_cutoff,
    resume_request,
)
from zego_media_tasks.store.task_store import StoreError

DEFAULT_PAGE_SIZE = 100
"""Keys per Query page: a page of the keys-only index is a few KiB, well under one read of 1 MB."""
DEFAULT_RESERVE_SECONDS = 5.0
"""Stop starting work when less than this is left of the invocation."""


class OverdueIndex(Protocol):
    """The ``ByWatchAt`` index (implemented by ``zego_media_tasks.store.watch_index.WatchIndex``)."""

    def overdue(self, shard: str, cutoff: int, limit: int, start_key: Mapping[str, Any] | None) -> WatchPage:
        """One page of ``shard``'s entries with ``watchAt <= cutoff``, oldest first."""
        ...

    def defer(self, task_id: str, vendor: Vendor, *, generation: int, seen_watch_at: int, watch_at: int) -> bool:
        """Move a revived record's ``watchAt`` on, if the record did not move meanwhile."""
        ...


@dataclass(frozen=True, slots=True)
class Revival:
    """One chain re-enqueued."""

    task_id: str
    vendor: Vendor
    generation: int
    overdue_seconds: float
    """How long past its ``nextPollAt`` the record was."""
    message_id: str
    deferred: bool
    """Its ``watchAt`` was moved on (False: the record moved meanwhile, or the write failed)."""


@dataclass(slots=True)
class WatchReport:
    """What one run did."""

    examined: int = 0
    """Records the index named and the run read."""
    revived: list[Revival] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)
    pages: int = 0
    read_units: float = 0.0
    """Read capacity of the index queries, as DynamoDB reported it (the record reads come on top)."""
    shards_finished: int = 0
    out_of_time: bool = False
    """The run stopped before reading every shard to its end; the next run carries on."""
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class WatchdogService:
    """Revives lost poll chains. Built once per Lambda instance."""

    index: OverdueIndex
    records: RecordReads
    queue: PollSender
    clock: Clock
    grace_seconds: int
    page_size: int = DEFAULT_PAGE_SIZE
    reserve_seconds: float = DEFAULT_RESERVE_SECONDS

    def run(self, seconds_left: Callable[[], float]) -> WatchReport:
        """One run within the invocation's remaining time (``seconds_left``, e.g. Lambda's context)."""
        report = WatchReport()
        now = self.clock.now()
        cutoff = overdue_cutoff(now, self.grace_seconds)
        first = int(now.timestamp() // 60) % WATCH_SHARDS
        for offset in range(WATCH_SHARDS):
            if not self._read_shard(str((first + offset) % WATCH_SHARDS), cutoff, seconds_left, report):
                report.out_of_time = True
                return report
            report.shards_finished += 1
        return report

    def _read_shard(self, shard: str, cutoff: int, seconds_left: Callable[[], float], report: WatchReport) -> bool:
        """Every page of one shard; False when the time ran out first."""
        start: Mapping[str, Any] | None = None
        while True:
            if seconds_left() < self.reserve_seconds:
                return False
            page = self.index.overdue(shard, cutoff, self.page_size, start)
            report.pages += 1
            report.read_units += page.read_units
            for entry in page.entries:
                if seconds_left() < self.reserve_seconds:
                    return False
                self._examine(entry, report)
            if page.last_key is None:
                return True
            start = page.last_key

    def _examine(self, entry: WatchEntry, report: WatchReport) -> None:
        report.examined += 1
        record = self.records.get(entry.task_id, entry.vendor)  # consistent: the index lags the table
        now = self.clock.now()
        verdict = judge(record, now, self.grace_seconds)
        report.verdicts[verdict.value] += 1
        if verdict is not Verdict.REVIVE or record is None:
            return
        message_id = self.queue.send(resume_request(record))
        deferred = False
        if record.watch_at is not None:
            try:
                deferred = self.index.defer(
                    record.task_id,
                    record.vendor,
                    generation=record.generation,
                    seen_watch_at=record.watch_at,
                    watch_at=epoch_seconds(now),
                )
            except StoreError as error:
                # The message is out; the worst case is one more revival of this record by the next run.
                report.warnings.append(f"{record.vendor.value} {record.task_id}: watchAt not moved on ({error})")
        report.revived.append(
            Revival(
                task_id=record.task_id,
                vendor=record.vendor,
                generation=record.generation,
                overdue_seconds=round((now - due_at(record)).total_seconds(), 1),
                message_id=message_id,
                deferred=deferred,
            )
        )
