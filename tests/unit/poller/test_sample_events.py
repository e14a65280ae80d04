"""The sample events in ``events/`` are real Lambda SQS events (usable with ``sam local invoke``), and
the handler processes them as documented."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from devstack.event_source import sqs_event_record
from devstack.lambda_context import LocalLambdaContext
from tests.support.poller import success
from tests.unit.poller.conftest import Poller
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor

EVENTS = Path(__file__).resolve().parents[3] / "events"
SAMPLES = ["sqs-poll-tencent.json", "sqs-poll-huawei.json", "sqs-batch-mixed.json"]
LAMBDA_RECORD_KEYS = set(
    sqs_event_record(
        {"MessageId": "m", "ReceiptHandle": "r", "Body": "{}", "MD5OfBody": "x", "Attributes": {}},
        "arn:aws:sqs:us-east-1:123456789012:q",
        "us-east-1",
    )
)
SQS_ATTRIBUTES = {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return event


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_is_shaped_exactly_like_a_lambda_sqs_event(name: str) -> None:
    event = load(name)
    assert set(event) == {"Records"}
    for record in event["Records"]:
        assert set(record) == LAMBDA_RECORD_KEYS
        assert set(record["attributes"]) == SQS_ATTRIBUTES
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode(), usedforsecurity=False).hexdigest()
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"].startswith("arn:aws:sqs:us-east-1:")
        assert record["awsRegion"] == "us-east-1"
        assert record["attributes"]["SentTimestamp"].isdigit()
    assert len({r["messageId"] for r in event["Records"]}) == len(event["Records"])


def test_the_mixed_batch_polls_the_good_records_and_dead_letters_the_malformed_ones(
    poller: Poller, poller_app: ModuleType, lambda_context: LocalLambdaContext
) -> None:
    # Given the live chains the re-enqueued messages of the sample belong to
    now = "2026-11-23T12:00:00.000Z"
    for task_id, vendor, generation in (
        ("289665200", Vendor.HUAWEI, 3),
        ("1400341231-ComposeMedia-6fdfc967d7eb12f5e9b27f52519f1afatt0", Vendor.TENCENT, 1),
    ):
        poller.store.put(
            TaskRecord(
                task_id=task_id,
                vendor=vendor,
                status=TaskStatus.PROCESSING,
                generation=generation,
                first_seen_at=now,
                deadline_at="2026-11-24T12:00:00.000Z",
                status_changed_at=now,
                attempt=generation,
            ),
            expected_generation=None,
        )
        poller.describer.script(task_id, vendor, success(task_id, vendor, "PROCESSING"))
    tencent = "1500020831-procedurev2-58ed61fcdbb0f78a0bf15cabd8ae4713tt0"
    poller.describer.script(tencent, Vendor.TENCENT, success(tencent, Vendor.TENCENT, "WAITING"))

    # When the sample batch is handled
    response = poller_app.lambda_handler(load("sqs-batch-mixed.json"), lambda_context)

    # Then nothing is retried, three tasks were polled, and the two malformed bodies are in the DLQ
    assert response == {"batchItemFailures": []}
    assert len(poller.describer.calls) == 3
    assert sorted(m.attributes["ErrorReason"] for m in poller.dead_letters()) == ["NOT_JSON", "UNKNOWN_VENDOR"]
    assert len(poller.queued()) == 3


@pytest.mark.parametrize(
    ("name", "task_id", "vendor"),
    [
        ("sqs-poll-tencent.json", "1500020831-procedurev2-58ed61fcdbb0f78a0bf15cabd8ae4713tt0", Vendor.TENCENT),
        ("sqs-poll-huawei.json", "289665200", Vendor.HUAWEI),
    ],
)
def test_a_single_pipeline_message_creates_its_record(
    poller: Poller,
    poller_app: ModuleType,
    lambda_context: LocalLambdaContext,
    *,
    name: str,
    task_id: str,
    vendor: Vendor,
) -> None:
    poller.describer.script(task_id, vendor, success(task_id, vendor, "PROCESSING"))
    assert poller_app.lambda_handler(load(name), lambda_context) == {"batchItemFailures": []}
    record = poller.record(task_id, vendor)
    assert record is not None
    assert record.status is TaskStatus.PROCESSING
