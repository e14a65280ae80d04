"""Scenarios: what each simulated ZEGO task answers, and how that answer changes over time.

A scenario is a list of task specifications (file format: ``devstack/scenarios/README.md``). Each task
either follows a ``timeline`` of vendor statuses to a ``final`` state, ``stays`` in one status forever,
or always answers a non-zero return ``code``. Timelines are measured in *scenario seconds* from the
first query that reaches the task (or, with ``"clock": "created"``, from the task's creation);
``time_scale`` maps scenario seconds to real seconds (``time_scale=0.1`` plays a 60 s timeline in 6 s).
A task may also script its completion callback (``callback``; sent by ``callbacks.py``).

Everything here is pure logic with the time passed in, so it is tested without sockets or sleeps.
``TaskBook`` is the only stateful, thread-safe part: it remembers when each task's timeline started and
tells its subscribers (the callback dispatcher) when one starts.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum, auto
from pathlib import Path
from typing import Any, Final


class Vendor(StrEnum):
    """The CDN vendors DescribeMediaTask accepts in its ``Vendor`` parameter."""

    TENCENT = "Tencent"
    HUAWEI = "Huawei"


TENCENT_EVENTS: Final[tuple[str, ...]] = ("compose", "transcode", "SnapshotByTimeOffset", "SampleSnapshot")
SNAPSHOT_EVENTS: Final[tuple[str, ...]] = ("SnapshotByTimeOffset", "SampleSnapshot")
TENCENT_STATUSES: Final[tuple[str, ...]] = ("WAITING", "PROCESSING", "FINISH", "FAIL")
HUAWEI_STATUSES: Final[tuple[str, ...]] = ("NO_TASK", "WAITING", "PROCESSING", "SUCCEEDED", "FAILED", "CANCELED")
HUAWEI_ENDED_STATUSES: Final[frozenset[str]] = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})
MAX_REPLAY_URL_BYTES: Final = 1024

UNKNOWN_TENCENT_CODE: Final = 2
"""What an unknown Tencent TaskId answers. ZEGO does not document it; Tencent VOD itself rejects an
unknown TaskId as an invalid parameter, so the simulator answers Code 2 (a catch-all template in the
scenario can script anything else)."""
UNKNOWN_TENCENT_MESSAGE: Final = "invalid parameter: TaskId does not exist"

_STATUSES: Final[Mapping[Vendor, tuple[str, ...]]] = {
    Vendor.TENCENT: TENCENT_STATUSES,
    Vendor.HUAWEI: HUAWEI_STATUSES,
}
# Fields a ``final`` block may set, per vendor, with the JSON type each must have.
_FINAL_FIELDS: Final[Mapping[Vendor, Mapping[str, type]]] = {
    Vendor.TENCENT: {"FileId": str, "ReplayUrl": str, "Message": str, "RequestId": str, "ThumbnailsUrl": list},
    Vendor.HUAWEI: {"CreateTime": str, "EndTime": str, "FileName": list},
}
# A Huawei merge is never answered by DescribeMediaTask: its final state only feeds its compose callback.
_HUAWEI_COMPOSE_FIELDS: Final[Mapping[str, type]] = {"ReplayUrl": str}
_HUAWEI_TIME = re.compile(r"\d{14}")
_TASK_KEYS: Final = frozenset(
    {
        "task_id",
        "vendor",
        "event",
        "timeline",
        "final",
        "stays",
        "code",
        "message",
        "allow_unknown_status",
        "clock",
        "callback",
    }
)
_CALLBACK_KEYS: Final = frozenset({"fate", "code", "message", "delay_seconds"})
_DOC_KEYS: Final = frozenset({"description"})


class ScenarioError(ValueError):
    """A scenario file or task specification is invalid; the message says where and why."""


class TimelineClock(StrEnum):
    """When a task's timeline starts."""

    FIRST_QUERY = "first_query"
    """At the first DescribeMediaTask query that reaches the task (the default): a test can create a task,
    wait, and still see the whole timeline."""
    CREATED = "created"
    """When the task is created: at simulator start for scenario tasks, at ``add_task`` for later ones.
    The default, and the only choice, for a Huawei merge, which nobody can poll."""


class CallbackFate(StrEnum):
    """What happens to a task's completion callback; also the names of the callback faults. Each value is its
    member's name in lower case (``BAD_SIGNATURE`` is ``bad_signature``), as scenario files spell it."""

    SEND = auto()
    """Delivered normally, whatever the random callback faults say."""
    NONE = auto()
    """No callback at all (as if none were configured for this task); nothing is logged."""
    LOST = auto()
    """Never sent (logged as lost)."""
    DUPLICATE = auto()
    """Sent twice: two deliveries of the same body, each with its own retries."""
    DELAYED = auto()
    """Sent ``delay_seconds`` (scenario seconds) late."""
    REORDERED = auto()
    """Held back until a later callback has been sent (so it overtakes this one), or until a hold limit."""
    BAD_SIGNATURE = auto()
    """Sent with a wrong signature; a receiver that rejects it makes ZEGO retry, then drop it."""


