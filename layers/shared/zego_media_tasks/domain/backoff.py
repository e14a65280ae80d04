"""How long to wait before the next poll: exponential backoff with partial jitter, and the throttle delay.

The delay after the ``n``-th counted attempt is drawn uniformly from the top ``jitter`` share of its
ceiling ``c = min(cap, base * factor**n)``: ``c * (1 - jitter) .. c``. The draw spreads the polls of
tasks that were registered together, so that a burst of registrations does not stay a synchronised
burst of ZEGO calls against the shared 20 calls/s limit (the shared limiter paces the first polls of a
burst anyway, and every later draw widens the spread further).

Why not full jitter (``0 .. c``, ``jitter = 1``): a poll interval is paid per poll, and what a user
waits for is the detection lag, the time from a task's end to the poll that sees it. For a task that
ends at a random moment, the interval that covers the end is drawn length-biased, and with full jitter
the lag's 95th percentile is ``c * (1 - sqrt(0.05))`` = 0.78 c at a mean interval of c/2, while with
a narrow draw it is 0.95 of an interval close to c: the same p95 lag for about 40 % fewer polls
(bench/polling_efficiency.py measures the schedules on the standard mix, docs/benchmarks.md).

Delays are whole seconds because SQS ``DelaySeconds`` is an integer, and never above SQS's 900 s
ceiling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

SQS_MAX_DELAY_SECONDS = 900
"""SQS's ceiling for ``DelaySeconds``."""
MIN_DELAY_SECONDS = 1
"""Never re-enqueue with no delay: a zero delay would turn a fast-failing dependency into a hot loop."""

# The deployed schedule's defaults, the one copy: the poller's settings, the template test and the
# benchmarks take them from here.
DEFAULT_BACKOFF_BASE_SECONDS = 60.0
"""The first ceiling after the registration poll. With the factor, the cap and the jitter below it was
chosen on the standard mix (bench/polling_efficiency.py, docs/benchmarks.md, issue 14): about 7.1 ZEGO
calls per task instead of 11.7 (base 16 s, factor 2, cap 120 s, full jitter), for a detection lag p95
of about 85 s (was 89 s) and a p50 of about 33 s (was 25 s): the median task is seen ended 8 s later,
and a task that ends in its first minute is seen at the second poll, about a minute after
registration. A cap of 105 s saves 0.2 calls more but puts the p95 back at 88-90 s."""
DEFAULT_BACKOFF_FACTOR = 1.3
DEFAULT_BACKOFF_CAP_SECONDS = 100.0
DEFAULT_BACKOFF_JITTER = 0.1
"""The share of each ceiling the delay is drawn from (``c * 0.9 .. c``); 1 is full jitter."""
DEFAULT_THROTTLE_RETRY_SECONDS = 2.0
DEFAULT_CALLBACKS_ENABLED = False
"""Whether ZEGO's completion callbacks reach the stack; off until ZEGO support configures the URL."""
DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS = 900.0
"""The cap when callbacks are enabled: a callback ends most tasks within seconds, so polling is only the
safety net for the ones ZEGO loses, and a task whose callback is lost is still seen within the cap
(15 minutes, SQS's longest delay). Chosen with the base below from bench/polling_efficiency.py
(docs/benchmarks.md, issue 14)."""
DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS = 120.0
"""The first backoff window when callbacks are enabled (never above the cap in force). The registration
poll still runs at once (it confirms the task exists); after it, polls before the task can end buy
nothing the callback does not bring. With 90 % of callbacks delivered, base 120 s and cap 900 s make
45 % fewer ZEGO calls per task than base 16 s and cap 600 s (3.07 against 5.58 on the standard mix), for
a detection lag p95 of 75 s instead of 40 s (p50 1.2 s either way, the callback's)."""


class UniformSource(Protocol):
    """A source of uniform random numbers (``random.Random`` satisfies it); injectable for tests."""

    def uniform(self, a: float, b: float) -> float:
        """A number drawn uniformly from ``[a, b]``."""
        ...


