"""What the default schedule costs: ZEGO calls per task and detection delay, as documented in
docs/architecture.md ("Poll decisions"). The real decision code is driven by a fake ZEGO whose task
finishes after a given time; the RNG is seeded, so the numbers are reproducible."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.outcome import CallOutcome
from zego_media_tasks.domain.polling import PollingPolicy, Step, decide_outcome
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.snapshot import TaskSnapshot
from zego_media_tasks.domain.status import TaskStatus, Vendor

START = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
SEED = 20261123
RUNS = 1000


def follow(duration_seconds: float, rng: random.Random, policy: PollingPolicy) -> tuple[int, float]:
    """ZEGO calls until the task is seen finished, and seconds from finishing to being seen."""
    stored: TaskRecord | None = None
    request = PollRequest("task", Vendor.TENCENT)
    now, calls = START, 0
    while True:
        finished = (now - START).total_seconds() >= duration_seconds
        status, raw = (TaskStatus.SUCCEEDED, "FINISH") if finished else (TaskStatus.PROCESSING, "PROCESSING")
        outcome = CallOutcome.success(TaskSnapshot("task", Vendor.TENCENT, status, raw))
        decision = decide_outcome(stored, request, outcome, now=now, policy=policy, random=rng, sent_at=START)
        calls += 1
        if decision.step is Step.FINISH:
            return calls, (now - START).total_seconds() - duration_seconds
        assert decision.next_request is not None
        assert decision.delay_seconds is not None
        stored, request = decision.record, decision.next_request
        now += timedelta(seconds=decision.delay_seconds)


@pytest.mark.parametrize(
    ("minutes", "mean_calls", "mean_lag"),
    [(1, 6.5, 36), (10, 15.7, 40), (60, 65.6, 38)],
)
def test_expected_zego_calls_with_the_default_schedule(minutes: int, mean_calls: float, mean_lag: float) -> None:
    rng = random.Random(SEED)
    results = [follow(minutes * 60, rng, PollingPolicy()) for _ in range(RUNS)]
    assert statistics.mean(calls for calls, _ in results) == pytest.approx(mean_calls, abs=0.1)
    assert statistics.mean(lag for _, lag in results) == pytest.approx(mean_lag, abs=1)
    assert max(lag for _, lag in results) <= 120  # never later than the cap after completion
