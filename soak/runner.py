"""One soak run: start the instrumented local stack, register every task, wait, drain, collect, judge."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any

import boto3
import requests

from devstack.emulator import AwsEmulatorProcess, MotoFixes
from devstack.event_source import EventSourceSettings, MappingStats
from devstack.stack import LocalStack, StackOptions
from devstack.zego_simulator import CallbackFaultSettings, CallbackRecord, CallRecord, CallStats
from soak import analysis
from soak.analysis import Criterion, ExpectedTask
from soak.config import SoakConfig
from soak.instruments import (
    DeliveredEvent,
    EventClock,
    Recorder,
    StreamWrite,
    dump_json,
    enable_stream,
    installed,
    read_stream,
)
from soak.scenario import (
    APPEARS_LATE,
    DEADLINE_KINDS,
    MALFORMED_READABLE,
    Channel,
    SoakPlan,
    SoakTask,
    build_plan,
    malformed_body,
)
from zego_media_tasks.domain.messages import MalformedMessageError, parse_poll_request
from zego_media_tasks.domain.status import TERMINAL_STATUSES, TaskStatus

TERMINAL = frozenset(status.value for status in TERMINAL_STATUSES)
PROGRESS_SECONDS = 5.0
REGISTRATION_RETRIES = 5
"""How often the registrar tries a registration again after a 503 (each after its ``Retry-After``)."""
Progress = Callable[[str], None]


@dataclass
class SoakResult:
    """Everything a report needs: the criteria, the counts, and how long it took."""

    config: SoakConfig
    criteria: list[Criterion]
    counts: dict[str, Any]
    started_at: str
    duration_seconds: float
    machine: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every criterion passed."""
        return all(criterion.passed for criterion in self.criteria)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        config = asdict(self.config)
        config["faults"] = asdict(self.config.faults)
        config["callback_faults"] = asdict(self.config.callback_faults)
        return {
            "passed": self.passed,
            "started_at": self.started_at,
            "duration_seconds": round(self.duration_seconds, 1),
            "machine": self.machine,
            "config": config,
            "criteria": [asdict(criterion) for criterion in self.criteria],
            "counts": self.counts,
        }


@contextlib.contextmanager
def _stdout_to(log: IO[str]) -> Iterator[None]:
    """Send stdout (the handlers' JSON log lines and metrics) and Python logging to ``log``."""
    saved = sys.stdout
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    sys.stdout = log
    try:
        yield
    finally:
        sys.stdout = saved
        root.removeHandler(handler)


def _queue_depth(sqs: Any, url: str) -> dict[str, int]:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return {
        "visible": int(attributes.get(names[0], 0)),
        "in_flight": int(attributes.get(names[1], 0)),
        "delayed": int(attributes.get(names[2], 0)),
    }


def _final_states_over_api(stack: LocalStack) -> dict[tuple[str, str], dict[str, Any]]:
    """Every record, read as a client would: ``GET /tasks?status=`` for every status, page by page."""
    session = stack._http  # the stack's own session (keep-alive to the local gateway)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for status in TaskStatus:
        token: str | None = None
        for _ in range(1_000):
            params = {"status": status.value, "limit": "100", **({"nextToken": token} if token else {})}
            response = session.get(f"{stack.api_url}/tasks", params=params, timeout=30)
            response.raise_for_status()
            body = response.json()
            for task in body["tasks"]:
                found[(task["taskId"], task["vendor"])] = task
            token = body.get("nextToken")
            if not token:
                break
    return found


def _drain_queue(sqs: Any, url: str, *, attributes: bool) -> list[tuple[str, str | None]]:
    """Receive (and hide) every visible message: (body, ErrorReason)."""
    found: list[tuple[str, str | None]] = []
    for _ in range(200):
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=600,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"] if attributes else [],
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            reason = message.get("MessageAttributes", {}).get("ErrorReason", {}).get("StringValue")
            found.append((message["Body"], reason))
    return found


def _expected_dead_letters(plan: SoakPlan) -> dict[str, str]:
    bodies = [malformed_body(task) for task in plan.tasks if task.kind == MALFORMED_READABLE]
    expected: dict[str, str] = {}
    for body in [*bodies, *plan.unreadable_bodies]:
        try:
            parse_poll_request(body)
        except MalformedMessageError as error:
            expected[body] = error.reason.value
        else:  # pragma: no cover - the plan's bodies are malformed by construction
            raise ValueError(f"planned malformed body parses: {body}")
    return expected


