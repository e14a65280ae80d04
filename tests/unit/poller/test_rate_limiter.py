"""The shared GCRA rate limiter on DynamoDB (moto in-process), with an injected clock: no real sleeps."""

from __future__ import annotations

import itertools
import threading
from bisect import bisect_left
from datetime import UTC, datetime

import boto3
import pytest

from devstack.resources import ProvisionedStack
from tests.support.clock import FakeClock
from tests.support.poller import serialize_moto_dynamodb_writes
from zego_media_tasks.store.rate_limiter import Permit, RateLimiter, Saturated, bucket_for_app
from zego_media_tasks.store.task_store import StoreError


class FrozenClock(FakeClock):
    """Time never moves, not even when a caller sleeps: every caller competes for the same instant."""

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def limiter(stack: ProvisionedStack, clock: FakeClock, per_second: float = 20, max_wait: float = 2) -> RateLimiter:
    return RateLimiter(
        stack.table_names["RateLimitTable"],
        bucket_for_app(1234567890),
        per_second=per_second,
        max_wait_seconds=max_wait,
        clock=clock,
    )


def busiest_second(slots_ms: list[int]) -> int:
    """The most slots in any half-open one-second window [t, t + 1000)."""
    ordered = sorted(slots_ms)
    return max((bisect_left(ordered, start + 1000) - index for index, start in enumerate(ordered)), default=0)


def test_an_idle_bucket_grants_the_current_instant_without_waiting(moto_stack: ProvisionedStack) -> None:
    clock = FakeClock()
    permit = limiter(moto_stack, clock).acquire()
    assert permit == Permit(slot_epoch_ms=int(clock.now().timestamp() * 1000), waited_seconds=0.0)
    assert clock.sleeps == []


def test_back_to_back_callers_are_spaced_by_the_emission_interval(moto_stack: ProvisionedStack) -> None:
    clock = FrozenClock()
    rate = limiter(moto_stack, clock)
    permits = [rate.acquire() for _ in range(4)]
    assert all(isinstance(p, Permit) for p in permits)
    assert [p.waited_seconds for p in permits if isinstance(p, Permit)] == [0.0, 0.05, 0.1, 0.15]
    assert clock.sleeps == [0.05, 0.1, 0.15]


def test_the_bucket_is_free_again_once_time_has_caught_up(moto_stack: ProvisionedStack) -> None:
    clock = FakeClock()
    rate = limiter(moto_stack, clock)
    rate.acquire()
    clock.advance(1)
    assert rate.acquire() == Permit(slot_epoch_ms=int(clock.now().timestamp() * 1000), waited_seconds=0.0)


def test_a_queue_longer_than_the_maximum_wait_is_saturated(moto_stack: ProvisionedStack) -> None:
    clock = FrozenClock()
    rate = limiter(moto_stack, clock, per_second=20, max_wait=2)
    results = [rate.acquire() for _ in range(45)]
    granted = [r for r in results if isinstance(r, Permit)]
    # Slot "now" plus every 50 ms slot up to now + 2 s: 1 + 40.
    assert len(granted) == 41
    assert results[41:] == [Saturated(2)] * 4
    assert max(p.waited_seconds for p in granted) == 2.0


def test_a_zero_maximum_wait_only_ever_grants_free_slots(moto_stack: ProvisionedStack) -> None:
    clock = FrozenClock()
    rate = limiter(moto_stack, clock, max_wait=0)
    assert isinstance(rate.acquire(), Permit)
    assert rate.acquire() == Saturated(0)


def test_a_ceiling_that_does_not_divide_a_second_rounds_the_interval_up(moto_stack: ProvisionedStack) -> None:
    assert limiter(moto_stack, FakeClock(), per_second=3).interval_ms == 334


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
def test_concurrent_callers_at_one_instant_get_exactly_the_slots_within_the_wait(
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

    slots = sorted(r.slot_epoch_ms for r in results if isinstance(r, Permit))
    now_ms = int(clock.now().timestamp() * 1000)
    assert slots == [now_ms + 50 * n for n in range(41)]
    assert sum(isinstance(r, Saturated) for r in results) == 19
    assert busiest_second(slots) == 20


def test_dynamodb_failures_are_store_errors(moto_stack: ProvisionedStack) -> None:
    boto3.client("dynamodb").delete_table(TableName=moto_stack.table_names["RateLimitTable"])
    with pytest.raises(StoreError, match="ResourceNotFoundException"):
        limiter(moto_stack, FakeClock()).acquire()


@pytest.mark.parametrize(("per_second", "max_wait"), [(0, 2), (1001, 2), (20, -1), (float("inf"), 2)])
def test_unusable_limits_are_refused(moto_stack: ProvisionedStack, per_second: float, max_wait: float) -> None:
    with pytest.raises(ValueError, match="must"):
        limiter(moto_stack, FakeClock(), per_second=per_second, max_wait=max_wait)
