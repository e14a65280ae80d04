"""Benchmark 1, rate-limit utilisation: a backlog of unfinished tasks against the ZEGO simulator (50 ms
added latency, its 20 calls/s sliding-window limit enforced), measured two ways:

- **handler level**: the real poller handler invoked directly by ``PollMaxConcurrency`` threads with
  Lambda-shaped SQS batches received from the queue; receiving and deleting happen on separate threads,
  as Lambda's event source pollers are separate from the function instances. moto and the simulator run
  in their own processes (``bench.servers``), as DynamoDB, SQS and ZEGO are other machines in AWS.
- **stack level**: the whole local pipeline (``devstack.stack.LocalStack``): the local event source
  mapping (each of its threads receives, invokes and deletes in turn) and moto, the simulator and the
  poller in one process.

Each run seeds the backlog, lets it warm up, then measures a fixed window on the simulator's call log.
The limiter and the ZEGO client of the built service are wrapped (composition, no product code
changed) to record how long each call left after its reserved slot, the limiter waits and saturations.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import queue
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from bench.common import ZEGO_LIMIT_PER_SECOND, progress, quiet_stdout, template_defaults
from bench.servers import helper, process_cpu_seconds
from bench.stats import Call, summary, window_stats
from devstack.emulator import (
    BENCHMARK_FIXES,
    LOCAL_REGION,
    AwsEmulatorProcess,
    free_port,
    local_twin,
    patched_environment,
)
from devstack.event_source import EventSourceSettings, sqs_event_record
from devstack.handlers import Handler, load_function_module
from devstack.lambda_context import LocalLambdaContext
from devstack.resources import provision
from devstack.stack import LocalStack, StackOptions
from devstack.zego_simulator import FaultSettings, Scenario
from devstack.zego_simulator.__main__ import SECRET_ENV
from zego_media_tasks.domain.outcome import CallOutcome
from zego_media_tasks.domain.ports import TaskDescriber
from zego_media_tasks.domain.status import Vendor
from zego_media_tasks.poller.service import CallLimiter
from zego_media_tasks.poller.wiring import PollerRuntime
from zego_media_tasks.store.rate_limiter import Permit, Saturated

APP_ID = 1234567890
SIMULATOR_LATENCY_SECONDS = 0.05
SIMULATOR_LATENCY_SPREAD_SECONDS = 0.04
"""Each call's round trip is 50-90 ms (uniform), half of the varying part before ZEGO counts the call."""
TASK_PREFIX = "bench-"
SCENARIO: dict[str, Any] = {
    "description": "rate-limit benchmark: every bench-<n> task stays PROCESSING for the whole run",
    "templates": [{"match": "bench-[0-9]+", "vendor": "Tencent", "event": "transcode", "stays": "PROCESSING"}],
}
BACKLOG_POLLING = {
    # Short backoff windows so that 2,000 unfinished tasks always want more than 20 calls/s: each task is
    # due again 1-2 s after its poll, so the limiter, not the schedule, sets the pace.
    "POLL_BACKOFF_BASE_SECONDS": "1",
    "POLL_BACKOFF_CAP_SECONDS": "2",
    # Full jitter and doubling, as this benchmark has always run: its figures stay comparable.
    "POLL_BACKOFF_FACTOR": "2",
    "POLL_BACKOFF_JITTER": "1",
}
TARGET_FRACTION = 0.95
TARGET_CODE_6_SHARE = 0.005


