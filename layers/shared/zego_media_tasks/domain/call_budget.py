"""The fleet's ZEGO call budget as pure arithmetic: pacing, adaptation to Code 6, the postponement queue.

ZEGO admits ``ceiling`` DescribeMediaTask calls per AppId in any one-second window, counted when the
calls *arrive*. The shared limiter (:mod:`zego_media_tasks.store.rate_limiter`) keeps one
:class:`BudgetState` per AppId in DynamoDB and changes it only through the functions here, with a
conditional writes, so every instance sees and moves the same state. Times are integer
microseconds since the epoch; rates are calls per second.

**Never over the ceiling at arrival.** A call leaves at its slot plus a delay ``d`` and arrives ZEGO a
network delay later. If the spread of those slot-to-arrival delays is at most ``s`` seconds, ``ceiling
+ 1`` arrivals inside one second need ``ceiling`` slot intervals inside ``1 + s`` seconds. Slots are
handed out at least ``I = (1 + s) / ceiling`` apart (:attr:`BudgetPolicy.cap_per_second`), so that
cannot happen. The poller enforces its own share of ``s`` (a call that would leave more than
:attr:`BudgetPolicy.departure_tolerance_us` after its slot is not made); the rest is the allowance for
the network and the instances' clocks.

**Adaptive.** When ZEGO answers Code 6 twice within :attr:`BudgetPolicy.confirm_seconds` (one Code 6
alone can be an accident of timing), the rate is cut to ``decrease_factor`` times the current rate,
at most once per ``confirm_seconds``. It then grows back by ``increase_per_second`` calls/s every
second without a cut (additive increase, computed from the time of the cut, so probing needs no
writes) up to the cap: multiplicative decrease, additive increase (AIMD).

**Postponed by the schedule.** A poll that finds no slot within the maximum wait, and a poll whose
next due time falls behind polls already postponed, takes the next place in a fleet-wide queue
(``queue_tat_us``) spaced at the pace expected when the place falls due (:func:`queue_pace`): first come,
first served, so a backlog of any size is worked through at the budget, round robin, and no task starves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

MICROS = 1_000_000
DEFAULT_ARRIVAL_SPREAD_SECONDS = 0.04
"""The spread of slot-to-arrival delays the pacing allows for; half is the poller's own departure
tolerance, half the network's and the clocks' (docs/architecture.md, "Rate limiter")."""
DEFAULT_MAX_WAIT_SECONDS = 1.0
"""The longest a poll waits inside Lambda for its slot; beyond it the poll is postponed.

A second because SQS delays are whole seconds, so a poll postponed to a place under a second away comes
back up to a second late anyway, and because a postponement costs about what a second's wait does at
256 MB (three SQS requests, the record's and the limiter's writes and the record's work again: ~$3.7 per
million against ~$3.3 for the second). At 0.25 s a fleet with more instances than the pace needs (a
near ZEGO, a cut pace) postponed most of its records, and the polls coming back, in clumps of whole
seconds, left slots unused: 83-86 % of a ZEGO admitting 15/s at handler level, against 94 % at 1 s
(docs/benchmarks.md, "adaptation"). Under overload the choice changes nothing: a fleet never waits
longer than its surplus of instances makes it (the overload benchmark)."""
DEFAULT_DECREASE_FACTOR = 0.9
"""A cut keeps 90 % of the pace: the sawtooth under a ZEGO that admits less than we pace averages ~95 %
of what it admits (at 85 %: ~92 %, below the 90 % it must reach; docs/benchmarks.md, "adaptation")."""
DEFAULT_INCREASE_PER_SECOND = 0.05
"""Calls/s regained per second without a cut: fewer probes over what ZEGO admits (Code 6 ~1.2 % of calls
against a ZEGO admitting 15/s, in the overload model; 1.7 % at 0.1/s), at the price of a slower climb
back to the cap once the AppId's other user stops: from a cut at 13 calls/s to 19.2 in about 2 minutes."""
DEFAULT_CONFIRM_SECONDS = 2.0
MIN_RATE_FRACTION = 0.1
"""The rate never falls below this share of the ceiling (a stream of Code 6 cannot stop polling)."""
SLOT_LEAD_US = 25_000
"""A free slot is handed out this far ahead of the request for it (by default; the limiter passes its
measured write round trip), so that the write reserving it is over before the slot: the call then leaves
on time, not one round trip late."""


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """The budget's knobs (from the poller's settings)."""

    ceiling_per_second: float = 20.0
    arrival_spread_seconds: float = DEFAULT_ARRIVAL_SPREAD_SECONDS
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS
    decrease_factor: float = DEFAULT_DECREASE_FACTOR
    increase_per_second: float = DEFAULT_INCREASE_PER_SECOND
    confirm_seconds: float = DEFAULT_CONFIRM_SECONDS

    def __post_init__(self) -> None:
        checks = (
            (0 < self.ceiling_per_second <= 1000, "ceiling must be in (0, 1000] calls per second"),
            (0 <= self.arrival_spread_seconds < 1, "arrival spread must be in [0, 1) seconds"),
            (0 <= self.max_wait_seconds <= 60, "maximum wait must be in [0, 60] seconds"),
            (0 < self.decrease_factor < 1, "decrease factor must be in (0, 1)"),
            (0 < self.increase_per_second <= 1000, "increase must be in (0, 1000] calls per second per second"),
            (0 < self.confirm_seconds <= 60, "confirmation window must be in (0, 60] seconds"),
        )
        values = (
            self.ceiling_per_second,
            self.arrival_spread_seconds,
            self.max_wait_seconds,
            self.decrease_factor,
            self.increase_per_second,
            self.confirm_seconds,
        )
        problems = [message for (ok, message) in checks if not ok]
        if not all(math.isfinite(value) for value in values) or problems:
            raise ValueError("; ".join(problems) or "budget knobs must be finite numbers")

    @property
    def cap_per_second(self) -> float:
        """The fastest pace: ``ceiling / (1 + spread)``, so that no second at arrival exceeds the ceiling."""
        return self.ceiling_per_second / (1 + self.arrival_spread_seconds)

    @property
    def floor_per_second(self) -> float:
        """The slowest pace adaptation may choose."""
        return self.ceiling_per_second * MIN_RATE_FRACTION

    @property
    def departure_tolerance_us(self) -> int:
        """How late after its slot a call may still leave: the poller's half of the spread."""
        return math.floor(self.arrival_spread_seconds * MICROS / 2)

    @property
    def max_wait_us(self) -> int:
        return math.floor(self.max_wait_seconds * MICROS)


