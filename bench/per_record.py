"""Benchmark 4, per-record cost.

- **CPU per SQS record in the poller** and **per GET in the API handler**, with I/O stubbed in-process:
  the real handlers (Powertools decorators, batch processor, logging, metrics, the real service and
  domain code, the real ZEGO response parser on a canned answer) over fake store, queue, limiter and
  describer objects that implement the service's Protocols. ``time.process_time`` around the handler
  calls only. What the fakes leave out: boto3's request building, signing and parsing, HTTP, ZEGO's
  request signing; the rate-limit benchmark's CPU per record (real adapters on loopback) includes them.
- **API latency under load**: GET /tasks/{taskId}?vendor=... against the local stack's API Gateway
  (moto, simulator and the idle event source in the same process), at fixed request rates from a
  separate client process (``bench.load_client``), each step bounded in count and time.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import subprocess  # nosec B404
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.common import ROOT, progress, quiet_stdout, stdout_bytes
from bench.polling_efficiency import answers
from bench.stats import summary
from devstack.emulator import BENCHMARK_FIXES, AwsEmulator, patched_environment
from devstack.handlers import load_function_module
from devstack.lambda_context import LocalLambdaContext
from devstack.stack import LocalStack, StackOptions
from devstack.zego_simulator import Scenario
from zego_media_tasks.api.pagination import PageTokenCodec
from zego_media_tasks.api.routes import build_app
from zego_media_tasks.api.service import TaskService
from zego_media_tasks.domain.clock import SystemClock
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.outcome import CallOutcome
from zego_media_tasks.domain.polling import PollContext, PollingPolicy, decide_outcome
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.poller.service import PollerService
from zego_media_tasks.poller.settings import PollerSettings
from zego_media_tasks.poller.wiring import PollerRuntime
from zego_media_tasks.store.rate_limiter import Permit
from zego_media_tasks.store.task_store import RecordPage, TaskStore, WriteResult
from zego_media_tasks.zego.responses import interpret_response

EVENTS = ROOT / "events"
FIXTURES = ROOT / "tests" / "fixtures" / "zego"
START = datetime(2026, 11, 24, tzinfo=UTC)
HANDLER_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "zego-media-tasks",
    "POWERTOOLS_METRICS_NAMESPACE": "ZegoMediaTasks/Bench",
    # Outside Lambda there is no X-Ray segment to attach to; tracing's own cost is not measured here.
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


def _task_id(number: int) -> str:
    return f"1500020831-procedurev2-{number:032x}tt0"


# --- fakes implementing the poller service's Protocols ----------------------------------------------


class FakeStore:
    """``TaskRecords``: a dict with the generation fence of the real conditional write."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, Vendor], TaskRecord] = {}

    def get(self, task_id: str, vendor: Vendor, *, consistent: bool = True) -> TaskRecord | None:
        """The stored record."""
        return self.records.get((task_id, vendor))

    def for_task(self, task_id: str, *, consistent: bool = False) -> list[TaskRecord]:
        """Every stored record of the TaskId (the poller reads by key only)."""
        return [self.records[key] for key in sorted(self.records) if key[0] == task_id]

    def put(self, record: TaskRecord, expected_generation: int | None) -> WriteResult:
        """Write if the stored generation is the expected one and the record not terminal."""
        current = self.records.get((record.task_id, record.vendor))
        if current is None and expected_generation is not None:
            return WriteResult.SUPERSEDED
        if current is not None and (current.generation != expected_generation or current.terminal):
            return WriteResult.SUPERSEDED
        self.records[(record.task_id, record.vendor)] = record
        return WriteResult.WRITTEN


class FakeQueue:
    """``PollSender``: remembers the last request sent per task (the next round's message)."""

    def __init__(self) -> None:
        self.sent: dict[str, PollRequest] = {}
        self._ids = itertools.count()

    def send(self, request: PollRequest, delay_seconds: int = 0) -> str:
        """Keep the request; return a message id."""
        self.sent[request.task_id] = request
        return f"m-{next(self._ids)}"


class FakeDeadLetters:
    """``DeadLetterSink`` (not reached by well-formed messages)."""

    def send(self, body: str, reason: str, detail: str, source_message_id: str) -> str:
        """Accept and forget."""
        return "dlq"


