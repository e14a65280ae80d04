"""The publisher: PutEvents retried for exactly the failed entries, stream records in, one event per change."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.publisher import CollectingPublisher
from zego_media_tasks.domain.polling import with_status
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.state_change import DETAIL_TYPE, StateChange, state_change
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.events.publisher import EventPublisher, PublishError
from zego_media_tasks.events.service import Published, PublisherService, UnreadableRecordError
from zego_media_tasks.store.items import record_to_item
from zego_media_tasks.store.task_store import to_wire

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _record(task_id: str = "t-1") -> TaskRecord:
    return pending_record(
        task_id, Vendor.TENCENT, now=NOW, first_seen_at=to_iso(NOW), deadline_at=to_iso(NOW + timedelta(days=1))
    )


def _change(task_id: str) -> StateChange:
    change = state_change(None, _record(task_id))
    assert change is not None
    return change


class ScriptedEvents:
    """A stand-in for the EventBridge client: each call answers from a script (an entry fails when its
    task id is in that call's failing set, or the whole call raises)."""

    def __init__(self, *script: set[str] | Exception) -> None:
        self.script = list(script)
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.calls.append(Entries)
        step = self.script.pop(0) if self.script else set()
        if isinstance(step, Exception):
            raise step
        results = []
        for entry in Entries:
            task = json.loads(entry["Detail"])["taskId"]
            results.append({"ErrorCode": "ThrottlingException"} if task in step else {"EventId": f"eb-{task}"})
        return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}


def _publisher(client: ScriptedEvents, sleeps: list[float], attempts: int = 4) -> EventPublisher:
    return EventPublisher("tasks-bus", "zego-media-tasks", client=client, sleep=sleeps.append, attempts=attempts)


def test_an_event_is_sent_to_the_bus_with_the_source_and_detail_type() -> None:
    client, sleeps = ScriptedEvents(), list[float]()
    _publisher(client, sleeps).publish([_change("t-1")])
    [[entry]] = client.calls
    assert (entry["EventBusName"], entry["Source"], entry["DetailType"]) == (
        "tasks-bus",
        "zego-media-tasks",
        DETAIL_TYPE,
    )
    assert json.loads(entry["Detail"])["taskId"] == "t-1"
    assert sleeps == []


def test_only_the_entries_that_failed_are_sent_again_with_backoff() -> None:
    client, sleeps = ScriptedEvents({"t-2"}, {"t-2"}, set()), list[float]()
    _publisher(client, sleeps).publish([_change("t-1"), _change("t-2"), _change("t-3")])
    sent = [[json.loads(e["Detail"])["taskId"] for e in call] for call in client.calls]
    assert sent == [["t-1", "t-2", "t-3"], ["t-2"], ["t-2"]]
    assert sleeps == [0.2, 0.4]


def test_a_throttled_or_unavailable_call_is_retried_whole() -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutEvents")
    client, sleeps = ScriptedEvents(throttled, set()), list[float]()
    _publisher(client, sleeps).publish([_change("t-1")])
    assert len(client.calls) == 2


def test_entries_still_failing_after_every_attempt_raise_so_the_record_is_retried_not_lost() -> None:
    client, sleeps = ScriptedEvents({"t-1"}, {"t-1"}, {"t-1"}), list[float]()
    with pytest.raises(PublishError, match="1 entries failed"):
        _publisher(client, sleeps, attempts=3).publish([_change("t-1")])
    assert len(client.calls) == 3


def test_more_than_ten_events_go_in_calls_of_ten() -> None:
    client, sleeps = ScriptedEvents(), list[float]()
    calls = _publisher(client, sleeps).publish([_change(f"t-{n}") for n in range(23)])
    assert calls == 3
    assert [len(call) for call in client.calls] == [10, 10, 3]


# --- stream records ------------------------------------------------------------------------------------


def _stream_record(old: TaskRecord | None, new: TaskRecord | None) -> dict[str, Any]:
    data: dict[str, Any] = {"Keys": {"taskId": {"S": "t-1"}, "vendor": {"S": "Tencent"}}}
    if old is not None:
        data["OldImage"] = to_wire(record_to_item(old))
    if new is not None:
        data["NewImage"] = to_wire(record_to_item(new))
    name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    return {"eventName": name, "eventSource": "aws:dynamodb", "dynamodb": data}


def test_a_stream_record_of_a_status_change_publishes_its_event() -> None:
    sink = CollectingPublisher()
    old = _record()
    new = with_status(old, TaskStatus.PROCESSING, NOW)
    result = PublisherService(sink).handle(_stream_record(old, new))
    assert result.outcome is Published.PUBLISHED
    [change] = sink.published
    assert (change.detail["previousStatus"], change.detail["status"], change.detail["sequence"]) == (
        "PENDING",
        "PROCESSING",
        2,
    )


def test_a_stream_record_of_a_poll_that_changed_nothing_publishes_nothing() -> None:
    sink = CollectingPublisher()
    old = with_status(_record(), TaskStatus.PROCESSING, NOW)
    result = PublisherService(sink).handle(_stream_record(old, replace(old, poll_count=9, generation=9)))
    assert (result.outcome, sink.published) == (Published.UNCHANGED, [])


def test_a_removed_record_publishes_nothing() -> None:
    sink = CollectingPublisher()
    result = PublisherService(sink).handle(_stream_record(with_status(_record(), TaskStatus.SUCCEEDED, NOW), None))
    assert result.outcome is Published.UNCHANGED


@pytest.mark.parametrize(
    "record",
    [
        {"eventName": "MODIFY"},
        {"dynamodb": {"NewImage": {"bucket": {"S": "zego#1"}, "tat": {"N": "1"}}}},  # another table's item
        {"dynamodb": {"NewImage": {"taskId": {"S": "t"}, "vendor": {"S": "Azure"}, "status": {"S": "DONE"}}}},
        {"dynamodb": {"NewImage": {"taskId": {"X": "t"}}}},  # a type this version does not know
        {"dynamodb": {"NewImage": "not an item"}},
    ],
)
def test_an_unreadable_stream_record_fails_with_its_reason(record: dict[str, Any]) -> None:
    with pytest.raises(UnreadableRecordError):
        PublisherService(CollectingPublisher()).handle(record)
