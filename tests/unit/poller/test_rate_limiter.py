"""The shared call budget on DynamoDB (moto in-process), with an injected clock: no real sleeps."""

from __future__ import annotations

import itertools
import threading
from bisect import bisect_left
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from devstack.resources import ProvisionedStack
from tests.support.clock import FakeClock
from tests.support.poller import serialize_moto_dynamodb_writes
from zego_media_tasks.domain.call_budget import DEFAULT_DECREASE_FACTOR, DEFAULT_INCREASE_PER_SECOND, BudgetPolicy
from zego_media_tasks.store.rate_limiter import Permit, RateLimiter, Saturated, bucket_for_app
from zego_media_tasks.store.task_store import StoreError


class FrozenClock(FakeClock):
    """Time never moves, not even when a caller sleeps: every caller competes for the same instant."""

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


class LateClock(FakeClock):
    """Every sleep overshoots by ``late`` seconds (a descheduled process)."""

    def __init__(self, late: float) -> None:
        super().__init__()
        self.late = late

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds + self.late)


def limiter(
    stack: ProvisionedStack, clock: FakeClock, per_second: float = 20, max_wait: float = 2, spread: float = 0.0
) -> RateLimiter:
    return RateLimiter(
        stack.table_names["RateLimitTable"],
        bucket_for_app(1234567890),
        policy=BudgetPolicy(ceiling_per_second=per_second, max_wait_seconds=max_wait, arrival_spread_seconds=spread),
        clock=clock,
    )


def busiest_second(slots_ms: list[int]) -> int:
    """The most slots in any half-open one-second window [t, t + 1000)."""
    ordered = sorted(slots_ms)
    return max((bisect_left(ordered, start + 1000) - index for index, start in enumerate(ordered)), default=0)


def now_ms(clock: FakeClock) -> int:
    return int(clock.now().timestamp() * 1000)


def test_an_idle_bucket_grants_a_slot_one_write_ahead(moto_stack: ProvisionedStack) -> None:
    clock = FakeClock()
    start = now_ms(clock)
    permit = limiter(moto_stack, clock).acquire()
    assert isinstance(permit, Permit)
    # The slot is claimed a little more than a write's round trip ahead, and waited for.
    assert 5 <= permit.slot_epoch_ms - start <= 25
    assert permit.waited_seconds == pytest.approx((permit.slot_epoch_ms - start) / 1000, abs=0.001)


def test_back_to_back_callers_are_spaced_by_the_emission_interval(moto_stack: ProvisionedStack) -> None:
    clock = FrozenClock()
    rate = limiter(moto_stack, clock)
    permits = [rate.acquire() for _ in range(4)]
    waits = [p.waited_seconds for p in permits if isinstance(p, Permit)]
    assert len(waits) == 4
    assert [round(wait - waits[0], 6) for wait in waits] == [0.0, 0.05, 0.1, 0.15]


def test_the_pacing_leaves_room_for_the_arrival_spread(moto_stack: ProvisionedStack) -> None:
    clock = FrozenClock()
    rate = limiter(moto_stack, clock, spread=0.04)
    permits = [rate.acquire() for _ in range(3)]
    slots = [p.slot_epoch_ms for p in permits if isinstance(p, Permit)]
    assert [slot - slots[0] for slot in slots] == [0, 52, 104]


def test_the_bucket_is_free_again_once_time_has_caught_up(moto_stack: ProvisionedStack) -> None:
    clock = FakeClock()
    rate = limiter(moto_stack, clock)
    rate.acquire()
    clock.advance(1)
    permit = rate.acquire()
    assert isinstance(permit, Permit)
    assert permit.waited_seconds <= 0.025


def test_a_queue_longer_than_the_maximum_wait_is_saturated(moto_stack: ProvisionedStack) -> None:
    clock = FrozenClock()
    rate = limiter(moto_stack, clock, per_second=20, max_wait=2)
    results = [rate.acquire() for _ in range(45)]
    granted = [r for r in results if isinstance(r, Permit)]
    # The first slot 25 ms ahead, then every 50 ms up to now + 2 s: 40.
    assert len(granted) == 40
    assert results[40:] == [Saturated(2)] * 5
    assert max(p.waited_seconds for p in granted) == pytest.approx(1.975)


def test_a_zero_maximum_wait_only_ever_grants_free_slots(moto_stack: ProvisionedStack) -> None:
    clock = FrozenClock()
    rate = limiter(moto_stack, clock, max_wait=0)
    assert isinstance(rate.acquire(), Permit)
    assert rate.acquire() == Saturated(0)


def test_a_slot_left_too_late_is_given_up(moto_stack: ProvisionedStack) -> None:
    # The tolerance is half the spread (20 ms): a process that always wakes 30 ms late never calls.
    late = limiter(moto_stack, LateClock(0.03), spread=0.04)
    assert isinstance(late.acquire(), Saturated)
    # 10 ms late is within it.
    assert isinstance(limiter(moto_stack, LateClock(0.01), spread=0.04).acquire(), Permit)


