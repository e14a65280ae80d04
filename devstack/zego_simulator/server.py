"""The ZEGO simulator: DescribeMediaTask's wire contract over HTTP on loopback.

Layers, outermost first:

- ``ZegoSimulator``: owns a ``ThreadingHTTPServer`` on 127.0.0.1 in a background thread; ``start``,
  ``stop``, context manager; runtime knobs (tasks, faults) and the call log.
- ``_RequestHandler``: turns an HTTP request into ``ZegoService.handle`` and plays the ``Reply`` back
  (delay, hang, body), then records the call.
- ``ZegoService``: the contract itself, without sockets (unit-tested with fake clocks). Per call:
  1. path ``/`` and ``Action=DescribeMediaTask`` (else Code 2), common parameters present and well
     formed (else Code 2);
  2. authentication: AppId configured (else 7), ``SignatureVersion=2.0`` (else 7: a wrong version is
     our configuration, not the task's fault), Timestamp within ``max_skew_seconds`` (else 100000004),
     signature (else 100000005);
  3. the per-AppId rate limit over a sliding one-second window (else Code 6 with ``Data: {}``); only
     admitted calls enter the window;
  4. at most one injected fault (so authentication answers stay deterministic whatever the knobs);
  5. ``Vendor``/``TaskId`` checked (else Code 2) and the task answered from the ``TaskBook``.
  ``latency_seconds`` delays every answer, rejected or not; ``latency_spread_seconds`` adds a varying
  network delay, half of it before the call is counted (``_RequestHandler``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import math
import random
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, Unpack, cast
from urllib.parse import parse_qs, urlsplit

from devstack.zego_simulator.callbacks import (
    CallbackDispatcher,
    CallbackFaultChanges,
    CallbackFaultSettings,
    CallbackLog,
    CallbackSettings,
    resolve_app_id,
)
from devstack.zego_simulator.faults import (
    Fault,
    FaultChanges,
    FaultDecision,
    FaultInjector,
    FaultSettings,
    error_page,
    truncate_json,
)
from devstack.zego_simulator.record_log import RecordLog
from devstack.zego_simulator.scenario import Scenario, TaskBook, TaskSpec, Vendor

logger = logging.getLogger(__name__)

ACTION: Final = "DescribeMediaTask"
SIGNATURE_VERSION: Final = "2.0"
DEFAULT_RATE_LIMIT: Final = 20
DEFAULT_MAX_SKEW_SECONDS: Final = 600.0
LOOPBACK: Final = "127.0.0.1"
_UINT32_MAX: Final = 2**32 - 1
_JSON: Final = "application/json; charset=utf-8"
_COMMON_PARAMETERS: Final = ("AppId", "SignatureNonce", "Timestamp", "SignatureVersion", "Signature")


class ReturnCode(IntEnum):
    """The ZEGO return codes the simulator itself produces (tasks may script any other)."""

    SUCCESS = 0
    BAD_PARAMETER = 2
    TOO_FREQUENT = 6
    AUTH_FAILED = 7
    REQUEST_FAILED = 1000
    SIGNATURE_EXPIRED = 100000004
    SIGNATURE_WRONG = 100000005


MESSAGES: Final[Mapping[ReturnCode, str]] = {
    ReturnCode.SUCCESS: "success",
    ReturnCode.BAD_PARAMETER: "invalid parameter",
    ReturnCode.TOO_FREQUENT: "request too frequent",
    ReturnCode.AUTH_FAILED: "auth failed",
    ReturnCode.REQUEST_FAILED: "request failed",
    ReturnCode.SIGNATURE_EXPIRED: "signature expired",
    ReturnCode.SIGNATURE_WRONG: "signature error",
}


def sign(app_id: int | str, nonce: str, secret: str, timestamp: int | str) -> str:
    """ZEGO's signature 2.0: lowercase hex ``md5(str(AppId) + nonce + secret + str(Timestamp))``."""
    material = f"{app_id}{nonce}{secret}{timestamp}".encode()
    return hashlib.md5(material, usedforsecurity=False).hexdigest()


# --------------------------------------------------------------------------------------------------
# Rate limit
# --------------------------------------------------------------------------------------------------


