"""The soak's tasks: both vendors, every event type, every final outcome, and the expected end of each.

Most tasks come from :meth:`Scenario.generate` with every generated kind in the mix; the outcomes it
cannot generate are scripted here: Huawei ``CANCELED``, Tencent ``SnapshotByTimeOffset``, Code 2 and
Code 4 rejections, a status this version does not know (``UNKNOWN`` on the way), a Huawei task that
answers ``NO_TASK`` for a while and then appears, a Tencent TaskId the simulator has never heard of
(Code 2), Huawei merges (DescribeMediaTask answers them ``NO_TASK``: only their callback ends them, or
their deadline when it never arrives valid), and messages whose body is malformed (the task ends
``REJECTED``, the body goes to the DLQ).

**Callbacks.** Every task with an ending gets a scripted callback fate, drawn here with the soak's rates
rather than left to the simulator's random ones, so that each task's expected end is known in advance
(:func:`devstack.expectations.expected_status`): a polled task whose callback is lost or badly signed is
still found by polling; a Huawei merge whose callback is lost or badly signed ends ``TIMED_OUT`` at its
deadline (kind ``huawei-merge-unheard``). A failed snapshot gets no callback: a snapshot callback carries
no status, so it can only report a snapshot as finished.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from devstack.expectations import expected_source, expected_status, task_kind
from devstack.zego_simulator import (
    CallbackFate,
    CallbackFaultSettings,
    CallbackScript,
    FinalState,
    Scenario,
    Step,
    TaskSpec,
    TimelineClock,
    Vendor,
)
from devstack.zego_simulator.scenario import SNAPSHOT_EVENTS
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus

GENERATED_MIX: dict[str, float] = {
    "tencent-compose-finish": 0.20,
    "tencent-transcode-finish": 0.15,
    "tencent-transcode-fail": 0.12,
    "tencent-snapshot-finish": 0.12,
    "tencent-stuck": 0.012,
    "tencent-file-missing": 0.06,
    "huawei-snapshot-succeeded": 0.18,
    "huawei-snapshot-failed": 0.07,
    "huawei-no-task": 0.04,
}
"""Weights of :data:`devstack.zego_simulator.GENERATED_KINDS` (all of them) in the generated part."""

EXTRA_PER_THOUSAND: dict[str, int] = {
    "huawei-canceled": 40,
    "tencent-offset-snapshot-finish": 40,
    "tencent-bad-parameter": 15,
    "huawei-vendor-mismatch": 10,
    "tencent-unknown-status": 20,
    "huawei-appears-late": 25,
    "tencent-unlisted": 10,
    "huawei-merge": 40,
    "huawei-merge-unheard": 10,
}
"""Hand-scripted kinds, per thousand tasks (at least one of each in a smaller soak)."""

DEADLINE_KINDS = frozenset({"tencent-stuck", "huawei-merge-unheard"})
"""Kinds that only their deadline ends: registered early, so that it passes before the soak ends."""
CALLBACK_KINDS = frozenset({"huawei-merge", "huawei-merge-unheard"})
"""Kinds that need callbacks (without them every Huawei merge is a deadline task)."""
FAULT_FATES = (
    CallbackFate.LOST,
    CallbackFate.DUPLICATE,
    CallbackFate.DELAYED,
    CallbackFate.REORDERED,
    CallbackFate.BAD_SIGNATURE,
)
UNDELIVERED_FATES = frozenset({CallbackFate.LOST, CallbackFate.BAD_SIGNATURE})
"""Fates after which no valid callback reaches the receiver."""
_SUCCESS = frozenset({"FINISH", "SUCCEEDED"})

MALFORMED_READABLE = "malformed-readable"
APPEARS_LATE = "huawei-appears-late"
"""A Huawei task ZEGO answers NO_TASK for a few seconds after its first answer, then finds."""
"""A pipeline message with a readable TaskId and Vendor but an invalid field: the task ends REJECTED
(``lastError.kind`` MALFORMED) and the body is parked in the DLQ."""


class Channel(StrEnum):
    """How a task enters the pipeline."""

    API = "api"
    """``POST /tasks`` over HTTP (generation-0 message, then a PENDING record)."""
    PIPELINE = "pipeline"
    """A pipeline's own SQS message ``{"TaskId", "Vendor"}`` (no record until the poller writes one)."""
    MALFORMED = "malformed"
    """A broken SQS message (see :data:`MALFORMED_READABLE`)."""


