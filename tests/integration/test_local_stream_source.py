"""The local stream event source keeps Lambda's DynamoDB-stream semantics against moto's real stream of the
template's tasks table, and with the real publisher behind it an event is delayed by EventBridge's
failures, never lost."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.delivered_events import DeliveredEvents
from devstack.handlers import load_template_handler
from devstack.resources import ProvisionedStack
from devstack.stream_source import LocalStreamEventSource, StreamSourceSettings
from tests.support.state_change_events import by_task, schema_violations
from tests.support.waiting import wait_for
from zego_media_tasks.domain.polling import with_status
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.events import wiring
from zego_media_tasks.events.publisher import EventPublisher
from zego_media_tasks.store.task_store import TaskStore

pytestmark = pytest.mark.integration

FAST = StreamSourceSettings(batch_size=5, batching_window_seconds=0.2, report_batch_item_failures=True)


def _put(stack: ProvisionedStack, name: str) -> None:
    boto3.client("dynamodb").put_item(
        TableName=stack.table_names["TasksTable"], Item={"taskId": {"S": name}, "vendor": {"S": "Tencent"}}
    )


def _names(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["Keys"]["taskId"]["S"] for record in event["Records"]]


class Recorder:
    """A handler that records each event and answers with ``answer(event)``."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any]) -> None:
        self.answer = answer
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        assert context.get_remaining_time_in_millis() > 0
        with self.lock:
            self.events.append(event)
        return self.answer(event)

    def names(self) -> list[list[str]]:
        with self.lock:
            return [_names(event) for event in self.events]


@pytest.fixture
def running() -> Iterator[Callable[[LocalStreamEventSource], LocalStreamEventSource]]:
    """Starts sources and stops them at teardown, even when the test fails."""
    started: list[LocalStreamEventSource] = []

    def start(source: LocalStreamEventSource) -> LocalStreamEventSource:
        started.append(source.start())
        return source

    yield start
    for source in started:
        source.stop()


def test_every_write_reaches_the_handler_in_stream_order_in_lambda_shaped_batches(
    stack: ProvisionedStack, running: Callable[[LocalStreamEventSource], LocalStreamEventSource]
) -> None:
    # Given seven writes to the tasks table
    for n in range(7):
        _put(stack, f"t{n}")
    handler = Recorder(lambda event: {"batchItemFailures": []})
    # When the source runs with batches of five
    source = running(LocalStreamEventSource(handler, stack.stream_arns["TasksTable"], FAST))
    wait_for(lambda: source.stats.checkpointed == 7, timeout=20, what="seven records handled")
    # Then each write came once, in order, at most five at a time, as Lambda's DynamoDB stream records
    assert [name for batch in handler.names() for name in batch] == [f"t{n}" for n in range(7)]
    assert [len(batch) for batch in handler.names()] == [5, 2]
    record = handler.events[0]["Records"][0]
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == stack.stream_arns["TasksTable"]
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert record["dynamodb"]["NewImage"]["taskId"] == {"S": "t0"}
    # and once it has read the stream to its end, it says so
    after = time.monotonic()
    wait_for(lambda: source.drained_since(after), timeout=20, what="the source drained")
    assert source.stats.invocations == 2


def test_a_reported_failure_is_retried_from_the_first_failed_record(
    stack: ProvisionedStack, running: Callable[[LocalStreamEventSource], LocalStreamEventSource]
) -> None:
    # Given five writes, and a handler that fails t2 and t4 the first time it sees them
    for n in range(5):
        _put(stack, f"t{n}")
    failed_once: set[str] = set()

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            name = record["dynamodb"]["Keys"]["taskId"]["S"]
            if name in {"t2", "t4"} and name not in failed_once:
                failed_once.add(name)
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
        return {"batchItemFailures": failures}

    handler = Recorder(answer)
    source = running(LocalStreamEventSource(handler, stack.stream_arns["TasksTable"], FAST))
    wait_for(lambda: source.stats.checkpointed == 5, timeout=20, what="five records handled")
    # Then the records before the first failure were never handed again; the retry started at t2
    assert handler.names() == [["t0", "t1", "t2", "t3", "t4"], ["t2", "t3", "t4"]]
    assert (source.stats.reported_failures, source.stats.retries, source.stats.parked) == (1, 1, 0)