@dataclass(frozen=True, slots=True)
class CallbackScript:
    """A task's scripted completion callback. ``fate`` ``None`` leaves it to the random callback faults;
    ``code``/``message`` set a compose callback's result code and text; ``delay_seconds`` goes with the
    ``delayed`` fate (default: the fault settings' delay)."""

    fate: CallbackFate | None = None
    code: int | None = None
    message: str | None = None
    delay_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One timeline step: the task answers ``status`` for ``seconds`` scenario seconds."""

    status: str
    seconds: float


@dataclass(frozen=True, slots=True)
class FinalState:
    """Where a timeline ends: the status and the vendor fields (vendor spelling, e.g. ``FileId``).

    ``extra`` is merged into the vendor block as is (new fields, ``null`` values); ``omit`` removes
    fields from it. Both exist to exercise a parser's tolerance.
    """

    status: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    omit: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What one task answers. Give exactly one of ``final`` (with an optional ``timeline``),
    ``stays`` (a status answered forever) or ``code`` (a non-zero return code answered forever).

    Construction validates the specification and raises ``ScenarioError``.
    """

    task_id: str
    vendor: Vendor
    event: str | None = None
    timeline: tuple[Step, ...] = ()
    final: FinalState | None = None
    stays: str | None = None
    code: int | None = None
    message: str | None = None
    allow_unknown_status: bool = False
    clock: TimelineClock | None = None
    """``None``: ``created`` for a Huawei merge, ``first_query`` otherwise (see ``timeline_clock``)."""
    callback: CallbackScript | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.task_id, str) or not self.task_id.strip():
            raise ScenarioError(f"task_id must be a non-empty string, got {self.task_id!r}")
        try:
            object.__setattr__(self, "vendor", Vendor(self.vendor))
        except ValueError:
            raise ScenarioError(
                f"{self._label()}: vendor must be one of {[v.value for v in Vendor]}, got {self.vendor!r}"
            ) from None
        object.__setattr__(self, "timeline", tuple(self.timeline))
        self._check_mode()
        self._check_event()
        for index, step in enumerate(self.timeline):
            self._check_status(step.status, f"timeline[{index}].status")
            if isinstance(step.seconds, bool) or not isinstance(step.seconds, int | float):
                raise ScenarioError(f"{self._label()}: timeline[{index}].seconds must be a number")
            if not math.isfinite(step.seconds) or step.seconds <= 0:
                raise ScenarioError(
                    f"{self._label()}: timeline[{index}].seconds must be a positive number, got {step.seconds}"
                )
        if self.stays is not None:
            self._check_status(self.stays, "stays")
        if self.final is not None:
            self._check_final(self.final)
        self._check_clock()
        self._check_callback()

    @property
    def timeline_clock(self) -> TimelineClock:
        """When this task's timeline starts."""
        if self.clock is not None:
            return self.clock
        return TimelineClock.CREATED if self.is_huawei_compose else TimelineClock.FIRST_QUERY

    @property
    def is_huawei_compose(self) -> bool:
        """A Huawei merge: DescribeMediaTask cannot query it (NO_TASK forever); only its callback tells."""
        return self.vendor is Vendor.HUAWEI and self.event == "compose"

    @property
    def timeline_seconds(self) -> float:
        """Total scenario seconds before the final state is answered."""
        return sum(step.seconds for step in self.timeline)

    def status_at(self, elapsed: float) -> tuple[str, bool]:
        """The status answered ``elapsed`` scenario seconds after the first query, and whether it is
        the final state. Not meaningful for a ``code`` task."""
        if self.stays is not None:
            return self.stays, False
        boundary = 0.0
        for step in self.timeline:
            boundary += step.seconds
            if elapsed < boundary:
                return step.status, False
        if self.final is None:  # pragma: no cover - excluded by validation
            raise ScenarioError(f"{self._label()} has no final state")
        return self.final.status, True

    @classmethod
    def from_dict(cls, data: object, *, where: str = "task") -> TaskSpec:
        """Parse one task in the scenario file format; errors name ``where`` and the field."""
        spec_data = _require_object(data, where)
        _refuse_unknown_fields(spec_data, _TASK_KEYS | _DOC_KEYS, where)
        task_id = spec_data.get("task_id")
        if not isinstance(task_id, str):
            raise ScenarioError(f"{where}: task_id is required and must be a string")
        return cls._from_fields(spec_data, task_id=task_id, position=where)

    @classmethod
    def _from_fields(cls, data: Mapping[str, Any], *, task_id: str, position: str) -> TaskSpec:
        """A task from its fields (a task's, or a template's with its pattern as ``task_id``)."""
        vendor = data.get("vendor")
        if not isinstance(vendor, str):
            raise ScenarioError(f"{position} ({task_id!r}): vendor is required: 'Tencent' or 'Huawei'")
        # Type errors name the position and the task; semantic ones (from __post_init__) get the position.
        where = f"{position}: task {task_id!r} ({vendor})"
        timeline_data = data.get("timeline", [])
        if not isinstance(timeline_data, list):
            raise ScenarioError(f"{where}: timeline must be a list of {{'status', 'seconds'}} steps")
        steps = []
        for index, step_data in enumerate(timeline_data):
            step = _require_object(step_data, f"{where}: timeline[{index}]")
            if set(step) != {"status", "seconds"}:
                raise ScenarioError(
                    f"{where}: timeline[{index}] must have exactly 'status' and 'seconds', got {sorted(step)}"
                )
            steps.append(Step(status=step["status"], seconds=step["seconds"]))
        final = None
        if "final" in data:
            final = _parse_final(data["final"], f"{where}: final")
        code = data.get("code")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
            raise ScenarioError(f"{where}: code must be an integer, got {code!r}")
        for name in ("event", "stays", "message"):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise ScenarioError(f"{where}: {name} must be a string, got {value!r}")
        allow_unknown = data.get("allow_unknown_status", False)
        if not isinstance(allow_unknown, bool):
            raise ScenarioError(f"{where}: allow_unknown_status must be true or false")
        clock = data.get("clock")
        clocks = [choice.value for choice in TimelineClock]
        if clock is not None and clock not in clocks:
            raise ScenarioError(f"{where}: clock must be one of {clocks}, got {clock!r}")
        callback = _parse_callback(data["callback"], f"{where}: callback") if "callback" in data else None
        try:
            return cls(
                task_id=task_id,
                vendor=vendor,  # type: ignore[arg-type]  # converted and checked in __post_init__
                event=data.get("event"),
                timeline=tuple(steps),
                final=final,
                stays=data.get("stays"),
                code=code,
                message=data.get("message"),
                allow_unknown_status=allow_unknown,
                clock=TimelineClock(clock) if clock is not None else None,
                callback=callback,
            )
        except ScenarioError as error:
            raise ScenarioError(f"{position}: {error}") from None

    def _label(self) -> str:
        return f"task {self.task_id!r} ({self.vendor})"

    def _check_mode(self) -> None:
        if self.timeline and self.final is None:
            raise ScenarioError(f"{self._label()}: a timeline needs a 'final' state to end in")
        modes = (("final", self.final), ("stays", self.stays), ("code", self.code))
        given = [name for name, value in modes if value is not None]
        if len(given) != 1:
            raise ScenarioError(
                f"{self._label()}: give exactly one of 'final' (with an optional 'timeline'), "
                f"'stays' or 'code'; got {given or 'none'}"
            )
        if self.code is not None and self.code == 0:
            raise ScenarioError(f"{self._label()}: code must be non-zero (Code 0 answers come from 'final')")
        if self.message is not None and self.code is None:
            raise ScenarioError(f"{self._label()}: 'message' goes with 'code' (a failed task's text: final.Message)")

    def _check_event(self) -> None:
        if self.vendor is Vendor.TENCENT:
            if self.event not in TENCENT_EVENTS:
                raise ScenarioError(f"{self._label()}: event must be one of {list(TENCENT_EVENTS)}, got {self.event!r}")
        elif self.event is not None and self.event not in (*SNAPSHOT_EVENTS, "compose"):
            raise ScenarioError(
                f"{self._label()}: Huawei tasks are snapshots (DescribeMediaTask answers those) or merges "
                f"(answered by their compose callback only); event must be one of "
                f"{[*SNAPSHOT_EVENTS, 'compose']} or absent, got {self.event!r}"
            )
        if self.is_huawei_compose and self.final is None:
            raise ScenarioError(
                f"{self._label()}: a Huawei merge needs a 'final' state (it ends in its compose callback; "
                "DescribeMediaTask answers NO_TASK whatever is scripted)"
            )

    def _check_clock(self) -> None:
        if self.clock is not None and not isinstance(self.clock, TimelineClock):
            raise ScenarioError(f"{self._label()}: clock must be a TimelineClock, got {self.clock!r}")
        if self.is_huawei_compose and self.clock is TimelineClock.FIRST_QUERY:
            raise ScenarioError(
                f"{self._label()}: a Huawei merge cannot be queried, so its timeline runs from its creation "
                "(clock 'created')"
            )

    def _check_callback(self) -> None:
        script = self.callback
        if script is None:
            return
        if self.final is None:
            raise ScenarioError(f"{self._label()}: 'callback' goes with 'final' (a task that never ends sends none)")
        if script.fate is not None and not isinstance(script.fate, CallbackFate):
            raise ScenarioError(f"{self._label()}: callback fate must be a CallbackFate, got {script.fate!r}")
        if (script.code is not None or script.message is not None) and self.event != "compose":
            raise ScenarioError(f"{self._label()}: callback code/message belong to compose (merge) callbacks")
        if script.code is not None and (isinstance(script.code, bool) or not isinstance(script.code, int)):
            raise ScenarioError(f"{self._label()}: callback code must be an integer, got {script.code!r}")
        if script.message is not None and not isinstance(script.message, str):
            raise ScenarioError(f"{self._label()}: callback message must be a string, got {script.message!r}")
        if script.delay_seconds is not None:
            delay = script.delay_seconds
            if isinstance(delay, bool) or not isinstance(delay, int | float) or not math.isfinite(delay) or delay < 0:
                raise ScenarioError(f"{self._label()}: callback delay_seconds must be a non-negative number")
            if script.fate is not CallbackFate.DELAYED:
                raise ScenarioError(f"{self._label()}: callback delay_seconds goes with fate 'delayed'")

    def _check_status(self, status: object, where: str) -> None:
        if not isinstance(status, str) or not status:
            raise ScenarioError(f"{self._label()}: {where} must be a non-empty string, got {status!r}")
        allowed = _STATUSES[self.vendor]
        if status not in allowed and not self.allow_unknown_status:
            raise ScenarioError(
                f"{self._label()}: {where} {status!r} is not a {self.vendor} status {list(allowed)} "
                "(set allow_unknown_status to script one on purpose)"
            )

    def _check_final(self, final: FinalState) -> None:
        self._check_status(final.status, "final.status")
        allowed = _HUAWEI_COMPOSE_FIELDS if self.is_huawei_compose else _FINAL_FIELDS[self.vendor]
        for name, value in final.fields.items():
            if name not in allowed:
                raise ScenarioError(
                    f"{self._label()}: final.{name} is not a {self.vendor} field; allowed: {sorted(allowed)} "
                    "(use final.extra for anything else)"
                )
            if not isinstance(value, allowed[name]):
                raise ScenarioError(f"{self._label()}: final.{name} must be a {allowed[name].__name__}")
            if isinstance(value, list) and not all(isinstance(item, str) for item in value):
                raise ScenarioError(f"{self._label()}: final.{name} must be a list of strings")
        replay_url = final.fields.get("ReplayUrl", "")
        if len(replay_url.encode("utf-8")) > MAX_REPLAY_URL_BYTES:
            raise ScenarioError(f"{self._label()}: final.ReplayUrl is longer than {MAX_REPLAY_URL_BYTES} bytes")
        for name in ("CreateTime", "EndTime"):
            value = final.fields.get(name, "")
            if value and not _HUAWEI_TIME.fullmatch(value):
                raise ScenarioError(f"{self._label()}: final.{name} must be YYYYMMDDhhmmss (UTC), got {value!r}")


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """A task specification applied to every unlisted TaskId of ``vendor`` that fully matches
    ``match`` (a regular expression): lets a benchmark query any number of ids without listing them."""

    match: re.Pattern[str]
    prototype: TaskSpec

    @property
    def vendor(self) -> Vendor:
        """The vendor the template answers for."""
        return self.prototype.vendor

    def matches(self, vendor: Vendor, task_id: str) -> bool:
        """Whether this template scripts ``task_id`` queried with ``vendor``."""
        return vendor is self.prototype.vendor and self.match.fullmatch(task_id) is not None

    def instantiate(self, task_id: str) -> TaskSpec:
        """The template's specification for one concrete TaskId."""
        return replace(self.prototype, task_id=task_id)

    @classmethod
    def from_dict(cls, data: object, *, where: str = "template") -> TaskTemplate:
        """Parse one template: a task object with ``match`` instead of ``task_id``."""
        template = dict(_require_object(data, where))
        pattern = template.pop("match", None)
        if not isinstance(pattern, str) or not pattern:
            raise ScenarioError(f"{where}: match is required and must be a regular expression string")
        if "task_id" in template:
            raise ScenarioError(f"{where}: a template has 'match', not 'task_id'")
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            raise ScenarioError(f"{where}: match {pattern!r} is not a valid regular expression: {error}") from None
        _refuse_unknown_fields(template, (_TASK_KEYS - {"task_id"}) | {"match"} | _DOC_KEYS, where)
        prototype = TaskSpec._from_fields(template, task_id=pattern, position=where)
        if prototype.is_huawei_compose:
            raise ScenarioError(f"{where}: a Huawei merge cannot be a template (a query neither finds nor starts it)")
        return cls(match=compiled, prototype=prototype)


