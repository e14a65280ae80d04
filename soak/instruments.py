"""What the soak records while it runs, and the chaos it adds on the queue side.

- **Sends**: every poll message sent through :class:`PollQueue` (the API's registrations and the
  poller's re-enqueues) and every pipeline message, with its generation and delay. A seeded share of
  them is sent a *second time*, as a separate SQS message with the same body: a real duplicate, which
  SQS's at-least-once delivery is allowed to produce.
- **Handling**: what :meth:`PollerService.handle` did with each message (its ``Action``, or the
  exception that made the item fail), with start and end times.
- **Invocations**: each batch the local event source handed to the poller (message ids, receive counts,
  reported failures).
- **Callbacks received**: what :meth:`CallbackService.handle` answered to each completion callback the
  simulator sent (its ``Outcome`` and HTTP status) and how many writes it attempted meanwhile.
- **Fenced writes**: each :meth:`TaskStore.put`, who made it (poller or callback receiver) and whether it
  was applied or superseded.
- **The table's own log**: the tasks table's DynamoDB stream (new and old images), read at the end:
  every write DynamoDB applied, in the order it applied them, independent of our code's view.
- **Delivered events**: when each state-change event reached the local subscriber queue
  (:class:`EventClock`, watching :class:`devstack.delivered_events.DeliveredEvents`).

The stack's own AWS clients (every :class:`LazyClient` the functions build) are marked as the targets of
the emulator's AWS faults (:func:`devstack.aws_faults.mark_as_fault_target`): the emulator refuses a share
of their DynamoDB and SQS requests during its windows, never those of the local event sources (which stand
in for AWS's own pollers) nor the soak's readers.

Instrumentation is installed by patching classes in this process (the soak owns the process) and is
undone by :meth:`Recorder.uninstall`. (The emulator's own correction, DynamoDB writes one at a time,
is :mod:`devstack.emulator`'s, installed in the process that hosts moto.)
"""

from __future__ import annotations

import functools
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import boto3

from devstack.aws_faults import mark_as_fault_target
from devstack.delivered_events import DeliveredEvents
from devstack.handlers import Handler
from devstack.schedule import SCHEDULE_THREAD_PREFIX
from zego_media_tasks.aws import LazyClient
from zego_media_tasks.callbacks.service import CallbackResult, CallbackService
from zego_media_tasks.domain.messages import MalformedMessageError, PollRequest, parse_poll_request
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.poller.service import PollerService, PollResult, QueueMessage
from zego_media_tasks.queue.poll_queue import PollQueue
from zego_media_tasks.store.items import WATCH_AT_ATTR
from zego_media_tasks.store.task_store import TaskStore, WriteResult

MAX_EXTRA_DUPLICATE_DELAY = 3
"""A duplicate becomes visible 0-3 s after its original: sometimes in the same batch, sometimes later."""


def _origin(request: PollRequest) -> str:
    """Who sends ``request``: the watchdog (on its schedule's thread), a registration, or the poller."""
    if threading.current_thread().name.startswith(SCHEDULE_THREAD_PREFIX):
        return "watchdog"
    return "registration" if request.generation == 0 else "poller"


@dataclass(frozen=True)
class Sent:
    """One message put on the poll queue."""

    at: float
    message_id: str
    task_id: str | None
    vendor: str | None
    generation: int | None
    delay_seconds: int
    origin: str
    """``registration`` (API, generation 0), ``poller`` (re-enqueue), ``watchdog`` (a lost chain revived),
    ``pipeline``, ``malformed``."""
    duplicate_of: str | None = None
    body: str | None = None
    """Kept for malformed messages only (the dead-letter check matches them by body)."""


@dataclass(frozen=True)
class Handled:
    """One message handled by the poller service."""

    started: float
    ended: float
    message_id: str
    task_id: str | None
    vendor: str | None
    generation: int | None
    outcome: str
    """The ``Action`` (POLLED, SUPERSEDED, SKIPPED_STALE, ...) or the exception's class name."""
    called_zego: bool


@dataclass(frozen=True)
class Invocation:
    """One poller invocation by the local event source."""

    started: float
    ended: float
    message_ids: tuple[str, ...]
    receive_counts: tuple[int, ...]
    reported_failures: tuple[str, ...]
    raised: bool


