"""The whole local stack, in-process on free ports: register over HTTP, read the final states over HTTP.

Real handlers, real boto3 calls to moto's server, real SQS delays and visibility, real HTTP to the ZEGO
simulator, with simulator faults injected on the way.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.event_source import EventSourceSettings
from devstack.expectations import expected_status
from devstack.stack import DEMO_SCENARIO, LocalStack, StackOptions
from devstack.zego_simulator import FaultSettings, Scenario
from zego_media_tasks.domain.status import TERMINAL_STATUSES

pytestmark = pytest.mark.e2e

FAST_POLLING = {
    "POLL_BACKOFF_BASE_SECONDS": "1",
    "POLL_BACKOFF_CAP_SECONDS": "2",
    "THROTTLE_RETRY_SECONDS": "1",
    "NOT_FOUND_GRACE_SECONDS": "4",
    "ZEGO_READ_TIMEOUT_SECONDS": "1",
}


@pytest.fixture(scope="module")
def faulty_stack() -> Iterator[LocalStack]:
    # 5xx, malformed JSON and code 1000 on a third of the calls; hangs longer than the read timeout.
    faults = FaultSettings(
        http_5xx_rate=0.15, malformed_json_rate=0.05, code_1000_rate=0.05, hang_rate=0.05, hang_seconds=2
    )
    options = StackOptions(
        scenario=Scenario.from_file(DEMO_SCENARIO),
        time_scale=0.25,
        faults=faults,
        simulator_seed=7,
        poller_environment=FAST_POLLING,
        event_source=EventSourceSettings(batch_size=10, batching_window_seconds=0.2, maximum_concurrency=2),
    )
    with LocalStack(options) as stack:
        yield stack


def _wait_until_terminal(stack: LocalStack, tasks: list[tuple[str, str]], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    states: dict[str, Any] = {}
    while time.monotonic() < deadline:
        states = {task_id: stack.task(task_id, vendor) for task_id, vendor in tasks}
        if all(s is not None and s["status"] in TERMINAL_STATUSES for s in states.values()):
            return states
        time.sleep(0.5)
    raise AssertionError(f"not terminal within {timeout}s: {states}")


def test_every_demo_task_ends_as_its_scenario_dictates_despite_faults(faulty_stack: LocalStack) -> None:
    # Given the demo scenario's tasks, registered over HTTP
    scenario = Scenario.from_file(DEMO_SCENARIO)
    tasks = [(spec.task_id, spec.vendor.value) for spec in scenario.tasks]
    for task_id, vendor in tasks:
        assert faulty_stack.register(task_id, vendor).status_code == 202

    # When the pipeline runs until every task is terminal
    states = _wait_until_terminal(faulty_stack, tasks, timeout=120)

    # Then each ended in the status its script dictates, read back over HTTP
    for spec in scenario.tasks:
        assert states[spec.task_id]["status"] == expected_status(spec), spec.task_id
    # and the simulator really did inject faults on the way, which the pipeline absorbed
    assert faulty_stack.simulator is not None
    faulted = {r.task_id for r in faulty_stack.simulator.call_log.records() if r.fault}
    assert faulted & {task_id for task_id, _ in tasks}
    assert faulty_stack.dead_letters() == []


def test_registering_the_same_task_again_returns_the_existing_record(faulty_stack: LocalStack) -> None:
    first = faulty_stack.register("289665200", "Huawei")
    assert first.status_code in (200, 202)
    again = faulty_stack.register("289665200", "Huawei")
    assert again.status_code == 200


def test_a_finished_task_carries_the_vendor_results(faulty_stack: LocalStack) -> None:
    compose = "1400341231-ComposeMedia-6fdfc967d7eb12f5e9b27f52519f1afatt0"
    faulty_stack.register(compose, "Tencent")
    state = _wait_until_terminal(faulty_stack, [(compose, "Tencent")], timeout=120)[compose]
    assert state["status"] == "SUCCEEDED"
    assert state["replayUrl"].startswith("https://")
    assert state["pollCount"] >= 1
    assert state["completedAt"] is not None