def test_a_function_error_bisects_the_batch_and_a_record_past_its_retries_goes_to_the_failure_queue(
    stack: ProvisionedStack, running: Callable[[LocalStreamEventSource], LocalStreamEventSource]
) -> None:
    # Given four writes, the third of which always makes the handler raise
    for name in ("t0", "t1", "poison", "t3"):
        _put(stack, name)

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        if "poison" in _names(event):
            raise RuntimeError("cannot handle this record")
        return {"batchItemFailures": []}

    handler = Recorder(answer)
    settings = replace(FAST, bisect_on_function_error=True, maximum_retry_attempts=2)
    failure_queue = stack.queue_urls["PublishFailureQueue"]
    source = running(
        LocalStreamEventSource(handler, stack.stream_arns["TasksTable"], settings, on_failure_queue_url=failure_queue)
    )
    wait_for(
        lambda: source.stats.checkpointed + source.stats.parked == 4, timeout=20, what="four records done or parked"
    )
    # Then the batch was halved until the poison record was alone, retried twice, and skipped
    assert handler.names() == [
        ["t0", "t1", "poison", "t3"],
        ["t0", "t1"],
        ["poison", "t3"],
        ["poison"],
        ["poison"],
        ["poison"],
        ["t3"],
    ]
    assert (source.stats.bisections, source.stats.parked, source.stats.checkpointed) == (2, 1, 3)
    # and the failure queue describes the skipped record as Lambda's on-failure destination would
    [message] = boto3.client("sqs").receive_message(QueueUrl=failure_queue, WaitTimeSeconds=1)["Messages"]
    body = json.loads(message["Body"])
    poison = handler.events[3]["Records"][0]["dynamodb"]["SequenceNumber"]
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = body["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (poison, poison, 1)
    assert info["streamArn"] == stack.stream_arns["TasksTable"]


class FaultyEvents:
    """The EventBridge client with failures injected, one step of ``script`` per PutEvents call:
    ``total`` raises ThrottlingException; ``partial`` answers as EventBridge does when it accepts a call
    but refuses entries (``FailedEntryCount``, an ``ErrorCode`` for the call's first entry) and sends the
    others on; then every call goes through."""

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.real = boto3.client("events")
        self.injected = {"total": 0, "partial": 0}
        self.lock = threading.Lock()

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        with self.lock:
            step = self.script.pop(0) if self.script else "ok"
            if step != "ok":
                self.injected[step] += 1
        if step == "total":
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            raise ClientError(error, "PutEvents")  # type: ignore[arg-type]
        if step == "partial":
            refused = {"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}
            rest: dict[str, Any] = {"FailedEntryCount": 0, "Entries": []}
            if Entries[1:]:
                rest = self.real.put_events(Entries=Entries[1:])
            return {"FailedEntryCount": 1 + rest["FailedEntryCount"], "Entries": [refused, *rest["Entries"]]}
        response: dict[str, Any] = self.real.put_events(Entries=Entries)
        return response


def _history(task_id: str, start: datetime) -> list[TaskRecord]:
    """A task's records, write after write: registered, polled without change, WAITING, SUCCEEDED."""
    pending = pending_record(
        task_id, Vendor.TENCENT, now=start, first_seen_at=to_iso(start), deadline_at=to_iso(start + timedelta(days=1))
    )
    polled = replace(pending, poll_count=1, generation=1)
    waiting = replace(with_status(polled, TaskStatus.WAITING, start + timedelta(seconds=2)), poll_count=2, generation=2)
    done = replace(with_status(waiting, TaskStatus.SUCCEEDED, start + timedelta(seconds=3)), generation=3)
    return [pending, polled, waiting, done]


def test_put_events_failures_partial_and_total_delay_events_but_lose_none(
    stack: ProvisionedStack,
    monkeypatch: pytest.MonkeyPatch,
    running: Callable[[LocalStreamEventSource], LocalStreamEventSource],
) -> None:
    # Given the real publisher, whose EventBridge client refuses whole calls and single entries at first:
    # six throttled calls in a row outlast the publisher's own four attempts, so the stream must retry
    environment = stack.environment_of("PublisherFunction", "EVENT_BUS_NAME", "EVENT_SOURCE")
    powertools = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Test"}
    for name, value in {**environment, **powertools}.items():
        monkeypatch.setenv(name, value)
    faults = FaultyEvents(*["total"] * 6, *["partial", "ok"] * 4)
    monkeypatch.setattr(
        wiring, "EventPublisher", functools.partial(EventPublisher, client=faults, base_delay_seconds=0.01)
    )
    delivered = DeliveredEvents(environment["EVENT_BUS_NAME"], environment["EVENT_SOURCE"]).start()
    try:
        source = running(
            LocalStreamEventSource(
                load_template_handler("PublisherFunction"),
                stack.stream_arns["TasksTable"],
                replace(StreamSourceSettings.from_template(), batching_window_seconds=0.2),
                on_failure_queue_url=stack.queue_urls["PublishFailureQueue"],
            )
        )
        # When three tasks go through their lives, one write at a time
        store = TaskStore(stack.table_names["TasksTable"])
        start = datetime.now(UTC)
        histories = {task: _history(task, start) for task in ("a", "b", "c")}
        for step in range(4):
            for records in histories.values():
                record = records[step]
                assert store.put(record, None if step == 0 else record.generation - 1).value == "WRITTEN"
        expected = {(task, "Tencent"): [1, 2, 3] for task in histories}

        def sequences() -> dict[tuple[str, str], list[int]]:
            return {key: [e["detail"]["sequence"] for e in found] for key, found in by_task(delivered.events()).items()}

        wait_for(lambda: sequences() == expected, timeout=30, what="every change delivered")
    finally:
        delivered.stop()
    # Then every change was delivered, in order per task, although every kind of failure was injected
    assert faults.injected == {"total": 6, "partial": 4}
    assert source.stats.reported_failures >= 1
    assert source.stats.parked == 0
    statuses = {key: [e["detail"]["status"] for e in found] for key, found in by_task(delivered.events()).items()}
    assert statuses == {key: ["PENDING", "WAITING", "SUCCEEDED"] for key in expected}  # the poll without change: none
    assert all(schema_violations(event) == [] for event in delivered.events())
