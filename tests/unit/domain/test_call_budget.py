"""The fleet's call budget as pure arithmetic, driven by an injected clock: pacing under the ceiling at
arrival, adaptation to Code 6 and recovery, and the postponement queue's fairness."""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left
from collections import Counter

import pytest

from tests.support.clock import FakeClock
from zego_media_tasks.domain.call_budget import (
    MICROS,
    BudgetPolicy,
    BudgetState,
    book,
    claim,
    interval_us,
    queue_pace,
    rate,
    throttled,
)

POLICY = BudgetPolicy(ceiling_per_second=20, arrival_spread_seconds=0.04, max_wait_seconds=0.25)


def now_us(clock: FakeClock) -> int:
    return math.floor(clock.now().timestamp() * MICROS)


def busiest_window(times_us: list[int], window_us: int = MICROS) -> int:
    ordered = sorted(times_us)
    return max((bisect_left(ordered, start + window_us) - index for index, start in enumerate(ordered)), default=0)


def slots_for(clock: FakeClock, state: BudgetState, count: int, step_seconds: float) -> tuple[list[int], BudgetState]:
    """``count`` callers arriving ``step_seconds`` apart; each waits for its slot when it gets one."""
    slots: list[int] = []
    for _ in range(count):
        granted = claim(POLICY, state, now_us(clock), lead_us=0)
        if granted.slot_us is not None:
            slots.append(granted.slot_us)
            state = granted.state
        clock.advance(step_seconds)
    return slots, state


def test_an_idle_budget_grants_now_and_spaces_the_next_slot_by_the_capped_interval() -> None:
    clock = FakeClock()
    first = claim(POLICY, BudgetState(), now_us(clock), lead_us=0)
    assert first.slot_us == now_us(clock)
    second = claim(POLICY, first.state, now_us(clock), lead_us=0)
    assert second.slot_us == now_us(clock) + interval_us(POLICY.cap_per_second)
    assert interval_us(POLICY.cap_per_second) == 52_000  # (1 + 0.04) / 20 s


def test_a_free_slot_is_claimed_a_write_round_trip_ahead() -> None:
    clock = FakeClock()
    assert claim(POLICY, BudgetState(), now_us(clock), lead_us=15_000).slot_us == now_us(clock) + 15_000
    # A slot already queued further ahead is not moved by the lead.
    busy = BudgetState(tat_us=now_us(clock) + 100_000)
    assert claim(POLICY, busy, now_us(clock), lead_us=15_000).slot_us == now_us(clock) + 100_000


def test_arrivals_spread_within_the_allowance_never_put_more_than_the_ceiling_in_a_second() -> None:
    # Every caller wants a slot at once; each call then arrives at its slot plus a delay anywhere in
    # [0, spread]: the worst case puts early delays on late slots and late delays on early ones.
    clock = FakeClock()
    slots, _ = slots_for(clock, BudgetState(), 3000, 0.001)
    spread_us = math.floor(POLICY.arrival_spread_seconds * MICROS)
    arrivals = [slot + (spread_us if index % 40 == 0 else 0) for index, slot in enumerate(slots)]
    assert len(slots) > 40
    assert busiest_window(arrivals) <= 20
    # Without the allowance (pacing at the bare ceiling) the same spread breaks the ceiling.
    bare = [slots[0] + index * 50_000 + (spread_us if index % 40 == 0 else 0) for index in range(len(slots))]
    assert busiest_window(bare) == 21


def test_no_slot_beyond_the_maximum_wait() -> None:
    clock = FakeClock()
    state = BudgetState()
    granted = 0
    for _ in range(10):
        result = claim(POLICY, state, now_us(clock), lead_us=0)
        if result.slot_us is None:
            assert result.state == state
            break
        granted += 1
        state = result.state
    # Slot now plus every 52 ms slot up to now + 250 ms.
    assert granted == 5


def test_a_lone_code_6_is_remembered_and_a_second_soon_after_cuts_the_rate() -> None:
    clock = FakeClock()
    state = BudgetState()
    first = throttled(POLICY, state, now_us(clock))
    assert first is not None
    assert first.throttled_at_us == now_us(clock)
    assert rate(POLICY, first, now_us(clock)) == POLICY.cap_per_second
    clock.advance(0.5)
    second = throttled(POLICY, first, now_us(clock))
    assert second is not None
    assert second.cut_at_us == now_us(clock)
    assert rate(POLICY, second, now_us(clock)) == pytest.approx(POLICY.cap_per_second * POLICY.decrease_factor)
    # Code 6 from calls paced at the old rate, still arriving: no second cut within the window.
    clock.advance(1.0)
    assert throttled(POLICY, second, now_us(clock)) is None


def test_code_6_long_apart_never_cut() -> None:
    clock = FakeClock()
    state = BudgetState()
    for _ in range(5):
        changed = throttled(POLICY, state, now_us(clock))
        assert changed is not None
        state = changed
        clock.advance(POLICY.confirm_seconds + 1)
    assert state.cut_at_us == 0
    assert rate(POLICY, state, now_us(clock)) == POLICY.cap_per_second


def _cut(state: BudgetState, clock: FakeClock) -> BudgetState:
    for _ in range(2):
        changed = throttled(POLICY, state, now_us(clock))
        assert changed is not None
        state = changed
        clock.advance(0.1)
    return state


