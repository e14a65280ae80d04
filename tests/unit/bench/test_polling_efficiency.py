"""The virtual-clock simulation's accounting: polls, detection lag, request units, reproducibility."""

from __future__ import annotations

from collections import Counter

import pytest
from bench.polling_efficiency import (
    MIX,
    SCHEDULES,
    TaskSpec,
    UpperBound,
    aggregate,
    answers,
    follow,
    generate_tasks,
)

from zego_media_tasks.domain.outcome import OutcomeKind
from zego_media_tasks.domain.status import TaskStatus

DEFAULT, FIXED_10, FIXED_60 = SCHEDULES


def _task(completion: float, index: int = 0, fixture: str = "tencent-compose-finish.json") -> TaskSpec:
    return TaskSpec(index=index, kind="merge", fixture=fixture, completion_seconds=completion)


def test_fixed_interval_polls_every_interval_until_it_sees_the_end() -> None:
    # Given a task that finishes 25 s after registration, polled every 10 s from t = 0
    trace = follow(_task(25), FIXED_10, size_items=False)
    # Then it is polled at 0, 10, 20 and 30 s, and seen 5 s after it finished
    assert trace.polls == 4
    assert trace.lag_seconds == 5


def test_a_task_finished_at_registration_costs_one_poll() -> None:
    trace = follow(_task(0), FIXED_60, size_items=False)
    assert trace.polls == 1
    assert trace.lag_seconds == 0


def test_an_end_exactly_on_a_poll_is_seen_by_that_poll() -> None:
    assert follow(_task(60), FIXED_60, size_items=False).lag_seconds == 0
    assert follow(_task(60.5), FIXED_60, size_items=False).lag_seconds == pytest.approx(59.5)


def test_the_default_schedule_is_reproducible_per_task() -> None:
    # Given the same task followed twice, and a different task with the same completion time
    first = follow(_task(600, index=7), DEFAULT, size_items=False)
    again = follow(_task(600, index=7), DEFAULT, size_items=False)
    other = [follow(_task(600, index=n), DEFAULT, size_items=False) for n in range(20)]
    # Then the same task gives the same trace (its RNG is seeded by its index), others vary (jitter)
    assert first == again
    assert len({trace.polls for trace in other}) > 1
    # And the lag never exceeds the backoff cap
    assert all(0 <= trace.lag_seconds <= DEFAULT.cap_seconds for trace in other)


def test_upper_bound_makes_the_window_a_fixed_interval() -> None:
    assert UpperBound().uniform(0, 10) == 10


def test_canned_answers_go_through_the_real_parser() -> None:
    for fixture in ("tencent-compose-finish.json", "huawei-snapshot-succeeded.json", "transcode-finish"):
        canned = answers(fixture)
        assert canned.processing.kind is OutcomeKind.SUCCESS
        assert canned.processing.snapshot is not None
        assert canned.processing.snapshot.status is TaskStatus.PROCESSING
        assert canned.final.snapshot is not None
        assert canned.final.snapshot.status is TaskStatus.SUCCEEDED


def test_request_units_are_counted_on_sampled_tasks() -> None:
    # Given a task that is PROCESSING for two polls and then finished, followed with item sizes
    trace = follow(_task(15), FIXED_10, size_items=True)
    assert trace.polls == 3
    # Then registration put a new item in the table and both indexes
    assert trace.registration_write_units == 3
    # And each poll read the record once (small items: one unit each)
    assert trace.read_units == 3
    # And each poll wrote the table plus two indexes; the two status changes (PENDING → PROCESSING,
    # PROCESSING → SUCCEEDED) cost a delete and a put in each index
    assert trace.write_units == 3 * 3 + 2 * 2
    assert 0 < trace.first_item_bytes < trace.last_item_bytes


def test_generated_tasks_follow_the_mix_and_are_reproducible() -> None:
    tasks = generate_tasks(2000)
    assert tasks == generate_tasks(2000)
    counts = Counter(task.kind for task in tasks)
    for kind in MIX:
        assert counts[kind.name] / len(tasks) == pytest.approx(kind.weight, abs=0.05)
        durations = [t.completion_seconds for t in tasks if t.kind == kind.name]
        assert kind.min_seconds <= min(durations)
        assert max(durations) <= kind.max_seconds


def test_aggregate_reports_per_kind_and_overall() -> None:
    tasks = [_task(25, index=0), TaskSpec(1, "snapshot", "tencent-snapshot-finish.json", 5)]
    traces = [follow(task, FIXED_10, size_items=True) for task in tasks]
    result = aggregate(traces, tasks)
    assert result["all"]["tasks"] == 2
    assert result["all"]["calls_per_task"]["mean"] == (4 + 2) / 2
    assert result["merge"]["detection_lag_seconds"]["max"] == 5
    assert result["snapshot"]["detection_lag_seconds"]["max"] == 5
    # 6 calls over 40 s of tracking (completions 25 + 5 s, lags 5 + 5 s)
    assert result["all"]["calls_per_second_per_1000_tracked"] == pytest.approx(1000 * 6 / 40)