class FakeLimiter:
    """``CallLimiter``: a slot at once."""

    def acquire(self) -> Permit:
        """A permit for now."""
        return Permit(slot_epoch_ms=int(time.time() * 1000), waited_seconds=0.0)

    def postpone(self, earliest: datetime) -> datetime:
        """No queue: the earliest moment."""
        return earliest

    def throttled(self) -> None:
        """Never throttled here."""

    def current_rate(self) -> float:
        """The default ceiling."""
        return 20.0


class FakeDescriber:
    """``TaskDescriber``: the real response parser on the canned PROCESSING answer of each task."""

    def __init__(self) -> None:
        template = json.loads((FIXTURES / "tencent-transcode-processing.json").read_text(encoding="utf-8"))
        self._template = template

    def body(self, task_id: str) -> bytes:
        """The answer for one task."""
        document = json.loads(json.dumps(self._template))
        document["Data"]["Tencent"]["TaskId"] = task_id
        return json.dumps(document).encode()

    def describe_media_task(self, task_id: str, vendor: Vendor) -> CallOutcome:
        """Parse the canned answer, as the real client does with ZEGO's."""
        return interpret_response(200, self.body(task_id), task_id=task_id, vendor=vendor)


# --- the poller -----------------------------------------------------------------------------------


def _sqs_record(body: str, number: int) -> dict[str, Any]:
    sample: dict[str, Any] = json.loads((EVENTS / "sqs-poll-tencent.json").read_text(encoding="utf-8"))["Records"][0]
    sample.update(
        messageId=str(uuid.UUID(int=number)),
        body=body,
        md5OfBody=hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
    )
    sample["attributes"]["SentTimestamp"] = str(int(time.time() * 1000))
    return sample


def _poller(tasks: int) -> tuple[Any, FakeStore, FakeQueue]:
    store, queue = FakeStore(), FakeQueue()
    service = PollerService(
        store=store,
        queue=queue,
        dead_letters=FakeDeadLetters(),
        limiter=FakeLimiter(),
        describer=FakeDescriber(),
        clock=SystemClock(),
        policy=PollingPolicy(),
        random=random.Random(1),
    )
    settings = PollerSettings(
        table_name="t", queue_url="http://127.0.0.1:9/q", dlq_url="http://127.0.0.1:9/d", rate_limit_table_name="r"
    )
    module = load_function_module("poller", f"bench_per_record_poller_{time.monotonic_ns()}")
    # The handler builds its runtime at the first call; have it build the fake-wired one instead.
    runtime = PollerRuntime(service=service, settings=settings, app_id=1, record_budget_seconds=1.0)
    vars(module)["build_runtime"] = lambda _environ: runtime
    for number in range(tasks):
        queue.sent[_task_id(number)] = PollRequest(_task_id(number), Vendor.TENCENT)
    return module, store, queue


def _poller_round(module: Any, queue: FakeQueue, tasks: int, batch_size: int) -> tuple[float, int]:
    """One pass over every task in batches; CPU seconds inside the handler and records handled."""
    cpu = 0.0
    handled = 0
    numbers = iter(itertools.count())
    for start in range(0, tasks, batch_size):
        records = [
            _sqs_record(queue.sent[_task_id(n)].to_body(), next(numbers))
            for n in range(start, min(tasks, start + batch_size))
        ]
        event = {"Records": records}
        context = LocalLambdaContext(function_name="PollerFunction")
        before = time.process_time()
        response = module.lambda_handler(event, context)
        cpu += time.process_time() - before
        if response["batchItemFailures"]:
            raise RuntimeError(f"records failed: {response['batchItemFailures']}")
        handled += len(records)
    return cpu, handled


