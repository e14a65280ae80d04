"""The whole local stack, in-process on free ports: register over HTTP, read the final states over HTTP.

Real handlers, real boto3 calls to moto's server, real SQS delays and visibility, real HTTP to the ZEGO
simulator, with simulator faults injected on the way, and the simulator's signed completion callbacks
POSTed to the local callback route, as ``make run`` runs the demo.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from devstack.stack import DEMO_SCENARIO, LocalStack
from devstack.zego_simulator import CallbackOutcome, FaultSettings, Scenario
from tests.support import local_pipeline as pipeline

pytestmark = pytest.mark.e2e

DEMO = Scenario.from_file(DEMO_SCENARIO)
HUAWEI_MERGE = next(spec for spec in DEMO.tasks if spec.is_huawei_compose)
TRANSCODE_ENDED_BY_CALLBACK = next(spec for spec in DEMO.tasks if spec.event == "transcode" and spec.callback)


@pytest.fixture(scope="module")
def faulty_stack() -> Iterator[LocalStack]:
    # 5xx, malformed JSON and code 1000 on a third of the calls; hangs longer than the read timeout.
    faults = FaultSettings(
        http_5xx_rate=0.15, malformed_json_rate=0.05, code_1000_rate=0.05, hang_rate=0.05, hang_seconds=2
    )
    options = replace(pipeline.quick_run(DEMO, ZEGO_READ_TIMEOUT_SECONDS="1"), faults=faults, simulator_seed=7)
    with LocalStack(options) as stack:
        pipeline.register_all(stack, DEMO.tasks)
        yield stack


def test_every_demo_task_ends_as_its_scenario_dictates_despite_faults(faulty_stack: LocalStack) -> None:
    # Given the demo scenario's tasks, registered over HTTP with their Kind
    # When the pipeline runs until every task is terminal
    states = pipeline.wait_until_terminal(faulty_stack, DEMO.tasks, timeout=120)

    # Then each ended in the status its script dictates, read back over HTTP, by what its script decides
    assert pipeline.unexpected_endings(states, DEMO.tasks) == []
    # and the simulator really did inject faults on the way, which the pipeline absorbed
    faulted = {r.task_id for r in pipeline.embedded_simulator(faulty_stack).call_log.records() if r.fault}
    assert faulted & {spec.task_id for spec in DEMO.tasks}
    assert faulty_stack.dead_letters() == []


def test_the_huawei_merge_is_ended_by_its_callback_alone_and_never_queried(faulty_stack: LocalStack) -> None:
    state = pipeline.wait_until_terminal(faulty_stack, [HUAWEI_MERGE], timeout=120)[pipeline.key_of(HUAWEI_MERGE)]
    assert (state["status"], state["completedBy"], state["kind"]) == ("SUCCEEDED", "CALLBACK", "merge")
    final = HUAWEI_MERGE.final
    assert final is not None
    assert state["replayUrl"] == final.fields["ReplayUrl"]
    assert state["pollCount"] == 0
    assert pipeline.describe_calls(pipeline.embedded_simulator(faulty_stack), HUAWEI_MERGE) == []


def test_the_transcode_is_ended_by_its_callback_unless_a_poll_saw_it_end_first(faulty_stack: LocalStack) -> None:
    # Given a polled task whose callback is sent the moment it ends
    spec = TRANSCODE_ENDED_BY_CALLBACK
    state = pipeline.wait_until_terminal(faulty_stack, [spec], timeout=120)[pipeline.key_of(spec)]
    simulator = pipeline.embedded_simulator(faulty_stack)
    delivered = [r for r in simulator.callback_log.records(spec.task_id) if r.outcome == CallbackOutcome.DELIVERED]
    assert len(delivered) == 1
    assert state["status"] == "SUCCEEDED"
    if state["completedBy"] != "CALLBACK":
        # Then only a poll answered between the end and the callback's answer can have ended it first
        ended = pipeline.timeline_end(simulator, spec)
        answered = delivered[0].monotonic + delivered[0].duration_seconds
        calls = pipeline.describe_calls(simulator, spec)
        raced = [r for r in calls if r.code == 0 and ended <= r.monotonic <= answered]
        assert state["completedBy"] == "POLL"
        assert raced, f"ended by a poll, but none was answered between its end and its callback: {state}"


def test_registering_the_same_task_again_returns_the_existing_record(faulty_stack: LocalStack) -> None:
    first = faulty_stack.register("289665200", "Huawei")
    assert first.status_code in (200, 202)
    again = faulty_stack.register("289665200", "Huawei")
    assert again.status_code == 200


def test_a_finished_task_carries_the_vendor_results(faulty_stack: LocalStack) -> None:
    compose = next(spec for spec in DEMO.tasks if spec.event == "compose" and not spec.is_huawei_compose)
    state = pipeline.wait_until_terminal(faulty_stack, [compose], timeout=120)[pipeline.key_of(compose)]
    assert state["status"] == "SUCCEEDED"
    assert state["replayUrl"].startswith("https://")
    assert state["pollCount"] >= 1
    assert state["completedAt"] is not None
