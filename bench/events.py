"""Benchmark 6, state-change events: how many a task makes, how soon one is delivered, what they cost.

- **Events per task** for the standard mix: the polling-efficiency simulation's pull-only and
  callbacks-90 scenarios (:func:`bench.polling_efficiency.follow_with_callbacks`, the real decision and
  reconciliation code on a virtual clock), every write of a record passed through the publisher's own
  comparison (``domain.state_change.state_change``): each write is one record on the tasks table's
  stream, each that changed the status one event. The tasks are registered through the API, so the
  PENDING registration is one of them.
- **Publisher CPU per stream record**: the real publisher handler (Powertools decorators, the batch
  processor for DynamoDB streams, the image comparison, logging, metrics) over stream records built from
  the simulation's own writes, and a real boto3 EventBridge client whose HTTP send is stubbed (the
  request is built, signed and its answer parsed; only the socket is left out). ``time.process_time``
  around the handler calls only.
- **Publish delay** through ``make run``'s stack: Tencent transcodes registered over HTTP a little apart,
  polled by the real poller against the simulator (half of them ended by their callback); the stream
  source reads moto's stream with the template's batch settings and invokes the real publisher, which
  publishes to moto's bus; a second target on the local subscriber rule delivers each event to a queue
  of this benchmark, read with its ``SentTimestamp``. An event's delay is that timestamp minus the
  record's ``statusChangedAt`` (both the wall clock of this process, in milliseconds).
- **Cost per million tasks**: :func:`bench.costs.event_cost_section` on the figures above.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from bench import polling_efficiency as simulation
from bench.common import progress, quiet_stdout, stdout_bytes, template_defaults
from bench.costs import PublisherModel, event_cost_section
from bench.stats import summary
from devstack.__main__ import demo_poller_environment
from devstack.emulator import patched_environment
from devstack.handlers import Handler, load_function_module
from devstack.lambda_context import LocalLambdaContext
from devstack.stack import LocalStack, StackOptions
from devstack.stream_source import IDLE_READS_PER_SECOND, StreamSourceSettings
from devstack.template import function_event
from devstack.zego_simulator import Scenario
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.state_change import state_change
from zego_media_tasks.domain.timestamps import from_iso
from zego_media_tasks.events.publisher import EventPublisher
from zego_media_tasks.events.service import PublisherService
from zego_media_tasks.store.items import key_of, record_to_item
from zego_media_tasks.store.task_store import to_wire

PUBLISHER = "PublisherFunction"
SCENARIOS = (
    (simulation.SCHEDULES[0], simulation.PULL_ONLY),
    (simulation.CALLBACKS_ENABLED, simulation.CALLBACKS_90),
)
"""The polling-efficiency scenarios counted: pull-only on the default schedule, and 90 % of callbacks."""
HANDLER_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "zego-media-tasks-publisher",
    "POWERTOOLS_METRICS_NAMESPACE": "ZegoMediaTasks/Bench",
    # Outside Lambda there is no X-Ray segment to attach to; tracing's own cost is not measured here.
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/bench-tasks/stream/2026-11-24T00:00:00.000"
DELAY_TASKS = 24
DELAY_SPACING_SECONDS = 0.4
"""Between two registrations: writes of different tasks land both alone and together in a batching window."""


# --- events per task ---------------------------------------------------------------------------------


def publication_block(traces: Sequence[simulation.TaskTrace]) -> dict[str, Any]:
    """Events, stream records, ZEGO calls and PutEvents billing per task, overall and per kind."""
    counted = [(trace, trace.publication) for trace in traces if trace.publication is not None]
    if not counted or len(counted) != len(traces):
        raise ValueError("every trace must carry its publication (follow_with_callbacks counts it)")

    def mean(values: Sequence[float]) -> float:
        return round(sum(values) / len(values), 3)

    by_kind: dict[str, Any] = {}
    for kind in simulation.MIX:
        selected = [published for trace, published in counted if trace.kind == kind.name]
        if selected:
            by_kind[kind.name] = {
                "tasks": len(selected),
                "events_per_task": mean([p.events for p in selected]),
                "stream_records_per_task": mean([p.stream_records for p in selected]),
            }
    return {
        "tasks": len(counted),
        "events_per_task": {
            **summary([float(p.events) for _, p in counted], digits=3),
            "by_kind": {kind: row["events_per_task"] for kind, row in by_kind.items()},
        },
        "stream_records_per_task": summary([float(p.stream_records) for _, p in counted], digits=3),
        "publisher_records_per_task": mean([p.delivered for _, p in counted]),
        "zego_calls_per_task": mean([trace.polls for trace, _ in counted]),
        "billed_events_per_task": mean([p.billed_events for _, p in counted]),
        "largest_event_entry_bytes": max(p.largest_event_bytes for _, p in counted),
        "ended_by_callback": sum(1 for trace, _ in counted if trace.ended_by_callback),
        "by_kind": by_kind,
    }


def events_per_task(*, tasks: int, workers: int = 2) -> dict[str, Any]:
    """:func:`publication_block` of each of :data:`SCENARIOS` over the same ``tasks`` tasks."""
    specs = simulation.generate_tasks(tasks)
    pieces = simulation.split(specs, workers)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return {
            delivery.name: publication_block(simulation.callbacks_traces(pool, pieces, schedule, delivery))
            for schedule, delivery in SCENARIOS
        }


# --- the publisher's CPU per stream record --------------------------------------------------------------


def sample_writes(tasks: int) -> tuple[list[tuple[TaskRecord | None, TaskRecord]], list[tuple[TaskRecord, TaskRecord]]]:
    """The writes of ``tasks`` simulated tasks (pull-only, default schedule), split into those that
    changed the status (the registration included) and those that did not."""
    changed: list[tuple[TaskRecord | None, TaskRecord]] = []
    unchanged: list[tuple[TaskRecord, TaskRecord]] = []
    schedule = simulation.SCHEDULES[0]
    policy = schedule.policy()
    for spec in simulation.generate_tasks(tasks):
        canned = simulation.answers(spec.fixture)
        registered = simulation.registration(canned, policy)
        changed.append((None, registered))
        for poll in simulation.simulate_polls(
            registered,
            PollRequest(canned.task_id, canned.vendor),
            canned,
            completion_seconds=spec.completion_seconds,
            policy=policy,
            rng=random.Random(simulation.SEED * 100_003 + spec.index),
        ):
            old, new = poll.stored, poll.decision.record
            if state_change(old, new) is not None:
                changed.append((old, new))
            elif old is not None:
                unchanged.append((old, new))
    return changed, unchanged


def stream_record(old: TaskRecord | None, new: TaskRecord, number: int) -> dict[str, Any]:
    """The Lambda DynamoDB stream event record of the write ``old`` → ``new`` (NEW_AND_OLD_IMAGES)."""
    new_image = to_wire(record_to_item(new))
    data: dict[str, Any] = {
        "ApproximateCreationDateTime": int(from_iso(new.updated_at or new.status_changed_at).timestamp()),
        "Keys": to_wire(key_of(new.task_id, new.vendor)),
        "NewImage": new_image,
    }
    if old is not None:
        data["OldImage"] = to_wire(record_to_item(old))
    data.update(
        SequenceNumber=str(10**20 + number),
        SizeBytes=len(json.dumps(data)),
        StreamViewType="NEW_AND_OLD_IMAGES",
    )
    return {
        "eventID": uuid.UUID(int=number).hex,
        "eventName": "MODIFY" if old is not None else "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": data,
        "eventSourceARN": STREAM_ARN,
    }


class _Body:
    """The raw body of a stubbed HTTP answer (what botocore reads from urllib3)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield self._body