class SlidingWindowLimiter:
    """At most ``limit`` admitted calls per key in any window of ``window_seconds``.

    A call at time ``now`` is admitted when fewer than ``limit`` admitted calls have times in
    ``(now - window_seconds, now]``. Refused calls are not recorded, so a client that keeps calling
    too fast still gets ``limit`` calls through per window. Thread-safe; time is passed in.
    """

    def __init__(self, limit: int, window_seconds: float = 1.0) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if window_seconds <= 0:
            raise ValueError(f"window_seconds must be positive, got {window_seconds}")
        self.limit = limit
        self.window_seconds = window_seconds
        self._admitted: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def try_acquire(self, key: str, now: float) -> bool:
        """Admit (and count) one call for ``key`` at ``now``, or refuse it."""
        with self._lock:
            times = self._admitted.setdefault(key, deque())
            while times and times[0] <= now - self.window_seconds:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True

    def reset(self) -> None:
        """Forget every admitted call."""
        with self._lock:
            self._admitted.clear()


# --------------------------------------------------------------------------------------------------
# Call log
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call served. Never holds the secret or the signature."""

    monotonic: float
    """When the simulator decided the answer (its monotonic clock; the rate limiter's time)."""
    wall_time: float
    """Unix seconds at the same moment."""
    app_id: str | None
    task_id: str | None
    vendor: str | None
    action: str | None
    code: int | None
    """The ZEGO ``Code`` sent, or ``None`` when no parseable JSON was sent (5xx, hang, malformed)."""
    http_status: int | None
    """``None`` when no HTTP answer was sent (hang, shutdown)."""
    fault: str | None
    latency_seconds: float
    """From receiving the request to sending the answer (injected delay included), or to closing the
    connection when none was sent."""

    def as_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict (the JSON-lines file format)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CallStats:
    """Aggregates over the call log; windows are half-open ``[t, t + window)`` on ``monotonic``."""

    total: int
    codes: dict[int, int]
    http_statuses: dict[int, int]
    faults: dict[str, int]
    no_answer: int
    code_6_share: float
    busiest_window_calls: int
    busiest_window_start: float | None
    busiest_window_code_0: int
    """The most Code-0 answers in any one window: the real rate limit caps this."""
    per_second: tuple[int, ...]
    """Calls in consecutive one-second buckets from the first call."""
    duration_seconds: float

    def as_dict(self) -> dict[str, Any]:
        """The stats as a JSON-ready dict (keys of ``codes``/``http_statuses`` become strings)."""
        data = asdict(self)
        data["codes"] = {str(code): count for code, count in self.codes.items()}
        data["http_statuses"] = {str(status): count for status, count in self.http_statuses.items()}
        data["per_second"] = list(self.per_second)
        return data


def busiest_window(times: Collection[float], window_seconds: float = 1.0) -> tuple[int, float | None]:
    """The most ``times`` falling in any half-open window ``[t, t + window_seconds)``, and its start."""
    ordered = sorted(times)
    best, best_start, end = 0, None, 0
    for start_index, start in enumerate(ordered):
        end = max(end, start_index)
        while end < len(ordered) and ordered[end] < start + window_seconds:
            end += 1
        if end - start_index > best:
            best, best_start = end - start_index, start
    return best, best_start


class CallLog(RecordLog[CallRecord]):
    """Every call served, in memory (optionally bounded) and optionally as JSON lines in a file, with the
    aggregates the tests and the soak check the rate limit by. Thread-safe."""

    def max_in_window(
        self, window_seconds: float = 1.0, *, codes: Collection[int] | None = None, app_id: str | None = None
    ) -> int:
        """The most calls in any window of ``window_seconds``, counting only answers with one of
        ``codes`` (all calls when ``None``) and only ``app_id`` (all when ``None``)."""
        times = [
            record.monotonic
            for record in self.records()
            if (codes is None or record.code in codes) and (app_id is None or record.app_id == app_id)
        ]
        return busiest_window(times, window_seconds)[0]

    def stats(self, window_seconds: float = 1.0) -> CallStats:
        """Aggregates: counts per code/HTTP status/fault, Code-6 share, busiest window, per-second counts."""
        records = self.records()
        codes: dict[int, int] = {}
        statuses: dict[int, int] = {}
        faults: dict[str, int] = {}
        for record in records:
            if record.code is not None:
                codes[record.code] = codes.get(record.code, 0) + 1
            if record.http_status is not None:
                statuses[record.http_status] = statuses.get(record.http_status, 0) + 1
            if record.fault is not None:
                faults[record.fault] = faults.get(record.fault, 0) + 1
        times = [record.monotonic for record in records]
        busiest, busiest_start = busiest_window(times, window_seconds)
        code_0 = busiest_window([r.monotonic for r in records if r.code == 0], window_seconds)[0]
        per_second: list[int] = []
        if times:
            first = min(times)
            per_second = [0] * (int((max(times) - first) // 1.0) + 1)
            for moment in times:
                per_second[int((moment - first) // 1.0)] += 1
        return CallStats(
            total=len(records),
            codes=codes,
            http_statuses=statuses,
            faults=faults,
            no_answer=sum(1 for record in records if record.http_status is None),
            code_6_share=codes.get(ReturnCode.TOO_FREQUENT, 0) / len(records) if records else 0.0,
            busiest_window_calls=busiest,
            busiest_window_start=busiest_start,
            busiest_window_code_0=code_0,
            per_second=tuple(per_second),
            duration_seconds=(max(times) - min(times)) if times else 0.0,
        )


# --------------------------------------------------------------------------------------------------
# The contract, without sockets
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """One DescribeMediaTask request as it arrived: when (both clocks), and its query parameters."""

    received_at: float
    wall_time: float
    params: Mapping[str, str] = field(default_factory=dict)

    def reply(self, http_status: int, body: bytes, content_type: str, code: int | None, **extra: Any) -> Reply:
        return Reply(http_status, body, content_type, code, self, **extra)


@dataclass(frozen=True, slots=True)
class Reply:
    """What to do with one request: wait ``delay_seconds``, then hang or send the body."""

    http_status: int
    body: bytes
    content_type: str
    code: int | None
    request: Request
    """The request answered (the call log's moment and identity come from it)."""
    fault: Fault | None = None
    delay_seconds: float = 0.0
    hang_seconds: float | None = None
    """Set for an injected hang: hold the request this long, then close without answering."""

    def json(self) -> dict[str, Any]:
        """The body parsed as JSON (for tests)."""
        parsed = json.loads(self.body)
        if not isinstance(parsed, dict):
            raise TypeError("the body is not a JSON object")
        return parsed


class ZegoService:
    """DescribeMediaTask's contract as a function from (path, query) to a ``Reply``; thread-safe.

    ``apps`` maps each accepted AppId to its ServerSecret. ``monotonic`` (rate limit, timelines, call
    log) and ``wall_clock`` (signature expiry, Huawei times) are injectable callables returning seconds.
    """

    def __init__(
        self,
        book: TaskBook,
        apps: Mapping[int, str],
        *,
        rate_limit: int | None = DEFAULT_RATE_LIMIT,
        faults: FaultInjector | None = None,
        call_log: CallLog | None = None,
        max_skew_seconds: float = DEFAULT_MAX_SKEW_SECONDS,
        throttle_http_status: int = 200,
        seed: int | None = 0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not apps:
            raise ValueError("configure at least one AppId with its secret")
        for app_id, secret in apps.items():
            if isinstance(app_id, bool) or not isinstance(app_id, int) or not 0 <= app_id <= _UINT32_MAX:
                raise ValueError(f"AppId must be a uint32, got {app_id!r}")
            if not isinstance(secret, str) or not secret:
                raise ValueError(f"the secret of AppId {app_id} must be a non-empty string")
        if not 100 <= throttle_http_status <= 599:
            raise ValueError(f"throttle_http_status must be an HTTP status, got {throttle_http_status}")
        if not math.isfinite(max_skew_seconds) or max_skew_seconds < 0:
            raise ValueError(f"max_skew_seconds must be a non-negative number, got {max_skew_seconds}")
        self.book = book
        self._secrets = dict(apps)
        self.limiter = SlidingWindowLimiter(rate_limit) if rate_limit is not None else None
        self.faults = faults if faults is not None else FaultInjector()
        self.call_log = call_log if call_log is not None else CallLog()
        self._max_skew = max_skew_seconds
        self._throttle_status = throttle_http_status
        self._ids = random.Random(None if seed is None else seed + 1)
        self._ids_lock = threading.Lock()
        self._monotonic = monotonic
        self._wall_clock = wall_clock

    def __repr__(self) -> str:
        return f"ZegoService(apps={sorted(self._secrets)}, rate_limit={self.limiter and self.limiter.limit})"

    @property
    def app_ids(self) -> list[int]:
        """The accepted AppIds."""
        return sorted(self._secrets)

    def rotate_secret(self, app_id: int, secret: str) -> None:
        """Give ``app_id`` a new ServerSecret, as the ZEGO console does: from now on only calls signed with it
        are accepted (Code 100000005 for the old one)."""
        if app_id not in self._secrets:
            raise KeyError(f"unknown AppId {app_id}")
        self._secrets[app_id] = secret

    def handle(self, path: str, query: str) -> Reply:
        """Decide the answer to ``GET <path>?<query>``."""
        call = Request(self._monotonic(), self._wall_clock(), _first_values(query))
        latency = self.faults.settings.latency_seconds
        if path != "/":
            return call.reply(404, b"404 Not Found\n", "text/plain; charset=utf-8", None, delay_seconds=latency)
        rejection = self._check_request(call)
        if rejection is not None:
            code, message = rejection
            return self._json(call, code, message, delay_seconds=latency)
        app_id = call.params["AppId"]
        if self.limiter is not None and not self.limiter.try_acquire(str(int(app_id)), call.received_at):
            return self._throttled(call, FaultDecision(delay_seconds=latency))
        decision = self.faults.decide()
        if decision.fault is Fault.HANG:
            return call.reply(
                0,
                b"",
                "",
                None,
                fault=decision.fault,
                delay_seconds=decision.delay_seconds,
                hang_seconds=decision.hang_seconds,
            )
        if decision.fault is Fault.HTTP_5XX:
            status = decision.http_status or 503
            body, content_type = error_page(status)
            return call.reply(
                status, body, content_type, None, fault=decision.fault, delay_seconds=decision.delay_seconds
            )
        if decision.fault is Fault.CODE_1000:
            return self._json(call, ReturnCode.REQUEST_FAILED, MESSAGES[ReturnCode.REQUEST_FAILED], decision=decision)
        if decision.fault is Fault.CODE_6:
            return self._throttled(call, decision)
        return self._answer_task(call, decision)

    def record(self, reply: Reply, latency_seconds: float, *, answered: bool = True) -> CallRecord:
        """Log one served call; ``answered=False`` when no HTTP answer went out (hang, shutdown)."""
        request = reply.request
        record = CallRecord(
            monotonic=request.received_at,
            wall_time=request.wall_time,
            app_id=request.params.get("AppId"),
            task_id=request.params.get("TaskId"),
            vendor=request.params.get("Vendor"),
            action=request.params.get("Action"),
            code=reply.code if answered else None,
            http_status=reply.http_status if answered else None,
            fault=reply.fault.value if reply.fault is not None else None,
            latency_seconds=latency_seconds,
        )
        self.call_log.append(record)
        logger.debug(
            "DescribeMediaTask app_id=%s task_id=%s vendor=%s -> http=%s code=%s fault=%s in %.3fs",
            record.app_id,
            record.task_id,
            record.vendor,
            record.http_status,
            record.code,
            record.fault,
            latency_seconds,
        )
        return record

    def _check_request(self, call: Request) -> tuple[int, str] | None:
        params = call.params
        action = params.get("Action")
        if action != ACTION:
            return ReturnCode.BAD_PARAMETER, f"invalid parameter: Action {action!r} is not supported"
        missing = [name for name in _COMMON_PARAMETERS if not params.get(name)]
        if missing:
            return ReturnCode.BAD_PARAMETER, f"invalid parameter: missing {', '.join(missing)}"
        app_id, timestamp = params["AppId"], params["Timestamp"]
        if not (app_id.isascii() and app_id.isdigit()) or int(app_id) > _UINT32_MAX:
            return ReturnCode.BAD_PARAMETER, "invalid parameter: AppId must be a uint32"
        if not (timestamp.isascii() and timestamp.lstrip("-").isdigit()):
            return ReturnCode.BAD_PARAMETER, "invalid parameter: Timestamp must be Unix seconds"
        if params.get("IsTest", "false") not in ("true", "false"):
            return ReturnCode.BAD_PARAMETER, "invalid parameter: IsTest must be true or false"
        secret = self._secrets.get(int(app_id))
        if secret is None:
            return ReturnCode.AUTH_FAILED, MESSAGES[ReturnCode.AUTH_FAILED]
        if params["SignatureVersion"] != SIGNATURE_VERSION:
            return ReturnCode.AUTH_FAILED, f"{MESSAGES[ReturnCode.AUTH_FAILED]}: SignatureVersion must be 2.0"
        if abs(call.wall_time - int(timestamp)) > self._max_skew:
            return ReturnCode.SIGNATURE_EXPIRED, MESSAGES[ReturnCode.SIGNATURE_EXPIRED]
        expected = sign(app_id, params["SignatureNonce"], secret, timestamp)
        if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
            return ReturnCode.SIGNATURE_WRONG, MESSAGES[ReturnCode.SIGNATURE_WRONG]
        return None

    def _answer_task(self, call: Request, decision: FaultDecision) -> Reply:
        vendor_name, task_id = call.params.get("Vendor", ""), call.params.get("TaskId")
        if not task_id:
            return self._json(call, ReturnCode.BAD_PARAMETER, "invalid parameter: missing TaskId", decision=decision)
        try:
            vendor = Vendor(vendor_name)
        except ValueError:
            message = f"invalid parameter: Vendor must be Tencent or Huawei, got {vendor_name!r}"
            return self._json(call, ReturnCode.BAD_PARAMETER, message, decision=decision)
        answer = self.book.answer(
            vendor, task_id, now=call.received_at, wall_now=call.wall_time, vendor_request_id=self._vendor_request_id()
        )
        data = {vendor.value: answer.block} if answer.block is not None else None
        return self._json(call, answer.code, answer.message, data=data, decision=decision)

    def _throttled(self, call: Request, decision: FaultDecision) -> Reply:
        message = MESSAGES[ReturnCode.TOO_FREQUENT]
        return self._json(
            call, ReturnCode.TOO_FREQUENT, message, data={}, decision=decision, status=self._throttle_status
        )

    def _json(
        self,
        call: Request,
        code: int,
        message: str,
        *,
        data: dict[str, Any] | None = None,
        decision: FaultDecision | None = None,
        delay_seconds: float = 0.0,
        status: int = 200,
    ) -> Reply:
        document: dict[str, Any] = {"Code": int(code), "Message": message, "RequestId": self._request_id()}
        if data is not None:
            document["Data"] = data
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        fault = decision.fault if decision is not None else None
        sent_code: int | None = int(code)
        if fault is Fault.MALFORMED_JSON:
            body, sent_code = truncate_json(body), None
        delay = decision.delay_seconds if decision is not None else delay_seconds
        return call.reply(status, body, _JSON, sent_code, fault=fault, delay_seconds=delay)

    def _request_id(self) -> str:
        with self._ids_lock:
            return str(self._ids.randrange(10**18, 10**19))

    def _vendor_request_id(self) -> str:
        with self._ids_lock:
            return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))


def _first_values(query: str) -> dict[str, str]:
    """Query parameters, first value of each (ZEGO ignores repeats; so do we)."""
    return {name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()}


# --------------------------------------------------------------------------------------------------
# HTTP edge
# --------------------------------------------------------------------------------------------------


class _SimulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that can be stopped without leaking threads or sockets.

    Handler threads are joined by ``server_close`` (non-daemon, ``block_on_close``); open keep-alive
    connections are shut down on stop so their threads return at once.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], service: ZegoService, idle_timeout: float) -> None:
        self.service = service
        self.idle_timeout = idle_timeout
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        if isinstance(request, socket.socket):
            with self._connections_lock:
                self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        if isinstance(request, socket.socket):
            with self._connections_lock:
                self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open client connection (their handler threads then finish)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the peer
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        # A client that went away mid-answer is normal under fault injection; never print to stderr.
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like ZEGO's gateway; clients reuse connections
    server_version = "zego-simulator"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self._server.idle_timeout)

    @property
    def _server(self) -> _SimulatorHTTPServer:
        return cast(_SimulatorHTTPServer, self.server)

    def do_GET(self) -> None:
        """Answer one request as ``ZegoService`` decides; the call is logged before the answer goes
        out, so a client that has its answer finds the call in the log."""
        started = time.perf_counter()
        server = self._server
        split = urlsplit(self.path)
        network = server.service.faults.network_delay()
        if network > 0 and server.stopping.wait(network / 2):
            return  # stopping: close without answering
        reply = server.service.handle(split.path, split.query)
        recorded = False
        try:
            delay = reply.delay_seconds + network / 2
            if delay > 0 and server.stopping.wait(delay):
                return  # stopping: close without answering
            if reply.hang_seconds is not None:
                server.stopping.wait(reply.hang_seconds)
                return
            if server.stopping.is_set():
                return
            server.service.record(reply, time.perf_counter() - started)
            recorded = True
            self.send_response(reply.http_status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up before the answer was written
        finally:
            if not recorded:
                self.close_connection = True
                server.service.record(reply, time.perf_counter() - started, answered=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Route http.server's access/error lines to logging at DEBUG instead of stderr."""
        # The request line carries the query string: never log a (replayable) signature.
        line = re.sub(r"(Signature=)[^&\s\"']+", r"\1***", format % args)
        logger.debug("%s - %s", self.address_string(), line)


# --------------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------------


class ZegoSimulator:
    """A ZEGO DescribeMediaTask endpoint on loopback, for tests, benchmarks, soaks and ``make run``.

    Example::

        with ZegoSimulator(Scenario.from_file("devstack/scenarios/demo.json"), apps={12345: "secret"}) as sim:
            client = ZegoClient(base_url=sim.url, ...)

    ``apps`` maps AppId → ServerSecret (one or more). ``port=0`` picks a free port (``.port``/``.url``
    after ``start``). ``rate_limit`` is calls per second per AppId (``None``: unlimited).
    ``time_scale`` is real seconds per scenario second. ``faults`` sets the initial fault knobs;
    ``seed`` makes faults and request ids reproducible (``None``: random). ``throttle_http_status``
    is the HTTP status of Code-6 answers (ZEGO: 200; 429 exercises a client's HTTP-level handling).
    ``call_log_path`` also writes every call as a JSON line. ``monotonic``/``wall_clock`` are injectable.
    ``callbacks`` switches on ZEGO's completion callbacks (off when ``None``: nothing is sent);
    ``callback_log_path`` also writes every callback attempt as a JSON line.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        apps: Mapping[int, str],
        host: str = LOOPBACK,
        port: int = 0,
        rate_limit: int | None = DEFAULT_RATE_LIMIT,
        time_scale: float = 1.0,
        faults: FaultSettings | None = None,
        seed: int | None = 0,
        max_skew_seconds: float = DEFAULT_MAX_SKEW_SECONDS,
        throttle_http_status: int = 200,
        call_log_path: str | Path | None = None,
        max_call_records: int | None = None,
        idle_timeout_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        callbacks: CallbackSettings | None = None,
        callback_log_path: str | Path | None = None,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._idle_timeout = idle_timeout_seconds
        book = TaskBook(scenario, time_scale=time_scale, monotonic=monotonic, wall_clock=wall_clock)
        self.service = ZegoService(
            book,
            apps,
            rate_limit=rate_limit,
            faults=FaultInjector(faults, seed=seed),
            call_log=CallLog(call_log_path, max_records=max_call_records),
            max_skew_seconds=max_skew_seconds,
            throttle_http_status=throttle_http_status,
            seed=seed,
            monotonic=monotonic,
            wall_clock=wall_clock,
        )
        self.callbacks: CallbackDispatcher | None = None
        """The completion-callback sender, or ``None`` when callbacks are off."""
        if callbacks is not None:
            if callbacks.secret in apps.values():
                raise ValueError("the CallbackSecret must not be a ServerSecret (ZEGO issues them separately)")
            self.callbacks = CallbackDispatcher(
                callbacks,
                book,
                app_id=resolve_app_id(callbacks, self.service.app_ids),
                seed=seed,
                log=CallbackLog(callback_log_path),
                monotonic=monotonic,
                wall_clock=wall_clock,
            )
            book.subscribe(self.callbacks.task_started)
        self._httpd: _SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._lifecycle = threading.Lock()

    def __repr__(self) -> str:
        where = self.url if self._httpd is not None else "not started"
        return f"ZegoSimulator({where}, apps={self.service.app_ids})"

    # lifecycle ------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a background thread; returns once the socket is listening."""
        with self._lifecycle:
            if self._httpd is not None or self._stopped:
                raise RuntimeError("a ZegoSimulator starts once; create a new one to start again")
            httpd = _SimulatorHTTPServer((self._host, self._requested_port), self.service, self._idle_timeout)
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"zego-simulator:{self.port}"
            )
            self._thread.start()
            if self.callbacks is not None:
                self.callbacks.start()
        self.service.book.start_created_timelines()  # timelines with the "created" clock run from now
        logger.info("ZEGO simulator listening on %s (AppIds %s)", self.url, self.service.app_ids)
        return self

    def stop(self) -> None:
        """Stop serving: release held requests, close connections, join every thread. Idempotent."""
        with self._lifecycle:
            httpd, thread = self._httpd, self._thread
            if self._stopped:
                return
            self._stopped = True
        if self.callbacks is not None:
            self.callbacks.stop()
        if httpd is not None and thread is not None:
            httpd.stopping.set()
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()
            thread.join()
        self.service.call_log.close()
        logger.info("ZEGO simulator stopped")

    def __enter__(self) -> Self:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the simulator is serving."""
        return self._httpd is not None and not self._stopped

    @property
    def host(self) -> str:
        """The bound address."""
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the free port chosen when constructed with ``port=0``)."""
        if self._httpd is None:
            raise RuntimeError("the simulator is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:8900``; requests go to ``url + "/?..."``."""
        return f"http://{self._host}:{self.port}"

    # tasks ----------------------------------------------------------------------------------------

    def add_task(self, spec: TaskSpec | Mapping[str, Any]) -> TaskSpec:
        """Script (or re-script) one task at run time: a ``TaskSpec`` or a task object in the scenario
        file format. Its timeline starts at its next query (now, with the ``created`` clock). Raises
        ``ScenarioError`` if invalid."""
        task = spec if isinstance(spec, TaskSpec) else TaskSpec.from_dict(dict(spec))
        self.service.book.add(task)
        return task

    def add_tasks(self, scenario: Scenario) -> None:
        """Script every task of ``scenario`` (e.g. from ``Scenario.generate``)."""
        for task in scenario.tasks:
            self.service.book.add(task)

    def reset_timelines(self) -> None:
        """Every task starts its timeline again at its next query (a ``created``-clock task at once)."""
        self.service.book.reset_timelines()

    # faults ---------------------------------------------------------------------------------------

    @property
    def faults(self) -> FaultSettings:
        """The fault knobs in force."""
        return self.service.faults.settings

    def configure_faults(self, **changes: Unpack[FaultChanges]) -> FaultSettings:
        """Change fault knobs while running (the others stay as they are); returns the new settings."""
        return self.service.faults.configure(**changes)

    def clear_faults(self) -> None:
        """Switch every fault off (latency included)."""
        self.service.faults.replace_settings(FaultSettings())

    # call log -------------------------------------------------------------------------------------

    @property
    def call_log(self) -> CallLog:
        """Every call served; ``records()``, ``clear()``, ``stats()``, ``max_in_window()``."""
        return self.service.call_log

    def reset(self) -> None:
        """Clear the call log, the rate-limit windows and every task's timeline (and the callback log
        and every pending callback)."""
        self.service.call_log.clear()
        if self.service.limiter is not None:
            self.service.limiter.reset()
        if self.callbacks is not None:
            self.callbacks.clear()
            self.callbacks.log.clear()
        self.service.book.reset_timelines()

    # callbacks ------------------------------------------------------------------------------------

    @property
    def callback_log(self) -> CallbackLog:
        """Every completion-callback attempt; ``records()``, ``wait_for()``, ``clear()``."""
        return self._require_callbacks().log

    def configure_callback_faults(self, **changes: Unpack[CallbackFaultChanges]) -> CallbackFaultSettings:
        """Change callback fault knobs while running (the others stay); returns the new settings."""
        return self._require_callbacks().configure_faults(**changes)

    def _require_callbacks(self) -> CallbackDispatcher:
        if self.callbacks is None:
            raise RuntimeError("completion callbacks are off: construct the simulator with callbacks=...")
        return self.callbacks
