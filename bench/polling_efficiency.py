"""Benchmark 2, polling efficiency: a virtual-clock simulation of 10,000 tasks, no waiting and no AWS.

The REAL decision code (``domain.polling.decide_outcome`` with ``domain.backoff``) is driven by a
virtual clock and canned ZEGO answers parsed by the real response parser from the committed fixtures,
so record sizes are realistic. For each task: it is registered at t = 0, by a ``{TaskId, Vendor}``
message on the poll queue as a pipeline does (the first poll creates the record), or in the ``*_via_api``
scenarios through ``POST /tasks`` (a PENDING record first); polled at once, then whenever the decided
delay says; ZEGO answers
PROCESSING until the task's completion time and the final answer from then on. The detection lag is the
time from completion to the poll that sees it (the record shows it when that poll's write lands, a few
milliseconds later; not modelled). Each task has its own seeded RNG, so the figures are reproducible
and do not depend on how the work is split between processes.

Schedules: the default (the template's backoff: a draw from the top 10 % of a ceiling that starts at
60 s and grows by 1.3 to a 105 s cap), the default before issue 14 (full jitter under 16 s doubling to a
120 s cap), and fixed 10 s and 60 s intervals as baselines (the same code with a factor-1 backoff and a
"random" source that always returns the top of the window, i.e. no jitter).

Task mix (weights, completion time drawn uniformly from the range):

- snapshots, 50 %: 10-60 s (half Tencent SampleSnapshot, half Huawei snapshot);
- merges (Tencent compose), 30 %: 1-10 min;
- transcodes (Tencent transcode), 20 %: 5-60 min.

DynamoDB request units are measured on every poll of every 10th task (item sizes from the real item
mapping, ``store.items.record_to_item``, and the index writes from the template's own index shapes) and
averaged per poll for each schedule and kind; the same writes are also priced as they were with both
status indexes projecting every attribute (:data:`ALL_PROJECTED_INDEXES`), for the comparison.

Polling as the callbacks' safety net (:func:`run_callbacks`): the same tasks, pull-only on the default
schedule against completion callbacks delivered for 90 % of them on the callbacks-enabled schedule
(``POLL_BACKOFF_BASE_WITH_CALLBACKS_SECONDS`` and ``POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS``). A
delivered callback arrives 0.2-2 s after the task's completion (uniform, its own seeded RNG per task, so
the poll jitter draws are the pull-only ones); it is decided by the real reconciliation code
(``domain.reconciliation.decide_callback``, the evidence parsed by the real reader
``zego.callbacks.parse_callback``) on the record the polls left, and the poll message queued at that
moment then finds the task ended and makes no ZEGO call. A poll that sees the end before the callback
arrives wins, as in the receiver (the callback is then a late one). The other 10 % are found by polling
alone, at the larger cap. A sweep over caps shows the trade.

In these two scenarios every write of a task's record (registration, each poll, the callback) is also
passed through the publisher's own comparison (``domain.state_change.state_change``): each write is one
record on the tasks table's stream, each one that changed the status one state-change event, whose
PutEvents entry (built by the real ``events.publisher.EventPublisher.entry``) is sized for its billing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from bench.common import ROOT
from bench.costs import (
    IndexShape,
    billed_events,
    index_shapes,
    item_size,
    item_write_units,
    put_events_entry_bytes,
    read_units,
)
from bench.stats import summary
from devstack.event_filter import passes, stream_record, template_patterns
from devstack.template import load_template
from zego_media_tasks.domain import backoff
from zego_media_tasks.domain.backoff import BackoffPolicy, UniformSource
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.outcome import CallOutcome
from zego_media_tasks.domain.polling import PollContext, PollDecision, PollingPolicy, Step, decide_outcome
from zego_media_tasks.domain.reconciliation import CallbackEffect, decide_callback
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.snapshot import TaskSnapshot
from zego_media_tasks.domain.state_change import DEFAULT_SOURCE, state_change
from zego_media_tasks.domain.status import TaskKind, TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.events.publisher import EventPublisher
from zego_media_tasks.store.items import record_to_item
from zego_media_tasks.zego.callbacks import parse_callback
from zego_media_tasks.zego.responses import interpret_response

START = datetime(2026, 11, 24, 0, 0, 0, tzinfo=UTC)
SEED = 20261124
FIXTURES = ROOT / "tests" / "fixtures" / "zego"
ALL_PROJECTED_INDEXES = (
    IndexShape("ByStatus", ("status", "statusChangedAt")),
    IndexShape("ByVendorStatus", ("vendorStatusKey", "statusChangedAt")),
)
"""The status indexes as they were before they projected keys only (every attribute: every write of a
record rewrote both entries), and before ``ByVendorStatus`` was retired (:func:`with_vendor_status_key`)."""


def with_vendor_status_key(item: Mapping[str, Any]) -> dict[str, Any]:
    """``item`` as the earlier versions wrote it, with ``ByVendorStatus``'s key (``"<Vendor>#<STATUS>"``)."""
    return {**item, "vendorStatusKey": f"{item['vendor']}#{item['status']}"}