@dataclass(frozen=True)
class Knobs:
    """The configuration under test."""

    ceiling: float
    concurrency: int
    batch_size: int
    max_wait_seconds: float
    batching_window_seconds: float
    function_timeout_seconds: float

    @classmethod
    def from_template(cls) -> Knobs:
        """The template's defaults: what a deployment gets unless told otherwise."""
        defaults = template_defaults()
        return cls(
            ceiling=float(defaults["ZegoRateLimitPerSecond"]),
            concurrency=int(defaults["PollMaxConcurrency"]),
            batch_size=int(defaults["PollBatchSize"]),
            max_wait_seconds=float(defaults["RateLimitMaxWaitSeconds"]),
            batching_window_seconds=float(defaults["PollBatchingWindowSeconds"]),
            function_timeout_seconds=float(defaults["PollerTimeoutSeconds"]),
        )

    def with_changes(self, **changes: Any) -> Knobs:
        """A copy with some knobs changed."""
        return Knobs(**{**asdict(self), **changes})

    @property
    def label(self) -> str:
        """Short human description."""
        return (
            f"ceiling {self.ceiling:g}/s, {self.concurrency} instances, batch {self.batch_size}, "
            f"max wait {self.max_wait_seconds:g} s"
        )

    def poller_environment(self) -> dict[str, str]:
        """The poller's environment overrides for these knobs."""
        return {
            "ZEGO_RATE_LIMIT_PER_SECOND": f"{self.ceiling:g}",
            "RATE_LIMIT_MAX_WAIT_SECONDS": f"{self.max_wait_seconds:g}",
            **BACKLOG_POLLING,
        }


@dataclass(frozen=True)
class Durations:
    """How long one run lasts (both bounded)."""

    warmup_seconds: float
    measure_seconds: float


# --- instrumentation -------------------------------------------------------------------------------


