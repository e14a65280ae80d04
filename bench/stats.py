"""Small, dependency-free statistics used by every benchmark (unit-tested in tests/unit/bench)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from devstack.zego_simulator import busiest_window


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks (numpy's default).

    Raises ``ValueError`` for an empty sequence, so that a benchmark that measured nothing fails loudly
    instead of reporting a zero.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float], *, digits: int = 3) -> dict[str, float | int]:
    """Count, mean, p50, p95, p99 and max of ``values``, rounded to ``digits``."""
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "mean": round(sum(values) / len(values), digits),
        "p50": round(percentile(values, 50), digits),
        "p95": round(percentile(values, 95), digits),
        "p99": round(percentile(values, 99), digits),
        "max": round(max(values), digits),
    }


@dataclass(frozen=True, slots=True)
class Call:
    """One DescribeMediaTask call as the ZEGO simulator logged it: when it decided, and what it answered."""

    monotonic: float
    code: int | None


@dataclass(frozen=True, slots=True)
class WindowStats:
    """ZEGO calls seen in a measurement window ``[start, end)`` (simulator clock, seconds)."""

    seconds: float
    calls: int
    admitted: int
    """Calls answered with Code 0 (the ones ZEGO's limit let through)."""
    throttled: int
    """Calls answered with Code 6."""
    busiest_second_all: int
    """The most calls, whatever their answer, in any one-second window."""
    busiest_second_admitted: int
    per_second: tuple[int, ...]
    per_second_throttled: tuple[int, ...]

    @property
    def rate(self) -> float:
        """Calls per second, every answer counted."""
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    @property
    def admitted_rate(self) -> float:
        """Code-0 answers per second."""
        return self.admitted / self.seconds if self.seconds > 0 else 0.0

    @property
    def code_6_share(self) -> float:
        """Share of calls answered with Code 6."""
        return self.throttled / self.calls if self.calls else 0.0

    def as_dict(self, ceiling: float, zego_limit: float) -> dict[str, Any]:
        """The figures reported in results.json; rates also as fractions of ``ceiling`` (ours) and of
        ``zego_limit`` (ZEGO's)."""
        return {
            "window_seconds": round(self.seconds, 2),
            "calls": self.calls,
            "admitted_calls": self.admitted,
            "code_6_calls": self.throttled,
            "calls_per_second": round(self.rate, 3),
            "admitted_per_second": round(self.admitted_rate, 3),
            "fraction_of_ceiling": round(self.rate / ceiling, 4),
            "admitted_fraction_of_ceiling": round(self.admitted_rate / ceiling, 4),
            "admitted_fraction_of_zego_limit": round(self.admitted_rate / zego_limit, 4),
            "code_6_share": round(self.code_6_share, 5),
            "busiest_second_all_calls": self.busiest_second_all,
            "busiest_second_admitted": self.busiest_second_admitted,
            "per_second": list(self.per_second),
            "per_second_code_6": list(self.per_second_throttled),
        }


def window_stats(calls: Iterable[Call], start: float, end: float) -> WindowStats:
    """Aggregate the calls whose time falls in ``[start, end)``; per-second buckets start at ``start``.

    The buckets are whole seconds only: a window measured by a sleeping timer is a little longer than it
    was asked to be (30.0004 s), and a trailing fraction of a second would read as a second with almost
    no calls. Its calls still count in the totals and the busiest window."""
    if end <= start:
        raise ValueError("the window must have a positive length")
    inside = [call for call in calls if start <= call.monotonic < end]
    buckets = max(1, math.floor(end - start))
    per_second = [0] * buckets
    throttled_per_second = [0] * buckets
    for call in inside:
        index = int(call.monotonic - start)
        if index >= buckets:
            continue
        per_second[index] += 1
        if call.code == 6:
            throttled_per_second[index] += 1
    admitted_times = [call.monotonic for call in inside if call.code == 0]
    return WindowStats(
        seconds=end - start,
        calls=len(inside),
        admitted=len(admitted_times),
        throttled=sum(1 for call in inside if call.code == 6),
        busiest_second_all=busiest_window([call.monotonic for call in inside])[0],
        busiest_second_admitted=busiest_window(admitted_times)[0],
        per_second=tuple(per_second),
        per_second_throttled=tuple(throttled_per_second),
    )