@dataclass(frozen=True)
class CallbackHandled:
    """One completion callback as the receiver answered it."""

    started: float
    ended: float
    task_id: str | None
    vendor: str | None
    event: str | None
    outcome: str
    """The receiver's ``Outcome`` (APPLIED, CREATED, ALREADY_TERMINAL, REJECTED, CONFLICT, UNAVAILABLE)."""
    status_code: int
    writes_attempted: int
    """:meth:`TaskStore.put` calls made while answering it (a refused callback must make none)."""


@dataclass(frozen=True)
class FencedWrite:
    """One conditional write (applied or superseded) of the poller or the callback receiver."""

    at: float
    task_id: str
    vendor: str
    expected_generation: int | None
    generation: int
    status: str
    result: str
    writer: str = "poller"
    """``poller`` or ``callback``."""


@dataclass(frozen=True)
class StreamWrite:
    """One write the table applied, from its stream (in the order applied)."""

    sequence: int
    event: str
    """INSERT, MODIFY or REMOVE."""
    task_id: str
    vendor: str
    old_generation: int | None
    old_status: str | None
    new_generation: int | None
    new_status: str | None
    old_record_sequence: int | None = None
    """The record's ``sequence`` (one more per status change) in the old image."""
    new_record_sequence: int | None = None
    new_completed_by: str | None = None
    created_at: float | None = None
    """The stream record's ``ApproximateCreationDateTime`` (Unix seconds): when the table applied it."""
    watch_only: bool = False
    """A write that changed nothing but ``watchAt``: the watchdog moving a revived record's watch time on
    (no generation step, no status change: neither a chain's write nor a regression)."""

    @property
    def status_changed(self) -> bool:
        """An insert, or a write whose status differs from the one before: one state-change event each."""
        return self.event == "INSERT" or (self.event == "MODIFY" and self.old_status != self.new_status)


@dataclass(frozen=True)
class DeliveredEvent:
    """One state-change event as the subscriber queue delivered it (a redelivery is another one)."""

    received_at: float
    """Unix seconds when the soak saw it read from the queue (within :data:`EVENT_CLOCK_SECONDS`)."""
    event_id: str | None
    """``detail.eventId``: the same for every delivery of one change."""
    task_id: str | None
    vendor: str | None
    sequence: int | None
    status: str | None
    previous_status: str | None


def _identity(body: str) -> tuple[str | None, str | None, int | None]:
    try:
        request = parse_poll_request(body)
    except MalformedMessageError as error:
        return error.task_id, error.vendor.value if error.vendor else None, None
    return request.task_id, request.vendor.value, request.generation