SIZE_SAMPLE_EVERY = 10
MAX_POLLS_PER_TASK = 10_000
"""A bound on every task's loop (an hour at 1 s would be 3,600)."""


@dataclass(frozen=True)
class Kind:
    """A kind of task in the mix."""

    name: str
    weight: float
    min_seconds: float
    max_seconds: float
    fixtures: tuple[str, ...]
    """Final-answer fixtures; a task of this kind uses one of them (drawn with the task's RNG)."""


MIX: tuple[Kind, ...] = (
    Kind("snapshot", 0.5, 10, 60, ("tencent-snapshot-finish.json", "huawei-snapshot-succeeded.json")),
    Kind("merge", 0.3, 60, 600, ("tencent-compose-finish.json",)),
    Kind("transcode", 0.2, 300, 3600, ("transcode-finish",)),
)


@dataclass(frozen=True)
class Schedule:
    """A poll schedule: the backoff policy and the share of each ceiling its delays are drawn from."""

    name: str
    base_seconds: float
    factor: float
    cap_seconds: float
    jitter: float
    """The backoff's jitter share (0: the ceiling itself, with a source that answers the top; 1: full)."""

    def policy(self) -> PollingPolicy:
        """The domain policy for this schedule."""
        return PollingPolicy(backoff=BackoffPolicy(self.base_seconds, self.factor, self.cap_seconds, self.jitter))


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        "default",
        backoff.DEFAULT_BACKOFF_BASE_SECONDS,
        backoff.DEFAULT_BACKOFF_FACTOR,
        backoff.DEFAULT_BACKOFF_CAP_SECONDS,
        jitter=backoff.DEFAULT_BACKOFF_JITTER,
    ),
    Schedule("before issue 14: full jitter, 16 s doubling to 120 s", 16.0, 2.0, 120.0, jitter=1.0),
    Schedule("fixed 10 s", 10.0, 1.0, 10.0, jitter=0.0),
    Schedule("fixed 60 s", 60.0, 1.0, 60.0, jitter=0.0),
)


CALLBACKS_ENABLED = Schedule(
    "callbacks enabled",
    backoff.DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS,
    backoff.DEFAULT_BACKOFF_FACTOR,
    backoff.DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS,
    jitter=backoff.DEFAULT_BACKOFF_JITTER,
)
"""The poller's schedule with ``CALLBACKS_ENABLED``: a larger first window, backing off to the larger cap."""
CAP_SWEEP: tuple[tuple[float, float], ...] = (
    (backoff.DEFAULT_BACKOFF_BASE_SECONDS, backoff.DEFAULT_BACKOFF_CAP_SECONDS),
    (backoff.DEFAULT_BACKOFF_BASE_SECONDS, 600.0),
    (60.0, 900.0),
    (backoff.DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS, backoff.DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS),
    (240.0, 900.0),
)
"""(base, cap) pairs tried with callbacks: the pull-only schedule (callbacks without a schedule change),
the issue-13 callbacks schedule (base 16 s, cap 600 s), then later first windows up to SQS's 900 s cap."""


class UpperBound:
    """A ``UniformSource`` that always answers the top of the range: a jitter-free fixed interval."""

    def uniform(self, a: float, b: float) -> float:
        """``b``."""
        return b


# --- canned answers ---------------------------------------------------------------------------------