@dataclass
class Instrument:
    """Records, per ZEGO call, how late it left after its reserved slot; limiter waits and saturations."""

    slot_to_call_ms: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    saturated: int = 0
    reserved: int = 0
    """Slots the limiter reserved (a slot left too late is given up and another reserved)."""
    rates: list[tuple[float, float]] = field(default_factory=list)
    """(monotonic time, the fleet's pace as the limiter reported it)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)
    recording: bool = False

    def attach(self, namespace: MutableMapping[str, Any]) -> None:
        """Wrap the limiter and describer of the runtime the handler module builds at its first call."""
        build: Callable[[Mapping[str, str]], PollerRuntime] = namespace["build_runtime"]
        instrument = self

        def build_instrumented(environ: Mapping[str, str]) -> PollerRuntime:
            runtime = build(environ)
            instrument.count_reservations(runtime.service.limiter)
            runtime.service.limiter = _TimedLimiter(runtime.service.limiter, instrument)
            runtime.service.describer = _TimedDescriber(runtime.service.describer, instrument)
            return runtime

        namespace["build_runtime"] = build_instrumented

    def count_reservations(self, limiter: object) -> None:
        """Count the slots the real limiter reserves (its one reservation step), to tell how many it gave
        up because the caller woke too late to leave within the departure tolerance."""
        reserve: Callable[[Any, int], int | None] | None = getattr(limiter, "_reserve", None)
        if reserve is None:
            return
        instrument = self

        def counted(seen: Any, now: int) -> int | None:
            slot = reserve(seen, now)
            if slot is not None and slot >= 0 and instrument.recording:
                with instrument.lock:
                    instrument.reserved += 1
            return slot

        setattr(limiter, "_reserve", counted)  # noqa: B010 - an instance attribute over a private method

    def snapshot(self) -> dict[str, Any]:
        """The recorded figures."""
        with self.lock:
            return {
                "slot_to_call_ms": summary(self.slot_to_call_ms, digits=1),
                "limiter_wait_seconds": summary(self.waits),
                "limiter_saturated": self.saturated,
                "limiter_slots_reserved": self.reserved,
                "limiter_slots_given_up": max(0, self.reserved - len(self.waits)),
            }


class _TimedLimiter:
    def __init__(self, inner: CallLimiter, instrument: Instrument) -> None:
        self._inner = inner
        self._instrument = instrument

    def postpone(self, earliest: datetime) -> datetime:
        return self._inner.postpone(earliest)

    def throttled(self) -> None:
        self._inner.throttled()

    def current_rate(self) -> float:
        rate = self._inner.current_rate()
        if self._instrument.recording:
            with self._instrument.lock:
                self._instrument.rates.append((time.monotonic(), rate))
        return rate

    def acquire(self) -> Permit | Saturated:
        permit = self._inner.acquire()
        instrument = self._instrument
        if isinstance(permit, Permit):
            instrument.local.slot_ms = permit.slot_epoch_ms
            if instrument.recording:
                with instrument.lock:
                    instrument.waits.append(permit.waited_seconds)
        elif instrument.recording:
            with instrument.lock:
                instrument.saturated += 1
        return permit


class _TimedDescriber:
    def __init__(self, inner: TaskDescriber, instrument: Instrument) -> None:
        self._inner = inner
        self._instrument = instrument

    def describe_media_task(self, task_id: str, vendor: Vendor) -> CallOutcome:
        instrument = self._instrument
        slot: int | None = getattr(instrument.local, "slot_ms", None)
        instrument.local.slot_ms = None
        if slot is not None and instrument.recording:
            late = time.time() * 1000 - slot
            with instrument.lock:
                instrument.slot_to_call_ms.append(late)
        return self._inner.describe_media_task(task_id, vendor)


# --- the handler-level harness ---------------------------------------------------------------------


@dataclass
class Counters:
    """What the harness (or the event source mapping) did, and when the handler was running."""

    invocations: int = 0
    records: int = 0
    failed: int = 0
    intervals: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) of every invocation, monotonic seconds."""
    handler_cpu_seconds: float = 0.0
    """CPU time of the invoking threads inside the handler: what Lambda bills as the function's work, without
    the harness's receivers and deleter (in AWS the event source mapping's, not billed as duration)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, records: int, failed: int, started: float, ended: float, cpu_seconds: float = 0.0) -> None:
        """Count one invocation."""
        with self.lock:
            self.invocations += 1
            self.records += records
            self.failed += failed
            self.intervals.append((started, ended))
            self.handler_cpu_seconds += cpu_seconds

    def copy(self) -> Counters:
        """A consistent snapshot."""
        with self.lock:
            return Counters(self.invocations, self.records, self.failed, list(self.intervals), self.handler_cpu_seconds)

    def busy_seconds(self, start: float, end: float) -> float:
        """Handler time inside ``[start, end)``, summed over instances (invocations clipped to it)."""
        with self.lock:
            return sum(max(0.0, min(end, stop) - max(start, begin)) for begin, stop in self.intervals)


def timed_handler(handler: Handler, counters: Counters) -> Handler:
    """``handler`` counting invocations, records, reported failures and time spent inside."""

    def invoke(event: dict[str, Any], context: Any) -> Any:
        started, cpu = time.monotonic(), time.thread_time()
        response = handler(event, context)
        failures = response.get("batchItemFailures", []) if isinstance(response, dict) else []
        counters.add(len(event["Records"]), len(failures), started, time.monotonic(), time.thread_time() - cpu)
        return response

    return invoke


class HandlerHarness:
    """``concurrency`` instances invoking the handler with batches that receiver threads fetch from the
    queue; a deleter thread deletes what succeeded. Every loop stops when :meth:`stop` is called."""

    RECEIVERS = 2

    def __init__(self, handler: Handler, queue_url: str, queue_arn: str, knobs: Knobs) -> None:
        self.counters = Counters()
        self._handler = timed_handler(handler, self.counters)
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._knobs = knobs
        self._stop = threading.Event()
        self._batches: queue.Queue[list[dict[str, Any]]] = queue.Queue(maxsize=knobs.concurrency)
        self._done: queue.Queue[list[dict[str, Any]]] = queue.Queue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start receivers, instances and the deleter."""
        targets: list[Callable[[], None]] = [self._receive] * self.RECEIVERS
        targets += [self._instance] * self._knobs.concurrency
        targets.append(self._delete)
        for index, target in enumerate(targets):
            thread = threading.Thread(target=target, name=f"bench-harness-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop every loop; an invocation in progress finishes first (bounded by the join timeout)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def _receive(self) -> None:
        sqs = boto3.session.Session().client("sqs")
        while not self._stop.is_set():
            messages = sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=self._knobs.batch_size,
                WaitTimeSeconds=1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            while messages and not self._stop.is_set():
                try:
                    self._batches.put([dict(m) for m in messages], timeout=0.2)
                    break
                except queue.Full:
                    continue

    def _instance(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._batches.get(timeout=0.2)
            except queue.Empty:
                continue
            event = {"Records": [sqs_event_record(m, self._queue_arn, LOCAL_REGION) for m in batch]}
            context = LocalLambdaContext(
                function_name="PollerFunction", timeout_seconds=self._knobs.function_timeout_seconds
            )
            response = self._handler(event, context)
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            self._done.put([m for m in batch if m["MessageId"] not in failed])

    def _delete(self) -> None:
        sqs = boto3.session.Session().client("sqs")
        while not (self._stop.is_set() and self._done.empty()):
            try:
                done = self._done.get(timeout=0.2)
            except queue.Empty:
                continue
            for start in range(0, len(done), 10):
                chunk = done[start : start + 10]
                sqs.delete_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
                )


def _task_id(number: int) -> str:
    return f"{TASK_PREFIX}{number:05d}"


def seed_backlog(queue_url: str, tasks: int) -> None:
    """``tasks`` pipeline messages ``{"TaskId", "Vendor"}``, as a pipeline sends them."""
    sqs = boto3.session.Session().client("sqs")
    for start in range(0, tasks, 10):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {
                    "Id": str(n),
                    "MessageBody": json.dumps({"TaskId": f"{TASK_PREFIX}{start + n:05d}", "Vendor": "Tencent"}),
                }
                for n in range(min(10, tasks - start))
            ],
        )