@dataclass(frozen=True)
class SoakTask:
    """One tracked task: what the simulator answers (``spec``; None when it is not scripted), how it is
    registered, and the terminal status it must end in."""

    task_id: str
    vendor: Vendor
    kind: str
    channel: Channel
    expected: TaskStatus
    spec: TaskSpec | None = None
    registered_kind: TaskKind | None = None
    """The ``Kind`` the registration carries (optional; always for a Huawei merge, which polling cannot end)."""
    expected_source: ChangeSource | None = None
    """What must end it (``completedBy``), when the script decides it rather than a race."""

    @property
    def key(self) -> tuple[str, str]:
        """(TaskId, vendor name): the record's primary key."""
        return (self.task_id, self.vendor.value)

    @property
    def callback_fate(self) -> CallbackFate | None:
        """The scripted fate of its completion callback (None: it never ends, so it has none)."""
        return self.spec.callback.fate if self.spec and self.spec.callback else None

    @property
    def scripted_at_registration(self) -> bool:
        """Whether the simulator learns of it only when it is registered: a timeline that runs from the
        task's creation (a Huawei merge) must not start, nor send its callback, before it is registered."""
        return self.spec is not None and self.spec.timeline_clock is TimelineClock.CREATED

    def pipeline_body(self) -> str:
        """The pipeline's own SQS message for it (with ``Kind`` when it has one)."""
        body = {"TaskId": self.task_id, "Vendor": self.vendor.value}
        if self.registered_kind is not None:
            body["Kind"] = self.registered_kind.value
        return json.dumps(body)


@dataclass(frozen=True)
class SoakPlan:
    """Everything one run sends: the tasks in registration order, the simulator's scenario, and the
    unreadable bodies that go straight to the DLQ."""

    tasks: tuple[SoakTask, ...]
    scenario: Scenario
    """What the simulator knows from its start: every scripted task but those it learns of at their
    registration (:attr:`SoakTask.scripted_at_registration`)."""
    unreadable_bodies: tuple[str, ...]

    def callback_fates(self) -> dict[tuple[str, str], str]:
        """Each task that gets a completion callback: its fate (``none`` left out)."""
        return {
            task.key: task.callback_fate.value
            for task in self.tasks
            if task.callback_fate is not None and task.callback_fate is not CallbackFate.NONE
        }

    def counts(self) -> dict[str, dict[str, Any]]:
        """Tasks per kind, vendor, channel and expected status (for the report)."""
        return {
            "expected_by_kind": dict(sorted({task.kind: task.expected.value for task in self.tasks}.items())),
            "by_kind": dict(sorted(Counter(task.kind for task in self.tasks).items())),
            "by_vendor": dict(sorted(Counter(task.vendor.value for task in self.tasks).items())),
            "by_channel": dict(sorted(Counter(task.channel.value for task in self.tasks).items())),
            "by_expected_status": dict(sorted(Counter(task.expected.value for task in self.tasks).items())),
            "by_event": dict(
                sorted(Counter((task.spec.event or "-") if task.spec else "-" for task in self.tasks).items())
            ),
            "by_callback_fate": dict(
                sorted(Counter(task.callback_fate.value if task.callback_fate else "-" for task in self.tasks).items())
            ),
            "by_registered_kind": dict(
                sorted(
                    Counter(task.registered_kind.value if task.registered_kind else "-" for task in self.tasks).items()
                )
            ),
        }


def _expected(spec: TaskSpec, *, callbacks: bool) -> TaskStatus:
    status = expected_status(spec, callbacks=callbacks)
    if status is None:  # every soak task must end on its own (stuck tasks end TIMED_OUT at the deadline)
        raise ValueError(f"task {spec.task_id} has no terminal status")
    return status