def poller_cpu(*, tasks: int = 1000, rounds: int = 3) -> dict[str, Any]:
    """CPU per record at batch size 10 and 1 (after a first round that moves every task from PENDING to
    PROCESSING: the steady state is a non-terminal poll of an existing record)."""
    results: dict[str, Any] = {"tasks": tasks, "rounds": rounds}
    with quiet_stdout(), patched_environment(HANDLER_ENVIRONMENT):
        for batch_size in (10, 1):
            module, _store, queue = _poller(tasks)
            _poller_round(module, queue, tasks, batch_size)  # warm-up, and the first transition
            cpu = 0.0
            handled = 0
            written = stdout_bytes()
            for _ in range(rounds):
                spent, count = _poller_round(module, queue, tasks, batch_size)
                cpu += spent
                handled += count
            results[f"batch_{batch_size}"] = {
                "records": handled,
                "log_bytes_per_record": round((stdout_bytes() - written) / handled),
                "cpu_ms_per_record": round(1000 * cpu / handled, 3),
                "cpu_ms_per_invocation": round(1000 * cpu / (handled / batch_size), 3),
            }
    per_record = (results["batch_10"]["cpu_ms_per_invocation"] - results["batch_1"]["cpu_ms_per_invocation"]) / 9
    results["marginal_cpu_ms_per_record"] = round(per_record, 3)
    results["cpu_ms_per_invocation_overhead"] = round(results["batch_1"]["cpu_ms_per_invocation"] - per_record, 3)
    return results


# --- the API ---------------------------------------------------------------------------------------


def finished_record(task_id: str) -> TaskRecord:
    """A realistic finished record: the real decision code on the compose fixture's final answer."""
    canned = answers("tencent-compose-finish.json")
    request = PollRequest(canned.task_id, canned.vendor)
    decision = decide_outcome(PollContext(None, request, START, PollingPolicy()), canned.final, random=_Middle())
    return replace(decision.record, task_id=task_id)


class _Middle:
    """A ``UniformSource`` for one decision (which delay it picks does not matter here)."""

    def uniform(self, a: float, b: float) -> float:
        """The middle of the range."""
        return (a + b) / 2


class FakeReads:
    """``TaskTable`` over a dict."""

    def __init__(self, records: Mapping[str, TaskRecord]) -> None:
        self._records = dict(records)

    def get(self, task_id: str, vendor: Vendor, *, consistent: bool = False) -> TaskRecord | None:
        """The record, if any."""
        record = self._records.get(task_id)
        return record if record is not None and record.vendor is vendor else None

    def for_task(self, task_id: str, *, consistent: bool = False) -> list[TaskRecord]:
        """Every record of the TaskId."""
        record = self._records.get(task_id)
        return [record] if record else []

    def by_status(
        self, status: TaskStatus, vendor: Vendor | None, limit: int, start_key: Mapping[str, str] | None = None
    ) -> RecordPage:
        """Not used by GETs of one task."""
        return RecordPage(records=(), last_key=None)

    def put_new(self, record: TaskRecord) -> bool:
        """Not used by GETs."""
        return False


def _get_event(task_id: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "apigw-get-task.json").read_text(encoding="utf-8"))
    encoded = quote(task_id, safe="")
    event.update(path=f"/tasks/{encoded}", pathParameters={"taskId": task_id})
    event["requestContext"]["path"] = f"/v1/tasks/{encoded}"
    return event


def api_cpu(*, tasks: int = 500, rounds: int = 4) -> dict[str, Any]:
    """CPU per GET /tasks/{taskId}?vendor=Tencent answered 200 from a fake store."""
    records = {_task_id(n): finished_record(_task_id(n)) for n in range(tasks)}
    service = TaskService(
        tasks=FakeReads(records),
        queue=FakeQueue(),
        tokens=PageTokenCodec(lambda: b"k" * 32),
        clock=SystemClock(),
        task_deadline=timedelta(days=1),
    )
    resolver = build_app(lambda: service)
    events = [_get_event(task_id) for task_id in records]
    with quiet_stdout(), patched_environment(HANDLER_ENVIRONMENT):
        module = load_function_module("api", f"bench_per_record_api_{time.monotonic_ns()}")
        vars(module)["api"] = lambda: resolver  # the handler calls api() per request: serve the fakes
        context = LocalLambdaContext(function_name="ApiFunction")
        for event in events[:50]:
            module.lambda_handler(event, context)  # warm-up
        cpu = 0.0
        written = stdout_bytes()
        statuses: dict[int, int] = {}
        for _ in range(rounds):
            for event in events:
                before = time.process_time()
                response = module.lambda_handler(event, context)
                cpu += time.process_time() - before
                statuses[response["statusCode"]] = statuses.get(response["statusCode"], 0) + 1
    handled = rounds * len(events)
    return {
        "requests": handled,
        "statuses": statuses,
        "cpu_ms_per_get": round(1000 * cpu / handled, 3),
        "log_bytes_per_get": round((stdout_bytes() - written) / handled),
    }