# --- one run -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """The measured window: its start/end marks, the counters copied and the CPU read at them, and what
    measured it (the run's durations, live counters and instrument)."""

    durations: Durations
    counters: Counters
    instrument: Instrument
    start: float
    end: float
    marks: tuple[Counters, Counters]
    cpu: dict[str, tuple[float, float]]


def _measure(
    durations: Durations,
    counters: Counters,
    instrument: Instrument,
    cpu_sources: Mapping[str, Callable[[], float]],
) -> _Window:
    """Sleep through the warm-up, then through the measured window, marking both ends."""
    time.sleep(durations.warmup_seconds)
    before = {name: read() for name, read in cpu_sources.items()}
    first = counters.copy()
    instrument.recording = True
    start = time.monotonic()
    time.sleep(durations.measure_seconds)
    end = time.monotonic()
    instrument.recording = False
    after = {name: read() for name, read in cpu_sources.items()}
    marks = (first, counters.copy())
    cpu = {name: (before[name], after[name]) for name in cpu_sources}
    return _Window(durations, counters, instrument, start, end, marks, cpu)


def _result(*, level: str, knobs: Knobs, tasks: int, calls: list[Call], window: _Window) -> dict[str, Any]:
    counters, durations, instrument = window.counters, window.durations, window.instrument
    stats = window_stats(calls, window.start, window.end)
    first, last = window.marks
    seconds = window.end - window.start
    records = last.records - first.records
    invocations = last.invocations - first.invocations
    zego = stats.as_dict(knobs.ceiling, ZEGO_LIMIT_PER_SECOND)
    cpu = {name: round((after - before) / seconds, 3) for name, (before, after) in window.cpu.items()}
    result: dict[str, Any] = {
        "level": level,
        "knobs": asdict(knobs),
        "label": knobs.label,
        "backlog_tasks": tasks,
        "warmup_seconds": durations.warmup_seconds,
        "measure_seconds": durations.measure_seconds,
        "zego": zego,
        "records_processed": records,
        "invocations": invocations,
        "records_per_invocation": round(records / invocations, 2) if invocations else 0.0,
        "record_failures": last.failed - first.failed,
        "handler_busy_fraction": round(
            counters.busy_seconds(window.start, window.end) / (seconds * knobs.concurrency), 3
        ),
        "cpu_cores_used": cpu,
        "bench_process_cpu_ms_per_record": (
            round(1000 * (window.cpu["bench process"][1] - window.cpu["bench process"][0]) / records, 2)
            if records
            else None
        ),
        "handler_cpu_ms_per_record": (
            round(1000 * (last.handler_cpu_seconds - first.handler_cpu_seconds) / records, 2) if records else None
        ),
        **instrument.snapshot(),
        "pace_per_second": _pace_per_second(instrument, window.start, window.end),
    }
    result["targets"] = {
        "fraction_of_ceiling_at_least_95pct": zego["admitted_fraction_of_ceiling"] >= TARGET_FRACTION,
        "no_second_above_20": zego["busiest_second_all_calls"] <= ZEGO_LIMIT_PER_SECOND,
        "code_6_below_0_5pct": zego["code_6_share"] < TARGET_CODE_6_SHARE,
    }
    result["targets"]["all_met"] = all(result["targets"].values())
    return result


def _pace_per_second(instrument: Instrument, start: float, end: float) -> list[float | None]:
    """The fleet's pace as the limiter reported it, averaged per second of the window (None: no sample)."""
    buckets: list[list[float]] = [[] for _ in range(math.ceil(end - start))]
    with instrument.lock:
        for moment, rate in instrument.rates:
            if start <= moment < end:
                buckets[int(moment - start)].append(rate)
    return [round(sum(b) / len(b), 3) if b else None for b in buckets]


def _read_call_log(path: Path) -> list[Call]:
    calls = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                calls.append(Call(float(record["monotonic"]), record.get("code")))
    return calls


def _process_cpu() -> float:
    return time.process_time()


def run_handler_level(
    knobs: Knobs,
    durations: Durations,
    *,
    tasks: int,
    workdir: Path,
    latency_seconds: float = SIMULATOR_LATENCY_SECONDS,
    zego_admits: int = ZEGO_LIMIT_PER_SECOND,
) -> dict[str, Any]:
    """The poller handler driven directly, moto and the simulator in helper processes."""
    secret = secrets.token_hex(16)
    scenario_path = workdir / "scenario.json"
    scenario_path.write_text(json.dumps(SCENARIO), encoding="utf-8")
    call_log = workdir / f"calls-{time.monotonic_ns()}.jsonl"
    zego_port = free_port()
    zego_args = [
        "zego",
        f"--port={zego_port}",
        f"--scenario={scenario_path}",
        f"--app-id={APP_ID}",
        f"--call-log={call_log}",
        f"--latency-seconds={latency_seconds}",
        f"--latency-spread-seconds={SIMULATOR_LATENCY_SPREAD_SECONDS}",
        f"--rate-limit={zego_admits}",
    ]
    instrument = Instrument()
    with (
        AwsEmulatorProcess(fixes=BENCHMARK_FIXES) as moto,
        helper(zego_args, env={SECRET_ENV: secret}) as zego,
        patched_environment(moto.environment()),
    ):
        boto3.DEFAULT_SESSION = None  # the handler's clients must see this run's endpoint
        stack = provision(prefix="bench")
        environment = {
            "TABLE_NAME": stack.table_names["TasksTable"],
            "RATE_LIMIT_TABLE_NAME": stack.table_names["RateLimitTable"],
            "QUEUE_URL": stack.queue_urls["PollQueue"],
            "DLQ_URL": stack.queue_urls["PollDeadLetterQueue"],
            "ZEGO_ENDPOINT": f"http://127.0.0.1:{zego_port}",
            "ZEGO_APP_ID": str(APP_ID),
            "ZEGO_SERVER_SECRET": secret,
            "POWERTOOLS_SERVICE_NAME": "zego-media-tasks",
            "POWERTOOLS_METRICS_NAMESPACE": "ZegoMediaTasks/Bench",
            "POWERTOOLS_TRACE_DISABLED": "true",
            **knobs.poller_environment(),
        }
        with patched_environment(environment), quiet_stdout():
            module = load_function_module("poller", f"bench_poller_{time.monotonic_ns()}")
            instrument.attach(vars(module))
            seed_backlog(stack.queue_urls["PollQueue"], tasks)
            harness = HandlerHarness(
                module.lambda_handler, stack.queue_urls["PollQueue"], stack.queue_arns["PollQueue"], knobs
            )
            harness.start()
            try:
                window = _measure(
                    durations,
                    harness.counters,
                    instrument,
                    {
                        "bench process": _process_cpu,
                        "moto": lambda: process_cpu_seconds(moto.pid),
                        "simulator": zego.cpu_seconds,
                    },
                )
            finally:
                harness.stop()
    result = _result(level="handler", knobs=knobs, tasks=tasks, calls=_read_call_log(call_log), window=window)
    if latency_seconds != SIMULATOR_LATENCY_SECONDS:
        result["simulator_latency_seconds"] = latency_seconds  # a what-if, not the benchmark's setting
    return result


def run_stack_level(knobs: Knobs, durations: Durations, *, tasks: int) -> dict[str, Any]:
    """The whole local stack, in this process."""
    boto3.DEFAULT_SESSION = None
    options = StackOptions(
        scenario=Scenario.from_dict(SCENARIO),
        faults=FaultSettings(
            latency_seconds=SIMULATOR_LATENCY_SECONDS, latency_spread_seconds=SIMULATOR_LATENCY_SPREAD_SECONDS
        ),
        simulator_rate_limit=ZEGO_LIMIT_PER_SECOND,
        poller_environment={"POWERTOOLS_METRICS_NAMESPACE": "ZegoMediaTasks/Bench", **knobs.poller_environment()},
        event_source=EventSourceSettings(
            batch_size=knobs.batch_size,
            batching_window_seconds=knobs.batching_window_seconds,
            maximum_concurrency=knobs.concurrency,
            function_timeout_seconds=knobs.function_timeout_seconds,
        ),
    )
    instrument = Instrument()
    counters = Counters()

    def instrumented(handler: Handler) -> Handler:
        # Reach the handler module (under Powertools' decorators) to instrument its runtime before the
        # first invocation, and time each invocation.
        instrument.attach(inspect.unwrap(handler).__globals__)
        return timed_handler(handler, counters)

    # make run's own emulator: moto with both fixes in a process of its own (devstack.emulator.local_twin).
    stack = LocalStack(options, emulator=local_twin(), wrap_poller=instrumented)
    with quiet_stdout(), stack:
        simulator, resources = stack.simulator, stack.resources
        if simulator is None or resources is None:  # pragma: no cover - set by start()
            raise RuntimeError("local stack did not start")
        seed_backlog(resources.queue_urls["PollQueue"], tasks)
        window = _measure(durations, counters, instrument, {"bench process": _process_cpu})
        calls = [Call(record.monotonic, record.code) for record in simulator.call_log.records()]
    return _result(level="stack", knobs=knobs, tasks=tasks, calls=calls, window=window)


def _rank(result: Mapping[str, Any]) -> tuple[int, float]:
    targets = result["targets"]
    met = sum(1 for name, value in targets.items() if name != "all_met" and value)
    return met, float(result["zego"]["admitted_per_second"])


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="zego-bench-") as name:
        yield Path(name)


