"""What the default schedule costs: ZEGO calls per task and detection delay, as documented in
docs/architecture.md ("Poll decisions"). The real decision code is driven by the polling-efficiency
benchmark's virtual-clock simulation (``bench.polling_efficiency.simulate_polls``) with a fake ZEGO whose
task finishes after a given time; the RNG is seeded, so the numbers are reproducible."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime

import pytest
from bench.polling_efficiency import Answers, simulate_polls

from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.outcome import CallOutcome
from zego_media_tasks.domain.polling import PollingPolicy
from zego_media_tasks.domain.snapshot import TaskSnapshot
from zego_media_tasks.domain.status import TaskStatus, Vendor

START = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
SEED = 20261123
RUNS = 1000


def _answer(status: TaskStatus, vendor_status: str) -> CallOutcome:
    return CallOutcome.success(
        TaskSnapshot(task_id="task", vendor=Vendor.TENCENT, status=status, vendor_status=vendor_status)
    )


ZEGO = Answers(
    task_id="task",
    vendor=Vendor.TENCENT,
    processing=_answer(TaskStatus.PROCESSING, "PROCESSING"),
    final=_answer(TaskStatus.SUCCEEDED, "FINISH"),
)


def follow(duration_seconds: float, rng: random.Random, policy: PollingPolicy) -> tuple[int, float]:
    """ZEGO calls until the task is seen finished, and seconds from finishing to being seen."""
    polls = simulate_polls(
        None,
        PollRequest("task", Vendor.TENCENT),
        ZEGO,
        completion_seconds=duration_seconds,
        policy=policy,
        rng=rng,
        start=START,
    )
    *_, seen = polls
    return seen.number, seen.elapsed_seconds - duration_seconds


@pytest.mark.parametrize(
    ("minutes", "mean_calls", "mean_lag"),
    [(1, 2.91, 64.4), (10, 8.19, 24.4), (60, 40.0, 45.5)],
)
def test_expected_zego_calls_with_the_default_schedule(minutes: int, mean_calls: float, mean_lag: float) -> None:
    rng = random.Random(SEED)
    results = [follow(minutes * 60, rng, PollingPolicy()) for _ in range(RUNS)]
    assert statistics.mean(calls for calls, _ in results) == pytest.approx(mean_calls, abs=0.1)
    assert statistics.mean(lag for _, lag in results) == pytest.approx(mean_lag, abs=1)
    assert max(lag for _, lag in results) <= PollingPolicy().backoff.cap_seconds  # never later than the cap
