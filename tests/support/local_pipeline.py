"""Driving the whole local stack (``devstack.stack.LocalStack``) from a scenario, for the end-to-end tests:
the options of a run that ends in a minute or two, register each scripted task as a pipeline would (with
its Kind), wait for the outcome over HTTP, and read what the simulator saw."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

from devstack.event_source import EventSourceSettings
from devstack.expectations import expected_source, expected_status, task_kind
from devstack.stack import LocalStack, StackOptions
from devstack.zego_simulator import CallbackOutcome, CallbackRecord, CallRecord, Scenario, TaskSpec, ZegoSimulator
from zego_media_tasks.domain.status import TERMINAL_STATUSES

TaskKey = tuple[str, str]
"""(TaskId, Vendor): a TaskId may exist for both vendors."""

FAST_POLLING: Final[Mapping[str, str]] = MappingProxyType(
    {
        "POLL_BACKOFF_BASE_SECONDS": "1",
        "POLL_BACKOFF_CAP_SECONDS": "2",
        "THROTTLE_RETRY_SECONDS": "1",
        "NOT_FOUND_GRACE_SECONDS": "4",
    }
)
"""Poller knobs for a run of a minute or two: backoffs of seconds, a short grace for an unknown task."""
BRISK_EVENT_SOURCE: Final = EventSourceSettings(batch_size=10, batching_window_seconds=0.2, maximum_concurrency=2)
"""The poller's event source in a short run: a fifth of a second to gather a batch, two at a time."""


def quick_run(scenario: Scenario, **poller_knobs: str) -> StackOptions:
    """The options of a run of ``scenario`` that ends in a minute or two, with ZEGO's callbacks: the
    scenario at four times its speed, :data:`FAST_POLLING` (``poller_knobs`` add or change knobs) and
    :data:`BRISK_EVENT_SOURCE`. A test changes the rest with ``dataclasses.replace``."""
    return StackOptions(
        scenario=scenario,
        time_scale=0.25,
        poller_environment={**FAST_POLLING, **poller_knobs},
        event_source=BRISK_EVENT_SOURCE,
        simulator_callbacks=True,
    )


def key_of(spec: TaskSpec) -> TaskKey:
    """The task's (TaskId, Vendor)."""
    return spec.task_id, spec.vendor.value


def label(spec: TaskSpec) -> str:
    """``Vendor:TaskId``, to name the task in a failed assertion or a test id."""
    return f"{spec.vendor}:{spec.task_id}"


def embedded_simulator(stack: LocalStack) -> ZegoSimulator:
    """The stack's own ZEGO simulator (the stack runs one unless it was pointed at another ZEGO)."""
    assert stack.simulator is not None, "the stack runs no simulator of its own"
    return stack.simulator


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


def unexpected_endings(states: Mapping[TaskKey, Mapping[str, Any]], specs: Iterable[TaskSpec]) -> list[str]:
    """The tasks of ``specs`` that did not end as their scenario dictates (callbacks on): in another status,
    or by another source where the script decides it rather than a race. Empty when all did."""
    wrong = []
    for spec in specs:
        state = states[key_of(spec)]
        status, source = expected_status(spec, callbacks=True), expected_source(spec, callbacks=True)
        if state["status"] != status or (source is not None and state["completedBy"] != source):
            wrong.append(f"{label(spec)}: {state['status']} by {state['completedBy']}, not {status} by {source}")
    return wrong


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
