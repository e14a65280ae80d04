"""ZEGO's completion callbacks: what the simulator POSTs when a scripted task reaches its final state.

Written from ZEGO's documentation (``/work/shared/zego/REFERENCE.md``, "Completion callbacks"), not from
the product's receiver, so the two can disagree and a test can tell.

- **Payloads** (``callback_fields``, ``callback_body``): ``compose`` for merges (Tencent and Huawei; no
  vendor field, ``file_id`` and ``message`` Tencent only), ``procedure`` for Tencent transcodes
  (``extra_params`` a string holding JSON), ``snapshot`` for snapshots (``vendor`` ``tencent``/``hw``,
  ``snapshot_pic_list`` a string holding a JSON array). Every value is a string, as ZEGO sends.
- **Signature** (``sign_callback``): SHA-1, lowercase hex, of CallbackSecret, ``timestamp`` and
  ``nonce`` sorted in dictionary order and concatenated. The CallbackSecret is not the ServerSecret.
- **Delivery** (``CallbackDispatcher``): the first try when the task ends; any 2xx is success; otherwise,
  or without an answer within ``timeout_seconds``, up to 5 retries 2, 4, 8, 16 and 32 s after the
  previous try (times ``time_scale``), then the callback is dropped. Every retry resends the same body.
- **Faults** (``CallbackFaultSettings``, or a task's ``callback`` fate): lost, duplicate, delayed,
  reordered, bad signature. ZEGO says callbacks can be lost, duplicated or out of order; a receiver must
  cope, and polling stays the backstop.

Deliveries run on worker threads fed by a time-ordered queue, so DescribeMediaTask answers never wait
for a callback; ``deliver_due`` runs the same logic synchronously on an injected clock (tests).
"""

from __future__ import annotations

import hashlib
import heapq
import http.client
import itertools
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, TypedDict, Unpack
from urllib.parse import urlsplit

from devstack.zego_simulator.faults import ExclusiveRates
from devstack.zego_simulator.record_log import RecordLog
from devstack.zego_simulator.scenario import (
    SNAPSHOT_EVENTS,
    CallbackFate,
    TaskBook,
    TaskSpec,
    TimelineStart,
    Vendor,
)

logger = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS: Final[tuple[float, ...]] = (2.0, 4.0, 8.0, 16.0, 32.0)
"""ZEGO's retry schedule: seconds after the previous try, five retries, then the callback is dropped."""
DEFAULT_TIMEOUT_SECONDS: Final = 2.0
CONTENT_TYPE: Final = "application/json"
FAILED_COMPOSE_CODE: Final = 60000
"""The compose ``code`` of a failed Tencent merge unless the task scripts another (60000: bad source file)."""
FAILED_COMPOSE_MESSAGE: Final = "bad source file"
_SUCCESS_STATUSES: Final = frozenset({"FINISH", "SUCCEEDED"})
_UINT32_MAX: Final = 2**32 - 1
_MAX_IDLE_WAIT: Final = 0.5
"""Workers re-read the clock at least this often (real seconds), so an injected clock is followed too."""
_WRONG_SECRET: Final = "not-the-callback-secret"  # noqa: S105 - deliberately wrong, signs bad-signature faults


class CallbackEvent(StrEnum):
    """The ``event`` field of the callbacks the simulator sends."""

    COMPOSE = "compose"
    PROCEDURE = "procedure"
    SNAPSHOT = "snapshot"


class CallbackOutcome(StrEnum):
    """What one callback log record says happened."""

    DELIVERED = "delivered"
    """The receiver answered 2xx."""
    RETRY = "retry"
    """This try failed; another follows (``next_attempt_in`` real seconds later)."""
    DROPPED = "dropped"
    """This try failed and was the last one: the callback is dropped."""
    LOST = "lost"
    """A ``lost`` fault: nothing was sent."""
    OVERFLOW = "overflow"
    """The delivery queue was full: nothing was sent."""


# --------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------