def _document(name: str) -> dict[str, Any]:
    if name == "transcode-finish":
        # No committed fixture for a finished transcode: the PROCESSING one, finished as ZEGO does it.
        document = _document("tencent-transcode-processing.json")
        block = document["Data"]["Tencent"]
        block.update(
            Status="FINISH",
            FileId="5285890813218549790",
            ReplayUrl="https://example-vod.zego.im/transcode/58ed61fc/v.f100030.mp4",
        )
        return document
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def _processing(document: Mapping[str, Any]) -> dict[str, Any]:
    """The same task's answer while it is still running: status PROCESSING, result fields empty."""
    running: dict[str, Any] = json.loads(json.dumps(document))
    for vendor, block in running["Data"].items():
        block["Status"] = "PROCESSING"
        if vendor == "Tencent":
            block.update(FileId="", ReplayUrl="", Message="")
            if "ThumbnailsUrl" in block:
                block["ThumbnailsUrl"] = []
        else:
            block.update(EndTime="", FileName=[])
    return running


@dataclass(frozen=True)
class Answers:
    """What ZEGO answers about one task while it runs and once it has ended (for the fixture tasks,
    parsed by the real parser)."""

    task_id: str
    vendor: Vendor
    processing: CallOutcome
    final: CallOutcome


@cache
def answers(fixture: str) -> Answers:
    """The parsed PROCESSING and final answers of a fixture task (cached per process)."""
    document = _document(fixture)
    vendor_name, block = next(iter(document["Data"].items()))
    vendor = Vendor(vendor_name)
    task_id = str(block["TaskId"])

    def parse(doc: Mapping[str, Any]) -> CallOutcome:
        return interpret_response(200, json.dumps(doc).encode(), task_id=task_id, vendor=vendor)

    return Answers(task_id, vendor, parse(_processing(document)), parse(document))


# --- one task --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Poll:
    """One simulated poll: when it happened and what the real decision code made of ZEGO's answer."""

    number: int
    """1 for the first poll."""
    elapsed_seconds: int
    """Virtual seconds from the start (registration) to this poll."""
    stored: TaskRecord | None
    """The record the poll found."""
    decision: PollDecision


def simulate_polls(
    stored: TaskRecord | None,
    request: PollRequest,
    answers_: Answers,
    *,
    completion_seconds: float,
    policy: PollingPolicy,
    rng: UniformSource,
    start: datetime = START,
) -> Iterator[Poll]:
    """Every poll of one task, by the real decision code on a virtual clock, up to the one that sees it
    finished: ZEGO answers ``answers_.processing`` until ``completion_seconds`` after ``start`` and
    ``answers_.final`` from then on; each poll happens when the previous decision's delay says."""
    elapsed = 0
    for number in range(1, MAX_POLLS_PER_TASK + 1):
        outcome = answers_.final if elapsed >= completion_seconds else answers_.processing
        now = start + timedelta(seconds=elapsed)
        decision = decide_outcome(PollContext(stored, request, now, policy, sent_at=start), outcome, random=rng)
        yield Poll(number, elapsed, stored, decision)
        if decision.step is Step.FINISH:
            return
        if decision.next_request is None or decision.delay_seconds is None:  # pragma: no cover - CONTINUE has both
            raise RuntimeError("a continuing decision without a next message")
        stored, request = decision.record, decision.next_request
        elapsed += decision.delay_seconds
    raise RuntimeError(f"task {request.task_id} not finished after {MAX_POLLS_PER_TASK} polls")


@dataclass(frozen=True)
class TaskSpec:
    """One simulated task."""

    index: int
    kind: str
    fixture: str
    completion_seconds: float