def _extra_spec(kind: str, index: int, rng: random.Random) -> TaskSpec | None:
    """A hand-scripted task of ``kind`` (None for a TaskId the simulator must not know)."""
    digest = f"{rng.getrandbits(96):024x}"
    tencent_id = f"1500{index:06d}-procedurev2-soak{digest}tt0"
    huawei_id = str(700_000_000 + index)
    duration = rng.uniform(5.0, 40.0)
    first = round(duration * rng.uniform(0.1, 0.3), 3)
    steps = (Step("WAITING", first), Step("PROCESSING", round(duration - first, 3)))
    if kind == "huawei-canceled":
        return TaskSpec(
            task_id=huawei_id,
            vendor=Vendor.HUAWEI,
            event="SampleSnapshot",
            timeline=steps,
            final=FinalState("CANCELED"),
        )
    if kind == "tencent-offset-snapshot-finish":
        urls = [f"http://vod.example.invalid/{digest[:8]}/snapshotByTimeOffset_{i}.jpg" for i in range(3)]
        return TaskSpec(
            task_id=tencent_id,
            vendor=Vendor.TENCENT,
            event="SnapshotByTimeOffset",
            timeline=steps,
            final=FinalState("FINISH", {"FileId": str(rng.randrange(10**18, 10**19)), "ThumbnailsUrl": urls}),
        )
    if kind == "tencent-bad-parameter":
        return TaskSpec(task_id=tencent_id, vendor=Vendor.TENCENT, event="transcode", code=2, message="bad parameter")
    if kind == "huawei-vendor-mismatch":
        return TaskSpec(task_id=huawei_id, vendor=Vendor.HUAWEI, code=4, message="CDN vendor mismatch")
    if kind == "tencent-unknown-status":
        return TaskSpec(
            task_id=tencent_id,
            vendor=Vendor.TENCENT,
            event="compose",
            timeline=(Step("QUEUED_FOR_GPU", first), steps[1]),
            final=FinalState("FINISH", {"FileId": str(rng.randrange(10**18, 10**19))}),
            allow_unknown_status=True,
        )
    if kind == APPEARS_LATE:
        return TaskSpec(
            task_id=huawei_id,
            vendor=Vendor.HUAWEI,
            event="SnapshotByTimeOffset",
            timeline=(Step("NO_TASK", round(rng.uniform(3.0, 10.0), 3)), Step("PROCESSING", first)),
            final=FinalState("SUCCEEDED", {"FileName": [f"late/{digest[:8]}/0.jpg"]}),
        )
    if kind == "tencent-unlisted":
        return None
    if kind in CALLBACK_KINDS:
        return TaskSpec(
            task_id=huawei_id,
            vendor=Vendor.HUAWEI,
            event="compose",
            timeline=steps,
            final=FinalState("SUCCEEDED", {"ReplayUrl": f"https://obs.example.invalid/merge/{digest[:12]}.mp4"}),
        )
    raise ValueError(f"unknown soak task kind {kind!r}")


_EXTRA_EXPECTED: dict[str, TaskStatus] = {"tencent-unlisted": TaskStatus.REJECTED}


@dataclass(frozen=True)
class _Draft:
    """A planned task before its callback fate, channel and Kind are drawn."""

    kind: str
    task_id: str
    vendor: Vendor
    spec: TaskSpec | None


def _fault_rates(faults: CallbackFaultSettings) -> dict[CallbackFate, float]:
    return {
        CallbackFate.LOST: faults.lost_rate,
        CallbackFate.DUPLICATE: faults.duplicate_rate,
        CallbackFate.DELAYED: faults.delayed_rate,
        CallbackFate.REORDERED: faults.reordered_rate,
        CallbackFate.BAD_SIGNATURE: faults.bad_signature_rate,
    }


def _draw(rng: random.Random, rates: dict[CallbackFate, float]) -> CallbackFate:
    """One fault by its rate, else ``send``."""
    draw = rng.random()
    for fate, rate in rates.items():
        if draw < rate:
            return fate
        draw -= rate
    return CallbackFate.SEND


def _is_failed_snapshot(spec: TaskSpec) -> bool:
    snapshot = spec.event in SNAPSHOT_EVENTS or task_kind(spec) is TaskKind.SNAPSHOT
    return snapshot and spec.final is not None and spec.final.status not in _SUCCESS


