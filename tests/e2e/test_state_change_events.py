"""The whole local stack, as ``make run`` runs the demo: every task's state changes reach a subscriber of
the stack's bus, through the table's stream, the real publisher, moto's EventBridge and a rule.

What a task went through is read independently of the publisher: every stream record handed to it is
decoded here (old and new status and sequence of each write), so the events are compared with what the
table really did, and with what the scenario scripts.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from devstack.expectations import expected_status
from devstack.handlers import Handler
from devstack.stack import DEMO_SCENARIO, LocalStack
from devstack.zego_simulator import Scenario, TaskSpec
from tests.support.local_pipeline import TaskKey, key_of, label, quick_run, register_all, wait_until_terminal
from tests.support.state_change_events import by_task, schema_violations
from zego_media_tasks.domain.status import TaskStatus, Vendor, normalize_vendor_status

pytestmark = pytest.mark.e2e

DEMO = Scenario.from_file(DEMO_SCENARIO)


@dataclass(frozen=True)
class Write:
    """One write to the tasks table, as its stream record shows it."""

    key: TaskKey
    old_status: str | None
    new_status: str | None
    old_sequence: int | None
    new_sequence: int | None

    @property
    def changed_status(self) -> bool:
        return self.new_status is not None and (
            self.old_status != self.new_status or self.old_sequence != self.new_sequence
        )


@dataclass
class StreamWitness:
    """Wraps the publisher's handler and decodes every stream record it is handed."""

    writes: dict[str, Write] = field(default_factory=dict)
    """By the record's stream sequence number: a retried batch hands the same record again."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, handler: Handler) -> Handler:
        def witnessed(event: dict[str, Any], context: Any) -> Any:
            with self.lock:
                for record in event["Records"]:
                    self.writes[record["dynamodb"]["SequenceNumber"]] = _write(record["dynamodb"])
            return handler(event, context)

        return witnessed

    def of(self, key: TaskKey) -> list[Write]:
        with self.lock:
            ordered = sorted(self.writes.items(), key=lambda item: int(item[0]))
        return [write for _, write in ordered if write.key == key]


def _write(data: dict[str, Any]) -> Write:
    old, new = data.get("OldImage"), data.get("NewImage")
    keys = data["Keys"]

    def status(image: dict[str, Any] | None) -> str | None:
        return image["status"]["S"] if image else None

    def sequence(image: dict[str, Any] | None) -> int | None:
        return int(image["sequence"]["N"]) if image and "sequence" in image else None

    return Write((keys["taskId"]["S"], keys["vendor"]["S"]), status(old), status(new), sequence(old), sequence(new))


@dataclass
class Run:
    stack: LocalStack
    witness: StreamWitness
    states: dict[TaskKey, dict[str, Any]]
    events: list[dict[str, Any]]
    events_file: Path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    witness = StreamWitness()
    events_file = tmp_path_factory.mktemp("devstack") / "events.jsonl"
    # A NO_TASK grace of 10 s: the demo's unknown Huawei task is polled several times without a status
    # change whatever the machine's speed (1-2 s apart), which the one-event-per-status test needs.
    options = replace(quick_run(DEMO, NOT_FOUND_GRACE_SECONDS="10"), events_log=events_file)
    with LocalStack(options, wrap_publisher=witness.wrap) as stack:
        register_all(stack, DEMO.tasks)
        states = wait_until_terminal(stack, DEMO.tasks, timeout=120)
        assert stack.wait_for_events(timeout=30), "events still arriving 30 s after every task was terminal"
        yield Run(stack, witness, states, stack.state_change_events(), events_file)


def _scripted_statuses(spec: TaskSpec) -> list[TaskStatus]:
    """The statuses the scenario lets the task go through, in order: registered, its timeline, its end."""
    vendor = Vendor(spec.vendor.value)
    timeline = [normalize_vendor_status(vendor, step.status) for step in spec.timeline]
    ending = expected_status(spec, callbacks=True)
    assert ending is not None, f"{spec.task_id}: the demo's tasks all end"
    return [TaskStatus.PENDING, *timeline, ending]


def _is_in_order_within(path: list[str], allowed: list[TaskStatus]) -> bool:
    remaining = iter(allowed)
    return all(any(status == step for step in remaining) for status in path)


@pytest.mark.parametrize("spec", DEMO.tasks, ids=label)
def test_a_demo_tasks_events_are_exactly_its_status_transitions_ending_in_its_expected_status(
    run: Run, spec: TaskSpec
) -> None:
    # Given the task's events, one per eventId, in sequence order
    events = [event["detail"] for event in by_task(run.events)[key_of(spec)]]
    # Then they chain: each starts from the status the one before ended in, one sequence on
    assert events[0]["previousStatus"] is None
    for before, after in itertools.pairwise(events):
        assert after["previousStatus"] == before["status"], (before, after)
        assert after["sequence"] == before["sequence"] + 1, (before, after)
    # and they are exactly the status changes the table went through, as its stream shows them
    transitions = [
        (write.old_status, write.new_status, write.new_sequence)
        for write in run.witness.of(key_of(spec))
        if write.changed_status
    ]
    assert [(e["previousStatus"], e["status"], e["sequence"]) for e in events] == transitions
    # and they end in the status the scenario dictates, the only terminal event, which the API shows too
    expected = expected_status(spec, callbacks=True)
    assert events[-1]["status"] == expected == run.states[key_of(spec)]["status"]
    assert [event["terminal"] for event in events] == [False] * (len(events) - 1) + [True]
    assert events[-1]["completedBy"] == run.states[key_of(spec)]["completedBy"] == events[-1]["source"]
    # and they follow the scenario's script, in its order
    path = [event["status"] for event in events]
    assert _is_in_order_within(path, _scripted_statuses(spec)), (path, _scripted_statuses(spec))


def test_a_task_polled_many_times_without_a_change_has_one_event_per_status(run: Run) -> None:
    # Given the task the poller asked about most often while its status stayed the same: at least its
    # registration and each poll wrote it, and the publisher was handed the writes that changed its status
    def unchanged_writes(spec: TaskSpec) -> int:
        return 1 + int(run.states[key_of(spec)]["pollCount"]) - len(run.witness.of(key_of(spec)))

    spec = max(DEMO.tasks, key=unchanged_writes)
    # (the check is meaningful: it was written several times without a status change)
    assert unchanged_writes(spec) >= 2, unchanged_writes(spec)
    # Then the stream's filter (template.yaml, FilterCriteria) handed the publisher only status changes
    assert all(write.changed_status for write in run.witness.of(key_of(spec)))
    # and each status it went through has exactly one event
    statuses = [event["detail"]["status"] for event in by_task(run.events)[key_of(spec)]]
    assert len(statuses) == len(set(statuses)), statuses


def test_every_delivered_event_is_the_documented_event(run: Run) -> None:
    assert run.events, "no event was delivered"
    for event in run.events:
        assert schema_violations(event) == [], event
        assert (event["source"], event["detail-type"]) == ("zego-media-tasks", "ZEGO Media Task State Change")


def test_no_task_outside_the_demo_has_events_and_every_demo_task_has_some(run: Run) -> None:
    assert set(by_task(run.events)) == {key_of(spec) for spec in DEMO.tasks}


def test_the_events_file_holds_every_delivered_event_one_per_line_as_delivered(run: Run) -> None:
    lines = run.events_file.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == run.stack.state_change_events()
    assert len(lines) >= len(run.events)
