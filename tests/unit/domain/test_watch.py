"""The watch time a record carries and the watchdog's verdict on it (domain/watch.py), with a fake clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support.clock import FakeClock
from zego_media_tasks.domain.messages import parse_poll_request
from zego_media_tasks.domain.polling import (
    PollContext,
    PollingPolicy,
    awaits_callback,
    decide_awaiting_callback,
    finish,
)
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.domain.watch import (
    LOOKAHEAD_POLLS,
    MAX_LOOKAHEAD_SECONDS,
    MIN_LOOKAHEAD_SECONDS,
    WATCH_SHARDS,
    Verdict,
    epoch_seconds,
    judge,
    minimum_grace_seconds,
    resume_request,
    watch_at_after,
    watch_shard,
)

GRACE = 3600


def new_record(clock: FakeClock, kind: TaskKind | None = None, vendor: Vendor = Vendor.TENCENT) -> TaskRecord:
    now = clock.now()
    return pending_record(
        "task-1",
        vendor,
        now=now,
        first_seen_at=to_iso(now),
        deadline_at=to_iso(now + timedelta(days=1)),
        kind=kind,
    )


def test_a_watch_time_that_is_not_earlier_than_the_next_poll_stays_where_it_is(clock: FakeClock) -> None:
    now = clock.now()
    current = epoch_seconds(now) + 500
    assert watch_at_after(current, now + timedelta(seconds=100), now) == current
    assert watch_at_after(current, now + timedelta(seconds=500), now) == current


def test_a_watch_time_the_next_poll_would_pass_jumps_several_poll_intervals_ahead(clock: FakeClock) -> None:
    now = clock.now()
    next_poll = now + timedelta(seconds=120)
    moved = watch_at_after(epoch_seconds(now), next_poll, now)
    assert moved == epoch_seconds(next_poll) + LOOKAHEAD_POLLS * 120


@pytest.mark.parametrize(
    ("interval", "lookahead"),
    [(0, MIN_LOOKAHEAD_SECONDS), (1, MIN_LOOKAHEAD_SECONDS), (900, MAX_LOOKAHEAD_SECONDS)],
)
def test_the_jump_is_bounded(clock: FakeClock, interval: int, lookahead: int) -> None:
    now = clock.now()
    next_poll = now + timedelta(seconds=interval)
    assert watch_at_after(None, next_poll, now) == epoch_seconds(next_poll) + lookahead


def test_a_chain_polled_every_two_minutes_moves_its_watch_time_about_once_in_eight_polls(clock: FakeClock) -> None:
    # Given a record polled 80 times, two minutes apart, as the poller stamps it
    watch: int | None = None
    moves = 0
    for _ in range(80):
        now = clock.now()
        next_poll = now + timedelta(seconds=120)
        moved = watch_at_after(watch, next_poll, now)
        moves += moved != watch
        # Then the watch time is never earlier than the next poll
        assert moved >= epoch_seconds(next_poll)
        watch = moved
        clock.advance(120)
    assert moves == 80 // (LOOKAHEAD_POLLS + 1) + 1


def test_a_new_record_is_watched_and_a_terminal_one_is_not(clock: FakeClock) -> None:
    record = new_record(clock)
    assert record.watch_at is not None
    assert record.next_poll_at is not None
    assert record.watch_at >= epoch_seconds(clock.now())
    done = finish(None, record, clock.now(), PollingPolicy(), "SUCCESS", source=ChangeSource.POLL, called_zego=True)
    assert done.record.watch_at is None


def test_shards_are_stable_and_spread(clock: FakeClock) -> None:
    shards = {watch_shard(f"task-{n}", Vendor.TENCENT) for n in range(200)}
    assert shards == {str(n) for n in range(WATCH_SHARDS)}
    assert watch_shard("task-1", Vendor.HUAWEI) == watch_shard("task-1", Vendor.HUAWEI)


def test_the_shortest_grace_covers_every_failed_receive_of_a_live_message() -> None:
    assert minimum_grace_seconds(180, 5) == 900


def test_a_record_overdue_by_more_than_the_grace_is_revived(clock: FakeClock) -> None:
    record = new_record(clock)
    clock.advance(GRACE + 1)
    assert judge(record, clock.now(), GRACE) is Verdict.REVIVE


def test_a_record_overdue_by_less_than_the_grace_is_on_time(clock: FakeClock) -> None:
    record = new_record(clock)
    clock.advance(GRACE - 1)
    assert judge(record, clock.now(), GRACE) is Verdict.ON_TIME


def test_terminal_and_missing_records_are_left_alone(clock: FakeClock) -> None:
    record = replace(new_record(clock), status=TaskStatus.SUCCEEDED)
    clock.advance(10 * GRACE)
    assert judge(record, clock.now(), GRACE) is Verdict.TERMINAL
    assert judge(None, clock.now(), GRACE) is Verdict.GONE


def test_a_huawei_merge_waiting_for_its_callback_is_on_time_between_its_hops(clock: FakeClock) -> None:
    # Given a Huawei merge whose chain only carries it to its deadline, 900 s a hop
    merge = new_record(clock, kind=TaskKind.MERGE, vendor=Vendor.HUAWEI)
    request = resume_request(merge)
    assert awaits_callback(merge, request)
    hop = decide_awaiting_callback(PollContext(merge, request, clock.now(), PollingPolicy()))
    # When the watchdog looks just before the next hop is due plus the grace
    clock.advance(hop.delay_seconds or 0)
    clock.advance(GRACE - 1)
    # Then the waiting merge is not taken for lost
    assert judge(hop.record, clock.now(), GRACE) is Verdict.ON_TIME
    # and once its hop is lost past the grace it is revived as a merge, which the poller never asks ZEGO about
    clock.advance(2)
    assert judge(hop.record, clock.now(), GRACE) is Verdict.REVIVE
    revived = resume_request(hop.record)
    assert revived.kind is TaskKind.MERGE
    assert awaits_callback(hop.record, revived)


def test_the_revived_message_carries_the_records_current_generation_and_context(clock: FakeClock) -> None:
    record = replace(new_record(clock, kind=TaskKind.SNAPSHOT), generation=7, attempt=3)
    request = parse_poll_request(resume_request(record).to_body())
    assert (request.task_id, request.vendor, request.generation, request.attempt) == ("task-1", Vendor.TENCENT, 7, 3)
    assert (request.first_seen_at, request.deadline_at, request.kind) == (
        record.first_seen_at,
        record.deadline_at,
        TaskKind.SNAPSHOT,
    )