class Recorder:
    """The soak's logs (thread-safe) and the patches that fill them."""

    def __init__(self, *, duplicate_rate: float, seed: int, drop_rate: float = 0.0) -> None:
        self.duplicate_rate = duplicate_rate
        self.drop_rate = drop_rate
        """Share of the poller's re-enqueues that never reach the queue (the record is written as if they
        had): lost chains for the watchdog to find."""
        self.dropped: list[Sent] = []
        # Seeded for reproducible chaos, not for secrecy.
        self._random = random.Random(seed)  # noqa: S311 # nosec B311
        self._lock = threading.Lock()
        self.sent: list[Sent] = []
        self.handled: list[Handled] = []
        self.invocations: list[Invocation] = []
        self.writes: list[FencedWrite] = []
        self.callbacks: list[CallbackHandled] = []
        self.terminal: set[tuple[str, str]] = set()
        """Tasks whose terminal record the poller or a callback wrote (the soak's progress, without reading
        the table)."""
        self._in_callback = threading.local()
        self._undo: list[Callable[[], None]] = []
        self.clock = time.monotonic

    # -- patches -------------------------------------------------------------------------------------
    def install(self) -> None:
        """Patch :class:`PollQueue`, :class:`PollerService`, :class:`TaskStore` and :class:`CallbackService`
        in this process."""
        recorder = self
        original_send = PollQueue.send
        original_handle = PollerService.handle
        original_put = TaskStore.put

        def send(queue: PollQueue, request: PollRequest, delay_seconds: int = 0) -> str:
            origin = _origin(request)
            if origin == "poller" and recorder._drop():
                dropped_id = f"dropped-{uuid.uuid4()}"
                with recorder._lock:
                    recorder.dropped.append(
                        Sent(
                            recorder.clock(),
                            dropped_id,
                            request.task_id,
                            request.vendor.value,
                            request.generation,
                            int(delay_seconds),
                            origin,
                        )
                    )
                return dropped_id
            message_id = original_send(queue, request, delay_seconds)
            recorder._log_sent(message_id, request, delay_seconds, origin)
            extra = recorder._duplicate_delay()
            if extra is not None:
                delay = min(900, int(delay_seconds) + extra)
                copy_id = original_send(queue, request, delay)
                recorder._log_sent(copy_id, request, delay, origin, duplicate_of=message_id)
            return message_id

        def handle(service: PollerService, message: QueueMessage, correlate: Any = None) -> PollResult:
            started = recorder.clock()
            task_id, vendor, generation = _identity(message.body)
            log_handled = functools.partial(
                recorder._log_handled,
                started=started,
                message_id=message.message_id,
                task_id=task_id,
                vendor=vendor,
                generation=generation,
            )
            try:
                result = original_handle(service, message, correlate)
            except Exception as error:
                log_handled(outcome=type(error).__name__)
                raise
            log_handled(outcome=result.action.value, called_zego=result.outcome is not None)
            return result

        def put(store: TaskStore, record: TaskRecord, expected_generation: int | None) -> WriteResult:
            in_callback = getattr(recorder._in_callback, "writes", None) is not None
            if in_callback:
                recorder._in_callback.writes += 1
            result = original_put(store, record, expected_generation)
            with recorder._lock:
                if result is WriteResult.WRITTEN and record.terminal:
                    recorder.terminal.add((record.task_id, record.vendor.value))
                recorder.writes.append(
                    FencedWrite(
                        at=recorder.clock(),
                        task_id=record.task_id,
                        vendor=record.vendor.value,
                        expected_generation=expected_generation,
                        generation=record.generation,
                        status=record.status.value,
                        result=result.value,
                        writer="callback" if in_callback else "poller",
                    )
                )
            return result

        # Plain functions become methods when set on the class; mypy sees an unbound signature.
        PollQueue.send = send  # type: ignore[method-assign, assignment]
        PollerService.handle = handle  # type: ignore[method-assign, assignment]
        TaskStore.put = put  # type: ignore[method-assign, assignment]

        def undo() -> None:
            PollQueue.send = original_send  # type: ignore[method-assign]
            PollerService.handle = original_handle  # type: ignore[method-assign]
            TaskStore.put = original_put  # type: ignore[method-assign]

        self._undo.append(undo)
        self._install_receiver()
        self._mark_stack_clients()

    def _mark_stack_clients(self) -> None:
        """Patch :meth:`LazyClient.get`: every client the stack's functions use is a fault target."""
        original_get = LazyClient.get

        def get(lazy_client: LazyClient[Any]) -> Any:
            return mark_as_fault_target(original_get(lazy_client))

        LazyClient.get = get  # type: ignore[method-assign, assignment]

        def undo() -> None:
            LazyClient.get = original_get  # type: ignore[method-assign]

        self._undo.append(undo)

    def _install_receiver(self) -> None:
        """Patch :meth:`CallbackService.handle`: log each answer and the writes made meanwhile (counted by
        the :meth:`TaskStore.put` patch through a thread-local, since answers run on the gateway's threads)."""
        recorder = self
        original_receive = CallbackService.handle

        def receive(service: CallbackService, body: bytes, content_type: str | None) -> CallbackResult:
            started = recorder.clock()
            recorder._in_callback.writes = 0
            try:
                result = original_receive(service, body, content_type)
            finally:
                writes, recorder._in_callback.writes = recorder._in_callback.writes, None
            vendor = result.vendor.value if result.vendor else None
            entry = CallbackHandled(
                started,
                recorder.clock(),
                result.task_id,
                vendor,
                result.event,
                result.outcome.value,
                result.status_code,
                writes,
            )
            with recorder._lock:
                recorder.callbacks.append(entry)
            return result

        CallbackService.handle = receive  # type: ignore[method-assign, assignment]

        def undo() -> None:
            CallbackService.handle = original_receive  # type: ignore[method-assign]

        self._undo.append(undo)

    def uninstall(self) -> None:
        """Undo every patch (newest first)."""
        while self._undo:
            self._undo.pop()()

    def wrap_poller(self, handler: Handler) -> Handler:
        """The poller's ``lambda_handler``, logging each invocation's batch and its partial response."""
        recorder = self

        def invoke(event: dict[str, Any], context: Any) -> Any:
            started = recorder.clock()
            records = event.get("Records", [])
            ids = tuple(str(r["messageId"]) for r in records)
            counts = tuple(int(r.get("attributes", {}).get("ApproximateReceiveCount", "0")) for r in records)
            try:
                response = handler(event, context)
            except Exception:
                recorder._log_invocation(started, ids, counts, (), raised=True)
                raise
            failures = tuple(
                str(f.get("itemIdentifier"))
                for f in (response or {}).get("batchItemFailures", [])
                if isinstance(f, dict)
            )
            recorder._log_invocation(started, ids, counts, failures, raised=False)
            return response

        return invoke

    # -- pipeline messages -----------------------------------------------------------------------------
    def send_pipeline(
        self, sqs: Any, queue_url: str, body: str, *, origin: str = "pipeline", duplicate: bool = True
    ) -> str:
        """Send a message as a pipeline would (plain SendMessage), duplicated like any other message."""
        message_id = str(sqs.send_message(QueueUrl=queue_url, MessageBody=body)["MessageId"])
        task_id, vendor, generation = _identity(body)
        kept = body if origin == "malformed" else None
        with self._lock:
            self.sent.append(Sent(self.clock(), message_id, task_id, vendor, generation, 0, origin, body=kept))
        extra = self._duplicate_delay() if duplicate else None
        if extra is not None:
            copy_id = str(sqs.send_message(QueueUrl=queue_url, MessageBody=body, DelaySeconds=extra)["MessageId"])
            with self._lock:
                self.sent.append(
                    Sent(self.clock(), copy_id, task_id, vendor, generation, extra, origin, message_id, body=kept)
                )
        return message_id

    # -- logging ---------------------------------------------------------------------------------------
    def _drop(self) -> bool:
        with self._lock:
            return bool(self.drop_rate) and self._random.random() < self.drop_rate

    def stop_dropping(self) -> None:
        """No more dropped sends from now on."""
        self.drop_rate = 0.0

    def _duplicate_delay(self) -> int | None:
        with self._lock:
            if self._random.random() >= self.duplicate_rate:
                return None
            return self._random.randint(0, MAX_EXTRA_DUPLICATE_DELAY)

    def _log_sent(
        self, message_id: str, request: PollRequest, delay: int, origin: str, duplicate_of: str | None = None
    ) -> None:
        entry = Sent(
            self.clock(),
            message_id,
            request.task_id,
            request.vendor.value,
            request.generation,
            int(delay),
            origin,
            duplicate_of,
        )
        with self._lock:
            self.sent.append(entry)

    def _log_handled(
        self,
        *,
        started: float,
        message_id: str,
        task_id: str | None,
        vendor: str | None,
        generation: int | None,
        outcome: str,
        called_zego: bool = False,
    ) -> None:
        entry = Handled(started, self.clock(), message_id, task_id, vendor, generation, outcome, called_zego)
        with self._lock:
            self.handled.append(entry)

    def _log_invocation(
        self, started: float, ids: tuple[str, ...], counts: tuple[int, ...], failures: tuple[str, ...], *, raised: bool
    ) -> None:
        entry = Invocation(started, self.clock(), ids, counts, failures, raised)
        with self._lock:
            self.invocations.append(entry)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every log as JSON-ready lists (for the debug dump)."""
        with self._lock:
            return {
                "sent": [asdict(e) for e in self.sent],
                "handled": [asdict(e) for e in self.handled],
                "invocations": [asdict(e) for e in self.invocations],
                "writes": [asdict(e) for e in self.writes],
                "callbacks": [asdict(e) for e in self.callbacks],
            }


# -- delivered state-change events --------------------------------------------------------------------

EVENT_CLOCK_SECONDS = 0.05
"""How often :class:`EventClock` looks for newly delivered events (the precision of the delays)."""


class EventClock(threading.Thread):
    """Stamps each state-change event with the moment it was read from the subscriber queue.

    :class:`DeliveredEvents` keeps the events in delivery order but not when each arrived; this thread
    looks at its count every :data:`EVENT_CLOCK_SECONDS` and stamps the new ones (wall clock, as the
    stream's ``ApproximateCreationDateTime``)."""

    def __init__(self, delivered: DeliveredEvents) -> None:
        super().__init__(name="soak-event-clock", daemon=True)
        self.delivered = delivered
        self._stamps: list[float] = []
        self._stop_requested = threading.Event()

    def run(self) -> None:
        while not self._stop_requested.is_set():
            self._stamp()
            self._stop_requested.wait(EVENT_CLOCK_SECONDS)

    def _stamp(self) -> None:
        count = self.delivered.count
        if count > len(self._stamps):
            self._stamps.extend([time.time()] * (count - len(self._stamps)))

    def stop(self) -> list[DeliveredEvent]:
        """Stop watching; every event delivered so far with its stamp."""
        self._stop_requested.set()
        self.join(5.0)
        self._stamp()
        return [_delivered(envelope, at) for envelope, at in zip(self.delivered.events(), self._stamps, strict=False)]


def _delivered(envelope: dict[str, Any], received_at: float) -> DeliveredEvent:
    detail = envelope.get("detail")
    detail = detail if isinstance(detail, dict) else {}

    def text(name: str) -> str | None:
        value = detail.get(name)
        return value if isinstance(value, str) else None

    sequence = detail.get("sequence")
    return DeliveredEvent(
        received_at=received_at,
        event_id=text("eventId"),
        task_id=text("taskId"),
        vendor=text("vendor"),
        sequence=sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else None,
        status=text("status"),
        previous_status=text("previousStatus"),
    )


# -- the table's stream --------------------------------------------------------------------------------


def enable_stream(table_name: str) -> str:
    """The table's NEW_AND_OLD_IMAGES stream: the one the template declares, or one turned on now (before
    any traffic); returns its ARN. DynamoDB refuses to enable a stream twice, hence the look first."""
    client = boto3.client("dynamodb")
    table = client.describe_table(TableName=table_name)["Table"]
    specification = table.get("StreamSpecification", {})
    if specification.get("StreamEnabled") and table.get("LatestStreamArn"):
        if specification.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
            raise ValueError(f"{table_name}: the soak needs old and new images, the stream has {specification}")
        return str(table["LatestStreamArn"])
    response = client.update_table(
        TableName=table_name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )
    arn = response["TableDescription"].get("LatestStreamArn")
    if not arn:
        arn = client.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    return str(arn)


def _number(image: dict[str, Any] | None, name: str) -> int | None:
    if not image or name not in image:
        return None
    return int(image[name]["N"])


def _string(image: dict[str, Any] | None, name: str) -> str | None:
    if not image or name not in image:
        return None
    return str(image[name]["S"])


def _epoch(value: Any) -> float | None:
    """``ApproximateCreationDateTime`` as Unix seconds (botocore parses it into a datetime)."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def _only_watch_time_changed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    if old is None or new is None or old == new:
        return False
    return {k: v for k, v in old.items() if k != WATCH_AT_ATTR} == {k: v for k, v in new.items() if k != WATCH_AT_ATTR}


def read_stream(stream_arn: str, *, max_pages: int = 10_000) -> list[StreamWrite]:
    """Every record of the stream, oldest first (bounded: at most ``max_pages`` pages of 1,000)."""
    streams = boto3.client("dynamodbstreams")
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    writes: list[StreamWrite] = []
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(max_pages):
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                data = record["dynamodb"]
                old, new = data.get("OldImage"), data.get("NewImage")
                keys = data["Keys"]
                writes.append(
                    StreamWrite(
                        sequence=int(data["SequenceNumber"]),
                        event=str(record["eventName"]),
                        task_id=str(keys["taskId"]["S"]),
                        vendor=str(keys["vendor"]["S"]),
                        old_generation=_number(old, "generation"),
                        old_status=_string(old, "status"),
                        new_generation=_number(new, "generation"),
                        new_status=_string(new, "status"),
                        old_record_sequence=_number(old, "sequence"),
                        new_record_sequence=_number(new, "sequence"),
                        new_completed_by=_string(new, "completedBy"),
                        created_at=_epoch(data.get("ApproximateCreationDateTime")),
                        watch_only=_only_watch_time_changed(old, new),
                    )
                )
            iterator = page.get("NextShardIterator")
            if not page["Records"] or not iterator:
                break
    writes.sort(key=lambda w: w.sequence)
    return writes


@contextmanager
def installed(recorder: Recorder) -> Iterator[Recorder]:
    """``recorder`` installed for the duration of a block."""
    recorder.install()
    try:
        yield recorder
    finally:
        recorder.uninstall()


def dump_json(path: Any, data: Any) -> None:
    """Write ``data`` as compact JSON (the debug dump can be large)."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"))
