"""moto's EventBridge delivers the stack's state-change events through a rule to a local queue, as
EventBridge delivers them: the whole envelope, matched by source and detail type; the local subscriber
keeps each one and writes it as one line, exactly as delivered, to a file rewritten at each start."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from devstack.delivered_events import DeliveredEvents
from devstack.resources import ProvisionedStack
from tests.support.state_change_events import schema_violations
from tests.support.waiting import wait_for
from zego_media_tasks.domain.state_change import DETAIL_TYPE

pytestmark = pytest.mark.integration

DETAIL: dict[str, object] = {"taskId": "t-1", "status": "SUCCEEDED"}


@pytest.fixture
def bus(stack: ProvisionedStack) -> str:
    return stack.event_bus_names["TasksEventBus"]


@pytest.fixture
def subscriber(bus: str, tmp_path: Path) -> Iterator[DeliveredEvents]:
    events = DeliveredEvents(bus, "zego-media-tasks", path=tmp_path / "events.jsonl").start()
    yield events
    events.stop()


def _put(bus: str, source: str, detail_type: str, detail: dict[str, object]) -> str:
    response = boto3.client("events").put_events(
        Entries=[{"EventBusName": bus, "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )
    assert response["FailedEntryCount"] == 0
    event_id: str = response["Entries"][0]["EventId"]
    return event_id


def test_a_matching_event_arrives_with_eventbridges_whole_envelope(bus: str, subscriber: DeliveredEvents) -> None:
    event_id = _put(bus, "zego-media-tasks", DETAIL_TYPE, DETAIL)
    wait_for(lambda: subscriber.count == 1, timeout=10)
    [event] = subscriber.events()
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert (event["id"], event["source"], event["detail-type"], event["detail"]) == (
        event_id,
        "zego-media-tasks",
        DETAIL_TYPE,
        DETAIL,
    )
    assert event["account"] == "123456789012"
    assert event["region"] == "us-east-1"
    # the envelope is the schema's (the detail here is not a real one)
    assert [violation for violation in schema_violations(event) if not violation.startswith("detail")] == []


def test_events_of_another_source_or_detail_type_are_not_delivered(bus: str, subscriber: DeliveredEvents) -> None:
    _put(bus, "other-stack", DETAIL_TYPE, DETAIL)
    _put(bus, "zego-media-tasks", "Something Else", DETAIL)
    _put(bus, "zego-media-tasks", DETAIL_TYPE, DETAIL)  # proves delivery works while the others are absent
    wait_for(lambda: subscriber.count >= 1, timeout=10)
    moment = time.monotonic()
    wait_for(lambda: subscriber.idle_since(moment), timeout=10)
    assert [(event["source"], event["detail-type"]) for event in subscriber.events()] == [
        ("zego-media-tasks", DETAIL_TYPE)
    ]


def test_each_event_is_one_line_of_the_file_exactly_as_delivered(
    bus: str, subscriber: DeliveredEvents, tmp_path: Path
) -> None:
    for n in range(3):
        _put(bus, "zego-media-tasks", DETAIL_TYPE, {**DETAIL, "n": n})
    wait_for(lambda: subscriber.count == 3, timeout=10)
    lines = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == subscriber.events()
    assert sorted(json.loads(line)["detail"]["n"] for line in lines) == [0, 1, 2]


def test_the_file_is_rewritten_at_each_start(bus: str, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"from": "the last run"}\n', encoding="utf-8")
    events = DeliveredEvents(bus, "zego-media-tasks", path=path).start()
    events.stop()
    assert path.read_text(encoding="utf-8") == ""


def test_the_envelopes_paths_are_compiled_once_not_per_event(
    bus: str, subscriber: DeliveredEvents, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jsonpath_ng.ext.parser import ExtendedJsonPathParser

    compiles: list[str] = []
    original = ExtendedJsonPathParser.parse

    def counted(self: ExtendedJsonPathParser, path: str) -> object:
        compiles.append(path)
        return original(self, path)

    monkeypatch.setattr(ExtendedJsonPathParser, "parse", counted)
    details: list[dict[str, object]] = [{"taskId": f"t-{n}", "status": "SUCCEEDED"} for n in range(3)]
    for detail in details:
        _put(bus, "zego-media-tasks", DETAIL_TYPE, detail)
    wait_for(lambda: subscriber.count == len(details), timeout=10)
    # each event still gets its own values through the compiled paths
    assert sorted(event["detail"]["taskId"] for event in subscriber.events()) == ["t-0", "t-1", "t-2"]
    assert len(compiles) == len(set(compiles))