class _FateDrawer:
    """Draws each task's callback fate (see the module's docstring)."""

    def __init__(self, rng: random.Random, share: float, faults: CallbackFaultSettings) -> None:
        self.rng, self.share = rng, share
        self.rates = _fault_rates(faults)
        self.unheard = 0
        self.drawn: list[tuple[int, CallbackFate]] = []
        """(index, fate) of the tasks whose fate was drawn by the rates (the ones :meth:`ensure_each` may
        change)."""

    def fate(self, index: int, draft: _Draft) -> CallbackFate | None:
        spec = draft.spec
        if spec is None or spec.final is None:
            return None  # it never ends, so it sends no callback
        if draft.kind == "huawei-merge-unheard":
            self.unheard += 1
            return CallbackFate.LOST if self.unheard % 2 else CallbackFate.BAD_SIGNATURE
        if draft.kind == "huawei-merge":
            heard = {fate: rate for fate, rate in self.rates.items() if fate not in UNDELIVERED_FATES}
            return _draw(self.rng, heard)
        if _is_failed_snapshot(spec) or self.rng.random() >= self.share:
            return CallbackFate.NONE
        fate = _draw(self.rng, self.rates)
        self.drawn.append((index, fate))
        return fate

    def ensure_each(self, fates: dict[int, CallbackFate | None]) -> None:
        """At least one callback of each fault with a rate, however small the soak (the chaos check asks
        for each): a missing one replaces a ``send``."""
        present = set(fates.values())
        sends = [index for index, fate in self.drawn if fate is CallbackFate.SEND]
        self.rng.shuffle(sends)
        for fate, rate in self.rates.items():
            if rate > 0 and fate not in present and sends:
                fates[sends.pop()] = fate


def _drafts(tasks: int, *, seed: int, rng: random.Random, readable: int, without_kinds: frozenset[str]) -> list[_Draft]:
    extras = {
        kind: max(1, round(per * tasks / 1000)) for kind, per in EXTRA_PER_THOUSAND.items() if kind not in without_kinds
    }
    generated_count = tasks - sum(extras.values()) - readable
    mix = {kind: weight for kind, weight in GENERATED_MIX.items() if kind not in without_kinds}
    if generated_count < len(mix):
        raise ValueError(f"{tasks} tasks are too few for the soak's mix")
    drafts: list[_Draft] = []
    generated = Scenario.generate(generated_count, seed=seed, mix=mix)
    # Scenario.generate does not say which kind it drew; recover a readable label from the spec.
    drafts += [_Draft(_generated_kind(spec), spec.task_id, spec.vendor, spec) for spec in generated.tasks]
    index = 0
    for kind, count in extras.items():
        for _ in range(count):
            index += 1
            extra = _extra_spec(kind, index, rng)
            if extra is None:
                task_id = f"1599{index:06d}-procedurev2-unlisted{rng.getrandbits(64):016x}tt0"
                drafts.append(_Draft(kind, task_id, Vendor.TENCENT, None))
            else:
                drafts.append(_Draft(kind, extra.task_id, extra.vendor, extra))
    return drafts


