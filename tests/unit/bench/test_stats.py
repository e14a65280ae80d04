"""The statistics the benchmarks report: percentiles, summaries and ZEGO call windows."""

from __future__ import annotations

import pytest
from bench.stats import Call, percentile, summary, window_stats


def test_percentile_interpolates_between_closest_ranks() -> None:
    # Given four values
    values = [4.0, 1.0, 3.0, 2.0]
    # Then the median lies halfway between the middle two, and the ends are the extremes
    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 25) == pytest.approx(1.75)


def test_percentile_refuses_nothing_to_measure() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], 101)


def test_summary_of_values_and_of_none() -> None:
    assert summary([]) == {"count": 0}
    stats = summary([1.0, 2.0, 3.0, 4.0, 5.0])
    assert stats["count"] == 5
    assert stats["mean"] == 3.0
    assert stats["p50"] == 3.0
    assert stats["max"] == 5.0


def test_window_stats_counts_only_the_window_and_buckets_per_second() -> None:
    # Given calls before, inside and after a 3-second window, one of them answered Code 6
    calls = [
        Call(9.9, 0),  # before
        Call(10.0, 0),
        Call(10.5, 6),
        Call(11.2, 0),
        Call(12.99, 0),
        Call(13.0, 0),  # after (the window is half-open)
    ]
    # When aggregated
    stats = window_stats(calls, 10.0, 13.0)
    # Then only the four inside count, per second from the window's start
    assert stats.calls == 4
    assert stats.admitted == 3
    assert stats.throttled == 1
    assert stats.per_second == (2, 1, 1)
    assert stats.per_second_throttled == (1, 0, 0)
    assert stats.rate == pytest.approx(4 / 3)
    assert stats.admitted_rate == pytest.approx(1.0)
    assert stats.code_6_share == 0.25
    # And the busiest one-second window, wherever it starts, holds two calls ([10.0, 11.0) or
    # [10.5, 11.5)) but a single Code-0 answer (10.0, 11.2 and 12.99 are more than a second apart)
    assert stats.busiest_second_all == 2
    assert stats.busiest_second_admitted == 1


def test_window_stats_buckets_whole_seconds_only() -> None:
    # Given a window a timer measured a little longer than 2 s, with a call in its trailing fraction
    calls = [Call(0.5, 0), Call(1.5, 0), Call(1.7, 0), Call(2.0001, 0)]
    # When aggregated
    stats = window_stats(calls, 0.0, 2.0002)
    # Then the fraction makes no near-empty third second, and its call still counts in the totals
    assert stats.per_second == (1, 2)
    assert stats.calls == 4


def test_window_stats_of_less_than_a_second_has_one_bucket() -> None:
    stats = window_stats([Call(0.1, 0), Call(0.4, 6)], 0.0, 0.5)
    assert stats.per_second == (2,)
    assert stats.per_second_throttled == (1,)


def test_window_stats_reports_fractions_of_the_ceiling_and_of_zegos_limit() -> None:
    calls = [Call(float(t) / 20, 0) for t in range(200)]  # 20 calls/s for 10 s
    report = window_stats(calls, 0.0, 10.0).as_dict(ceiling=18, zego_limit=20)
    assert report["calls_per_second"] == 20.0
    assert report["admitted_fraction_of_zego_limit"] == 1.0
    assert report["fraction_of_ceiling"] == pytest.approx(20 / 18, abs=1e-4)
    assert report["busiest_second_all_calls"] == 20
    assert report["code_6_share"] == 0.0


def test_window_stats_refuses_an_empty_window() -> None:
    with pytest.raises(ValueError, match="positive length"):
        window_stats([], 5.0, 5.0)