# --- API latency under load ---------------------------------------------------------------------------


def _load_step(base_url: str, paths_file: Path, rate: float, seconds: float) -> dict[str, Any]:
    count = int(rate * seconds)
    cpu_before = time.process_time()
    command = [
        sys.executable,
        "-m",
        "bench.load_client",
        f"--base-url={base_url}",
        f"--paths-file={paths_file}",
        f"--rate={rate}",
        f"--count={count}",
        f"--deadline-seconds={seconds}",
    ]
    completed = subprocess.run(  # noqa: S603 - our interpreter and module, fixed arguments # nosec B603
        command, capture_output=True, text=True, timeout=seconds + 90, check=True, cwd=ROOT
    )
    server_cpu = time.process_time() - cpu_before  # this process: moto, the gateway, the handler
    raw = json.loads(completed.stdout)
    service = [1000 * s for s in raw["service_seconds"]]
    scheduled = [1000 * s for s in raw["from_schedule_seconds"]]
    statuses: dict[str, int] = {}
    for status in raw["statuses"]:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "target_rate": rate,
        "requests_scheduled": count,
        "requests_completed": len(service),
        "achieved_rate": round(len(service) / raw["elapsed_seconds"], 1) if raw["elapsed_seconds"] else 0.0,
        "elapsed_seconds": round(raw["elapsed_seconds"], 1),
        "statuses": statuses,
        "errors": len(raw["errors"]),
        "not_sent_client_deadline": raw["not_sent"],
        "server_cpu_ms_per_request": round(1000 * server_cpu / len(service), 2) if service else None,
        "server_cpu_cores_used": round(server_cpu / raw["elapsed_seconds"], 2) if raw["elapsed_seconds"] else None,
        "service_latency_ms": summary(service, digits=1),
        "latency_from_schedule_ms": summary(scheduled, digits=1),
    }


def api_latency(
    *, rates: tuple[float, ...] = (50.0, 100.0, 200.0, 300.0), seconds: float = 10.0, tasks: int = 300
) -> dict[str, Any]:
    """Loopback load on the local stack's API at each of ``rates`` for ``seconds``."""
    steps = []
    stack = LocalStack(StackOptions(scenario=Scenario()), emulator=AwsEmulator(fixes=BENCHMARK_FIXES))
    with quiet_stdout(), stack, tempfile.TemporaryDirectory() as tmp:
        if stack.resources is None:  # pragma: no cover - set by start()
            raise RuntimeError("local stack did not start")
        queries = TaskStore(stack.resources.table_names["TasksTable"])
        for number in range(tasks):
            queries.put_new(finished_record(_task_id(number)))
        paths_file = Path(tmp) / "paths.txt"
        paths_file.write_text(
            "\n".join(f"/tasks/{quote(_task_id(n), safe='')}?vendor=Tencent" for n in range(tasks)), encoding="utf-8"
        )
        for rate in rates:
            progress(f"per record: API load at {rate:g} requests/s for {seconds:g} s")
            steps.append(_load_step(stack.api_url, paths_file, rate, seconds))
    return {"tasks": tasks, "seconds_per_step": seconds, "steps": steps}


def run(*, quick: bool = False) -> dict[str, Any]:
    """All of benchmark 4."""
    progress("per record: poller CPU with fakes")
    poller = poller_cpu(tasks=300 if quick else 1000, rounds=2 if quick else 3)
    progress("per record: API CPU with a fake store")
    api = api_cpu(tasks=200 if quick else 500, rounds=2 if quick else 4)
    latency = api_latency(seconds=5.0 if quick else 10.0)
    return {"poller": poller, "api": api, "api_latency": latency}
