"""BackoffPolicy and ThrottleDelay: partial and full jitter, caps, whole seconds, validation."""

from __future__ import annotations

import math
import random

import pytest

from zego_media_tasks.domain.backoff import (
    MIN_DELAY_SECONDS,
    SQS_MAX_DELAY_SECONDS,
    BackoffPolicy,
    ThrottleDelay,
    policy_problems,
)


class Extremes:
    """A uniform source that always answers the low or the high end of the range."""

    def __init__(self, high: bool) -> None:
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


def test_the_jitter_ceiling_doubles_from_the_base_until_the_cap() -> None:
    policy = BackoffPolicy(base_seconds=4, factor=2, cap_seconds=120)
    assert [policy.ceiling(n) for n in range(7)] == [4, 8, 16, 32, 64, 120, 120]


def test_a_huge_attempt_number_stays_at_the_cap_without_overflowing() -> None:
    policy = BackoffPolicy()
    assert policy.ceiling(10_000) == policy.cap_seconds


def test_full_jitter_spans_zero_to_the_ceiling_but_never_less_than_one_second() -> None:
    policy = BackoffPolicy(base_seconds=4, factor=2, cap_seconds=120, jitter=1)
    assert policy.delay(3, Extremes(high=False)) == MIN_DELAY_SECONDS
    assert policy.delay(3, Extremes(high=True)) == 32
    assert policy.delay(50, Extremes(high=True)) == 120


def test_partial_jitter_draws_from_the_top_share_of_the_ceiling() -> None:
    policy = BackoffPolicy(base_seconds=60, factor=1.5, cap_seconds=100, jitter=0.1)
    assert [policy.delay(n, Extremes(high=False)) for n in range(3)] == [54, 81, 90]
    assert [policy.delay(n, Extremes(high=True)) for n in range(3)] == [60, 90, 100]


def test_no_jitter_is_the_ceiling_itself() -> None:
    policy = BackoffPolicy(base_seconds=10, factor=2, cap_seconds=30, jitter=0)
    assert [policy.delay(n, Extremes(high=False)) for n in range(3)] == [10, 20, 30]


def test_the_default_draws_stay_within_the_jitter_share() -> None:
    policy = BackoffPolicy()
    rng = random.Random(7)
    for attempt in range(8):
        ceiling = policy.ceiling(attempt)
        draws = [policy.delay(attempt, rng) for _ in range(200)]
        assert min(draws) >= math.floor(ceiling * (1 - policy.jitter))
        assert max(draws) <= round(ceiling)
        assert len(set(draws)) > 1  # still jittered: tasks registered together drift apart


def test_delays_are_whole_seconds_within_bounds_for_many_draws() -> None:
    policy = BackoffPolicy()
    rng = random.Random(42)
    for attempt in range(12):
        for _ in range(200):
            delay = policy.delay(attempt, rng)
            assert isinstance(delay, int)
            assert MIN_DELAY_SECONDS <= delay <= policy.ceiling(attempt)


def test_the_same_seed_gives_the_same_schedule() -> None:
    policy = BackoffPolicy()
    first = [policy.delay(n, random.Random(3)) for n in range(8)]
    second = [policy.delay(n, random.Random(3)) for n in range(8)]
    assert first == second


def test_a_factor_of_one_is_constant_jitter_around_the_base() -> None:
    policy = BackoffPolicy(base_seconds=10, factor=1, cap_seconds=10)
    assert {policy.ceiling(n) for n in range(20)} == {10}


@pytest.mark.parametrize(
    ("base", "factor", "cap", "problem"),
    [
        (0, 2, 120, "base"),
        (4, 0.5, 120, "factor"),
        (4, 2, 901, "cap"),
        (4, 2, 0.5, "cap"),
        (200, 2, 120, "exceed"),
        (float("nan"), 2, 120, "base"),
    ],
)
def test_unusable_parameters_are_refused(base: float, factor: float, cap: float, problem: str) -> None:
    assert any(problem in text for text in policy_problems(base, factor, cap))
    with pytest.raises(ValueError, match=problem):
        BackoffPolicy(base, factor, cap)


@pytest.mark.parametrize("jitter", [-0.1, 1.5, float("nan")])
def test_a_jitter_share_outside_zero_to_one_is_refused(jitter: float) -> None:
    assert policy_problems(16, 2, 120, jitter) == ["backoff jitter must be between 0 and 1"]
    with pytest.raises(ValueError, match="jitter"):
        BackoffPolicy(16, 2, 120, jitter)


def test_the_cap_may_be_sqs_maximum_delay() -> None:
    assert BackoffPolicy(cap_seconds=SQS_MAX_DELAY_SECONDS).delay(100, Extremes(high=True)) == 900


def test_the_throttle_delay_is_jittered_around_the_retry_setting() -> None:
    throttle = ThrottleDelay(retry_seconds=2)
    assert throttle.delay(Extremes(high=False)) == 1
    assert throttle.delay(Extremes(high=True)) == 3
    rng = random.Random(1)
    assert {throttle.delay(rng) for _ in range(500)} == {1, 2, 3}


def test_a_throttle_delay_that_could_exceed_sqs_maximum_is_refused() -> None:
    with pytest.raises(ValueError, match="throttle"):
        ThrottleDelay(retry_seconds=700)
