"""Driving the whole local stack (``devstack.stack.LocalStack``) from a scenario, for the end-to-end tests:
register each scripted task as a pipeline would (with its Kind), wait for the outcome over HTTP, and
read what the simulator saw."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from devstack.expectations import task_kind
from devstack.stack import LocalStack
from devstack.zego_simulator import CallbackOutcome, CallbackRecord, CallRecord, TaskSpec, ZegoSimulator
from zego_media_tasks.domain.status import TERMINAL_STATUSES

TaskKey = tuple[str, str]
"""(TaskId, Vendor): a TaskId may exist for both vendors."""


def key_of(spec: TaskSpec) -> TaskKey:
    """The task's (TaskId, Vendor)."""
    return spec.task_id, spec.vendor.value


def register_all(stack: LocalStack, specs: Iterable[TaskSpec]) -> None:
    """``POST /tasks`` for each task, with its Kind. 200 is accepted as well as 202: a task whose timeline
    runs from its creation (a Huawei merge) may have been created by its callback already."""
    for spec in specs:
        kind = task_kind(spec)
        response = stack.register(spec.task_id, spec.vendor.value, kind.value if kind else None)
        assert response.status_code in (200, 202), (spec.task_id, response.status_code, response.text)


def wait_until_terminal(
    stack: LocalStack, specs: Iterable[TaskSpec], timeout: float, *, every: float = 0.5
) -> dict[TaskKey, dict[str, Any]]:
    """Each task's API representation once all are terminal; fails after ``timeout`` s (monotonic)."""
    keys = [key_of(spec) for spec in specs]
    deadline = time.monotonic() + timeout
    states: dict[TaskKey, dict[str, Any] | None] = {}
    while True:
        states = {(task_id, vendor): stack.task(task_id, vendor) for task_id, vendor in keys}
        if all(state is not None and state["status"] in TERMINAL_STATUSES for state in states.values()):
            return {key: state for key, state in states.items() if state is not None}
        if time.monotonic() >= deadline:
            waiting = {key: (state or {}).get("status") for key, state in states.items()}
            raise AssertionError(f"not terminal within {timeout} s: {waiting}")
        time.sleep(every)


def describe_calls(simulator: ZegoSimulator, spec: TaskSpec) -> list[CallRecord]:
    """The DescribeMediaTask calls the simulator answered for the task."""
    return [
        record
        for record in simulator.call_log.records()
        if record.task_id == spec.task_id and record.vendor == spec.vendor.value
    ]


def timeline_end(simulator: ZegoSimulator, spec: TaskSpec) -> float:
    """When the task's timeline ended, on the simulator's monotonic clock: when its final state began to
    be answered and its callback was due."""
    start = simulator.service.book.timeline_start(spec.vendor, spec.task_id)
    assert start is not None, f"{spec.task_id}: its timeline never started"
    return start.monotonic + spec.timeline_seconds * simulator.service.book.time_scale


def callbacks_settled(simulator: ZegoSimulator) -> Callable[[list[CallbackRecord]], bool]:
    """A ``callback_log.wait_for`` condition: nothing is left to send, and no callback's latest try
    is a retry (a retry leaves the queue while it is tried, so the queue alone can look empty)."""
    dispatcher = simulator.callbacks
    assert dispatcher is not None, "the simulator sends no callbacks"

    def settled(records: list[CallbackRecord]) -> bool:
        latest = {(r.task_id, r.vendor, r.copy, r.nonce): r.outcome for r in records}
        return dispatcher.pending == 0 and CallbackOutcome.RETRY not in latest.values()

    return settled