@dataclass(frozen=True)
class TaskTrace:
    """What following one task cost."""

    kind: str
    polls: int
    lag_seconds: float
    sized: bool
    read_units: float = 0.0
    """Poll reads (consistent GetItem), summed over the task's polls (sampled tasks only)."""
    write_units: float = 0.0
    """Poll writes (the table and the template's indexes), summed (sampled tasks only; limiter excluded)."""
    write_units_all_projected: float = 0.0
    """The same writes with both status indexes projecting every attribute (:data:`ALL_PROJECTED_INDEXES`)."""
    registration_write_units: int = 0
    callback_read_units: float = 0.0
    """The callback receiver's consistent Query of the task (tasks a callback ended, sampled only)."""
    callback_write_units: float = 0.0
    """Its terminal write, with the index writes."""
    first_item_bytes: int = 0
    last_item_bytes: int = 0
    callback_arrived: bool = False
    """The task's completion callback arrived (:func:`follow_with_callbacks`), first or after a poll."""
    ended_by_callback: bool = False
    """The completion callback, not a poll, ended the task."""
    publication: Publication | None = None
    """What the stream and the publisher made of the task's writes (:func:`follow_with_callbacks`)."""


def registration(answers_: Answers, policy: PollingPolicy) -> TaskRecord:
    """The PENDING record ``POST /tasks`` creates (as ``api.service.TaskService.register`` does)."""
    first_seen = to_iso(START)
    return TaskRecord(
        task_id=answers_.task_id,
        vendor=answers_.vendor,
        status=TaskStatus.PENDING,
        generation=0,
        first_seen_at=first_seen,
        deadline_at=to_iso(START + timedelta(seconds=policy.task_deadline_seconds)),
        status_changed_at=first_seen,
        next_poll_at=first_seen,
        updated_at=first_seen,
    )


@cache
def publisher_filter() -> tuple[dict[str, Any], ...]:
    """The filter patterns of the publisher's stream event source, as the template declares them."""
    return template_patterns("PublisherFunction", "DynamoDB")


@cache
def table_indexes() -> tuple[IndexShape, ...]:
    """The tasks table's indexes as the template declares them."""
    return index_shapes(load_template()["Resources"]["TasksTable"]["Properties"])


@dataclass
class WriteUnits:
    """Request units of one task's record writes, with the template's indexes and with the old ones."""

    reads: float = 0.0
    writes: float = 0.0
    writes_all_projected: float = 0.0

    def write(self, old: TaskRecord | None, new: TaskRecord, *, read: bool) -> int:
        """Count one write (after a consistent read of ``old`` when ``read``); the new item's size."""
        old_item = record_to_item(old) if old is not None else None
        new_item = record_to_item(new)
        if read:  # a consistent GetItem; of a missing item (a queued task's first poll) one unit
            self.reads += read_units(item_size(old_item) if old_item is not None else 0, consistent=True)
        self.writes += item_write_units(old_item, new_item, table_indexes())
        self.writes_all_projected += item_write_units(
            with_vendor_status_key(old_item) if old_item is not None else None,
            with_vendor_status_key(new_item),
            ALL_PROJECTED_INDEXES,
        )
        return item_size(new_item)


def _registered(
    spec: TaskSpec, schedule: Schedule, *, through_api: bool
) -> tuple[PollingPolicy, TaskRecord | None, Iterator[Poll]]:
    """The policy ``schedule`` polls ``spec``'s task with, the record its registration wrote (``POST
    /tasks``'s PENDING record, or None for a message dropped on the queue), and its polls from there on
    (:func:`simulate_polls`; jittered by the task's own RNG when the schedule jitters)."""
    canned = answers(spec.fixture)
    policy = schedule.policy()
    rng: UniformSource = random.Random(SEED * 100_003 + spec.index) if schedule.jitter else UpperBound()
    registered = registration(canned, policy) if through_api else None
    request = PollRequest(canned.task_id, canned.vendor)
    polls = simulate_polls(
        registered, request, canned, completion_seconds=spec.completion_seconds, policy=policy, rng=rng
    )
    return policy, registered, polls


def follow(spec: TaskSpec, schedule: Schedule, *, size_items: bool, through_api: bool = False) -> TaskTrace:
    """Poll one task from its registration (:func:`simulate_polls`; by a queue message unless
    ``through_api``) until it is seen finished."""
    _policy, registered, polling = _registered(spec, schedule, through_api=through_api)
    registering = WriteUnits()
    stored_size = registering.write(None, registered, read=False) if size_items and registered else 0
    first_size = stored_size
    units = WriteUnits()
    polls = list(polling)
    if size_items:
        for poll in polls:
            stored_size = units.write(poll.stored or registered, poll.decision.record, read=True)
    last = polls[-1]
    return TaskTrace(
        kind=spec.kind,
        polls=last.number,
        lag_seconds=last.elapsed_seconds - spec.completion_seconds,
        sized=size_items,
        read_units=units.reads,
        write_units=units.writes,
        write_units_all_projected=units.writes_all_projected,
        registration_write_units=int(registering.writes),
        first_item_bytes=first_size,
        last_item_bytes=stored_size,
    )


