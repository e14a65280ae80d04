"""The soak's tasks: both vendors, every event type, every final outcome, and the expected end of each.

Most tasks come from :meth:`Scenario.generate` with every generated kind in the mix; the outcomes it
cannot generate are scripted here: Huawei ``CANCELED``, Tencent ``SnapshotByTimeOffset``, Code 2 and
Code 4 rejections, a status this version does not know (``UNKNOWN`` on the way), a Huawei task that
answers ``NO_TASK`` for a while and then appears, a Tencent TaskId the simulator has never heard of
(Code 2), and messages whose body is malformed (the task ends ``REJECTED``, the body goes to the DLQ).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from devstack.expectations import expected_status
from devstack.zego_simulator import FinalState, Scenario, Step, TaskSpec, Vendor
from zego_media_tasks.domain.status import TaskStatus

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
}
"""Hand-scripted kinds, per thousand tasks (at least one of each in a smaller soak)."""

MALFORMED_READABLE = "malformed-readable"
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

    @property
    def key(self) -> tuple[str, str]:
        """(TaskId, vendor name): the record's primary key."""
        return (self.task_id, self.vendor.value)


@dataclass(frozen=True)
class SoakPlan:
    """Everything one run sends: the tasks in registration order, the simulator's scenario, and the
    unreadable bodies that go straight to the DLQ."""

    tasks: tuple[SoakTask, ...]
    scenario: Scenario
    unreadable_bodies: tuple[str, ...]

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
        }


def _expected(spec: TaskSpec) -> TaskStatus:
    status = expected_status(spec)
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
    if kind == "huawei-appears-late":
        return TaskSpec(
            task_id=huawei_id,
            vendor=Vendor.HUAWEI,
            event="SnapshotByTimeOffset",
            timeline=(Step("NO_TASK", round(rng.uniform(3.0, 10.0), 3)), Step("PROCESSING", first)),
            final=FinalState("SUCCEEDED", {"FileName": [f"late/{digest[:8]}/0.jpg"]}),
        )
    if kind == "tencent-unlisted":
        return None
    raise ValueError(f"unknown soak task kind {kind!r}")


_EXTRA_EXPECTED: dict[str, TaskStatus] = {"tencent-unlisted": TaskStatus.REJECTED}


def build_plan(
    tasks: int,
    *,
    seed: int,
    api_share: float,
    malformed_messages: int,
    early_kinds: frozenset[str] = frozenset({"tencent-stuck"}),
    without_kinds: frozenset[str] = frozenset(),
) -> SoakPlan:
    """``tasks`` tracked tasks plus ``malformed_messages`` broken messages, in registration order.

    Tasks of ``early_kinds`` (the stuck ones, which run until their deadline) are registered in the first
    fifth, so that their deadlines pass before the rest of the soak ends. Generated kinds in
    ``without_kinds`` are left out of the mix.
    """
    # A reproducible plan, not a secret.
    rng = random.Random(seed)  # noqa: S311 # nosec B311
    readable = malformed_messages // 2
    unreadable = malformed_messages - readable
    extras = {kind: max(1, round(per * tasks / 1000)) for kind, per in EXTRA_PER_THOUSAND.items()}
    generated_count = tasks - sum(extras.values()) - readable
    if generated_count < len(GENERATED_MIX) - len(without_kinds):
        raise ValueError(f"{tasks} tasks are too few for the soak's mix")

    planned: list[SoakTask] = []
    mix = {kind: weight for kind, weight in GENERATED_MIX.items() if kind not in without_kinds}
    generated = Scenario.generate(generated_count, seed=seed, mix=mix)
    # Scenario.generate does not say which kind it drew; recover a readable label from the spec.
    for spec in generated.tasks:
        planned.append(SoakTask(spec.task_id, spec.vendor, _generated_kind(spec), Channel.API, _expected(spec), spec))
    index = 0
    for kind, count in extras.items():
        for _ in range(count):
            index += 1
            extra = _extra_spec(kind, index, rng)
            if extra is None:
                task_id = f"1599{index:06d}-procedurev2-unlisted{rng.getrandbits(64):016x}tt0"
                planned.append(SoakTask(task_id, Vendor.TENCENT, kind, Channel.API, _EXTRA_EXPECTED[kind]))
            else:
                planned.append(SoakTask(extra.task_id, extra.vendor, kind, Channel.API, _expected(extra), extra))

    # Channels: a share through the API, the rest as pipeline messages.
    planned = [
        task if rng.random() < api_share else SoakTask(task.task_id, task.vendor, task.kind, Channel.PIPELINE,
                                                       task.expected, task.spec)
        for task in planned
    ]  # fmt: skip
    for number in range(readable):
        vendor = Vendor.TENCENT if number % 2 == 0 else Vendor.HUAWEI
        planned.append(
            SoakTask(f"malformed-{seed}-{number}", vendor, MALFORMED_READABLE, Channel.MALFORMED, TaskStatus.REJECTED)
        )

    rng.shuffle(planned)
    ordered = [task for task in planned if task.kind not in early_kinds]
    head = max(1, len(planned) // 5)
    for task in (task for task in planned if task.kind in early_kinds):
        ordered.insert(rng.randrange(0, head + 1), task)

    scenario = Scenario(tasks=tuple(task.spec for task in ordered if task.spec is not None), description="soak")
    bodies = tuple(_unreadable_body(number) for number in range(unreadable))
    return SoakPlan(tasks=tuple(ordered), scenario=scenario, unreadable_bodies=bodies)


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