class _Registrar(threading.Thread):
    """Registers the plan's tasks at a steady rate (API, pipeline message, or broken message)."""

    def __init__(self, stack: LocalStack, recorder: Recorder, plan: SoakPlan, rate: float) -> None:
        super().__init__(name="soak-registrar", daemon=True)
        self.stack, self.recorder, self.plan, self.rate = stack, recorder, plan, rate
        self.registered = 0
        self.errors: list[str] = []
        self.retried = 0
        """Registrations answered 503 (the API's answer when DynamoDB or SQS failed it) and tried again."""
        self.stop_requested = threading.Event()

    def _register(self, task: SoakTask) -> requests.Response:
        """``POST /tasks`` as a client that honours 503 and ``Retry-After`` (a few times) does."""
        kind = task.registered_kind.value if task.registered_kind else None
        response = self.stack.register(task.task_id, task.vendor.value, kind)
        for _ in range(REGISTRATION_RETRIES):
            if response.status_code != HTTPStatus.SERVICE_UNAVAILABLE:
                break
            self.retried += 1
            time.sleep(float(response.headers.get("Retry-After", "1")))
            response = self.stack.register(task.task_id, task.vendor.value, kind)
        return response

    def run(self) -> None:
        sqs = boto3.client("sqs")
        url = self.stack.provisioned().queue_urls["PollQueue"]
        unreadable = list(self.plan.unreadable_bodies)
        spread = max(1, len(self.plan.tasks) // (len(unreadable) + 1))
        started = time.monotonic()
        for index, task in enumerate(self.plan.tasks):
            if self.stop_requested.is_set():
                return
            # Pace against the clock, so slow calls do not lower the rate.
            wait = started + index / self.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                if task.scripted_at_registration and task.spec is not None and self.stack.simulator is not None:
                    # Its timeline (and its callback) starts now, as the ZEGO task a pipeline just started.
                    self.stack.simulator.add_task(task.spec)
                if task.channel is Channel.API:
                    retries_before = self.retried
                    response = self._register(task)
                    # 200: its callback came first and created the record (possible for a task just scripted),
                    # or a try answered 503 had sent its first poll message, which a poll turned into a record.
                    retried = self.retried > retries_before
                    accepted = {202, 200} if task.scripted_at_registration or retried else {202}
                    if response.status_code not in accepted:
                        self.errors.append(f"POST /tasks {task.task_id}: HTTP {response.status_code}")
                elif task.channel is Channel.PIPELINE:
                    self.recorder.send_pipeline(sqs, url, task.pipeline_body())
                else:
                    self.recorder.send_pipeline(sqs, url, malformed_body(task), origin="malformed", duplicate=False)
            except Exception as error:  # a failed registration is a finding; keep registering the rest
                self.errors.append(f"{task.task_id}: {type(error).__name__}: {error}")
            self.registered += 1
            if unreadable and index % spread == spread - 1:
                self.recorder.send_pipeline(sqs, url, unreadable.pop(), origin="malformed", duplicate=False)
        for body in unreadable:
            self.recorder.send_pipeline(sqs, url, body, origin="malformed", duplicate=False)


@dataclass
class Collected:
    """What the run left behind, read once everything had stopped moving."""

    final: dict[tuple[str, str], str]
    completed_by: dict[tuple[str, str], str | None]
    stream: list[StreamWrite]
    leftovers: list[str]
    dead_letters: list[tuple[str, str | None]]
    call_stats: CallStats | None
    esm_stats: MappingStats | None
    left_after_drain: dict[str, int]
    registration_errors: list[str]
    run_seconds: float
    drain_seconds: float
    callback_tries: list[CallbackRecord] = field(default_factory=list)
    """The simulator's callback log: every try, or callback not sent."""
    callbacks_settled: bool = True
    delivered: list[DeliveredEvent] = field(default_factory=list)
    events_settled: bool = True
    lost: dict[str, float] = field(default_factory=dict)
    """Poll messages deleted before delivery, with the moment (monotonic)."""
    watchdog_runs: int = 0
    call_records: list[CallRecord] = field(default_factory=list)
    """The simulator's DescribeMediaTask call log."""
    answered_tasks: set[tuple[str, str]] = field(default_factory=set)
    """Tasks the simulator answered at least one query for with Code 0 (their timeline started)."""
    secret_rotated: bool = False
    aws_faults: dict[str, Any] = field(default_factory=dict)
    """The emulator's AWS fault counts (:meth:`devstack.aws_faults.AwsFaultInjector.stats`)."""
    registrations_retried: int = 0


def _progress_line(
    stack: LocalStack, registrar: _Registrar, terminal: int, elapsed: float, depth: dict[str, int]
) -> str:
    calls = len(stack.simulator.call_log) if stack.simulator else 0
    callbacks = len(stack.simulator.callback_log) if stack.simulator and stack.simulator.callbacks else 0
    events = stack.delivered_events.count if stack.delivered_events else 0
    esm = stack.event_source.stats if stack.event_source else None
    return (
        f"  {elapsed:6.1f} s  registered {registrar.registered:4d}/{len(registrar.plan.tasks)}  "
        f"terminal {terminal:4d}  ZEGO calls {calls:5d}  callback tries {callbacks:4d}  events {events:5d}  "
        f"queue {depth}  invocations {esm.invocations if esm else 0} (crashed {esm.crashes_injected if esm else 0})"
    )


def _wait_until_terminal(
    stack: LocalStack,
    registrar: _Registrar,
    recorder: Recorder,
    config: SoakConfig,
    *,
    started: float,
    progress: Progress,
) -> None:
    """Until every task is terminal (bounded by ``max_run_seconds``), with a progress line now and then."""
    sqs = boto3.client("sqs")
    keys = {task.key for task in registrar.plan.tasks}
    last_progress = 0.0
    while time.monotonic() < started + config.max_run_seconds:
        time.sleep(1.0)
        terminal = len(keys & recorder.terminal)
        now = time.monotonic()
        if now - last_progress >= PROGRESS_SECONDS:
            last_progress = now
            depth = _queue_depth(sqs, stack.provisioned().queue_urls["PollQueue"])
            progress(_progress_line(stack, registrar, terminal, now - started, depth))
        if not registrar.is_alive() and terminal == len(keys):
            return


def _drain(stack: LocalStack, config: SoakConfig) -> dict[str, int]:
    """Let the poller drop what is left (stale copies, batches of crashed invocations coming back after
    the visibility timeout) until the queue is empty, bounded by ``drain_seconds``. Crashes stop first:
    one now would hide its batch for another visibility timeout."""
    stack.stop_crashing()
    sqs = boto3.client("sqs")
    url = stack.provisioned().queue_urls["PollQueue"]
    depth = _queue_depth(sqs, url)
    empty_reads = 0
    deadline = time.monotonic() + config.drain_seconds
    while time.monotonic() < deadline:
        depth = _queue_depth(sqs, url)
        empty_reads = empty_reads + 1 if sum(depth.values()) == 0 else 0
        if empty_reads >= 2:
            break
        time.sleep(1.0)
    return depth


def _run(
    config: SoakConfig, plan: SoakPlan, recorder: Recorder, *, out_dir: Path, progress: Progress, started: float
) -> Collected:
    """Start the stack, register, wait, drain, and read back everything the checks need."""
    overrides = config.parameter_overrides()
    options = StackOptions(
        scenario=plan.scenario,
        time_scale=config.time_scale,
        faults=config.faults,
        simulator_seed=config.seed,
        poller_environment=config.poller_environment(),
        parameter_overrides=overrides,
        event_source=EventSourceSettings.from_template(parameter_overrides=overrides),
        crash_rate=config.crash_rate,
        loss_rate=config.deleted_rate,
        watchdog_interval_seconds=config.watchdog_interval_seconds,
        server_secret_in_secrets_manager=config.secret_rotation_at_seconds is not None,
        seed=config.seed + 2,
        simulator_callbacks=config.callbacks,
        # The plan scripts every callback's fate; the simulator's random rates stay at zero.
        callback_faults=CallbackFaultSettings(delay_seconds=config.callback_faults.delay_seconds),
    )
    # moto in a process of its own: with every handler, the simulator and the event source in this
    # interpreter, one core (the GIL) would cap the soak at about a dozen poll messages per second. Its
    # DynamoDB writes are serialized, as DynamoDB's to one item are: the generation fence relies on it.
    # Its AWS faults' windows count from the soak's start, in the wall clock it shares with this process.
    origin = time.time() - (time.monotonic() - started)
    fixes = MotoFixes(atomic_writes=True, aws_faults=config.aws_faults(origin))
    emulator = AwsEmulatorProcess(fixes=fixes, log_path=out_dir / "moto.log")
    stack = LocalStack(options, emulator=emulator, wrap_poller=recorder.wrap_poller)
    with (
        open(out_dir / "poller.log", "w", encoding="utf-8") as log,
        _stdout_to(log),
        installed(recorder),
        stack,
    ):
        resources = stack.provisioned()
        stream_arn = enable_stream(resources.table_names["TasksTable"])
        event_clock = EventClock(stack.delivered_events) if stack.delivered_events is not None else None
        if event_clock is not None:
            event_clock.start()
        progress(f"soak: stack up in {time.monotonic() - started:.1f} s (API {stack.api_url})")
        registrar = _Registrar(stack, recorder, plan, config.registration_rate)
        registrar.start()
        losses = threading.Timer(config.loss_window_seconds, _stop_losing, (stack, recorder))
        losses.daemon = True
        losses.start()
        rotated = threading.Event()
        if config.secret_rotation_at_seconds is not None:
            rotation = threading.Timer(config.secret_rotation_at_seconds, _rotate_secret, (stack, rotated, progress))
            rotation.daemon = True
            rotation.start()
        _wait_until_terminal(stack, registrar, recorder, config, started=started, progress=progress)
        registrar.stop_requested.set()
        run_seconds = time.monotonic() - started
        terminal = len({task.key for task in plan.tasks} & recorder.terminal)
        progress(f"soak: {terminal}/{len(plan.tasks)} terminal after {run_seconds:.1f} s; draining the queue")
        depth = _drain(stack, config)
        drain_seconds = time.monotonic() - started - run_seconds
        unstarted = _lost_tasks(recorder, dict(stack.event_source.lost) if stack.event_source else {})
        callbacks_settled = _settle_callbacks(stack, plan, config, unstarted - _answered_tasks(stack))
        # The last writes' events are a stream read, a batching window and a queue read behind.
        events_settled = stack.wait_for_events(timeout=config.events_settle_seconds)
        delivered = event_clock.stop() if event_clock is not None else []
        aws_faults = emulator.fault_stats()
        esm_stats = stack.event_source.stats if stack.event_source else None
        lost = dict(stack.event_source.lost) if stack.event_source else {}
        watchdog_runs = stack.watchdog.invocations if stack.watchdog else 0
        if stack.event_source is not None:
            stack.event_source.stop()
        sqs = boto3.client("sqs")
        queue_url = resources.queue_urls["PollQueue"]
        depth = _queue_depth(sqs, queue_url)
        leftovers = [body for body, _ in _drain_queue(sqs, queue_url, attributes=False)]
        leftovers += ["<in flight>"] * depth["in_flight"] + ["<delayed>"] * depth["delayed"]
        records = _final_states_over_api(stack)
        collected = Collected(
            final={key: str(record["status"]) for key, record in records.items()},
            completed_by={key: record.get("completedBy") for key, record in records.items()},
            stream=read_stream(stream_arn),
            leftovers=leftovers,
            dead_letters=_drain_queue(sqs, resources.queue_urls["PollDeadLetterQueue"], attributes=True),
            call_stats=stack.simulator.call_log.stats() if stack.simulator else None,
            esm_stats=esm_stats,
            left_after_drain=depth,
            registration_errors=registrar.errors,
            run_seconds=run_seconds,
            drain_seconds=drain_seconds,
            callback_tries=stack.simulator.callback_log.records() if stack.simulator else [],
            callbacks_settled=callbacks_settled,
            delivered=delivered,
            events_settled=events_settled,
            lost=lost,
            watchdog_runs=watchdog_runs,
            secret_rotated=rotated.is_set(),
            aws_faults=aws_faults,
            registrations_retried=registrar.retried,
            answered_tasks=_answered_tasks(stack),
            call_records=stack.simulator.call_log.records() if stack.simulator else [],
        )
    progress(
        f"soak: drained in {drain_seconds:.1f} s; collected {len(collected.stream)} table writes, "
        f"{len(collected.callback_tries)} callback tries, {len(collected.delivered)} delivered events"
    )
    return collected


def _rotate_secret(stack: LocalStack, rotated: threading.Event, progress: Progress) -> None:
    stack.rotate_server_secret(secrets.token_hex(16))
    rotated.set()
    progress("soak: ServerSecret rotated (Secrets Manager, then ZEGO)")


def _stop_losing(stack: LocalStack, recorder: Recorder) -> None:
    """The end of the loss window: no more deleted messages or dropped sends."""
    if stack.event_source is not None:
        stack.event_source.stop_losing()
    recorder.stop_dropping()


def _lost_tasks(recorder: Recorder, deleted: Mapping[str, float]) -> set[tuple[str, str]]:
    """The tasks whose chain lost a message: deleted before delivery (``deleted``: by message id), or a send
    dropped."""
    by_id = {s.message_id: s for s in recorder.sent}
    lost = {by_id[mid] for mid in deleted if mid in by_id} | set(recorder.dropped)
    return {(s.task_id, s.vendor) for s in lost if s.task_id and s.vendor}


def _answered_past_grace(
    plan: SoakPlan, recorder: Recorder, collected: Collected, grace_seconds: float
) -> set[tuple[str, str]]:
    """The Huawei tasks that appear late whose first scripted answer (a Code, no fault) came more than the
    NO_TASK grace after their first message: ZEGO answered nothing for them before (faults, rate limit)."""
    late = {task.key for task in plan.tasks if task.kind == APPEARS_LATE}
    first_sent: dict[tuple[str, str], float] = {}
    for sent in recorder.sent:
        if sent.task_id and sent.vendor and (sent.task_id, sent.vendor) in late:
            key = (sent.task_id, sent.vendor)
            first_sent[key] = min(sent.at, first_sent.get(key, sent.at))
    first_answer: dict[tuple[str, str], float] = {}
    for record in collected.call_records:
        key = (record.task_id or "", record.vendor or "")
        if key in late and record.code is not None and record.fault is None:
            first_answer[key] = min(record.monotonic, first_answer.get(key, record.monotonic))
    return {key for key, at in first_answer.items() if key in first_sent and at - first_sent[key] > grace_seconds}


def _answered_tasks(stack: LocalStack) -> set[tuple[str, str]]:
    """Tasks the simulator answered at least one query for with Code 0 (their timeline started)."""
    if stack.simulator is None:
        return set()
    return {(r.task_id, r.vendor) for r in stack.simulator.call_log.records() if r.code == 0 and r.task_id and r.vendor}


def _revived_tasks(recorder: Recorder) -> set[tuple[str, str]]:
    return {(s.task_id, s.vendor) for s in recorder.sent if s.origin == "watchdog" and s.task_id and s.vendor}


def _settle_callbacks(
    stack: LocalStack, plan: SoakPlan, config: SoakConfig, unstarted: AbstractSet[tuple[str, str]]
) -> bool:
    """Wait until every scripted callback has ended (refused ones retry for 62 scenario seconds after
    their task ended); False if some were still under way after ``drain_seconds``. ``unstarted``: tasks whose
    chain lost a message before the simulator ever answered a query for them, so that their timeline never
    started and their callback never comes (the callback criterion expects it so); not waited for."""
    if stack.simulator is None or stack.simulator.callbacks is None:
        return True
    fates = {key: fate for key, fate in plan.callback_fates().items() if key not in unstarted}
    return stack.simulator.callback_log.wait_for(
        lambda records: analysis.callbacks_settled(fates, records), timeout=config.drain_seconds
    )


def _admitted_calls(call_stats: CallStats | None) -> int:
    """Calls that passed the simulator's own rate limit: the ones a fault is drawn for (the limiter's
    Code 6 answers come before fault injection)."""
    if call_stats is None:
        return 0
    limiter_code_6 = call_stats.codes.get(6, 0) - call_stats.faults.get("code_6", 0)
    return call_stats.total - max(0, limiter_code_6)


def _callback_faults(tries: Sequence[CallbackRecord]) -> dict[str, int]:
    """Callbacks per fault the simulator applied (each callback once: its first record)."""
    first: dict[tuple[str, str], CallbackRecord] = {}
    for entry in tries:
        first.setdefault((entry.task_id, entry.vendor), entry)
    return dict(Counter(entry.fault for entry in first.values() if entry.fault))


def _judge(config: SoakConfig, plan: SoakPlan, recorder: Recorder, collected: Collected) -> list[Criterion]:
    call_stats, esm_stats = collected.call_stats, collected.esm_stats
    duplicates = sum(1 for s in recorder.sent if s.duplicate_of is not None)
    faults, callback_faults = config.faults, config.callback_faults
    aws_settings = config.aws_faults(0.0)
    expected = [
        ExpectedTask(t.key, t.kind, t.expected.value, t.expected_source.value if t.expected_source else None)
        for t in plan.tasks
    ]
    criteria = [
        analysis.check_outcomes(
            expected,
            collected.final,
            collected.completed_by,
            lost=_lost_tasks(recorder, collected.lost),
            revived=_revived_tasks(recorder),
            answered_past_grace=_answered_past_grace(plan, recorder, collected, config.not_found_grace_seconds),
        ),
        analysis.check_write_log(collected.stream, collected.final),
        analysis.check_chains(
            recorder.sent, recorder.handled, recorder.writes, collected.stream, collected.leftovers, lost=collected.lost
        ),
        analysis.check_dead_letters(
            collected.dead_letters,
            _expected_dead_letters(plan),
            analysis.parked_bodies(recorder.sent, recorder.handled),
        ),
        analysis.check_chaos(
            zego_calls=_admitted_calls(call_stats),
            faults=call_stats.faults if call_stats else {},
            targets={
                "http_5xx": faults.http_5xx_rate,
                "hang": faults.hang_rate,
                "code_6": faults.code_6_rate,
                "code_1000": faults.code_1000_rate,
                "malformed_json": faults.malformed_json_rate,
            },
            sends=len(recorder.sent) - duplicates,
            duplicates=duplicates,
            duplicate_target=config.duplicate_rate,
            invocations=esm_stats.invocations if esm_stats else 0,
            crashes=esm_stats.crashes_injected if esm_stats else 0,
            crash_target=config.crash_rate,
            callbacks=len(plan.callback_fates()),
            callback_faults=_callback_faults(collected.callback_tries),
            callback_targets=(
                {
                    "lost": callback_faults.lost_rate,
                    "duplicate": callback_faults.duplicate_rate,
                    "delayed": callback_faults.delayed_rate,
                    "reordered": callback_faults.reordered_rate,
                    "bad_signature": callback_faults.bad_signature_rate,
                }
                if config.callbacks
                else {}
            ),
            aws_requests=collected.aws_faults.get("in_window", {}),
            aws_faults=collected.aws_faults.get("faults", {}),
            aws_targets=aws_settings.targets() if aws_settings is not None else {},
        ),
    ]
    if config.callbacks:
        criteria.append(
            analysis.check_callbacks(
                plan.callback_fates(),
                collected.callback_tries,
                recorder.callbacks,
                collected.stream,
                collected.completed_by,
                unstarted=_lost_tasks(recorder, collected.lost) - collected.answered_tasks,
            )
        )
    criteria.append(analysis.check_events(collected.stream, collected.delivered))
    return criteria


def _registration_seconds(recorder: Recorder) -> float | None:
    """From the first registration to the last (the API's and the pipelines' first messages)."""
    moments = [s.at for s in recorder.sent if s.origin != "poller" and s.duplicate_of is None]
    return round(max(moments) - min(moments), 1) if len(moments) > 1 else None


def _counts(plan: SoakPlan, recorder: Recorder, collected: Collected) -> dict[str, Any]:
    call_stats, esm = collected.call_stats, collected.esm_stats
    duplicate_ids = {s.message_id for s in recorder.sent if s.duplicate_of is not None}
    handled_ids = {h.message_id for h in recorder.handled}
    calls = call_stats.total if call_stats else 0
    return {
        "plan": plan.counts(),
        "registration_errors": collected.registration_errors[:10],
        "timing": {
            "registration_seconds": _registration_seconds(recorder),
            "until_all_terminal_seconds": round(collected.run_seconds, 1),
            "drain_seconds": round(collected.drain_seconds, 1),
        },
        "zego": {
            "calls": calls,
            "calls_per_task": round(calls / max(1, len(plan.tasks)), 2),
            "codes": call_stats.codes if call_stats else {},
            "faults": call_stats.faults if call_stats else {},
            "no_answer": call_stats.no_answer if call_stats else 0,
            "busiest_window_calls": call_stats.busiest_window_calls if call_stats else 0,
            "busiest_window_code_0": call_stats.busiest_window_code_0 if call_stats else 0,
        },
        "queue": {
            "messages_sent": len(recorder.sent),
            "by_origin": dict(sorted(Counter(s.origin for s in recorder.sent).items())),
            "duplicates_sent": len(duplicate_ids),
            "duplicates_delivered": len(duplicate_ids & handled_ids),
            "messages_handled": len(recorder.handled),
            "handled_outcomes": dict(sorted(Counter(h.outcome for h in recorder.handled).items())),
            "max_receive_count": max((max(i.receive_counts, default=0) for i in recorder.invocations), default=0),
            "redelivered_records": sum(sum(1 for c in i.receive_counts if c > 1) for i in recorder.invocations),
            "left_after_drain": collected.left_after_drain,
        },
        "event_source": {
            "invocations": esm.invocations if esm else 0,
            "records": esm.records if esm else 0,
            "deleted": esm.deleted if esm else 0,
            "reported_failures": esm.reported_failures if esm else 0,
            "failed_invocations": esm.failed_invocations if esm else 0,
            "crashes_injected": esm.crashes_injected if esm else 0,
        },
        "fenced_writes": dict(sorted(Counter(w.result for w in recorder.writes).items())),
        "fenced_writes_by_writer": dict(sorted(Counter(f"{w.writer} {w.result}" for w in recorder.writes).items())),
        "callbacks": {
            "tries": len(collected.callback_tries),
            "answered": len(recorder.callbacks),
            "settled": collected.callbacks_settled,
        },
        "events": {"deliveries": len(collected.delivered), "settled": collected.events_settled},
        "lost_chains": {
            "deleted_before_delivery": len(collected.lost),
            "sends_dropped": len(recorder.dropped),
            "tasks": len(_lost_tasks(recorder, collected.lost)),
            "chains_revived": sum(1 for s in recorder.sent if s.origin == "watchdog"),
            "tasks_revived": len(_revived_tasks(recorder)),
            "lost_tasks_revived": len(_lost_tasks(recorder, collected.lost) & _revived_tasks(recorder)),
            "watchdog_runs": collected.watchdog_runs,
        },
        "aws_faults": {
            **collected.aws_faults,
            "registrations_retried_after_503": collected.registrations_retried,
        },
        "secret_rotation": {
            "rotated": collected.secret_rotated,
            "calls_refused_for_the_old_secret": call_stats.codes.get(100000005, 0) if call_stats else 0,
        },
    }


def plan_for(config: SoakConfig) -> SoakPlan:
    """The plan ``config``'s run plays: its tasks (with their callback fates) and unreadable messages."""
    return build_plan(
        config.tasks,
        seed=config.seed,
        api_share=config.api_share,
        malformed_messages=config.malformed_messages,
        callback_faults=config.callback_faults if config.callbacks else None,
        callback_share=config.callback_share,
        kind_share=config.kind_share,
        without_kinds=frozenset() if config.deadline_tasks else DEADLINE_KINDS,
    )


def run_soak(config: SoakConfig, *, out_dir: Path, progress: Progress) -> SoakResult:
    """Run one soak and judge it; handler output goes to ``out_dir/poller.log``, raw logs to
    ``out_dir/logs.json``."""
    started_wall = datetime.now(UTC)
    started = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_for(config)
    progress(
        f"soak: {len(plan.tasks)} tasks ({plan.counts()['by_channel']}), {len(plan.unreadable_bodies)} unreadable "
        f"messages, seed {config.seed}; handler logs in {out_dir / 'poller.log'}"
    )
    recorder = Recorder(duplicate_rate=config.duplicate_rate, seed=config.seed + 1, drop_rate=config.dropped_send_rate)
    collected = _run(config, plan, recorder, out_dir=out_dir, progress=progress, started=started)
    dump_json(
        out_dir / "logs.json",
        {
            **recorder.snapshot(),
            "stream": [asdict(w) for w in collected.stream],
            "callback_tries": [entry.as_dict() for entry in collected.callback_tries],
            "delivered_events": [asdict(e) for e in collected.delivered],
        },
    )
    return SoakResult(
        config=config,
        criteria=_judge(config, plan, recorder, collected),
        counts=_counts(plan, recorder, collected),
        started_at=started_wall.isoformat(timespec="seconds"),
        duration_seconds=time.monotonic() - started,
        machine={"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
    )
