"""make run's live view counts the state-change events delivered so far."""

from __future__ import annotations

import time

from devstack.__main__ import TaskRef, render


def _title(events: int | None) -> str:
    tasks = [TaskRef("Tencent", "t-1"), TaskRef("Huawei", "h-1")]
    return str(render(tasks, {tasks[0]: {"status": "SUCCEEDED"}}, time.monotonic(), events).title)


def test_the_title_counts_terminal_tasks_and_delivered_events() -> None:
    assert _title(12).startswith("ZEGO media tasks: 1/2 terminal, ")
    assert _title(12).endswith(", 12 state-change events")


def test_without_events_the_title_says_nothing_about_them() -> None:
    assert "events" not in _title(None)