ZEGO_ADMITS_WHEN_SHARED = 15
"""The adaptation scenario: another system uses a quarter of the AppId's 20/s."""
ADAPTATION_TARGET = 0.9
ADAPTATION_WITHIN_SECONDS = 60


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run whose Code-0 rate is the median of ``runs``, with the median of each headline figure."""
    ordered = sorted(runs, key=lambda run: float(run["zego"]["admitted_per_second"]))
    middle = dict(ordered[len(ordered) // 2])
    figures = ("admitted_fraction_of_ceiling", "busiest_second_all_calls", "code_6_share", "admitted_per_second")
    middle["median_of_runs"] = {
        "runs": len(runs),
        **{name: sorted(run["zego"][name] for run in runs)[len(runs) // 2] for name in figures},
        "each": [{name: run["zego"][name] for name in figures} for run in runs],
    }
    return middle


def adaptation(run: Mapping[str, Any], admits: int) -> dict[str, Any]:
    """How fast the fleet settles on what ZEGO admits: the first second from which the 10-second average of
    Code-0 answers stays at or above the target share, and the Code-6 share overall."""
    zego = run["zego"]
    admitted = [total - six for total, six in zip(zego["per_second"], zego["per_second_code_6"], strict=True)]
    averages = [
        sum(admitted[max(0, i - 9) : i + 1]) / len(admitted[max(0, i - 9) : i + 1]) for i in range(len(admitted))
    ]
    target = ADAPTATION_TARGET * admits
    settled = next((i for i in range(len(averages)) if i >= 9 and all(a >= target for a in averages[i:])), None)
    return {
        "zego_admits_per_second": admits,
        "configured_ceiling": run["knobs"]["ceiling"],
        "seconds_to_90pct": settled,
        "within_60s": settled is not None and settled <= ADAPTATION_WITHIN_SECONDS,
        "code_6_share": zego["code_6_share"],
        "admitted_per_second": zego["admitted_per_second"],
        "admitted_fraction_of_admits": round(zego["admitted_per_second"] / admits, 4),
        "per_second_code_0": admitted,
        "per_second_code_6": zego["per_second_code_6"],
        "pace_per_second": run.get("pace_per_second", []),
    }


def run(
    *,
    tasks: int = 2000,
    stack_tasks: int = 1500,
    main: Durations,
    sweep: Durations,
    sweep_knobs: list[dict[str, Any]],
    repeats: int = 3,
    adaptation_durations: Durations | None = None,
) -> dict[str, Any]:
    """The default configuration at handler level (``repeats`` runs, the median reported), a sweep of knobs
    (an entry may also set the simulator's ``latency_seconds``: a what-if), the adaptation to a ZEGO that
    admits 15/s, then the default configuration through make run's stack (``repeats`` runs)."""
    default = Knobs.from_template()
    results: dict[str, Any] = {
        "default_knobs": asdict(default),
        "simulator_latency_seconds": SIMULATOR_LATENCY_SECONDS,
        "simulator_latency_spread_seconds": SIMULATOR_LATENCY_SPREAD_SECONDS,
        "backlog_polling": BACKLOG_POLLING,
    }
    with _workdir() as workdir:
        handler_runs = []
        for attempt in range(repeats):
            progress(f"rate limit: handler level, defaults ({default.label}), run {attempt + 1}/{repeats}")
            handler_runs.append(run_handler_level(default, main, tasks=tasks, workdir=workdir))
        results["handler_default"] = median_of(handler_runs)
        sweep_results = []
        for entry in sweep_knobs:
            changes = dict(entry)
            latency = float(changes.pop("latency_seconds", SIMULATOR_LATENCY_SECONDS))
            knobs = default.with_changes(**changes)
            what_if = f", ZEGO latency {1000 * latency:.0f} ms" if latency != SIMULATOR_LATENCY_SECONDS else ""
            progress(f"rate limit: handler level, {knobs.label}{what_if}")
            sweep_results.append(run_handler_level(knobs, sweep, tasks=tasks, workdir=workdir, latency_seconds=latency))
        progress(f"rate limit: adaptation, ZEGO admits {ZEGO_ADMITS_WHEN_SHARED}/s, configured {default.ceiling:g}/s")
        shared = run_handler_level(
            default,
            adaptation_durations or Durations(warmup_seconds=0.5, measure_seconds=90),
            tasks=tasks,
            workdir=workdir,
            zego_admits=ZEGO_ADMITS_WHEN_SHARED,
        )
        results["adaptation"] = adaptation(shared, ZEGO_ADMITS_WHEN_SHARED)
    results["handler_sweep"] = sweep_results
    stack_runs = []
    for attempt in range(repeats):
        progress(f"rate limit: make run's stack, {stack_tasks:,} tasks, defaults, run {attempt + 1}/{repeats}")
        stack_runs.append(run_stack_level(default, main, tasks=stack_tasks))
    results["stack_default"] = median_of(stack_runs)
    return results