# Task kinds ``Scenario.generate`` can produce, and the default mix (weights, normalised).
GENERATED_KINDS: Final[tuple[str, ...]] = (
    "tencent-compose-finish",
    "tencent-transcode-finish",
    "tencent-transcode-fail",
    "tencent-snapshot-finish",
    "tencent-stuck",
    "tencent-file-missing",
    "huawei-snapshot-succeeded",
    "huawei-snapshot-failed",
    "huawei-no-task",
)
DEFAULT_MIX: Final[Mapping[str, float]] = {
    "tencent-compose-finish": 0.30,
    "tencent-transcode-finish": 0.20,
    "tencent-transcode-fail": 0.10,
    "tencent-snapshot-finish": 0.15,
    "huawei-snapshot-succeeded": 0.15,
    "huawei-snapshot-failed": 0.05,
    "huawei-no-task": 0.05,
}


@dataclass(frozen=True, slots=True)
class Scenario:
    """A set of scripted tasks (unique per vendor and TaskId) and templates for unlisted ids."""

    tasks: tuple[TaskSpec, ...] = ()
    templates: tuple[TaskTemplate, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "templates", tuple(self.templates))
        seen: set[tuple[Vendor, str]] = set()
        for spec in self.tasks:
            key = (spec.vendor, spec.task_id)
            if key in seen:
                raise ScenarioError(f"task {spec.task_id!r} ({spec.vendor}) is listed twice")
            seen.add(key)

    def task_ids(self, vendor: Vendor | None = None) -> list[str]:
        """The listed TaskIds, in file order, optionally of one vendor only."""
        return [spec.task_id for spec in self.tasks if vendor is None or spec.vendor is vendor]

    @classmethod
    def from_dict(cls, data: object) -> Scenario:
        """Parse and validate a scenario document (see ``devstack/scenarios/README.md``)."""
        document = _require_object(data, "scenario")
        unknown = set(document) - {"tasks", "templates", "description"}
        if unknown:
            raise ScenarioError(f"scenario: unknown top-level field(s) {sorted(unknown)}")
        tasks_data = document.get("tasks", [])
        templates_data = document.get("templates", [])
        if not isinstance(tasks_data, list):
            raise ScenarioError("scenario: tasks must be a list of task objects")
        if not isinstance(templates_data, list):
            raise ScenarioError("scenario: templates must be a list of template objects")
        description = document.get("description", "")
        if not isinstance(description, str):
            raise ScenarioError("scenario: description must be a string")
        return cls(
            tasks=tuple(TaskSpec.from_dict(item, where=f"tasks[{i}]") for i, item in enumerate(tasks_data)),
            templates=tuple(
                TaskTemplate.from_dict(item, where=f"templates[{i}]") for i, item in enumerate(templates_data)
            ),
            description=description,
        )

    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        """Read, parse and validate a scenario JSON file; errors name the file."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ScenarioError(f"{path}: cannot read scenario file: {error.strerror or error}") from None
        except json.JSONDecodeError as error:
            raise ScenarioError(f"{path}: not valid JSON: {error}") from None
        try:
            return cls.from_dict(data)
        except ScenarioError as error:
            raise ScenarioError(f"{path}: {error}") from None

    @classmethod
    def generate(
        cls,
        count: int,
        *,
        seed: int = 0,
        mix: Mapping[str, float] | None = None,
        duration_seconds: tuple[float, float] = (5.0, 60.0),
    ) -> Scenario:
        """``count`` tasks with realistic ids, drawn from ``mix`` (kind → weight, see
        ``GENERATED_KINDS``; default ``DEFAULT_MIX``) with timelines of ``duration_seconds`` scenario
        seconds. The same arguments always give the same scenario."""
        if count < 0:
            raise ScenarioError(f"count must not be negative, got {count}")
        weights = dict(DEFAULT_MIX if mix is None else mix)
        unknown = set(weights) - set(GENERATED_KINDS)
        if unknown:
            raise ScenarioError(f"mix: unknown kind(s) {sorted(unknown)}; known: {list(GENERATED_KINDS)}")
        if any(weight < 0 for weight in weights.values()) or sum(weights.values()) <= 0:
            raise ScenarioError("mix: weights must be non-negative with a positive sum")
        low, high = duration_seconds
        if not 0 < low <= high:
            raise ScenarioError(f"duration_seconds must satisfy 0 < low <= high, got {duration_seconds}")
        rng = random.Random(seed)
        kinds = list(weights)
        tasks: list[TaskSpec] = []
        seen: set[tuple[Vendor, str]] = set()
        while len(tasks) < count:
            kind = rng.choices(kinds, weights=[weights[k] for k in kinds])[0]
            spec = _generated_task(kind, rng, rng.uniform(low, high))
            if (spec.vendor, spec.task_id) not in seen:
                seen.add((spec.vendor, spec.task_id))
                tasks.append(spec)
        return cls(tasks=tuple(tasks), description=f"generated: {count} tasks, seed {seed}")


@dataclass(frozen=True, slots=True)
class TaskAnswer:
    """What the task layer answers: ``code`` 0 with a vendor ``block``, or a non-zero code alone."""

    code: int
    message: str
    block: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class TimelineStart:
    """When one timeline of a task started (compared by identity: a re-scripted or reset task gets a
    new one, which makes anything scheduled for the old one stale)."""

    monotonic: float
    wall: float


TimelineListener = Callable[[TaskSpec, TimelineStart], None]
"""Told (outside the book's lock) each time a task's timeline starts."""


class TaskBook:
    """The runtime task table: scripted tasks, templates, and when each task's timeline started.

    Thread-safe. Timelines start at the first ``answer`` for a (vendor, TaskId), or, for tasks whose
    clock is ``created``, at ``start_created_timelines`` (or at ``add`` after that); ``add`` replaces a
    task and restarts its timeline. ``monotonic``/``wall_clock`` are only read for ``created`` clocks.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        time_scale: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not math.isfinite(time_scale) or time_scale <= 0:
            raise ValueError(f"time_scale must be a positive number, got {time_scale}")
        scenario = scenario if scenario is not None else Scenario()
        self._time_scale = time_scale
        self._lock = threading.Lock()
        self._tasks: dict[tuple[Vendor, str], TaskSpec] = {(s.vendor, s.task_id): s for s in scenario.tasks}
        self._templates = scenario.templates
        self._first_seen: dict[tuple[Vendor, str], TimelineStart] = {}
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._created_clocks_running = False
        self._listeners: list[TimelineListener] = []

    @property
    def time_scale(self) -> float:
        """Real seconds per scenario second."""
        return self._time_scale

    def __len__(self) -> int:
        with self._lock:
            return len(self._tasks)

    def subscribe(self, listener: TimelineListener) -> None:
        """Tell ``listener`` about every timeline that starts from now on."""
        with self._lock:
            self._listeners.append(listener)

    def start_created_timelines(self) -> None:
        """Start the timeline of every task whose clock is ``created`` (the simulator calls this when it
        starts); such tasks added later start when added."""
        with self._lock:
            self._created_clocks_running = True
            started = self._start_created_locked()
        self._notify(started)

    def timeline_start(self, vendor: Vendor, task_id: str) -> TimelineStart | None:
        """When the task's current timeline started, or ``None`` if it has not started."""
        with self._lock:
            return self._first_seen.get((vendor, task_id))

    def is_current(self, spec: TaskSpec, start: TimelineStart) -> bool:
        """Whether ``spec`` still answers for its task and ``start`` is still its timeline's start."""
        with self._lock:
            key = (spec.vendor, spec.task_id)
            return self._tasks.get(key) is spec and self._first_seen.get(key) is start

    def add(self, spec: TaskSpec) -> None:
        """Script (or re-script) one task; its timeline starts again at its next query (or now, for a
        ``created`` clock once the simulator has started)."""
        started: list[tuple[TaskSpec, TimelineStart]] = []
        with self._lock:
            key = (spec.vendor, spec.task_id)
            self._tasks[key] = spec
            self._first_seen.pop(key, None)
            if self._created_clocks_running and spec.timeline_clock is TimelineClock.CREATED:
                started = self._start_created_locked()
        self._notify(started)

    def get(self, vendor: Vendor, task_id: str) -> TaskSpec | None:
        """The specification answering for this task (listed or from a template), if any."""
        with self._lock:
            return self._lookup(vendor, task_id)

    def reset_timelines(self) -> None:
        """Forget every timeline start: each task starts its timeline again at its next query (tasks
        with a ``created`` clock start again now, once the simulator has started)."""
        started: list[tuple[TaskSpec, TimelineStart]] = []
        with self._lock:
            self._first_seen.clear()
            if self._created_clocks_running:
                started = self._start_created_locked()
        self._notify(started)

    def answer(
        self, vendor: Vendor, task_id: str, *, now: float, wall_now: float, vendor_request_id: str
    ) -> TaskAnswer:
        """The answer for one query at monotonic time ``now`` (wall time ``wall_now``, Unix seconds).

        ``vendor_request_id`` becomes Tencent's own ``RequestId`` field.
        """
        with self._lock:
            spec = self._lookup(vendor, task_id)
            if spec is None:
                if vendor is Vendor.HUAWEI:
                    return TaskAnswer(0, "success", _huawei_block(task_id, "NO_TASK", None, "", ""))
                return TaskAnswer(UNKNOWN_TENCENT_CODE, UNKNOWN_TENCENT_MESSAGE)
            if spec.code is not None:
                return TaskAnswer(spec.code, spec.message or "")
            if spec.is_huawei_compose:
                # DescribeMediaTask supports Huawei snapshot tasks only; NO_TASK is Huawei's documented
                # "does not exist". The query does not start the merge's timeline: its creation did.
                return TaskAnswer(0, "success", _huawei_block(task_id, "NO_TASK", None, "", ""))
            first = self._first_seen.get((vendor, task_id))
            is_new = first is None
            if first is None:
                first = self._first_seen[(vendor, task_id)] = TimelineStart(now, wall_now)
        if is_new:
            self._notify([(spec, first)])
        # Rounded to the microsecond so that a boundary reached in real time is reached in scenario time.
        elapsed = round(max(0.0, now - first.monotonic) / self._time_scale, 6)
        status, is_final = spec.status_at(elapsed)
        final = spec.final if is_final else None
        if vendor is Vendor.TENCENT:
            block = _tencent_block(spec, status, final, vendor_request_id)
        else:
            create_time = "" if status == "NO_TASK" else huawei_time(first.wall)
            end_time = ""
            if is_final and status in HUAWEI_ENDED_STATUSES:
                end_time = huawei_time(first.wall + spec.timeline_seconds * self._time_scale)
            block = _huawei_block(task_id, status, final, create_time, end_time)
        if final is not None:
            block.update(json.loads(json.dumps(dict(final.extra))))  # a deep copy, never shared
            for name in final.omit:
                block.pop(name, None)
        return TaskAnswer(0, "success", block)

    def _start_created_locked(self) -> list[tuple[TaskSpec, TimelineStart]]:
        started = []
        now, wall_now = self._monotonic(), self._wall_clock()
        for key, spec in self._tasks.items():
            if spec.timeline_clock is TimelineClock.CREATED and key not in self._first_seen:
                start = self._first_seen[key] = TimelineStart(now, wall_now)
                started.append((spec, start))
        return started

    def _notify(self, started: Sequence[tuple[TaskSpec, TimelineStart]]) -> None:
        if not started:
            return
        with self._lock:
            listeners = list(self._listeners)
        for spec, start in started:
            for listener in listeners:
                listener(spec, start)

    def _lookup(self, vendor: Vendor, task_id: str) -> TaskSpec | None:
        spec = self._tasks.get((vendor, task_id))
        if spec is None:
            for template in self._templates:
                if template.matches(vendor, task_id):
                    spec = template.instantiate(task_id)
                    self._tasks[(vendor, task_id)] = spec  # instantiate once; later queries reuse it
                    break
        return spec


def huawei_time(unix_seconds: float) -> str:
    """Huawei's vendor-side UTC time format, ``YYYYMMDDhhmmss``."""
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y%m%d%H%M%S")


def _tencent_block(spec: TaskSpec, status: str, final: FinalState | None, vendor_request_id: str) -> dict[str, Any]:
    block: dict[str, Any] = {
        "TaskId": spec.task_id,
        "Event": spec.event or "",
        "Status": status,
        "FileId": "",
        "ReplayUrl": "",
        "RequestId": vendor_request_id,
        "Message": "",
    }
    if spec.event in SNAPSHOT_EVENTS:
        block["ThumbnailsUrl"] = []
    if final is not None:
        block.update({name: list(value) if isinstance(value, list) else value for name, value in final.fields.items()})
    return block


def _huawei_block(
    task_id: str, status: str, final: FinalState | None, create_time: str, end_time: str
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "TaskId": task_id,
        "Status": status,
        "CreateTime": create_time,
        "EndTime": end_time,
        "FileName": [],
    }
    if final is not None:
        block.update({name: list(value) if isinstance(value, list) else value for name, value in final.fields.items()})
    return block


def _require_object(data: object, where: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a JSON object, got {type(data).__name__}")
    return data


def _refuse_unknown_fields(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    """A field the format does not know is an error, so that a misspelt one is never silently ignored."""
    unknown = set(data) - allowed
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


def _parse_callback(data: object, where: str) -> CallbackScript:
    """A task's ``callback``: a fate name, or an object with ``fate``, ``code``, ``message``, ``delay_seconds``."""
    fates = [fate.value for fate in CallbackFate]
    script: dict[str, Any] = {"fate": data} if isinstance(data, str) else dict(_require_object(data, where))
    _refuse_unknown_fields(script, _CALLBACK_KEYS, where)
    fate = script.get("fate")
    if fate is not None and fate not in fates:
        raise ScenarioError(f"{where}: fate must be one of {fates}, got {fate!r}")
    return CallbackScript(
        fate=CallbackFate(fate) if fate is not None else None,
        code=script.get("code"),
        message=script.get("message"),
        delay_seconds=script.get("delay_seconds"),
    )


def _parse_final(data: object, where: str) -> FinalState:
    final = dict(_require_object(data, where))
    status = final.pop("status", None)
    if not isinstance(status, str):
        raise ScenarioError(f"{where}: status is required and must be a string")
    extra = final.pop("extra", {})
    if not isinstance(extra, dict):
        raise ScenarioError(f"{where}: extra must be an object")
    omit = final.pop("omit", [])
    if not isinstance(omit, list) or not all(isinstance(name, str) for name in omit):
        raise ScenarioError(f"{where}: omit must be a list of field names")
    return FinalState(status=status, fields=final, extra=extra, omit=tuple(omit))


def _split_steps(rng: random.Random, duration: float, statuses: Sequence[str]) -> tuple[Step, ...]:
    """A timeline of ``duration`` seconds: a short first status, the rest in the second."""
    first = round(duration * rng.uniform(0.1, 0.3), 3)
    return (Step(statuses[0], first), Step(statuses[1], round(duration - first, 3)))


def _generated_task(kind: str, rng: random.Random, duration: float) -> TaskSpec:
    tencent_app = rng.randrange(1_400_000_000, 1_500_000_000)
    file_id = str(rng.randrange(10**18, 10**19))
    digest = f"{rng.getrandbits(128):032x}"
    procedure_id = f"{tencent_app}-procedurev2-{digest}tt0"
    vendor = Vendor.HUAWEI if kind.startswith("huawei-") else Vendor.TENCENT
    huawei_id = str(rng.randrange(100_000_000, 1_000_000_000)) if vendor is Vendor.HUAWEI else ""
    # Tasks that answer one thing forever have no timeline.
    if kind == "tencent-stuck":
        return TaskSpec(task_id=procedure_id, vendor=vendor, event="transcode", stays="PROCESSING")
    if kind == "tencent-file-missing":
        return TaskSpec(
            task_id=procedure_id, vendor=vendor, event="transcode", code=41003, message="file does not exist"
        )
    if kind == "huawei-no-task":
        return TaskSpec(task_id=huawei_id, vendor=vendor, stays="NO_TASK")
    # The others wait, process and end. The timeline is drawn before any random output (thumbnails, file
    # names), in the order a seed has always drawn them, so that a seed keeps generating the same tasks.
    timeline = _split_steps(rng, duration, ("WAITING", "PROCESSING"))

    def ends(task_id: str, event: str, status: str, fields: Mapping[str, Any] | None = None) -> TaskSpec:
        final = FinalState(status, dict(fields or {}))
        return TaskSpec(task_id=task_id, vendor=vendor, event=event, timeline=timeline, final=final)

    if kind == "tencent-compose-finish":
        replay_url = f"https://example-vod.zego.im/compose/{digest[:8]}/output.mp4"
        return ends(
            f"{tencent_app}-ComposeMedia-{digest}tt0", "compose", "FINISH", {"FileId": file_id, "ReplayUrl": replay_url}
        )
    if kind == "tencent-transcode-finish":
        replay_url = f"https://example-vod.zego.im/transcode/{digest[:8]}/v.f100030.mp4"
        return ends(procedure_id, "transcode", "FINISH", {"FileId": file_id, "ReplayUrl": replay_url})
    if kind == "tencent-transcode-fail":
        return ends(procedure_id, "transcode", "FAIL", {"Message": "source file is corrupted"})
    if kind == "tencent-snapshot-finish":
        base = f"http://vod-tc-restorefile.zego.im/{digest[:8]}/{file_id}/sampleSnapshot/sampleSnapshot_10"
        thumbnails = [f"{base}_{i}.jpg" for i in range(rng.randint(1, 4))]
        return ends(procedure_id, "SampleSnapshot", "FINISH", {"FileId": file_id, "ThumbnailsUrl": thumbnails})
    if kind == "huawei-snapshot-succeeded":
        folder = f"record/snapshot/{digest[:12]}"
        file_names = [f"{folder}/{i * 10}.jpg" for i in range(rng.randint(1, 4))]
        return ends(huawei_id, "SnapshotByTimeOffset", "SUCCEEDED", {"FileName": file_names})
    if kind == "huawei-snapshot-failed":
        return ends(huawei_id, "SnapshotByTimeOffset", "FAILED")
    raise ScenarioError(f"unknown task kind {kind!r}")  # pragma: no cover - mix is checked first