@dataclass(frozen=True, slots=True)
class BudgetState:
    """The limiter item of one AppId."""

    tat_us: int = 0
    """The next free call slot."""
    queue_tat_us: int = 0
    """The next free place in the postponement queue."""
    cut_rate: float = 0.0
    """The rate set by the last cut (0: never cut, the cap applies)."""
    cut_at_us: int = 0
    throttled_at_us: int = 0
    """When the last Code 6 was reported."""


def rate(policy: BudgetPolicy, state: BudgetState, now_us: int) -> float:
    """The pace in force at ``now_us``: the last cut plus the additive increase since, within bounds."""
    grown = state.cut_rate + policy.increase_per_second * max(0, now_us - state.cut_at_us) / MICROS
    return max(policy.floor_per_second, min(policy.cap_per_second, grown))


def interval_us(pace: float) -> int:
    """The slot spacing at ``pace`` calls/s, rounded up (rounding only ever slows us down)."""
    return math.ceil(MICROS / pace)


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to a request for a call slot."""

    slot_us: int | None
    """The slot, or None: no slot within the maximum wait."""
    state: BudgetState
    """The state to write (unchanged when there is no slot)."""
    queue_ahead_us: int
    """How far the postponement queue reaches beyond now (0: no polls postponed)."""


def claim(policy: BudgetPolicy, state: BudgetState, now_us: int, lead_us: int = SLOT_LEAD_US) -> Claim:
    """The next call slot, ``lead_us`` after ``now_us`` or after the slots already handed out, if within the
    maximum wait."""
    queue_ahead = max(0, state.queue_tat_us - now_us)
    slot = max(now_us + lead_us, state.tat_us)
    if slot - now_us > max(policy.max_wait_us, lead_us):
        return Claim(None, state, queue_ahead)
    advanced = replace(state, tat_us=slot + interval_us(rate(policy, state, now_us)))
    return Claim(slot, advanced, queue_ahead)


def book(policy: BudgetPolicy, state: BudgetState, earliest_us: int, now_us: int) -> tuple[int, BudgetState]:
    """A place in the postponement queue no earlier than ``earliest_us``: (its time, the state to write).

    Places are handed out in order, one interval apart at the pace the budget is expected to have when
    the place falls due (:func:`queue_pace`), so the postponed polls come back at the pace the budget
    can serve them *then*.
    """
    place = max(earliest_us, state.queue_tat_us)
    spacing = interval_us(queue_pace(policy, state, now_us, place))
    return place, replace(state, queue_tat_us=place + spacing)


def queue_pace(policy: BudgetPolicy, state: BudgetState, now_us: int, place_us: int) -> float:
    """The pace a postponement place due at ``place_us`` is spaced at: the pace then (the current one plus
    the additive increase until then), but no faster than the pace ZEGO last pushed back at (the one
    before the last cut) unless the budget is past it already.

    Spaced at the current pace instead, places booked just after a cut come back, minutes later, slower
    than the recovered budget: the fleet idles with slots unused. Spaced at the pace the increase alone
    would reach, they come back faster than a ZEGO that admits less can take, and the surplus queues
    again. What ZEGO last admitted is the best guess between the two.
    """
    projected = rate(policy, state, max(now_us, place_us))
    if state.cut_rate <= 0:
        return projected
    before_cut = state.cut_rate / policy.decrease_factor
    return min(projected, max(rate(policy, state, now_us), before_cut))


def throttled(policy: BudgetPolicy, state: BudgetState, now_us: int) -> BudgetState | None:
    """The state after ZEGO answered Code 6 at ``now_us``, or None when nothing needs writing.

    The first Code 6 in a while is only remembered; a second within ``confirm_seconds`` cuts the rate,
    unless it was cut less than ``confirm_seconds`` ago (the calls already paced at the old rate are
    still arriving).
    """
    confirm_us = math.floor(policy.confirm_seconds * MICROS)
    recent_cut = state.cut_at_us > 0 and now_us - state.cut_at_us < confirm_us
    if recent_cut:
        return None
    if state.throttled_at_us == 0 or now_us - state.throttled_at_us > confirm_us:
        return replace(state, throttled_at_us=now_us)
    cut = max(policy.floor_per_second, rate(policy, state, now_us) * policy.decrease_factor)
    return replace(state, cut_rate=cut, cut_at_us=now_us, throttled_at_us=now_us)
