"""One watchdog run over the template's tasks table and poll queue (moto in-process), with a fake clock and a
fake remaining time: what it revives, what it leaves alone, and how a run cut short is carried on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from devstack.resources import ProvisionedStack
from tests.support.clock import FakeClock
from tests.support.poller import queued_messages
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.domain.watch import epoch_seconds
from zego_media_tasks.queue.poll_queue import PollQueue
from zego_media_tasks.store.task_store import TaskStore
from zego_media_tasks.store.watch_index import WatchIndex
from zego_media_tasks.watchdog.service import WatchdogService, WatchReport

GRACE = 900


def watchdog(stack: ProvisionedStack, clock: FakeClock, page_size: int = 100) -> WatchdogService:
    table = stack.table_names["TasksTable"]
    return WatchdogService(
        index=WatchIndex(table),
        records=TaskStore(table),
        queue=PollQueue(stack.queue_urls["PollQueue"]),
        clock=clock,
        grace_seconds=GRACE,
        page_size=page_size,
        reserve_seconds=1.0,
    )


def plenty() -> float:
    return 60.0


def calls_left(calls: int) -> Callable[[], float]:
    """A remaining time that runs out after ``calls`` looks at it (one before each page and each record)."""
    left = [calls]

    def seconds_left() -> float:
        left[0] -= 1
        return 60.0 if left[0] >= 0 else 0.0

    return seconds_left


def track(stack: ProvisionedStack, clock: FakeClock, task_id: str, **changes: object) -> TaskRecord:
    now = clock.now()
    record = pending_record(
        task_id, Vendor.TENCENT, now=now, first_seen_at=to_iso(now), deadline_at=to_iso(now + timedelta(days=1))
    )
    record = replace(record, **changes)  # type: ignore[arg-type]
    assert TaskStore(stack.table_names["TasksTable"]).put_new(record)
    return record


def revived_ids(stack: ProvisionedStack) -> list[str]:
    return sorted(message.body["TaskId"] for message in queued_messages(stack.queue_urls["PollQueue"]))


def test_a_record_overdue_past_the_grace_is_re_enqueued_at_its_generation(
    moto_stack: ProvisionedStack, clock: FakeClock
) -> None:
    track(moto_stack, clock, "lost", generation=4, attempt=2)
    clock.advance(GRACE + 120)
    report = watchdog(moto_stack, clock).run(plenty)
    assert [(r.task_id, r.generation, r.deferred) for r in report.revived] == [("lost", 4, True)]
    [message] = queued_messages(moto_stack.queue_urls["PollQueue"])
    assert (message.body["TaskId"], message.body["Generation"], message.body["Attempt"]) == ("lost", 4, 2)
    assert message.delay_seconds == 0
    assert report.examined == 1
    assert report.shards_finished == 4
    assert not report.out_of_time


def test_a_revived_record_is_not_revived_again_before_another_grace(
    moto_stack: ProvisionedStack, clock: FakeClock
) -> None:
    track(moto_stack, clock, "lost")
    clock.advance(GRACE + 120)
    assert len(watchdog(moto_stack, clock).run(plenty).revived) == 1
    clock.advance(300)  # the next scheduled run: the revived message is still on its way
    again = watchdog(moto_stack, clock).run(plenty)
    assert (again.examined, again.revived) == (0, [])
    clock.advance(GRACE)  # the revived message was lost too: the record is overdue once more
    assert len(watchdog(moto_stack, clock).run(plenty).revived) == 1
    assert revived_ids(moto_stack) == ["lost", "lost"]


def test_records_on_time_or_terminal_are_left_alone(moto_stack: ProvisionedStack, clock: FakeClock) -> None:
    track(moto_stack, clock, "due-soon", next_poll_at=to_iso(clock.now() + timedelta(seconds=GRACE)))
    track(moto_stack, clock, "finished", status=TaskStatus.SUCCEEDED, watch_at=None, next_poll_at=None)
    clock.advance(GRACE + 120)
    report = watchdog(moto_stack, clock).run(plenty)
    assert report.revived == []
    assert revived_ids(moto_stack) == []


def test_a_stale_index_entry_is_read_from_the_table_before_anything_is_sent(
    moto_stack: ProvisionedStack, clock: FakeClock
) -> None:
    # Given a record whose watch time says overdue but whose next poll moved on (as the index may lag)
    track(moto_stack, clock, "moved-on", next_poll_at=to_iso(clock.now() + timedelta(seconds=2 * GRACE)))
    clock.advance(GRACE + 120)
    report = watchdog(moto_stack, clock).run(plenty)
    assert (report.examined, report.verdicts["ON_TIME"], report.revived) == (1, 1, [])


@pytest.mark.parametrize("calls", [5, 9])
def test_a_run_cut_short_by_its_time_budget_is_carried_on_by_the_next_without_reviving_twice(
    moto_stack: ProvisionedStack, clock: FakeClock, calls: int
) -> None:
    lost = [f"lost-{n:02d}" for n in range(7)]
    for task_id in lost:
        track(moto_stack, clock, task_id)
    clock.advance(GRACE + 120)
    runs: list[WatchReport] = []
    while not runs or runs[-1].out_of_time:
        runs.append(watchdog(moto_stack, clock, page_size=2).run(calls_left(calls)))
        assert len(runs) <= 20, "the runs make no progress"
        clock.advance(60)  # each run starts with another shard
    assert len(runs) > 1
    assert all(run.out_of_time for run in runs[:-1])
    assert sum(len(run.revived) for run in runs) == len(lost)
    assert revived_ids(moto_stack) == lost  # each once


def test_the_index_holds_only_non_terminal_records(moto_stack: ProvisionedStack, clock: FakeClock) -> None:
    track(moto_stack, clock, "open")
    track(moto_stack, clock, "finished", status=TaskStatus.SUCCEEDED, watch_at=None, next_poll_at=None)
    index = WatchIndex(moto_stack.table_names["TasksTable"])
    far = epoch_seconds(clock.now()) + 10 * 86_400
    found = [entry.task_id for shard in "0123" for entry in index.overdue(shard, far, 100, None).entries]
    assert found == ["open"]
