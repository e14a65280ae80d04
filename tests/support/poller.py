"""Test support for the poller: a scripted ZEGO describer, Lambda-shaped SQS events, queue inspection, and the
tasks table and poll queue a unit test drives the poller (and the callback receiver) over."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType, ModuleType
from typing import Any

import pytest

from devstack.emulator import serialize_dynamodb_writes
from devstack.handlers import load_function_module
from devstack.resources import ProvisionedStack
from tests.support.clock import FakeClock
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.snapshot import TaskSnapshot
from zego_media_tasks.domain.status import Vendor, normalize_vendor_status
from zego_media_tasks.store.task_store import TaskStore

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def snapshot(task_id: str, vendor: Vendor, vendor_status: str, **fields: Any) -> TaskSnapshot:
    """A snapshot as the ZEGO adapter would build it for ``vendor_status``."""
    return TaskSnapshot(
        task_id=task_id,
        vendor=vendor,
        status=normalize_vendor_status(vendor, vendor_status),
        vendor_status=vendor_status,
        zego_request_id=fields.pop("zego_request_id", f"zego-{uuid.uuid4().hex[:8]}"),
        raw=fields.pop("raw", {"TaskId": task_id, "Status": vendor_status}),
        **fields,
    )


def success(task_id: str, vendor: Vendor, vendor_status: str, **fields: Any) -> CallOutcome:
    """A SUCCESS outcome carrying ``vendor_status``."""
    return CallOutcome.success(snapshot(task_id, vendor, vendor_status, **fields))


def failure(kind: OutcomeKind, code: str = "1000", message: str = "request failed") -> CallOutcome:
    """A failed call."""
    return CallOutcome.failure(kind, code, message, zego_request_id=f"zego-{uuid.uuid4().hex[:8]}")


@dataclass
class ScriptedDescriber:
    """A test double of the ``TaskDescriber`` port: answers from a per-task script, records calls.

    The last scripted answer of a task repeats once its script is used up.
    """

    scripts: dict[tuple[str, Vendor], deque[CallOutcome]] = field(default_factory=lambda: defaultdict(deque))
    calls: list[tuple[str, Vendor]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def script(self, task_id: str, vendor: Vendor, *outcomes: CallOutcome) -> ScriptedDescriber:
        """Append answers for one task."""
        self.scripts[(task_id, vendor)].extend(outcomes)
        return self

    def describe_media_task(self, task_id: str, vendor: Vendor) -> CallOutcome:
        """The next scripted answer for the task."""
        with self._lock:
            self.calls.append((task_id, vendor))
            script = self.scripts[(task_id, vendor)]
            if not script:
                raise AssertionError(f"no answer scripted for {vendor.value} task {task_id!r}")
            return script.popleft() if len(script) > 1 else script[0]


def sqs_record(
    body: str,
    *,
    queue_arn: str = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:poll-queue",
    sent_at: datetime,
    message_id: str | None = None,
    receive_count: int = 1,
) -> dict[str, Any]:
    """One record of a Lambda SQS event, shaped exactly as Lambda delivers it.

    ``sent_at`` (SQS's ``SentTimestamp``) is required: the poller takes a new task's first-seen time
    from it, so it must come from the same clock the poller under test reads, never a fixed date.
    """
    sent_ms = str(int(sent_at.timestamp() * 1000))
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"AQEB{uuid.uuid4().hex}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": sent_ms,
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": sent_ms,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def sqs_event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A Lambda SQS event."""
    return {"Records": list(records)}


def body(task_id: str, vendor: Vendor, **extra: Any) -> str:
    """A message body as a pipeline (or, with extra fields, the poller) writes it."""
    return json.dumps({"TaskId": task_id, "Vendor": vendor.value, **extra})


@dataclass(frozen=True)
class QueuedMessage:
    """A message waiting in a queue, delayed or not, with the delay it was sent with."""

    message_id: str
    body: dict[str, Any]
    raw_body: str
    delay_seconds: int
    attributes: Mapping[str, Any]


def queued_messages(queue_url: str) -> list[QueuedMessage]:
    """Every message in the queue, delayed ones included, oldest first.

    SQS offers no public way to read a delayed message before its delay ends, and these tests must not
    sleep; moto (in-process ``mock_aws`` and the in-process ``ThreadedMotoServer`` alike) keeps its
    queues in this process, so its backend is read directly. Tests cross-check the count with the public
    ``ApproximateNumberOfMessages*`` attributes.
    """
    from moto.sqs.models import sqs_backends

    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    queue = sqs_backends[ACCOUNT_ID][REGION].get_queue(name)
    found = []
    for message in list(queue._messages):
        sent = message.sent_timestamp or 0
        delay = round((message.delayed_until - sent) / 1000) if message.delayed_until else 0
        try:
            parsed = json.loads(message.body)
        except ValueError:
            parsed = {}
        found.append(
            QueuedMessage(
                message_id=message.id,
                body=parsed if isinstance(parsed, dict) else {},
                raw_body=message.body,
                delay_seconds=max(0, delay),
                attributes={
                    name: spec.get("string_value", spec.get("StringValue"))
                    for name, spec in message.message_attributes.items()
                },
            )
        )
    return found


@dataclass
class PollingScene:
    """The template's tasks table and poll queue (on moto), with a fake clock and a scripted ZEGO: what a
    unit test of the poller, or of the callback receiver beside it, reads and drives."""

    stack: ProvisionedStack
    clock: FakeClock
    describer: ScriptedDescriber

    @property
    def store(self) -> TaskStore:
        return TaskStore(self.stack.table_names["TasksTable"])

    @property
    def queue_url(self) -> str:
        return self.stack.queue_urls["PollQueue"]

    def record(self, task_id: str, vendor: Vendor) -> TaskRecord | None:
        return self.store.get(task_id, vendor)

    def queued(self) -> list[QueuedMessage]:
        """Every poll message in the queue, delayed ones included, oldest first."""
        return queued_messages(self.queue_url)


def public_message_count(sqs: Any, queue_url: str) -> int:
    """Visible + in flight + delayed, from SQS's public queue attributes."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def record_from_message(message: QueuedMessage, queue_arn: str, sent_at: datetime) -> dict[str, Any]:
    """The Lambda SQS record that delivers a queued message."""
    return sqs_record(message.raw_body, queue_arn=queue_arn, message_id=message.message_id, sent_at=sent_at)


# --- a poller wired to real adapters (moto) with a scripted describer and a fake clock ---------------

POLLER_RESOURCES: Mapping[str, str] = MappingProxyType(
    {
        "TABLE_NAME": "tasks",
        "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/poll",
        "DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/poll-dlq",
        "RATE_LIMIT_TABLE_NAME": "rate",
    }
)
"""The poller's variables that name stack resources (none has a default), for settings tests without a
stack."""

POLLER_ENV_DEFAULTS = {
    "ZEGO_APP_ID": "1234567890",
    "ZEGO_SERVER_SECRET": "0123456789abcdef0123456789abcdef",
    "POWERTOOLS_SERVICE_NAME": "poller",
    "POWERTOOLS_METRICS_NAMESPACE": "ZegoMediaTasksTest",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


def poller_environment(stack: Any, **overrides: str) -> dict[str, str]:
    """The poller function's environment for a provisioned stack (``devstack.resources``)."""
    return {
        **POLLER_ENV_DEFAULTS,
        "TABLE_NAME": stack.table_names["TasksTable"],
        "RATE_LIMIT_TABLE_NAME": stack.table_names["RateLimitTable"],
        "QUEUE_URL": stack.queue_urls["PollQueue"],
        "DLQ_URL": stack.queue_urls["PollDeadLetterQueue"],
        "LISTS_BUCKET_NAME": stack.bucket_names["TaskListsBucket"],
        **overrides,
    }


def serialize_moto_dynamodb_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB's one-write-at-a-time guarantee per item, which moto lacks, for the rest of one test
    (:func:`devstack.emulator.serialize_dynamodb_writes`; it covers moto in-process and moto's threaded
    server alike, both of which run in the test process)."""
    serialize_dynamodb_writes(monkeypatch.setattr)


def load_poller_app(module_name: str = "poller_app_under_test") -> ModuleType:
    """``functions/poller/app.py`` imported by path, as Lambda imports it (a fresh module each time)."""
    return load_function_module("poller", module_name)
