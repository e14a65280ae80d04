"""A local SQS event source mapping: what Lambda's poller fleet does, on one machine.

Long-polls the queue, gathers batches (batch size, batching window), invokes the real handler with
events shaped exactly like Lambda's SQS events and a Lambda-like context, deletes the records that
succeeded, and leaves reported failures on the queue to reappear after the visibility timeout. At most
``maximum_concurrency`` invocations run at once, as with the event source's ``ScalingConfig``.
Settings are read from the template's ``PollerFunction`` event, so the local run behaves as deployed.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from devstack.handlers import Handler
from devstack.lambda_context import LocalLambdaContext
from devstack.template import function_event

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventSourceSettings:
    """The event source mapping and function settings that shape invocations."""

    batch_size: int = 10
    batching_window_seconds: float = 1.0
    maximum_concurrency: int = 2
    function_timeout_seconds: float = 30.0

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
        )


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
class MappingStats:
    """Counters of what the mapping did (read by the progress view, benchmarks and the soak)."""

    invocations: int = 0
    records: int = 0
    deleted: int = 0
    reported_failures: int = 0
    failed_invocations: int = 0
    crashes_injected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        """Add to several counters atomically."""
        with self.lock:
            for name, amount in counts.items():
                setattr(self, name, getattr(self, name) + amount)


class LocalEventSourceMapping:
    """Runs ``maximum_concurrency`` pollers that feed batches to ``handler``."""

    def __init__(
        self,
        handler: Handler,
        queue_url: str,
        settings: EventSourceSettings,
        *,
        function_name: str = "PollerFunction",
        region: str = "us-east-1",
        crash_rate: float = 0.0,
        seed: int | None = None,
        invoke_hook: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """``crash_rate`` simulates an invocation that did its work and died before returning (the
        batch is neither deleted nor reported); used by the chaos soak."""
        self._handler = handler
        self._queue_url = queue_url
        self._settings = settings
        self._function_name = function_name
        self._region = region
        self._crash_rate = crash_rate
        self._random = random.Random(seed)
        self._invoke_hook = invoke_hook
        self._sqs = boto3.client("sqs")
        self._queue_arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.stats = MappingStats()

    def start(self) -> LocalEventSourceMapping:
        """Start the pollers (daemon threads)."""
        for index in range(self._settings.maximum_concurrency):
            thread = threading.Thread(target=self._run, name=f"esm-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop_crashing(self) -> None:
        """No more injected crashes from now on (the soak's final drain: a crash then would hide its batch
        for another visibility timeout)."""
        self._crash_rate = 0.0

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling; in-flight invocations finish first."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _receive_batch(self) -> list[dict[str, Any]]:
        settings = self._settings
        batch: list[dict[str, Any]] = []
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

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._receive_batch()
                if batch:
                    self._invoke(batch)
            except Exception:
                # The mapping itself must survive anything (as Lambda's does); log and keep polling.
                LOG.exception("local event source mapping: poll cycle failed")
                time.sleep(0.2)

    def _invoke(self, batch: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_event_record(m, self._queue_arn, self._region) for m in batch]}
        context = LocalLambdaContext(
            function_name=self._function_name, timeout_seconds=self._settings.function_timeout_seconds
        )
        self.stats.add(invocations=1, records=len(batch))
        if self._invoke_hook:
            self._invoke_hook(event)
        try:
            response = self._handler(event, context)
        except Exception:
            LOG.exception("handler raised: the whole batch will be retried after the visibility timeout")
            self.stats.add(failed_invocations=1)
            return
        if self._crash_rate and self._random.random() < self._crash_rate:
            self.stats.add(crashes_injected=1)
            return  # died after doing the work, before Lambda could delete anything
        failed = self._failed_ids(response, batch)
        if failed is None:
            self.stats.add(failed_invocations=1)
            return
        done = [m for m in batch if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        self.stats.add(deleted=len(done), reported_failures=len(failed))

    @staticmethod
    def _failed_ids(response: Any, batch: list[dict[str, Any]]) -> set[str] | None:
        """The reported failures, or None when the response is invalid (Lambda then fails the batch)."""
        if response is None:
            return set()
        if not isinstance(response, dict):
            return None
        failures = response.get("batchItemFailures", [])
        ids = {m["MessageId"] for m in batch}
        failed: set[str] = set()
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in ids:
                LOG.error("invalid batchItemFailures entry %r: failing the whole batch", failure)
                return None
            failed.add(identifier)
        return failed
