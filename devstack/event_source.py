"""A local SQS event source mapping: what Lambda's poller fleet does, on one machine.

Long-polls the queue, gathers batches (batch size, batching window), invokes the real handler with
events shaped exactly like Lambda's SQS events and a Lambda-like context, deletes the records that
succeeded, and leaves reported failures on the queue to reappear after the visibility timeout. At most
``maximum_concurrency`` invocations run at once, as with the event source's ``ScalingConfig``.
Settings are read from the template's ``PollerFunction`` event, so the local run behaves as deployed.
The reader threads and the invocation are :mod:`devstack.event_source_core`'s, shared with the stream source.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from devstack.event_source_core import EventSourceCore, InvocationStats, Record
from devstack.handlers import Handler
from devstack.template import function_event


@dataclass(frozen=True)
class EventSourceSettings:
    """The event source mapping and function settings that shape invocations."""

    batch_size: int = 10
    batching_window_seconds: float = 1.0
    maximum_concurrency: int = 2
    function_timeout_seconds: float = 30.0
    report_batch_item_failures: bool = True

    @classmethod
    def from_template(
        cls, function_logical_id: str = "PollerFunction", parameter_overrides: dict[str, Any] | None = None
    ) -> EventSourceSettings:
        """Read batch size, batching window, maximum concurrency and timeout from ``template.yaml``."""
        function, event = function_event(function_logical_id, "SQS", parameter_overrides)
        return cls(
            batch_size=int(event.get("BatchSize", 10)),
            batching_window_seconds=float(event.get("MaximumBatchingWindowInSeconds", 0)),
            maximum_concurrency=int(event.get("ScalingConfig", {}).get("MaximumConcurrency", 2)),
            function_timeout_seconds=float(function.get("Timeout", 3)),
            report_batch_item_failures="ReportBatchItemFailures" in event.get("FunctionResponseTypes", []),
        )


def _chain_generation(message: Record) -> int:
    """The ``Generation`` of a poll message's body (0 for a pipeline's or an unreadable one)."""
    try:
        body = json.loads(message.get("Body", ""))
    except ValueError:
        return 0
    generation = body.get("Generation", 0) if isinstance(body, dict) else 0
    return generation if isinstance(generation, int) and not isinstance(generation, bool) else 0


def _lambda_message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute shape -> the lower-camel shape Lambda puts in SQS events."""
    return {
        name: {
            "stringValue": spec.get("StringValue"),
            "binaryValue": spec.get("BinaryValue"),
            "stringListValues": spec.get("StringListValues", []),
            "binaryListValues": spec.get("BinaryListValues", []),
            "dataType": spec.get("DataType"),
        }
        for name, spec in attributes.items()
    }


def sqs_event_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of a Lambda SQS event for a message returned by ReceiveMessage."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": _lambda_message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


@dataclass
class MappingStats(InvocationStats):
    """What the SQS mapping did, besides :class:`InvocationStats` (the soak reports these)."""

    deleted: int = 0
    """Messages deleted from the queue: done."""
    reported_failures: int = 0
    """Messages the handler reported failed (``batchItemFailures``): left to reappear."""
    crashes_injected: int = 0
    """Invocations made to die after their work, before anything was deleted (``crash_rate``)."""
    losses_injected: int = 0
    """Poll messages deleted before delivery, as by an operator or a purge (``loss_rate``)."""


class LocalEventSourceMapping(EventSourceCore):
    """Runs ``maximum_concurrency`` pollers that feed batches to ``handler``."""

    stats: MappingStats

    def __init__(
        self,
        handler: Handler,
        queue_url: str,
        settings: EventSourceSettings,
        *,
        function_name: str = "PollerFunction",
        region: str = "us-east-1",
        crash_rate: float = 0.0,
        loss_rate: float = 0.0,
        seed: int | None = None,
        invoke_hook: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """``crash_rate`` simulates an invocation that did its work and died before returning (the
        batch is neither deleted nor reported); ``loss_rate``, a poll message of a running chain
        (``Generation`` > 0) deleted on delivery, before any invocation sees it; both used by the chaos soak
        (``lost``: the deleted message ids with the monotonic moment of each deletion)."""
        super().__init__(handler, settings, MappingStats(), function_name, invoke_hook)
        self._queue_url = queue_url
        self._settings = settings
        self._region = region
        self._crash_rate = crash_rate
        self._loss_rate = loss_rate
        self.lost: list[tuple[str, float]] = []
        self._random = random.Random(seed)
        self._sqs = boto3.client("sqs")
        self._queue_arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def start(self) -> LocalEventSourceMapping:
        """Start the pollers (daemon threads)."""
        for index in range(self._settings.maximum_concurrency):
            self._start_reader(f"esm-{index}", self._poll)
        return self

    def stop_crashing(self) -> None:
        """No more injected crashes from now on (the soak's final drain: a crash then would hide its batch
        for another visibility timeout)."""
        self._crash_rate = 0.0

    def stop_losing(self) -> None:
        """No more injected message losses from now on."""
        self._loss_rate = 0.0

    def _lose(self, batch: list[Record]) -> list[Record]:
        """The batch without the messages deleted before delivery (``loss_rate``)."""
        kept: list[Record] = []
        for message in batch:
            if self._loss_rate and _chain_generation(message) > 0 and self._random.random() < self._loss_rate:
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
                self.lost.append((str(message["MessageId"]), time.monotonic()))
                self.stats.add(losses_injected=1)
            else:
                kept.append(message)
        return kept

    def _event_record(self, record: Record) -> dict[str, Any]:
        return sqs_event_record(record, self._queue_arn, self._region)

    def _item_identifier(self, record: Record) -> str:
        return str(record["MessageId"])

    def _receive_batch(self) -> list[Record]:
        settings = self._settings
        batch: list[Record] = []
        window_ends: float | None = None
        while not self._stop.is_set() and len(batch) < settings.batch_size:
            remaining = None if window_ends is None else window_ends - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            # Long-poll at most 1 s at a time so that stop() is honoured promptly.
            wait = 1 if remaining is None else max(0, min(1, int(remaining)))
            response = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=min(10, settings.batch_size - len(batch)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages: list[Any] = list(response.get("Messages", []))
            if messages and window_ends is None:
                window_ends = time.monotonic() + settings.batching_window_seconds
            batch.extend(messages)
            if not messages and batch and wait == 0:
                time.sleep(min(0.05, max(0.0, (window_ends or 0) - time.monotonic())))
        return batch

    def _poll(self) -> None:
        """One poll cycle: a batch, handed to the handler; what succeeded is deleted. A failed batch is left
        on the queue, to reappear after the visibility timeout."""
        batch = self._lose(self._receive_batch())
        if not batch:
            return
        failed = self._invoke(batch)
        if failed is None:
            return
        if self._crash_rate and self._random.random() < self._crash_rate:
            self.stats.add(crashes_injected=1)
            return  # died after doing the work, before Lambda could delete anything
        done = [m for m in batch if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        self.stats.add(deleted=len(done), reported_failures=len(failed))