def generate_tasks(count: int, *, seed: int = SEED, mix: Sequence[Kind] = MIX) -> list[TaskSpec]:
    """``count`` tasks drawn from ``mix`` with a seeded RNG."""
    rng = random.Random(seed)
    weights = [kind.weight for kind in mix]
    tasks = []
    for index in range(count):
        kind = rng.choices(mix, weights=weights)[0]
        tasks.append(
            TaskSpec(
                index=index,
                kind=kind.name,
                fixture=rng.choice(kind.fixtures),
                completion_seconds=rng.uniform(kind.min_seconds, kind.max_seconds),
            )
        )
    return tasks


def _follow_chunk(specs: Sequence[TaskSpec], schedule: Schedule) -> list[TaskTrace]:
    return [follow(spec, schedule, size_items=spec.index % SIZE_SAMPLE_EVERY == 0) for spec in specs]


# --- callbacks, polling as their safety net -----------------------------------------------------------


@dataclass(frozen=True)
class CallbackDelivery:
    """Which tasks' completion callbacks arrive, and how long after the completion."""

    name: str
    share: float
    """Of the tasks, the fraction whose callback arrives (the rest: lost, as ZEGO warns they can be)."""
    min_delay_seconds: float = 0.2
    max_delay_seconds: float = 2.0
    through_api: bool = False
    """How the scenario's tasks are registered: False, a ``{TaskId, Vendor}`` message on the poll queue
    (what a pipeline does; the first poll creates the record); True, ``POST /tasks`` (a PENDING record
    first, then the first poll message)."""


PULL_ONLY = CallbackDelivery("pull_only", 0.0)
CALLBACKS_90 = CallbackDelivery("callbacks_90", 0.9)
PULL_ONLY_VIA_API = replace(PULL_ONLY, name="pull_only_via_api", through_api=True)
CALLBACKS_90_VIA_API = replace(CALLBACKS_90, name="callbacks_90_via_api", through_api=True)
CALLBACK_SEED = 20261201


def callback_arrival(spec: TaskSpec, delivery: CallbackDelivery) -> float | None:
    """Seconds after registration when the task's callback arrives, or None when it never does; drawn
    from the task's own RNG, apart from its poll jitter."""
    rng = random.Random(CALLBACK_SEED * 100_003 + spec.index)
    if rng.random() >= delivery.share:
        return None
    return spec.completion_seconds + rng.uniform(delivery.min_delay_seconds, delivery.max_delay_seconds)


_TASK_KINDS = {"snapshot": TaskKind.SNAPSHOT, "merge": TaskKind.MERGE, "transcode": TaskKind.TRANSCODE}


def callback_fields(fixture: str) -> dict[str, Any]:
    """The completion callback ZEGO sends for a fixture task (its final answer's results), as the receiver
    reads it once the signature is checked (so without ``signature``/``nonce``)."""
    document = _document(fixture)
    vendor_name, block = next(iter(document["Data"].items()))
    common = {"appid": "1", "task_id": str(block["TaskId"]), "timestamp": "1796083200"}
    if "FileName" in block:  # Huawei snapshot
        pictures = [{"url": name} for name in block["FileName"]]
        return {**common, "event": "snapshot", "vendor": "hw", "snapshot_pic_list": json.dumps(pictures)}
    if "ThumbnailsUrl" in block:
        pictures = [{"url": url, "offset": 1000 * index} for index, url in enumerate(block["ThumbnailsUrl"])]
        return {
            **common,
            "event": "snapshot",
            "vendor": vendor_name.lower(),
            "field_id": block["FileId"],
            "snapshot_pic_list": json.dumps(pictures),
        }
    if block.get("Event") == "compose":
        return {
            **common,
            "event": "compose",
            "replay_url": block["ReplayUrl"],
            "file_id": block["FileId"],
            "code": "0",
            "message": "",
        }
    output = {"code": "0", "message": "SUCCESS", "replay_url": block["ReplayUrl"], "size": 6833612, "duration": 170.6}
    return {
        **common,
        "event": "procedure",
        "status": "SUCCESS",
        "file_id": block["FileId"],
        "extra_params": json.dumps({"media": {"transcode": [output]}}),
    }


