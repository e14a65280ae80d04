"""The local event source mapping keeps Lambda's SQS semantics against a real (emulated) queue."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest

from devstack.emulator import AwsEmulator
from devstack.event_source import EventSourceSettings, LocalEventSourceMapping
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def test_successes_are_deleted_and_reported_failures_come_back(aws_env: AwsEmulator) -> None:
    # Given a queue with a short visibility timeout and two messages, one of which the handler fails
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="esm-test", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": "ok"}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": "fail"}))
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert context.get_remaining_time_in_millis() > 0
        failures = []
        with lock:
            for record in event["Records"]:
                seen.append((json.loads(record["body"])["n"], record["attributes"]["ApproximateReceiveCount"]))
                if json.loads(record["body"])["n"] == "fail":
                    failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    settings = EventSourceSettings(batch_size=10, batching_window_seconds=0.2, maximum_concurrency=2)
    mapping = LocalEventSourceMapping(handler, url, settings).start()
    try:
        # When the failing message has been delivered twice
        wait_for(lambda: sum(1 for n, _ in seen if n == "fail") >= 2, timeout=15)
    finally:
        mapping.stop()
    # Then the successful message was delivered once and deleted; the failing one reappeared
    assert [c for n, c in seen if n == "ok"] == ["1"]
    assert [c for n, c in seen if n == "fail"][:2] == ["1", "2"]
    assert mapping.stats.deleted == 1
    assert mapping.stats.reported_failures >= 2


def test_a_handler_exception_leaves_the_whole_batch_on_the_queue(aws_env: AwsEmulator) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="esm-raise", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    calls: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(len(event["Records"]))
        raise RuntimeError("boom")

    mapping = LocalEventSourceMapping(handler, url, EventSourceSettings(batching_window_seconds=0)).start()
    try:
        wait_for(lambda: len(calls) >= 1, timeout=15)
    finally:
        mapping.stop()
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert mapping.stats.failed_invocations == 1
    assert mapping.stats.deleted == 0
