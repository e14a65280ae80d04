"""A local DynamoDB stream event source mapping: what Lambda's stream pollers do, on one machine.

Reads a table's stream from the emulator (``dynamodbstreams``: DescribeStream, GetShardIterator,
GetRecords, four reads a second when idle, as Lambda polls a shard), gathers batches (batch size,
batching window) and invokes the real handler with events shaped exactly like Lambda's DynamoDB stream
events and a Lambda-like context. One batch per shard at a time, in stream order (ParallelizationFactor 1).

As Lambda does with ``ReportBatchItemFailures``: the records before the first reported failure are done,
and the next batch starts at that record, so a failure delays the records behind it and loses none. A
handler that raises (a function error) fails the whole batch; with ``BisectBatchOnFunctionError`` the
retried batch is halved until one record is left, without spending the retry budget. Past
``MaximumRetryAttempts`` or ``MaximumRecordAgeInSeconds`` the batch is skipped and described on the
on-failure queue (the ``DDBStreamBatchInfo`` Lambda sends), so one bad record cannot block the shard.
Settings are read from the template's ``PublisherFunction`` event, so the local run behaves as deployed.
The reader threads and the invocation are :mod:`devstack.event_source_core`'s, shared with the SQS mapping.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3

from devstack.event_filter import event_patterns, passes
from devstack.event_source_core import EventSourceCore, InvocationStats, Record
from devstack.handlers import Handler
from devstack.resources import LOCAL_ACCOUNT_ID
from devstack.template import function_event
from zego_media_tasks.domain.timestamps import to_iso

LOG = logging.getLogger(__name__)

IDLE_READS_PER_SECOND = 4
"""Lambda polls each shard four times a second when there is nothing new."""
RETRY_DELAY_SECONDS = (0.1, 0.2, 0.5, 1.0)
"""Pause before the n-th consecutive retry of a failing batch (the last value repeats)."""
MAX_GET_RECORDS = 1000
"""GetRecords returns at most 1,000 records a call."""


@dataclass(frozen=True)
class StreamSourceSettings:
    """The stream event source mapping and function settings that shape invocations."""

    batch_size: int = 100
    batching_window_seconds: float = 0.0
    starting_position: str = "TRIM_HORIZON"
    bisect_on_function_error: bool = False
    maximum_record_age_seconds: int = -1
    """-1: no limit, as in Lambda."""
    maximum_retry_attempts: int = -1
    """-1: retried until the record leaves the stream, as in Lambda."""
    report_batch_item_failures: bool = False
    function_timeout_seconds: float = 3.0
    on_failure_queue: str | None = None
    """The template's logical id of the SQS queue the skipped batches are described on."""
    filter_patterns: tuple[Mapping[str, Any], ...] = ()
    """The event's ``FilterCriteria`` patterns: records none of them matches are dropped unhandled."""

    @classmethod
    def from_template(
        cls, function_logical_id: str = "PublisherFunction", parameter_overrides: dict[str, Any] | None = None
    ) -> StreamSourceSettings:
        """Read the function's ``DynamoDB`` event (batching, retries, bisection, record age) and timeout."""
        function, event = function_event(function_logical_id, "DynamoDB", parameter_overrides)
        parallelization = int(event.get("ParallelizationFactor", 1))
        if parallelization != 1:
            raise ValueError(f"{function_logical_id}: ParallelizationFactor {parallelization}; locally only 1 is run")
        return cls(
            batch_size=int(event.get("BatchSize", 100)),
            batching_window_seconds=float(event.get("MaximumBatchingWindowInSeconds", 0)),
            starting_position=str(event.get("StartingPosition", "TRIM_HORIZON")),
            bisect_on_function_error=bool(event.get("BisectBatchOnFunctionError", False)),
            maximum_record_age_seconds=int(event.get("MaximumRecordAgeInSeconds", -1)),
            maximum_retry_attempts=int(event.get("MaximumRetryAttempts", -1)),
            report_batch_item_failures="ReportBatchItemFailures" in event.get("FunctionResponseTypes", []),
            function_timeout_seconds=float(function.get("Timeout", 3)),
            on_failure_queue=_queue_logical_id(event.get("DestinationConfig", {}).get("OnFailure", {})),
            filter_patterns=event_patterns(event),
        )


def _queue_logical_id(destination: Mapping[str, Any]) -> str | None:
    """``PublishFailureQueue`` for ``{Type: SQS, Destination: !GetAtt PublishFailureQueue.Arn}``."""
    target = destination.get("Destination")
    if destination.get("Type", "SQS") != "SQS" or not isinstance(target, Mapping) or "Fn::GetAtt" not in target:
        return None
    logical_id, attribute = target["Fn::GetAtt"]
    return str(logical_id) if attribute == "Arn" else None