def build_plan(
    tasks: int,
    *,
    seed: int,
    api_share: float,
    malformed_messages: int,
    callback_faults: CallbackFaultSettings | None = None,
    callback_share: float = 1.0,
    kind_share: float = 0.0,
    early_kinds: frozenset[str] = DEADLINE_KINDS,
    without_kinds: frozenset[str] = frozenset(),
) -> SoakPlan:
    """``tasks`` tracked tasks plus ``malformed_messages`` broken messages, in registration order.

    ``callback_faults`` (None: no callbacks, and no Huawei merges) are the rates of the callback fates
    drawn for ``callback_share`` of the tasks with an ending; ``kind_share`` of the tasks are registered
    with their ``Kind``. Tasks of ``early_kinds`` (those that run until their deadline) are registered in
    the first fifth, so that their deadlines pass before the rest of the soak ends. Kinds in
    ``without_kinds`` are left out.
    """
    # A reproducible plan, not a secret.
    rng = random.Random(seed)  # noqa: S311 # nosec B311
    readable = malformed_messages // 2
    unreadable = malformed_messages - readable
    callbacks = callback_faults is not None
    if not callbacks:
        without_kinds = without_kinds | CALLBACK_KINDS
    drafts = _drafts(tasks, seed=seed, rng=rng, readable=readable, without_kinds=without_kinds)

    drawer = _FateDrawer(rng, callback_share, callback_faults) if callback_faults is not None else None
    fates = {index: drawer.fate(index, draft) if drawer else None for index, draft in enumerate(drafts)}
    if drawer is not None:
        drawer.ensure_each(fates)
    planned: list[SoakTask] = []
    for index, draft in enumerate(drafts):
        spec, fate = draft.spec, fates[index]
        if spec is not None and fate is not None:
            spec = replace(spec, callback=CallbackScript(fate))
        # Channels: a share through the API, the rest as pipeline messages.
        channel = Channel.API if rng.random() < api_share else Channel.PIPELINE
        kind = task_kind(spec) if spec is not None else None
        if draft.kind not in CALLBACK_KINDS and rng.random() >= kind_share:
            kind = None  # Kind is optional; a Huawei merge always says it (polling cannot end it)
        source: ChangeSource | None
        if spec is None:
            expected, source = _EXTRA_EXPECTED[draft.kind], ChangeSource.POLL  # ZEGO's Code 2 refused it
        else:
            expected = _expected(spec, callbacks=callbacks)
            source = expected_source(spec, callbacks=callbacks)
        planned.append(SoakTask(draft.task_id, draft.vendor, draft.kind, channel, expected, spec, kind, source))
    for number in range(readable):
        vendor = Vendor.TENCENT if number % 2 == 0 else Vendor.HUAWEI
        planned.append(
            SoakTask(
                f"malformed-{seed}-{number}",
                vendor,
                MALFORMED_READABLE,
                Channel.MALFORMED,
                TaskStatus.REJECTED,
                expected_source=ChangeSource.MALFORMED,
            )
        )

    rng.shuffle(planned)
    ordered = [task for task in planned if task.kind not in early_kinds]
    head = max(1, len(planned) // 5)
    for task in (task for task in planned if task.kind in early_kinds):
        ordered.insert(rng.randrange(0, head + 1), task)

    known = tuple(task.spec for task in ordered if task.spec is not None and not task.scripted_at_registration)
    bodies = tuple(_unreadable_body(number) for number in range(unreadable))
    return SoakPlan(tasks=tuple(ordered), scenario=Scenario(tasks=known, description="soak"), unreadable_bodies=bodies)


def malformed_body(task: SoakTask) -> str:
    """The broken message of a :data:`MALFORMED_READABLE` task: TaskId and Vendor readable, Generation not."""
    return json.dumps({"TaskId": task.task_id, "Vendor": task.vendor.value, "Generation": "seven"})


def _unreadable_body(number: int) -> str:
    """A body the poller cannot read, unique per number; its reason cycles through the parser's."""
    shapes = (
        "not json #{n}",  # NOT_JSON
        '["soak-unreadable", {n}]',  # NOT_OBJECT
        '{{"Vendor": "Tencent", "Note": "soak-unreadable-{n}"}}',  # MISSING_TASK_ID
        '{{"TaskId": "soak unreadable {n}", "Vendor": "Huawei"}}',  # INVALID_TASK_ID
        '{{"TaskId": "soak-unreadable-{n}", "Vendor": "Azure"}}',  # UNKNOWN_VENDOR (no task marked)
    )
    return shapes[number % len(shapes)].format(n=number)


def _generated_kind(spec: TaskSpec) -> str:
    if spec.vendor is Vendor.HUAWEI:
        if spec.stays == "NO_TASK":
            return "huawei-no-task"
        return (
            "huawei-snapshot-succeeded" if spec.final and spec.final.status == "SUCCEEDED" else "huawei-snapshot-failed"
        )
    if spec.stays is not None:
        return "tencent-stuck"
    if spec.code is not None:
        return "tencent-file-missing"
    if spec.final and spec.final.status == "FAIL":
        return "tencent-transcode-fail"
    if spec.event == "compose":
        return "tencent-compose-finish"
    if spec.event == "SampleSnapshot":
        return "tencent-snapshot-finish"
    return "tencent-transcode-finish"