def test_code_6_twice_lowers_the_rate_for_every_instance(moto_stack: ProvisionedStack) -> None:
    clock = FrozenClock()
    one, other = limiter(moto_stack, clock), limiter(moto_stack, clock)
    one.acquire()
    one.throttled()
    one.throttled()
    cut = 20 * DEFAULT_DECREASE_FACTOR
    assert one.current_rate() == pytest.approx(cut)
    # The other instance learns the cut from the item at its next reservation and paces at it.
    first, second = other.acquire(), other.acquire()
    assert isinstance(first, Permit)
    assert isinstance(second, Permit)
    assert other.current_rate() == pytest.approx(cut)
    assert second.waited_seconds - first.waited_seconds == pytest.approx(1 / cut, abs=1e-5)


def test_the_rate_recovers_once_code_6_stops(moto_stack: ProvisionedStack) -> None:
    clock = FakeClock()
    rate = limiter(moto_stack, clock)
    rate.acquire()
    rate.throttled()
    rate.throttled()
    cut = rate.current_rate()
    clock.advance(10)
    assert rate.current_rate() == pytest.approx(cut + 10 * DEFAULT_INCREASE_PER_SECOND, abs=0.01)
    clock.advance(600)
    assert rate.current_rate() == 20


def test_postponed_polls_queue_up_across_instances(moto_stack: ProvisionedStack) -> None:
    clock = FrozenClock()
    one, other = limiter(moto_stack, clock), limiter(moto_stack, clock)
    earliest = clock.now() + timedelta(seconds=1)
    places = [one.postpone(earliest), other.postpone(earliest), one.postpone(earliest)]
    assert places == [earliest + timedelta(milliseconds=50 * n) for n in range(3)]
    # The queue's reach comes back with every reservation.
    permit = other.acquire()
    assert isinstance(permit, Permit)
    assert permit.queue_ahead_seconds == pytest.approx(1.15)


def test_an_item_of_the_earlier_limiter_is_taken_over(moto_stack: ProvisionedStack) -> None:
    clock = FakeClock()
    table = moto_stack.table_names["RateLimitTable"]
    boto3.client("dynamodb").put_item(
        TableName=table, Item={"bucket": {"S": bucket_for_app(1234567890)}, "tat": {"N": str(now_ms(clock) + 500)}}
    )
    permit = limiter(moto_stack, clock).acquire()
    assert isinstance(permit, Permit)
    assert permit.slot_epoch_ms < now_ms(clock) + 500  # not queued behind the old millisecond tat


@pytest.fixture
def atomic_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB's one-write-at-a-time guarantee per item, which moto lacks (see the helper)."""
    serialize_moto_dynamodb_writes(monkeypatch)


@pytest.mark.usefixtures("atomic_writes")
@pytest.mark.parametrize("threads", [4, 24])
def test_concurrent_callers_never_exceed_the_ceiling_in_any_second(moto_stack: ProvisionedStack, threads: int) -> None:
    # Given many callers (as many poller instances would be) sharing one bucket and one clock that
    # only moves when a caller sleeps for its slot
    clock = FakeClock(datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC))
    rate = limiter(moto_stack, clock, per_second=20, max_wait=2)
    results: list[Permit | Saturated] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def caller() -> None:
        start.wait()
        for _ in range(5):
            result = rate.acquire()
            with lock:
                results.append(result)

    # When they all acquire at once
    workers = [threading.Thread(target=caller) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # Then no one-second window holds more than 20 reservations, and no two are closer than 50 ms
    slots = sorted(r.slot_epoch_ms for r in results if isinstance(r, Permit))
    assert len(results) == threads * 5
    assert slots, "some callers must have been granted a slot"
    assert busiest_second(slots) <= 20
    assert all(later - earlier >= 50 for earlier, later in itertools.pairwise(slots))


@pytest.mark.usefixtures("atomic_writes")
def test_concurrent_callers_at_one_instant_get_consecutive_slots_within_the_wait(
    moto_stack: ProvisionedStack,
) -> None:
    clock = FrozenClock()
    rate = limiter(moto_stack, clock, per_second=20, max_wait=2)
    results: list[Permit | Saturated] = []
    lock = threading.Lock()
    start = threading.Barrier(60)

    def caller() -> None:
        start.wait()
        result = rate.acquire()
        with lock:
            results.append(result)

    workers = [threading.Thread(target=caller) for _ in range(60)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # Compare-and-set under contention: every slot handed out is the next one, never a duplicate or a
    # gap; callers that lose too many rounds are told "saturated" (no call), never given a slot twice.
    slots = sorted(r.slot_epoch_ms for r in results if isinstance(r, Permit))
    assert 1 <= len(slots) <= 40
    assert slots == [slots[0] + 50 * n for n in range(len(slots))]
    assert len(results) == 60
    assert busiest_second(slots) <= 20


def test_dynamodb_failures_are_store_errors(moto_stack: ProvisionedStack) -> None:
    boto3.client("dynamodb").delete_table(TableName=moto_stack.table_names["RateLimitTable"])
    with pytest.raises(StoreError, match="ResourceNotFoundException"):
        limiter(moto_stack, FakeClock()).acquire()


@pytest.mark.parametrize(("per_second", "max_wait"), [(0, 2), (1001, 2), (20, -1), (float("inf"), 2)])
def test_unusable_limits_are_refused(moto_stack: ProvisionedStack, per_second: float, max_wait: float) -> None:
    with pytest.raises(ValueError, match="must"):
        limiter(moto_stack, FakeClock(), per_second=per_second, max_wait=max_wait)