def _lambda_attribute(value: Any) -> Any:
    """A DynamoDB attribute value as Lambda's JSON has it: boto3's ``bytes`` (B, BS) back to base64."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {key: _lambda_attribute(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_lambda_attribute(item) for item in value]
    return value


def _epoch_seconds(moment: Any) -> int:
    if isinstance(moment, datetime):
        return int(moment.timestamp())
    return int(float(moment))


def stream_event_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """One record of a Lambda DynamoDB stream event for a record returned by GetRecords."""
    data = record["dynamodb"]
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": _epoch_seconds(data["ApproximateCreationDateTime"]),
        "Keys": _lambda_attribute(data["Keys"]),
    }
    for image in ("NewImage", "OldImage"):
        if image in data:
            dynamodb[image] = _lambda_attribute(data[image])
    dynamodb.update(
        SequenceNumber=data["SequenceNumber"], SizeBytes=data["SizeBytes"], StreamViewType=data["StreamViewType"]
    )
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"],
        "eventSource": record.get("eventSource", "aws:dynamodb"),
        "awsRegion": record["awsRegion"],
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


@dataclass
class StreamStats(InvocationStats):
    """What the stream mapping did, besides :class:`InvocationStats`."""

    checkpointed: int = 0
    """Records done: never handed again."""
    reported_failures: int = 0
    """Invocations that reported failed records (``batchItemFailures``)."""
    retries: int = 0
    bisections: int = 0
    parked: int = 0
    """Records skipped past their retry budget or age, described on the on-failure queue."""


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    buffer: list[Record] = field(default_factory=list)
    window_started: float | None = None
    limit: int = 0
    """The size of the next batch: the batch size, or less while bisecting."""
    failures: int = 0
    """Consecutive failed attempts of the batch at the head of the buffer."""


class LocalStreamEventSource(EventSourceCore):
    """One reader per shard of ``stream_arn`` that feeds batches to ``handler``."""

    stats: StreamStats

    def __init__(
        self,
        handler: Handler,
        stream_arn: str,
        settings: StreamSourceSettings,
        *,
        function_name: str = "PublisherFunction",
        on_failure_queue_url: str | None = None,
        invoke_hook: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """``on_failure_queue_url``: where skipped batches are described (None: only logged);
        ``invoke_hook`` sees each event before the handler does."""
        super().__init__(handler, settings, StreamStats(), function_name, invoke_hook)
        self._stream_arn = stream_arn
        self._settings = settings
        self._on_failure_queue_url = on_failure_queue_url
        self._streams = boto3.client("dynamodbstreams")
        self._sqs = boto3.client("sqs") if on_failure_queue_url else None
        self._idle_lock = threading.Lock()
        self._idle_read_started: dict[str, float | None] = {}

    def start(self) -> LocalStreamEventSource:
        """Start one reader per shard (daemon threads)."""
        description = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            iterator = self._streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType=self._settings.starting_position
            )["ShardIterator"]
            self._idle_read_started[shard_id] = None
            state = _Shard(shard_id, iterator, limit=self._settings.batch_size)
            self._start_reader(f"stream-{shard_id[-8:]}", functools.partial(self._cycle, state))
        return self

    def drained_since(self, moment: float) -> bool:
        """True when every shard has nothing left to hand over, as seen by a read that began at or after
        ``moment`` (``time.monotonic()``): every write made before ``moment`` has been handled."""
        with self._idle_lock:
            return bool(self._idle_read_started) and all(
                started is not None and started >= moment for started in self._idle_read_started.values()
            )

    def _event_record(self, record: Record) -> dict[str, Any]:
        return stream_event_record(record, self._stream_arn)

    def _item_identifier(self, record: Record) -> str:
        return str(record["dynamodb"]["SequenceNumber"])

    # -- reading -----------------------------------------------------------------------------------
    def _cycle(self, shard: _Shard) -> None:
        if not self._step(shard):
            self._stop.wait(1 / IDLE_READS_PER_SECOND)

    def _read(self, shard: _Shard) -> int:
        """One GetRecords into the buffer; returns how many records came."""
        if shard.iterator is None:
            return 0  # the shard is closed and read to its end
        started = time.monotonic()
        want = min(MAX_GET_RECORDS, max(1, self._settings.batch_size - len(shard.buffer)))
        response = self._streams.get_records(ShardIterator=shard.iterator, Limit=want)
        shard.iterator = response.get("NextShardIterator")
        records: list[Record] = [
            record
            for record in response.get("Records", [])
            # As Lambda filters: a record no pattern matches is dropped, never handed to the function.
            if passes(self._settings.filter_patterns, self._event_record(record))
        ]
        if records:
            shard.buffer.extend(records)
            if shard.window_started is None:
                shard.window_started = time.monotonic()
        with self._idle_lock:
            self._idle_read_started[shard.shard_id] = started if not shard.buffer else None
        return len(records)

    def _step(self, shard: _Shard) -> bool:
        """Read and, when a batch is due, invoke; False when there was nothing to do (the caller waits)."""
        came = self._read(shard) if len(shard.buffer) < self._settings.batch_size else 0
        if not shard.buffer:
            return False
        full = len(shard.buffer) >= shard.limit
        waited = time.monotonic() - (shard.window_started or 0.0)
        if not full and shard.failures == 0 and waited < self._settings.batching_window_seconds:
            if came:
                return True  # more may be waiting right behind
            self._stop.wait(min(1 / IDLE_READS_PER_SECOND, self._settings.batching_window_seconds - waited))
            return True
        self._invoke_head(shard)
        return True

    # -- invoking ----------------------------------------------------------------------------------
    def _invoke_head(self, shard: _Shard) -> None:
        """Hand the batch at the head of the buffer over; what succeeded is checkpointed, the rest retried."""
        batch = shard.buffer[: shard.limit]
        if shard.failures:
            self.stats.add(retries=1)
        failed = self._invoke(batch)
        if failed is None:
            self._function_error(shard, batch)
            return
        # The records before the first reported failure are done; the next batch starts at it.
        done = next(
            (index for index, record in enumerate(batch) if self._item_identifier(record) in failed), len(batch)
        )
        self._checkpoint(shard, done)
        if done < len(batch):
            self.stats.add(reported_failures=1)
            self._failed(shard, shard.buffer[: len(batch) - done])
        else:
            shard.failures = 0
            shard.limit = self._settings.batch_size

    def _checkpoint(self, shard: _Shard, done: int) -> None:
        if done:
            del shard.buffer[:done]
            shard.failures = 0
            shard.window_started = time.monotonic() if shard.buffer else None
            self.stats.add(checkpointed=done)

    def _function_error(self, shard: _Shard, batch: Sequence[Record]) -> None:
        if self._settings.bisect_on_function_error and len(batch) > 1:
            shard.limit = max(1, len(batch) // 2)  # splitting spends no retry
            self.stats.add(bisections=1)
            return
        self._failed(shard, batch)

    def _failed(self, shard: _Shard, batch: Sequence[Record]) -> None:
        """A failed attempt of ``batch`` (the head of the buffer): retry after a pause, or skip it."""
        shard.failures += 1
        settings = self._settings
        condition = None
        if 0 <= settings.maximum_retry_attempts < shard.failures:
            condition = "RetryAttemptsExhausted"
        elif settings.maximum_record_age_seconds >= 0 and (
            time.time() - _epoch_seconds(batch[0]["dynamodb"]["ApproximateCreationDateTime"])
            > settings.maximum_record_age_seconds
        ):
            condition = "RecordAgeExceeded"
        if condition is None:
            delay = RETRY_DELAY_SECONDS[min(shard.failures, len(RETRY_DELAY_SECONDS)) - 1]
            self._stop.wait(delay)
            return
        self._park(shard, batch, condition)

    def _park(self, shard: _Shard, batch: Sequence[Record], condition: str) -> None:
        """Skip ``batch`` and describe it on the on-failure queue, as Lambda does."""
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]

        def arrival(data: Mapping[str, Any]) -> str:
            return to_iso(datetime.fromtimestamp(_epoch_seconds(data["ApproximateCreationDateTime"]), tz=UTC))

        function_arn = f"arn:aws:lambda:{batch[0]['awsRegion']}:{LOCAL_ACCOUNT_ID}:function:{self._function_name}"
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": function_arn,
                "condition": condition,
                "approximateInvokeCount": shard.failures,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": to_iso(datetime.now(UTC)),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": arrival(first),
                "approximateArrivalOfLastRecord": arrival(last),
                "batchSize": len(batch),
                "streamArn": self._stream_arn,
            },
        }
        LOG.error("stream batch skipped (%s): %s", condition, json.dumps(message["DDBStreamBatchInfo"]))
        if self._sqs is not None and self._on_failure_queue_url:
            self._sqs.send_message(QueueUrl=self._on_failure_queue_url, MessageBody=json.dumps(message))
        del shard.buffer[: len(batch)]
        shard.failures = 0
        shard.limit = self._settings.batch_size
        shard.window_started = time.monotonic() if shard.buffer else None
        self.stats.add(parked=len(batch))