_CALLBACK_FAULTS: Final = ExclusiveRates(
    (
        ("lost_rate", CallbackFate.LOST),
        ("duplicate_rate", CallbackFate.DUPLICATE),
        ("delayed_rate", CallbackFate.DELAYED),
        ("reordered_rate", CallbackFate.REORDERED),
        ("bad_signature_rate", CallbackFate.BAD_SIGNATURE),
    ),
    per="a callback",
)


@dataclass(frozen=True, slots=True)
class CallbackFaultSettings:
    """Callback fault knobs. Rates are probabilities per callback in [0, 1], together at most 1 (a
    callback gets at most one fault); seconds are scenario seconds (times ``time_scale``)."""

    lost_rate: float = 0.0
    duplicate_rate: float = 0.0
    delayed_rate: float = 0.0
    delay_seconds: float = 30.0
    """How late a delayed callback is sent."""
    reordered_rate: float = 0.0
    bad_signature_rate: float = 0.0

    def __post_init__(self) -> None:
        _CALLBACK_FAULTS.check(self, subject="callback ")


class CallbackFaultChanges(TypedDict, total=False):
    """Some of the :class:`CallbackFaultSettings` knobs, by name: what ``configure_faults`` changes."""

    lost_rate: float
    duplicate_rate: float
    delayed_rate: float
    delay_seconds: float
    reordered_rate: float
    bad_signature_rate: float