@cache
def callback_evidence(fixture: str) -> TaskSnapshot:
    """The fixture task's callback as the receiver turns it into evidence (cached per process)."""
    callback = parse_callback(callback_fields(fixture))
    return callback.snapshot(callback.vendor or answers(fixture).vendor)


_ENTRIES = EventPublisher("bench", DEFAULT_SOURCE, sleep=lambda _seconds: None)
"""Builds the PutEvents entries only (its client is never built)."""


@dataclass
class Publication:
    """What the tasks table's stream and the publisher make of one task's writes."""

    stream_records: int = 0
    """Writes of the record: each is one record on the table's stream."""
    events: int = 0
    """Those that changed the status: one state-change event each."""
    billed_events: int = 0
    """The events' PutEvents billing units (64 KB chunks of each entry)."""
    largest_event_bytes: int = 0
    delivered: int = 0
    """Stream records the publisher's event source hands it: those its filter patterns (template.yaml,
    ``FilterCriteria``) let through, judged on the real items (``store.items.record_to_item``)."""

    def write(self, old: TaskRecord | None, new: TaskRecord) -> None:
        """One write of the record, ``old`` → ``new``: one stream record, and an event if it changed the status."""
        self.stream_records += 1
        record = stream_record(record_to_item(old) if old is not None else None, record_to_item(new))
        self.delivered += passes(publisher_filter(), record)
        change = state_change(old, new)
        if change is None:
            return
        size = put_events_entry_bytes(_ENTRIES.entry(change))
        self.events += 1
        self.billed_events += billed_events(size)
        self.largest_event_bytes = max(self.largest_event_bytes, size)


def follow_with_callbacks(spec: TaskSpec, schedule: Schedule, delivery: CallbackDelivery) -> TaskTrace:
    """Poll one task as :func:`follow` does until either a poll sees it finished or its callback arrives
    (then decided by the real reconciliation code); the poll message due after the callback finds the
    task ended and calls nobody. Detection is whichever came first. Every write is counted as the stream
    and the publisher see it (:class:`Publication`): the registration, each poll's, the callback's."""
    policy, stored, polls = _registered(spec, schedule, through_api=delivery.through_api)
    arrival = callback_arrival(spec, delivery)
    published = Publication()
    sized = spec.index % SIZE_SAMPLE_EVERY == 0
    units = WriteUnits()
    registering = WriteUnits()
    if stored is not None:
        published.write(None, stored)
        if sized:
            registering.write(None, stored, read=False)
    calls = 0

    def trace(detected_at: float, *, callback_arrived: bool, callback: WriteUnits | None = None) -> TaskTrace:
        # What the task cost when it was detected ended ``detected_at`` s in, by a poll or by ``callback``.
        return TaskTrace(
            spec.kind,
            calls,
            detected_at - spec.completion_seconds,
            sized=sized,
            read_units=units.reads,
            write_units=units.writes,
            write_units_all_projected=units.writes_all_projected,
            registration_write_units=int(registering.writes),
            callback_read_units=callback.reads if callback else 0.0,
            callback_write_units=callback.writes if callback else 0.0,
            callback_arrived=callback_arrived,
            ended_by_callback=callback is not None,
            publication=published,
        )

    for poll in polls:
        if arrival is not None and poll.elapsed_seconds > arrival:
            break  # this message finds the record the callback ended: acknowledged without a ZEGO call
        calls = poll.number
        published.write(poll.stored, poll.decision.record)
        if sized:
            units.write(stored, poll.decision.record, read=True)
        if poll.decision.step is Step.FINISH:
            # Seen by a poll first: a callback arriving later finds the task ended (a late callback).
            return trace(poll.elapsed_seconds, callback_arrived=arrival is not None)
        stored = poll.decision.record
    if arrival is None:  # pragma: no cover - simulate_polls only stops at FINISH
        raise RuntimeError(f"task {spec.index} neither polled to its end nor called back")
    decided = decide_callback(
        stored,
        callback_evidence(spec.fixture),
        kind=_TASK_KINDS[spec.kind],
        now=START + timedelta(seconds=arrival),
        policy=policy,
    )
    if decided.effect is not CallbackEffect.APPLIED or decided.decision is None:  # pragma: no cover - it was open
        raise RuntimeError(f"the callback of task {spec.index} was not applied: {decided.effect}")
    published.write(stored, decided.decision.record)
    callback = WriteUnits()
    if sized:
        callback.write(stored, decided.decision.record, read=True)
    return trace(arrival, callback_arrived=True, callback=callback)