def test_the_rate_recovers_additively_to_the_cap_and_never_beyond() -> None:
    clock = FakeClock()
    state = _cut(BudgetState(), clock)
    cut_rate = rate(POLICY, state, now_us(clock))
    clock.advance(5)
    assert rate(POLICY, state, now_us(clock)) == pytest.approx(cut_rate + 5 * POLICY.increase_per_second, abs=0.02)
    clock.advance(3600)
    assert rate(POLICY, state, now_us(clock)) == POLICY.cap_per_second


def test_repeated_cuts_stop_at_the_floor() -> None:
    clock = FakeClock()
    state = BudgetState()
    for _ in range(40):
        state = _cut(state, clock)
        clock.advance(POLICY.confirm_seconds)
    assert rate(POLICY, state, now_us(clock)) == pytest.approx(POLICY.floor_per_second, abs=0.5)
    assert rate(POLICY, state, now_us(clock)) >= POLICY.floor_per_second


def test_slots_follow_the_adapted_rate() -> None:
    clock = FakeClock()
    state = _cut(BudgetState(), clock)
    pace = rate(POLICY, state, now_us(clock))
    first = claim(POLICY, state, now_us(clock))
    assert first.slot_us is not None
    assert first.state.tat_us - first.slot_us == interval_us(pace)
    assert interval_us(pace) > interval_us(POLICY.cap_per_second)


def test_adapting_to_a_lower_admission_converges_within_a_minute() -> None:
    # ZEGO admits 15/s (another system uses the rest): every second paced above it yields Code 6.
    clock = FakeClock()
    state = BudgetState()
    rates: list[float] = []
    for _ in range(120):
        pace = rate(POLICY, state, now_us(clock))
        rates.append(pace)
        if pace > 15:
            state = throttled(POLICY, state, now_us(clock)) or state
        clock.advance(0.5)
    settled = rates[60:]  # after 30 s
    assert max(settled) <= 15.5
    assert sum(settled) / len(settled) >= 0.85 * 15


def test_the_postponement_queue_is_first_come_first_served_at_the_current_rate() -> None:
    clock = FakeClock()
    state = BudgetState()
    earliest = now_us(clock) + MICROS
    places = []
    for _ in range(100):
        place, state = book(POLICY, state, earliest, now_us(clock))
        places.append(place)
    assert places == sorted(places)
    assert {b - a for a, b in itertools.pairwise(places)} == {interval_us(POLICY.cap_per_second)}
    assert places[0] == earliest


def test_places_after_a_cut_come_back_at_the_pace_expected_when_they_fall_due() -> None:
    # Given a rate cut just now from 12/s to 10.8/s, which regains 0.05 calls/s every second
    clock = FakeClock()
    cut = BudgetState(cut_rate=10.8, cut_at_us=now_us(clock))
    # When places are booked for now, 12 s ahead and an hour ahead
    soon, near = book(POLICY, cut, now_us(clock), now_us(clock))
    _, later = book(POLICY, cut, now_us(clock) + 12 * MICROS, now_us(clock))
    _, distant = book(POLICY, cut, now_us(clock) + 3600 * MICROS, now_us(clock))
    # Then a place due now is spaced at today's pace, one 12 s ahead at the pace regained by then (11.4/s),
    # and one further ahead no faster than the 12/s at which ZEGO pushed back
    assert soon == now_us(clock)
    assert near.queue_tat_us - soon == interval_us(10.8)
    assert later.queue_tat_us - (now_us(clock) + 12 * MICROS) == interval_us(10.8 + 0.05 * 12)
    assert distant.queue_tat_us - (now_us(clock) + 3600 * MICROS) == interval_us(10.8 / 0.9)


def test_queue_places_follow_the_pace_once_it_is_past_the_last_push_back() -> None:
    clock = FakeClock()
    cut = BudgetState(cut_rate=10.8, cut_at_us=now_us(clock))
    clock.advance(60)  # 10.8 + 3 = 13.8/s now, past the 12/s before the cut
    assert queue_pace(POLICY, cut, now_us(clock), now_us(clock) + 600 * MICROS) == pytest.approx(13.8)
    # And a budget never cut spaces its places at the cap
    assert queue_pace(POLICY, BudgetState(), now_us(clock), now_us(clock) + 600 * MICROS) == POLICY.cap_per_second


def test_every_task_of_a_round_robin_backlog_gets_its_turn() -> None:
    # 200 tasks, each re-queued behind the others after its call: in any stretch of 200 places every
    # task appears exactly once, so none starves whatever the backlog.
    clock = FakeClock()
    state = BudgetState()
    queue: list[tuple[int, int]] = []
    for task in range(200):
        place, state = book(POLICY, state, now_us(clock), now_us(clock))
        queue.append((place, task))
    served: list[int] = []
    for _ in range(1000):
        queue.sort()
        place, task = queue.pop(0)
        served.append(task)
        place_next, state = book(POLICY, state, place + MICROS, place)
        queue.append((place_next, task))
    for start in range(0, 800, 200):
        assert Counter(served[start : start + 200]) == Counter(range(200))


def test_a_queue_ahead_is_reported_to_callers() -> None:
    clock = FakeClock()
    _, state = book(POLICY, BudgetState(), now_us(clock) + 30 * MICROS, now_us(clock))
    result = claim(POLICY, state, now_us(clock))
    assert result.queue_ahead_us == 30 * MICROS + interval_us(POLICY.cap_per_second)


@pytest.mark.parametrize(
    "changes",
    [
        {"ceiling_per_second": 0},
        {"arrival_spread_seconds": 1},
        {"decrease_factor": 1},
        {"max_wait_seconds": float("nan")},
    ],
)
def test_unusable_knobs_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|finite"):
        BudgetPolicy(**changes)