_PUT_EVENTS_ANSWER = json.dumps({"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.UUID(int=1))}]}).encode()


def stubbed_events_client() -> Any:
    """A real boto3 EventBridge client whose HTTP send answers PutEvents with success for one entry (the
    publisher sends one entry a call): serialising, signing and parsing happen, the socket does not."""
    client = boto3.session.Session().client(
        "events",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 # nosec B106
    )

    def answer(request: Any, **_kwargs: Any) -> AWSResponse:
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.1"
        return AWSResponse(request.url, 200, headers, _Body(_PUT_EVENTS_ANSWER))

    client.meta.events.register("before-send.events.PutEvents", answer)
    return client


class _FakeEvents:
    """An EventBridge client that accepts every entry without building a request: our code's part alone."""

    def put_events(self, Entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


class _CountingClient:
    """Counts the PutEvents calls and passes them on."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls = 0

    def put_events(self, **kwargs: Any) -> Any:
        self.calls += 1
        return self._client.put_events(**kwargs)


def _publisher_handler(client: _CountingClient) -> Callable[[dict[str, Any], Any], Any]:
    module = load_function_module("events", f"bench_events_publisher_{time.monotonic_ns()}")
    service = PublisherService(EventPublisher("bench-bus", "zego-media-tasks", client=client, sleep=time.sleep))
    vars(module)["publisher"] = lambda: service  # the handler asks publisher() at each call: serve this one
    handler: Callable[[dict[str, Any], Any], Any] = module.lambda_handler
    return handler


@contextlib.contextmanager
def _shared_metrics() -> Iterator[None]:
    """Powertools' metrics are shared by every handler loaded in this process, so a flush can find them
    emptied by another handler's and warn (in Lambda each function has its process to itself)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        yield


def _handle(
    handler: Callable[[dict[str, Any], Any], Any], records: Sequence[dict[str, Any]], batch_size: int
) -> tuple[float, int]:
    """CPU seconds inside the handler for ``records`` in batches, and bytes it wrote to stdout."""
    cpu = 0.0
    written = stdout_bytes()
    for start in range(0, len(records), batch_size):
        event = {"Records": list(records[start : start + batch_size])}
        context = LocalLambdaContext(function_name=PUBLISHER)
        before = time.process_time()
        response = handler(event, context)
        cpu += time.process_time() - before
        if response["batchItemFailures"]:
            raise RuntimeError(f"records failed: {response['batchItemFailures']}")
    return cpu, stdout_bytes() - written


def publisher_cpu(*, records: int = 1000, tasks: int = 200) -> dict[str, Any]:
    """CPU and stdout bytes per stream record, for records that changed the status (one PutEvents each)
    and records that did not, in batches of 100 (the template's) and of 1; per-record and per-invocation
    parts from the difference."""
    changed, unchanged = sample_writes(tasks)
    numbers = itertools.count(1)
    pools = {
        "published": [stream_record(old, new, next(numbers)) for old, new in changed],
        "unchanged": [stream_record(old, new, next(numbers)) for old, new in unchanged],
    }
    results: dict[str, Any] = {"records_per_configuration": records, "sample_tasks": tasks}
    with quiet_stdout(), patched_environment(HANDLER_ENVIRONMENT), _shared_metrics():
        for kind, pool in pools.items():
            stream = list(itertools.islice(itertools.cycle(pool), records))
            totals: dict[int, tuple[float, float]] = {}
            for batch_size in (100, 1):
                client = _CountingClient(stubbed_events_client())
                handler = _publisher_handler(client)
                _handle(handler, stream[:200], batch_size)  # warm-up: the client's first call, imports
                client.calls = 0
                cpu, written = _handle(handler, stream, batch_size)
                invocations = len(stream) / batch_size
                totals[batch_size] = (cpu / invocations, written / invocations)
                results[f"{kind}_batch_{batch_size}"] = {
                    "records": len(stream),
                    "put_events_calls": client.calls,
                    "cpu_ms_per_record": round(1000 * cpu / len(stream), 4),
                    "log_bytes_per_record": round(written / len(stream), 1),
                }
            cpu_per_record = (totals[100][0] - totals[1][0]) / 99
            log_per_record = (totals[100][1] - totals[1][1]) / 99
            results[kind] = {
                "marginal_cpu_ms_per_record": round(1000 * cpu_per_record, 4),
                "cpu_ms_per_invocation_overhead": round(1000 * (totals[1][0] - cpu_per_record), 4),
                "marginal_log_bytes_per_record": round(log_per_record, 1),
                "log_bytes_per_invocation_overhead": round(totals[1][1] - log_per_record, 1),
            }
        # The same published records with no request built at all: what boto3's PutEvents adds.
        handler = _publisher_handler(_CountingClient(_FakeEvents()))
        published = list(itertools.islice(itertools.cycle(pools["published"]), records))
        _handle(handler, published[:200], 100)
        cpu, _written = _handle(handler, published, 100)
        results["published_without_boto3_batch_100"] = {"cpu_ms_per_record": round(1000 * cpu / len(published), 4)}
    overheads = [results[kind]["cpu_ms_per_invocation_overhead"] for kind in pools]
    log_overheads = [results[kind]["log_bytes_per_invocation_overhead"] for kind in pools]
    results["cpu_ms_per_invocation_overhead"] = round(sum(overheads) / len(overheads), 4)
    results["log_bytes_per_invocation_overhead"] = round(sum(log_overheads) / len(log_overheads), 1)
    return results


def publisher_model(cpu: Mapping[str, Any], memory_mb: int) -> PublisherModel:
    """The cost model's publisher from the measurement."""
    return PublisherModel(
        memory_mb=memory_mb,
        cpu_seconds_per_invocation=max(0.0, cpu["cpu_ms_per_invocation_overhead"]) / 1000,
        cpu_seconds_per_unchanged_record=cpu["unchanged"]["marginal_cpu_ms_per_record"] / 1000,
        cpu_seconds_per_published_record=cpu["published"]["marginal_cpu_ms_per_record"] / 1000,
        log_bytes_per_invocation=max(0.0, cpu["log_bytes_per_invocation_overhead"]),
        log_bytes_per_unchanged_record=max(0.0, cpu["unchanged"]["marginal_log_bytes_per_record"]),
        log_bytes_per_published_record=max(0.0, cpu["published"]["marginal_log_bytes_per_record"]),
    )


# --- publish delay through make run's stack --------------------------------------------------------------


def delay_scenario(tasks: int) -> Scenario:
    """``tasks`` Tencent transcodes, WAITING then PROCESSING for a few seconds, then FINISH; every other
    one's completion callback is sent (so callbacks cause events too), the others' lost."""
    specs = []
    for index in range(tasks):
        specs.append(
            {
                "task_id": f"1500000000-procedurev2-{index:032x}ev0",
                "vendor": "Tencent",
                "event": "transcode",
                "timeline": [
                    {"status": "WAITING", "seconds": 1},
                    {"status": "PROCESSING", "seconds": 3 + index % 5},
                ],
                "final": {"status": "FINISH", "FileId": str(10**18 + index), "ReplayUrl": "https://v.example/e.mp4"},
                "callback": "send" if index % 2 else "lost",
            }
        )
    return Scenario.from_dict({"description": "publish delay benchmark", "tasks": specs})


class _Invocations:
    """Wraps the publisher: notes when each stream record was handed to it, and the batch sizes."""

    def __init__(self) -> None:
        self.started: dict[tuple[str, str, int], float] = {}
        self.batch_sizes: list[int] = []
        self.durations: list[float] = []
        self._lock = threading.Lock()

    def wrap(self, handler: Handler) -> Handler:
        def timed(event: dict[str, Any], context: Any) -> Any:
            began = time.time()
            with self._lock:
                self.batch_sizes.append(len(event["Records"]))
                for record in event["Records"]:
                    image = record["dynamodb"].get("NewImage") or {}
                    if {"taskId", "vendor", "sequence"} <= image.keys():
                        key = (image["taskId"]["S"], image["vendor"]["S"], int(image["sequence"]["N"]))
                        self.started.setdefault(key, began)  # a later unchanged write keeps the sequence
            try:
                return handler(event, context)
            finally:
                with self._lock:
                    self.durations.append(time.time() - began)

        return timed


class _DeliveryQueue(threading.Thread):
    """A second target of the local subscriber rule: a queue read with each message's SentTimestamp."""

    def __init__(self, bus_name: str, rule_arn: str) -> None:
        super().__init__(name="publish-delay-queue", daemon=True)
        self._sqs = boto3.client("sqs")
        self.queue_url = self._sqs.create_queue(QueueName=f"bench-publish-delay-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        boto3.client("events").put_targets(
            Rule=rule_arn.rsplit("/", 1)[-1], EventBusName=bus_name, Targets=[{"Id": "bench-publish-delay", "Arn": arn}]
        )
        self.delivered: list[tuple[float, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            messages = self._sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["SentTimestamp"]
            ).get("Messages", [])
            with self._lock:
                for message in messages:
                    sent = int(message["Attributes"]["SentTimestamp"]) / 1000
                    self.delivered.append((sent, json.loads(message["Body"])))
            if messages:
                self._sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )

    def stop(self) -> None:
        self._stopping.set()
        self.join(5)

    def events(self) -> list[tuple[float, dict[str, Any]]]:
        with self._lock:
            return list(self.delivered)


def _terminal_tasks(delivered: Sequence[tuple[float, Mapping[str, Any]]]) -> set[str]:
    return {event["detail"]["taskId"] for _, event in delivered if event["detail"]["terminal"]}


def publish_delay(*, tasks: int = DELAY_TASKS, spacing: float = DELAY_SPACING_SECONDS) -> dict[str, Any]:
    """One run through ``make run``'s stack; the delays of every delivered event."""
    plan = delay_scenario(tasks)
    invocations = _Invocations()
    options = StackOptions(
        scenario=plan,
        simulator_callbacks=True,
        poller_environment=demo_poller_environment(),
    )
    progress(f"events: publish delay of {tasks} Tencent transcodes registered {spacing:g} s apart")
    load_before = os.getloadavg()[0]
    with quiet_stdout(), _shared_metrics(), LocalStack(options, wrap_publisher=invocations.wrap) as stack:
        subscriber = stack.delivered_events
        if subscriber is None:  # pragma: no cover - state_change_events is on by default
            raise RuntimeError("the local stack has no subscriber rule")
        queue = _DeliveryQueue(subscriber.bus_name, subscriber.rule_arn)
        queue.start()
        for spec in plan.tasks:
            stack.register(spec.task_id, spec.vendor.value, "transcode").raise_for_status()
            time.sleep(spacing)
        deadline = time.monotonic() + 90
        while len(_terminal_tasks(queue.events())) < tasks and time.monotonic() < deadline:
            time.sleep(0.2)
        stack.wait_for_events(timeout=15)
        time.sleep(1.5)  # the bench queue's last receive
        queue.stop()
        delivered = queue.events()
        stream = stack.stream_source.stats if stack.stream_source else None
    return delay_figures(delivered, invocations, tasks=tasks, spacing=spacing) | {
        "stream_source_invocations": stream.invocations if stream else None,
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }


def delay_figures(
    delivered: Sequence[tuple[float, Mapping[str, Any]]], invocations: _Invocations, *, tasks: int, spacing: float
) -> dict[str, Any]:
    """Delays of the delivered events, de-duplicated by eventId; completeness from the terminal sequences."""
    first: dict[str, tuple[float, Mapping[str, Any]]] = {}
    for sent, event in delivered:
        first.setdefault(event["detail"]["eventId"], (sent, event))
    delays, to_invocation, to_queue = [], [], []
    sources: dict[str, int] = {}
    for sent, event in first.values():
        detail = event["detail"]
        written = from_iso(detail["statusChangedAt"]).timestamp()
        delays.append(sent - written)
        sources[detail["source"]] = sources.get(detail["source"], 0) + 1
        began = invocations.started.get((detail["taskId"], detail["vendor"], detail["sequence"]))
        if began is not None:
            to_invocation.append(began - written)
            to_queue.append(sent - began)
    expected = sum(event["detail"]["sequence"] for _, event in first.values() if event["detail"]["terminal"])
    settings = StreamSourceSettings.from_template(PUBLISHER)
    return {
        "tasks": tasks,
        "registration_spacing_seconds": spacing,
        "events_delivered": len(delivered),
        "events_unique": len(first),
        "events_expected": expected,
        "tasks_ended": len(_terminal_tasks(delivered)),
        "by_source": dict(sorted(sources.items())),
        "delay_seconds": summary(delays, digits=3),
        "write_to_invocation_seconds": summary(to_invocation, digits=3),
        "invocation_to_queue_seconds": summary(to_queue, digits=3),
        "records_per_invocation": summary([float(n) for n in invocations.batch_sizes], digits=2),
        "invocation_seconds": summary(invocations.durations, digits=3),
        "publisher_seconds_per_event": (
            round(sum(invocations.durations) / len(first), 3) if first and invocations.durations else None
        ),
        "local_stream_source": {
            "idle_read_interval_seconds": 1 / IDLE_READS_PER_SECOND,
            "batching_window_seconds": settings.batching_window_seconds,
            "batch_size": settings.batch_size,
            "window_starts": "when a read first finds records",
        },
    }


# --- all of it ------------------------------------------------------------------------------------------


def run(*, quick: bool = False) -> dict[str, Any]:
    """All of benchmark 6."""
    tasks = 1000 if quick else 10_000
    progress(f"events: events per task in the polling-efficiency simulation ({tasks:,} tasks, 2 scenarios)")
    per_task = events_per_task(tasks=tasks)
    progress("events: publisher CPU per stream record, EventBridge's HTTP stubbed")
    cpu = publisher_cpu(records=300 if quick else 1000)
    delay = publish_delay(tasks=12 if quick else DELAY_TASKS)
    function, event = function_event(PUBLISHER, "DynamoDB")
    model = publisher_model(cpu, int(function["MemorySize"]))
    costs = event_cost_section(
        {
            name: {
                # What the publisher is handed: the writes its event source's filter lets through.
                "stream_records": block["publisher_records_per_task"],
                "events": block["events_per_task"]["mean"],
                "billed_events": block["billed_events_per_task"],
                "zego_calls": block["zego_calls_per_task"],
            }
            for name, block in per_task.items()
        },
        model=model,
        batch_size=int(event["BatchSize"]),
        batching_window_seconds=float(event.get("MaximumBatchingWindowInSeconds", 0)),
        zego_calls_per_second=float(template_defaults()["ZegoRateLimitPerSecond"]),
    )
    return {
        "events_per_task": {name: block["events_per_task"] for name, block in per_task.items()},
        "publish_delay_seconds": delay["delay_seconds"],
        "cost_per_million_tasks": {
            name: {
                regime: row[regime]["usd_per_million_tasks"]
                for regime in ("low_traffic", "zego_ceiling", "full_batches")
            }
            for name, row in costs["per_scenario"].items()
        },
        "simulation": per_task,
        "publish_delay": delay,
        "publisher_cpu": cpu,
        "costs": costs,
    }