def _callbacks_chunk(specs: Sequence[TaskSpec], schedule: Schedule, delivery: CallbackDelivery) -> list[TaskTrace]:
    return [follow_with_callbacks(spec, schedule, delivery) for spec in specs]


def callbacks_scenario(
    traces: Sequence[TaskTrace], tasks: Sequence[TaskSpec], schedule: Schedule, delivery: CallbackDelivery
) -> dict[str, Any]:
    """The results of one scenario: its knobs, :func:`aggregate`, how many tasks their callback ended,
    and the detection lag of the ones polling found."""
    by_polling = [trace.lag_seconds for trace in traces if not trace.ended_by_callback]
    sampled = [trace for trace in traces if trace.sized and trace.ended_by_callback]
    return {
        "schedule": schedule.name,
        **_schedule_knobs(schedule),
        "callback_share": delivery.share,
        "callback_delay_seconds": [delivery.min_delay_seconds, delivery.max_delay_seconds],
        **aggregate(traces, tasks),
        "callbacks_arrived": sum(1 for trace in traces if trace.callback_arrived),
        "ended_by_callback": sum(1 for trace in traces if trace.ended_by_callback),
        "found_by_polling_detection_lag_seconds": summary(by_polling, digits=1),
        "through_api": delivery.through_api,
        "events_per_task": _mean([float(t.publication.events) for t in traces if t.publication]),
        "publisher_records_per_task": _mean([float(t.publication.delivered) for t in traces if t.publication]),
        "callback_read_units": _mean([t.callback_read_units for t in sampled]),
        "callback_write_units": _mean([t.callback_write_units for t in sampled]),
    }


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


# --- aggregation ---------------------------------------------------------------------------------


def aggregate(traces: Sequence[TaskTrace], tasks: Sequence[TaskSpec]) -> dict[str, Any]:
    """Calls per task, detection lag, request units per poll, overall and per kind."""
    durations = {spec.kind: 0.0 for spec in tasks}
    for spec in tasks:
        durations[spec.kind] += spec.completion_seconds

    def block(selected: Sequence[TaskTrace], completion_seconds: float) -> dict[str, Any]:
        sized = [trace for trace in selected if trace.sized]
        sized_polls = sum(trace.polls for trace in sized)
        polls = sum(trace.polls for trace in selected)
        tracked_seconds = completion_seconds + sum(trace.lag_seconds for trace in selected)
        return {
            "tasks": len(selected),
            "calls_per_task": summary([float(trace.polls) for trace in selected], digits=2),
            "detection_lag_seconds": summary([trace.lag_seconds for trace in selected], digits=1),
            "read_units_per_poll": round(sum(t.read_units for t in sized) / sized_polls, 4) if sized_polls else None,
            "write_units_per_poll": round(sum(t.write_units for t in sized) / sized_polls, 4) if sized_polls else None,
            "write_units_per_poll_all_projected": (
                round(sum(t.write_units_all_projected for t in sized) / sized_polls, 4) if sized_polls else None
            ),
            "registration_write_units": (
                round(sum(t.registration_write_units for t in sized) / len(sized), 3) if sized else None
            ),
            "item_bytes_final_mean": round(sum(t.last_item_bytes for t in sized) / len(sized)) if sized else None,
            "calls_per_second_per_1000_tracked": round(1000 * polls / tracked_seconds, 3) if tracked_seconds else None,
        }

    result = {"all": block(traces, sum(durations.values()))}
    for kind in MIX:
        selected = [trace for trace in traces if trace.kind == kind.name]
        if selected:
            result[kind.name] = block(selected, durations[kind.name])
    return result


