"""The callback-latency benchmark's plan: tasks that end one at a time, none of them polled, and a figures
block that says what was measured and what was left out."""

from __future__ import annotations

from bench.callback_latency import scenario
from bench.report import callback_latency_block

from devstack.expectations import task_kind
from devstack.zego_simulator import CallbackFate, TimelineClock
from zego_media_tasks.domain.status import TaskKind, Vendor, is_pollable


def test_the_tasks_end_one_at_a_time_spacing_apart_from_when_they_are_added() -> None:
    plan = scenario(6, 2, spacing=0.5, first_end=10.0)
    ends = [spec.timeline_seconds for spec in plan.tasks]
    assert ends == [10.0 + 0.5 * index for index in range(8)]
    assert all(spec.timeline_clock is TimelineClock.CREATED for spec in plan.tasks)
    assert all(spec.callback is not None and spec.callback.fate is CallbackFate.SEND for spec in plan.tasks)


def test_the_merges_are_huawei_ones_nobody_polls_and_the_transcodes_fall_between_them() -> None:
    plan = scenario(6, 2, spacing=0.5, first_end=10.0)
    kinds = [task_kind(spec) for spec in plan.tasks]
    assert kinds.count(TaskKind.MERGE) == 6
    assert kinds.count(TaskKind.TRANSCODE) == 2
    assert kinds[0] is TaskKind.MERGE
    assert kinds[-1] is TaskKind.MERGE
    merges = [spec for spec in plan.tasks if task_kind(spec) is TaskKind.MERGE]
    assert not any(is_pollable(Vendor(spec.vendor.value), TaskKind.MERGE) for spec in merges)


def test_the_figures_say_how_many_were_measured_and_left_out() -> None:
    spread = {"count": 3, "mean": 5.0, "p50": 4.0, "p95": 9.0, "p99": 9.5, "max": 10.0}
    block = callback_latency_block(
        {
            "callbacks": 4,
            "tasks": {"huawei_merge_registered": 3, "tencent_transcode_unregistered": 1},
            "spacing_seconds": 0.5,
            "measured": 3,
            "not_seen": 0,
            "ended_otherwise": 1,
            "first_try_refused": 0,
            "send_to_visible_ms": spread,
            "delivery_round_trip_ms": spread,
            "read_period_ms": spread,
            "load_average_1m": {"before": 1.0, "after": 1.5},
        }
    )
    assert "3 measured, 1 ended otherwise, 0 never seen" in block
    assert "| **sent → record shows it** | 3 | 4.0 | 9.0 | 9.5 | 10.0 |" in block