@dataclass(frozen=True, slots=True)
class CallbackSettings:
    """Where and how the simulator sends completion callbacks.

    ``url`` is the receiver (``http://`` or ``https://``); ``secret`` the CallbackSecret (never the
    ServerSecret; never shown by ``repr``); ``app_id`` the ``appid`` sent (``None``: the simulator's only
    AppId). ``timeout_seconds`` (real seconds) bounds each try. ``retry_delays`` are scenario seconds
    after the previous try. ``max_pending`` bounds the queue. ``duplicate_gap_seconds`` separates the
    two copies of a duplicated callback; ``reorder_hold_seconds`` is the longest a reordered callback
    waits for a later one to overtake it (both scenario seconds).
    """

    url: str
    secret: str = field(repr=False)
    app_id: int | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    faults: CallbackFaultSettings = field(default_factory=CallbackFaultSettings)
    max_pending: int = 10_000
    workers: int = 2
    duplicate_gap_seconds: float = 1.0
    reorder_hold_seconds: float = 60.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url) if isinstance(self.url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the callback URL must be an http:// or https:// URL with a host")
        if not isinstance(self.secret, str) or not self.secret:
            raise ValueError("the CallbackSecret must be a non-empty string")
        if self.app_id is not None and (
            isinstance(self.app_id, bool) or not isinstance(self.app_id, int) or not 0 <= self.app_id <= _UINT32_MAX
        ):
            raise ValueError(f"the callback AppId must be a uint32, got {self.app_id!r}")
        object.__setattr__(self, "retry_delays", tuple(self.retry_delays))
        for name, value in (
            ("timeout_seconds", self.timeout_seconds),
            ("reorder_hold_seconds", self.reorder_hold_seconds),
            *(("retry_delays", delay) for delay in self.retry_delays),
        ):
            if not _is_number(value) or value <= 0:
                raise ValueError(f"callback {name} must be positive numbers, got {value!r}")
        if not _is_number(self.duplicate_gap_seconds) or self.duplicate_gap_seconds < 0:
            raise ValueError(f"callback duplicate_gap_seconds must not be negative, got {self.duplicate_gap_seconds!r}")
        for name, count in (("max_pending", self.max_pending), ("workers", self.workers)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"callback {name} must be a positive integer, got {count!r}")

    @property
    def safe_url(self) -> str:
        """The URL without credentials or query string, for logs."""
        parts = urlsplit(self.url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


# --------------------------------------------------------------------------------------------------
# Payloads and signature
# --------------------------------------------------------------------------------------------------


def sign_callback(secret: str, timestamp: str, nonce: str) -> str:
    """ZEGO's callback signature: lowercase hex SHA-1 of the CallbackSecret, ``timestamp`` and ``nonce``
    sorted in dictionary order and concatenated."""
    material = "".join(sorted((secret, timestamp, nonce))).encode()
    return hashlib.sha1(material, usedforsecurity=False).hexdigest()


def callback_event(spec: TaskSpec) -> CallbackEvent | None:
    """The callback a task sends when its timeline ends (``None``: it never ends, so sends none)."""
    if spec.final is None:
        return None
    if spec.event == "compose":
        return CallbackEvent.COMPOSE
    if spec.event == "transcode":
        return CallbackEvent.PROCEDURE
    if spec.event in SNAPSHOT_EVENTS or (spec.vendor is Vendor.HUAWEI and spec.event is None):
        return CallbackEvent.SNAPSHOT
    return None  # pragma: no cover - excluded by TaskSpec validation


def callback_fields(spec: TaskSpec) -> tuple[CallbackEvent, dict[str, str]]:
    """The event and the event's own fields of a task's callback (without ``appid``, ``event``,
    ``timestamp``, ``nonce``, ``signature``), from its ``final`` state and ``callback`` script."""
    event = callback_event(spec)
    if event is None or spec.final is None:
        raise ValueError(f"task {spec.task_id!r} ({spec.vendor}) never ends, so it sends no callback")
    final = spec.final.fields
    succeeded = spec.final.status in _SUCCESS_STATUSES
    script = spec.callback
    if event is CallbackEvent.COMPOSE:
        payload = {"task_id": spec.task_id, "replay_url": str(final.get("ReplayUrl", ""))}
        if spec.vendor is Vendor.HUAWEI:
            # No file_id and no message for Huawei; its code is not meaningful (ZEGO documents Tencent's only).
            payload["code"] = str(script.code if script is not None and script.code is not None else 0)
            return event, payload
        code = script.code if script is not None and script.code is not None else None
        if code is None:
            code = 0 if succeeded else FAILED_COMPOSE_CODE
        message = script.message if script is not None and script.message is not None else None
        if message is None:
            message = "" if code == 0 else str(final.get("Message") or FAILED_COMPOSE_MESSAGE)
        payload.update({"file_id": str(final.get("FileId", "")), "code": str(code), "message": message})
        return event, payload
    if event is CallbackEvent.PROCEDURE:
        return event, {
            "task_id": spec.task_id,
            "status": "SUCCESS" if succeeded else "FAILED",
            "file_id": str(final.get("FileId", "")),
            # ZEGO: FAILED carries an empty extra_params.
            "extra_params": _compact({"media": {"transcode": [_transcode_result(spec)]}}) if succeeded else "",
        }
    payload = {"task_id": spec.task_id, "vendor": "tencent" if spec.vendor is Vendor.TENCENT else "hw"}
    if spec.vendor is Vendor.TENCENT:
        payload["field_id"] = str(final.get("FileId", ""))  # ZEGO's spelling; the source file id, Tencent only
        urls = final.get("ThumbnailsUrl", [])
    else:
        urls = final.get("FileName", [])
    pictures: list[dict[str, Any]] = []
    for index, url in enumerate(urls if succeeded else []):
        picture: dict[str, Any] = {"url": url}
        if spec.vendor is Vendor.TENCENT and spec.event == "SnapshotByTimeOffset":
            picture["offset"] = index * 1000  # ms; ZEGO sends an offset for time-point snapshots only
        pictures.append(picture)
    payload["snapshot_pic_list"] = _compact(pictures)
    return event, payload


def callback_body(
    spec: TaskSpec, *, app_id: int, secret: str, timestamp: str, nonce: str, bad_signature: bool = False
) -> dict[str, str]:
    """The whole JSON object of a task's callback, signed with ``secret`` (or wrongly, on purpose)."""
    event, payload = callback_fields(spec)
    signature = sign_callback(_WRONG_SECRET if bad_signature else secret, timestamp, nonce)
    return {
        "appid": str(app_id),
        "event": event.value,
        **payload,
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": signature,
    }


def _compact(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _transcode_result(spec: TaskSpec) -> dict[str, Any]:
    """One ``transcode`` entry of ``extra_params``; media details are made up, the same for a TaskId."""
    rng = random.Random(spec.task_id)
    height, width = rng.choice(((540, 960), (720, 1280), (1080, 1920)))
    final = spec.final.fields if spec.final is not None else {}
    return {
        "code": "0",
        "message": "SUCCESS",
        "replay_url": str(final.get("ReplayUrl", "")),
        "size": rng.randrange(1_000_000, 50_000_000),
        "duration": round(rng.uniform(10.0, 600.0), 3),
        "video": {
            "bitrate": rng.randrange(200_000, 2_000_000),
            "codec": rng.choice(("h264", "hevc")),
            "fps": rng.choice((15, 24, 25, 30)),
            "height": height,
            "width": width,
        },
        "audio": {"bitrate": rng.randrange(32_000, 128_000), "codec": "aac", "sampling_rate": 44100},
    }


# --------------------------------------------------------------------------------------------------
# Transport
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The answer to one try: an HTTP status, or none (``error`` says why: timeout, refused, ...)."""

    http_status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """Any 2xx counts as delivered, as with ZEGO."""
        return self.http_status is not None and 200 <= self.http_status <= 299


Transport = Callable[[str, bytes, Mapping[str, str], float], DeliveryResult]
"""POSTs ``body`` with ``headers`` to a URL within a timeout; never raises."""


def post_json(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> DeliveryResult:
    """One POST with ``http.client`` (redirects are not followed: a 3xx is a failed try, as any non-2xx)."""
    parts = urlsplit(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.hostname or "", parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=dict(headers))
        response = connection.getresponse()
        response.read()
        return DeliveryResult(response.status)
    except TimeoutError:
        return DeliveryResult(None, "timeout")
    except (OSError, http.client.HTTPException) as error:
        return DeliveryResult(None, f"{type(error).__name__}: {error}")
    finally:
        connection.close()


# --------------------------------------------------------------------------------------------------
# Callback log
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallbackRecord:
    """One delivery attempt (or a callback that was not sent at all). Never holds the secret or the
    signature."""

    task_id: str
    vendor: str
    """The vendor as the API spells it (``Tencent``/``Huawei``), whatever the payload says."""
    event: str
    copy: int
    """1, or 2 for the second copy of a duplicated callback."""
    attempt: int
    """1 for the first try, 2 to 6 for the retries; 0 when nothing was sent (lost, overflow)."""
    outcome: str
    """A ``CallbackOutcome``."""
    http_status: int | None
    """The receiver's HTTP status, ``None`` without an answer."""
    error: str | None
    """Why there was no answer (``timeout``, a connection error)."""
    fault: str | None
    """The callback fault (a ``CallbackFate``: lost, duplicate, delayed, reordered, bad_signature)."""
    nonce: str | None
    """The callback's nonce: the same on every copy and retry of one callback."""
    due: float
    """When this attempt was due (the simulator's monotonic clock)."""
    monotonic: float
    """When it started (same clock)."""
    wall_time: float
    """Unix seconds when it started."""
    duration_seconds: float
    """From sending to the answer (or the error)."""
    next_attempt_in: float | None
    """For ``retry``: real seconds from this try's end to the next try."""

    def as_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict (the JSON-lines file format)."""
        return asdict(self)


class CallbackLog(RecordLog[CallbackRecord]):
    """Every callback attempt, in memory (optionally bounded) and optionally as JSON lines; thread-safe."""


# --------------------------------------------------------------------------------------------------
# Dispatcher
# --------------------------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class _Ending:
    """A task's timeline ends at ``due``: build its callback then, if the timeline is still current."""

    spec: TaskSpec
    start: TimelineStart
    due: float
    seq: int


@dataclass(eq=False, slots=True)
class _Delivery:
    """One copy of one callback, through its tries."""

    spec: TaskSpec
    event: CallbackEvent
    body: bytes
    nonce: str
    fault: CallbackFate | None
    copy: int
    due: float
    seq: int
    """Order of the callback among callbacks (both copies share it): what ``reordered`` inverts."""
    attempt: int = 0
    held: bool = False
    """A reordered callback waiting for a later one to be sent first (``due`` is the hold limit)."""


class CallbackDispatcher:
    """Sends a task's completion callback when its timeline ends, with ZEGO's retries and injected faults.

    Subscribe ``task_started`` to the ``TaskBook``: each timeline start schedules the callback for the
    timeline's end. A re-scripted or reset task's old timeline sends nothing. ``start`` runs
    ``settings.workers`` threads; ``deliver_due`` does the same work synchronously (tests with an
    injected ``monotonic``). Thread-safe; the queue holds at most ``settings.max_pending`` callbacks.
    """

    def __init__(
        self,
        settings: CallbackSettings,
        book: TaskBook,
        *,
        app_id: int,
        seed: int | None = 0,
        transport: Transport = post_json,
        log: CallbackLog | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.log = log if log is not None else CallbackLog()
        self._book = book
        self._app_id = app_id
        self._transport = transport
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._faults = settings.faults
        self._fault_rng = random.Random(None if seed is None else seed + 2)
        self._nonce_rng = random.Random(None if seed is None else seed + 3)
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, _Ending | _Delivery]] = []
        self._entries = itertools.count()
        self._callbacks = itertools.count()
        self._held: list[_Delivery] = []
        self._workers: list[threading.Thread] = []
        self._stopping = False

    def __repr__(self) -> str:
        return f"CallbackDispatcher({self.settings.safe_url}, pending={self.pending})"

    # scheduling -----------------------------------------------------------------------------------

    def task_started(self, spec: TaskSpec, start: TimelineStart) -> None:
        """``TaskBook`` listener: schedule the task's callback for the end of the timeline that started."""
        if callback_event(spec) is None or (spec.callback is not None and spec.callback.fate is CallbackFate.NONE):
            return
        due = start.monotonic + spec.timeline_seconds * self._book.time_scale
        with self._cond:
            if self._stopping:
                return
            if len(self._queue) >= self.settings.max_pending:
                overflow = True
            else:
                overflow = False
                self._push(_Ending(spec, start, due, next(self._callbacks)))
        if overflow:
            logger.warning("callback queue full (%d); task %s sends none", self.settings.max_pending, spec.task_id)
            self._record_unsent(spec, CallbackOutcome.OVERFLOW, None, None, due)

    @property
    def pending(self) -> int:
        """Callbacks and tries waiting in the queue."""
        with self._cond:
            return sum(1 for due, _, item in self._queue if item.due == due)

    def next_due(self) -> float | None:
        """When the next try (or timeline end) is due, on the monotonic clock; ``None`` when idle."""
        with self._cond:
            self._discard_stale()
            return self._queue[0][0] if self._queue else None

    def clear(self) -> None:
        """Forget every pending callback and retry."""
        with self._cond:
            self._queue.clear()
            self._held.clear()

    # faults ---------------------------------------------------------------------------------------

    @property
    def faults(self) -> CallbackFaultSettings:
        """The callback fault knobs in force."""
        with self._cond:
            return self._faults

    def configure_faults(self, **changes: Unpack[CallbackFaultChanges]) -> CallbackFaultSettings:
        """Change the given knobs (the others stay); returns the new settings. Invalid ones raise
        ``ValueError`` and change nothing."""
        with self._cond:
            self._faults = replace(self._faults, **changes)
            return self._faults

    def replace_faults(self, settings: CallbackFaultSettings) -> None:
        """Put a whole new set of knobs in force (``CallbackFaultSettings()`` switches them off)."""
        with self._cond:
            self._faults = settings

    # running --------------------------------------------------------------------------------------

    def deliver_due(self) -> int:
        """Process, in this thread, everything due by now (tries included, and the tries they make due);
        returns how many items were processed."""
        processed = 0
        while True:
            with self._cond:
                item = self._pop_due(self._monotonic())
            if item is None:
                return processed
            self._process(item)
            processed += 1

    def start(self) -> None:
        """Start the worker threads."""
        with self._cond:
            if self._workers or self._stopping:
                raise RuntimeError("a CallbackDispatcher starts once")
            self._workers = [
                threading.Thread(target=self._work, name=f"zego-callbacks-{index}")
                for index in range(self.settings.workers)
            ]
        for worker in self._workers:
            worker.start()
        logger.info("completion callbacks to %s", self.settings.safe_url)

    def stop(self) -> None:
        """Stop the workers (a try in flight ends within ``timeout_seconds``) and drop what is pending.
        Idempotent."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.join()
        with self._cond:
            dropped = sum(1 for due, _, item in self._queue if item.due == due)
            self._queue.clear()
            self._held.clear()
        self.log.close()
        if dropped:
            logger.info("callbacks stopped; %d pending callbacks or retries dropped", dropped)

    def _work(self) -> None:
        while True:
            with self._cond:
                item = None
                while not self._stopping:
                    now = self._monotonic()
                    item = self._pop_due(now)
                    if item is not None:
                        break
                    self._discard_stale()
                    wait = self._queue[0][0] - now if self._queue else _MAX_IDLE_WAIT
                    self._cond.wait(min(max(wait, 0.0), _MAX_IDLE_WAIT))
                if item is None:
                    return
            self._process(item)

    # internals (``_cond`` held where the name ends in ``_locked`` or the caller says so) ------------

    def _push(self, item: _Ending | _Delivery) -> None:
        heapq.heappush(self._queue, (item.due, next(self._entries), item))
        self._cond.notify()

    def _discard_stale(self) -> None:
        # A released reordered callback leaves its old entry (at the hold limit) behind.
        while self._queue and self._queue[0][2].due != self._queue[0][0]:
            heapq.heappop(self._queue)

    def _pop_due(self, now: float) -> _Ending | _Delivery | None:
        self._discard_stale()
        if not self._queue or self._queue[0][0] > now:
            return None
        item = heapq.heappop(self._queue)[2]
        if isinstance(item, _Delivery) and item.held:
            item.held = False  # the hold limit: nobody overtook it
            self._held.remove(item)
        return item

    def _process(self, item: _Ending | _Delivery) -> None:
        if isinstance(item, _Ending):
            self._end(item)
        else:
            self._attempt(item)

    def _end(self, ending: _Ending) -> None:
        spec = ending.spec
        if not self._book.is_current(spec, ending.start):
            return  # re-scripted or reset since: that timeline never ends
        now, wall = self._monotonic(), self._wall_clock()
        scale = self._book.time_scale
        with self._cond:
            fate = self._fate_locked(spec)
            nonce = str(self._nonce_rng.randrange(100_000, 1_000_000_000))
        fault = fate if fate is not CallbackFate.SEND else None
        if fate is CallbackFate.NONE:
            return
        if fate is CallbackFate.LOST:
            self._record_unsent(spec, CallbackOutcome.LOST, fault, nonce, ending.due)
            return
        body = callback_body(
            spec,
            app_id=self._app_id,
            secret=self.settings.secret,
            timestamp=str(int(wall)),
            nonce=nonce,
            bad_signature=fate is CallbackFate.BAD_SIGNATURE,
        )
        encoded = _compact(body).encode()
        event = CallbackEvent(body["event"])
        first = _Delivery(spec, event, encoded, nonce, fault, copy=1, due=now, seq=ending.seq)
        if fate is CallbackFate.DELAYED:
            script = spec.callback
            delay = script.delay_seconds if script is not None and script.delay_seconds is not None else None
            first.due = now + (delay if delay is not None else self.faults.delay_seconds) * scale
        with self._cond:
            if fate is CallbackFate.REORDERED:
                first.held = True
                first.due = now + self.settings.reorder_hold_seconds * scale
                self._held.append(first)
            self._push(first)
            if fate is CallbackFate.DUPLICATE:
                gap = self.settings.duplicate_gap_seconds * scale
                self._push(replace(first, copy=2, due=now + gap))

    def _fate_locked(self, spec: TaskSpec) -> CallbackFate:
        if spec.callback is not None and spec.callback.fate is not None:
            return spec.callback.fate
        fate = _CALLBACK_FAULTS.draw(self._faults, self._fault_rng)
        return CallbackFate.SEND if fate is None else fate

    def _attempt(self, delivery: _Delivery) -> None:
        due = delivery.due
        delivery.attempt += 1
        started, wall = self._monotonic(), self._wall_clock()
        headers = {"Content-Type": CONTENT_TYPE, "User-Agent": "zego-simulator"}
        try:
            result = self._transport(self.settings.url, delivery.body, headers, self.settings.timeout_seconds)
        except Exception as error:  # a transport must not kill a worker
            result = DeliveryResult(None, f"{type(error).__name__}: {error}")
        finished = self._monotonic()
        retries = self.settings.retry_delays
        next_in: float | None = None
        if result.delivered:
            outcome = CallbackOutcome.DELIVERED
        elif delivery.attempt <= len(retries):
            outcome = CallbackOutcome.RETRY
            next_in = retries[delivery.attempt - 1] * self._book.time_scale
        else:
            outcome = CallbackOutcome.DROPPED
        self.log.append(
            CallbackRecord(
                task_id=delivery.spec.task_id,
                vendor=delivery.spec.vendor.value,
                event=delivery.event.value,
                copy=delivery.copy,
                attempt=delivery.attempt,
                outcome=outcome.value,
                http_status=result.http_status,
                error=result.error,
                fault=delivery.fault.value if delivery.fault is not None else None,
                nonce=delivery.nonce,
                due=due,
                monotonic=started,
                wall_time=wall,
                duration_seconds=finished - started,
                next_attempt_in=next_in,
            )
        )
        logger.debug(
            "callback %s task_id=%s copy=%d attempt=%d -> http=%s error=%s (%s)",
            delivery.event.value,
            delivery.spec.task_id,
            delivery.copy,
            delivery.attempt,
            result.http_status,
            result.error,
            outcome.value,
        )
        with self._cond:
            if next_in is not None and not self._stopping:
                delivery.due = finished + next_in
                self._push(delivery)
            if delivery.attempt == 1 and delivery.fault is not CallbackFate.REORDERED:
                self._release_overtaken_locked(delivery, finished)

    def _release_overtaken_locked(self, later: _Delivery, now: float) -> None:
        # ``later`` has just been tried: every reordered callback that should have gone before it goes now.
        for held in [held for held in self._held if held.seq < later.seq]:
            self._held.remove(held)
            held.held = False
            held.due = now
            self._push(held)

    def _record_unsent(
        self, spec: TaskSpec, outcome: CallbackOutcome, fault: CallbackFate | None, nonce: str | None, due: float
    ) -> None:
        event = callback_event(spec)
        self.log.append(
            CallbackRecord(
                task_id=spec.task_id,
                vendor=spec.vendor.value,
                event=event.value if event is not None else "",
                copy=1,
                attempt=0,
                outcome=outcome.value,
                http_status=None,
                error=None,
                fault=fault.value if fault is not None else None,
                nonce=nonce,
                due=due,
                monotonic=self._monotonic(),
                wall_time=self._wall_clock(),
                duration_seconds=0.0,
                next_attempt_in=None,
            )
        )


def resolve_app_id(settings: CallbackSettings, app_ids: Sequence[int]) -> int:
    """The ``appid`` callbacks carry: the configured one, else the simulator's only AppId."""
    if settings.app_id is not None:
        return settings.app_id
    if len(app_ids) != 1:
        raise ValueError(f"the simulator serves {len(app_ids)} AppIds; say which one callbacks carry (app_id)")
    return app_ids[0]