def split(specs: Sequence[TaskSpec], workers: int) -> list[Sequence[TaskSpec]]:
    """``specs`` in pieces, four per worker process (so that one slow piece leaves no worker idle long)."""
    chunk = max(1, len(specs) // (workers * 4))
    return [specs[start : start + chunk] for start in range(0, len(specs), chunk)]


def callbacks_traces(
    pool: ProcessPoolExecutor, pieces: Sequence[Sequence[TaskSpec]], schedule: Schedule, delivery: CallbackDelivery
) -> list[TaskTrace]:
    """:func:`follow_with_callbacks` for every task of ``pieces``, in task order, over ``pool``."""
    parts = pool.map(_callbacks_chunk, pieces, [schedule] * len(pieces), [delivery] * len(pieces))
    return [trace for part in parts for trace in part]


def run(*, tasks: int = 10_000, workers: int = 2) -> dict[str, Any]:
    """Every schedule over the same ``tasks`` tasks; work split over ``workers`` processes."""
    specs = generate_tasks(tasks)
    pieces = split(specs, workers)
    results: dict[str, Any] = {
        "tasks": tasks,
        "seed": SEED,
        "mix": [
            {"kind": k.name, "weight": k.weight, "completion_seconds": [k.min_seconds, k.max_seconds]} for k in MIX
        ],
        "kinds_drawn": {kind.name: sum(1 for s in specs if s.kind == kind.name) for kind in MIX},
        "schedules": {},
    }
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for schedule in SCHEDULES:
            traces = [trace for part in pool.map(_follow_chunk, pieces, [schedule] * len(pieces)) for trace in part]
            results["schedules"][schedule.name] = {
                **_schedule_knobs(schedule),
                "through_api": False,
                **aggregate(traces, specs),
            }
        results.update(run_callbacks(specs, pool, pieces))
    return results


def _schedule_knobs(schedule: Schedule) -> dict[str, Any]:
    return {
        "base_seconds": schedule.base_seconds,
        "factor": schedule.factor,
        "cap_seconds": schedule.cap_seconds,
        "jitter": schedule.jitter,
    }


def run_callbacks(
    specs: Sequence[TaskSpec], pool: ProcessPoolExecutor, pieces: Sequence[Sequence[TaskSpec]]
) -> dict[str, Any]:
    """``pull_only`` (default schedule, no callbacks), ``callbacks_90`` (the callbacks-enabled schedule,
    90 % delivered), both registered by a queue message, the same two registered through ``POST /tasks``
    (``*_via_api``), and ``callbacks_90_cap_sweep`` (``callbacks_90`` at each (base, cap) of
    :data:`CAP_SWEEP`, keyed ``"base/cap"``)."""

    def scenario(schedule: Schedule, delivery: CallbackDelivery) -> dict[str, Any]:
        return callbacks_scenario(callbacks_traces(pool, pieces, schedule, delivery), specs, schedule, delivery)

    default = SCHEDULES[0]
    with_callbacks = scenario(CALLBACKS_ENABLED, CALLBACKS_90)
    sweep = {}
    for base, cap in CAP_SWEEP:
        schedule = Schedule(
            f"callbacks, base {base:g} s, cap {cap:g} s", base, default.factor, cap, jitter=CALLBACKS_ENABLED.jitter
        )
        same = (base, cap) == (CALLBACKS_ENABLED.base_seconds, CALLBACKS_ENABLED.cap_seconds)
        sweep[f"{base:g}/{cap:g}"] = with_callbacks if same else scenario(schedule, CALLBACKS_90)
    return {
        PULL_ONLY.name: scenario(default, PULL_ONLY),
        CALLBACKS_90.name: with_callbacks,
        PULL_ONLY_VIA_API.name: scenario(default, PULL_ONLY_VIA_API),
        CALLBACKS_90_VIA_API.name: scenario(CALLBACKS_ENABLED, CALLBACKS_90_VIA_API),
        "callbacks_90_cap_sweep": sweep,
    }