def _whole_seconds(value: float) -> int:
    """Round to whole seconds and clamp to ``MIN_DELAY_SECONDS .. SQS_MAX_DELAY_SECONDS``."""
    return max(MIN_DELAY_SECONDS, min(SQS_MAX_DELAY_SECONDS, round(value)))


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with partial jitter for counted attempts.

    After the ``n``-th counted attempt (``n`` starting at 0) the next poll waits a uniform draw from
    ``c * (1 - jitter) .. c`` seconds with ``c = min(cap, base * factor**n)``, rounded, and at least one
    second.
    """

    base_seconds: float = DEFAULT_BACKOFF_BASE_SECONDS
    factor: float = DEFAULT_BACKOFF_FACTOR
    cap_seconds: float = DEFAULT_BACKOFF_CAP_SECONDS
    jitter: float = DEFAULT_BACKOFF_JITTER

    def __post_init__(self) -> None:
        problems = policy_problems(self.base_seconds, self.factor, self.cap_seconds, self.jitter)
        if problems:
            raise ValueError("; ".join(problems))

    def ceiling(self, attempt: int) -> float:
        """The upper bound of the jitter window after counted attempt ``attempt`` (0-based)."""
        if attempt < 0:
            raise ValueError("attempt must not be negative")
        # Compare in log space: factor**attempt overflows a float long before a task's deadline would.
        if self.factor > 1 and attempt * math.log(self.factor) >= math.log(self.cap_seconds / self.base_seconds):
            return self.cap_seconds
        return min(self.cap_seconds, self.base_seconds * self.factor**attempt)

    def delay(self, attempt: int, random: UniformSource) -> int:
        """The jittered delay in whole seconds after counted attempt ``attempt`` (0-based)."""
        ceiling = self.ceiling(attempt)
        return _whole_seconds(random.uniform(ceiling * (1.0 - self.jitter), ceiling))


def policy_problems(
    base_seconds: float, factor: float, cap_seconds: float, jitter: float = DEFAULT_BACKOFF_JITTER
) -> list[str]:
    """Every reason why these backoff parameters are unusable (empty when they are fine)."""
    problems: list[str] = []
    if not math.isfinite(jitter) or not 0 <= jitter <= 1:
        problems.append("backoff jitter must be between 0 and 1")
    if not math.isfinite(base_seconds) or base_seconds <= 0:
        problems.append("backoff base must be a positive number of seconds")
    if not math.isfinite(factor) or factor < 1:
        problems.append("backoff factor must be at least 1")
    if not math.isfinite(cap_seconds) or not MIN_DELAY_SECONDS <= cap_seconds <= SQS_MAX_DELAY_SECONDS:
        problems.append(f"backoff cap must be between {MIN_DELAY_SECONDS} and {SQS_MAX_DELAY_SECONDS} seconds")
    elif math.isfinite(base_seconds) and base_seconds > cap_seconds:
        problems.append("backoff base must not exceed the cap")
    return problems


@dataclass(frozen=True, slots=True)
class ThrottleDelay:
    """The short delay after a throttled call (ZEGO Code 6 / HTTP 429, or our own limiter saturated).

    Drawn uniformly from ``[retry/2, retry*1.5]``: short, because the task is not at fault, and
    jittered, so that the throttled calls of one burst do not come back together and collide again.
    """

    retry_seconds: float = DEFAULT_THROTTLE_RETRY_SECONDS

    def __post_init__(self) -> None:
        if not math.isfinite(self.retry_seconds) or not 0 < self.retry_seconds <= SQS_MAX_DELAY_SECONDS / 1.5:
            raise ValueError(f"throttle retry must be between 0 and {SQS_MAX_DELAY_SECONDS / 1.5:g} seconds")

    def delay(self, random: UniformSource) -> int:
        """The jittered delay in whole seconds."""
        return _whole_seconds(random.uniform(self.retry_seconds / 2, self.retry_seconds * 1.5))
