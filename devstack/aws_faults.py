"""Throttling and 5xx answers from the embedded AWS emulator, for a while (the chaos soak's AWS faults).

During configured windows, a seeded share of the DynamoDB and SQS data-plane requests of the marked
callers is refused before moto sees it (nothing is applied), with the answer AWS gives when it throttles
or fails, byte for byte as botocore reads it:

- **DynamoDB** (JSON 1.0): HTTP 400 ``ProvisionedThroughputExceededException`` (a provisioned table) or
  ``ThrottlingException`` (an on-demand table over its limit), HTTP 500 ``InternalServerError``; with the
  ``x-amz-crc32`` DynamoDB sends.
- **SQS** (JSON 1.0 with the ``awsQueryCompatible`` trait): HTTP 400 ``RequestThrottled`` and HTTP 500
  ``InternalFailure``, with the ``x-amzn-query-error`` header (``Code;Sender|Receiver``) that botocore reads
  the error code from.

botocore's standard retry mode (its default) retries all of them, as it would AWS's: the throttling codes
(``ProvisionedThroughputExceededException``, ``ThrottlingException``, ``RequestThrottled``) with its
throttling backoff, the 500s as transient errors; what is left after its attempts (and its retry quota)
reaches the caller as the same ``ClientError``.

Only the requests of *marked* clients are refused (:func:`mark_as_fault_target`: a header the soak adds
to the stack's own clients, not in production code), so that the harness's observers (the local event
source and stream reader, which stand in for AWS's own, the soak's readers of the queue and the stream)
never see one. Every decision is counted; ``GET`` :data:`STATS_PATH` on the emulator answers the counts
(:meth:`AwsFaultInjector.stats`).

This module speaks WSGI and knows nothing of moto: :func:`devstack.emulator.inject_aws_faults` puts an
injector in front of moto's dispatcher, in whichever process hosts moto.
"""

from __future__ import annotations

import binascii
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

TARGET_HEADER = "x-devstack-fault-target"
"""The header that marks a request as one that may be refused (its value does not matter)."""
STATS_PATH = "/devstack-aws-faults"
"""``GET`` on the emulator: the injector's counts, as JSON."""
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"

SERVICE_TARGETS = {"DynamoDB_20120810": "dynamodb", "AmazonSQS": "sqs"}
"""The ``X-Amz-Target`` prefix of each service's JSON protocol."""
OPERATIONS = {
    "dynamodb": frozenset(
        {
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "Scan",
            "BatchGetItem",
            "BatchWriteItem",
            "TransactGetItems",
            "TransactWriteItems",
        }
    ),
    "sqs": frozenset(
        {
            "SendMessage",
            "SendMessageBatch",
            "ReceiveMessage",
            "DeleteMessage",
            "DeleteMessageBatch",
            "ChangeMessageVisibility",
            "ChangeMessageVisibilityBatch",
        }
    ),
}
"""The data-plane operations a fault may hit (the control plane, e.g. ``CreateQueue``, is never refused)."""


@dataclass(frozen=True)
class WireError:
    """One error answer as the service sends it."""

    status: int
    code: str
    """The error code botocore reports (``error.response["Error"]["Code"]``)."""
    type_name: str
    """The body's ``__type``."""
    message: str
    query_error: str | None = None
    """SQS's ``x-amzn-query-error`` (``Code;Sender``)."""


DYNAMODB_THROTTLED = (
    WireError(
        400,
        "ProvisionedThroughputExceededException",
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your "
        "provisioning level with the UpdateTable API.",
    ),
    WireError(
        400,
        "ThrottlingException",
        "com.amazon.coral.availability#ThrottlingException",
        "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your "
        "table or index so please try again shortly.",
    ),
)
DYNAMODB_5XX = WireError(
    500, "InternalServerError", "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"
)
SQS_THROTTLED = WireError(
    400,
    "RequestThrottled",
    "com.amazonaws.sqs#RequestThrottled",
    "Request is throttled.",
    query_error="RequestThrottled;Sender",
)
SQS_5XX = WireError(
    500,
    "InternalFailure",
    "com.amazon.coral.service#InternalFailure",
    "The request processing has failed because of an unknown error, exception or failure.",
    query_error="InternalFailure;Receiver",
)
WIRE_ERRORS: dict[str, tuple[tuple[WireError, ...], tuple[WireError, ...]]] = {
    "dynamodb": (DYNAMODB_THROTTLED, (DYNAMODB_5XX,)),
    "sqs": ((SQS_THROTTLED,), (SQS_5XX,)),
}
"""Per service: the throttling answers (one drawn at random) and the 5xx ones."""
FAULT_KINDS = tuple(f"{service}_{kind}" for service in OPERATIONS for kind in ("throttled", "5xx"))
"""The names the counts use: ``dynamodb_throttled``, ``dynamodb_5xx``, ``sqs_throttled``, ``sqs_5xx``."""


@dataclass(frozen=True)
class AwsFaultSettings:
    """When and how often the emulator refuses a marked caller's request."""

    windows: tuple[tuple[float, float], ...] = ()
    """``(start, end)`` in Unix seconds (the wall clock of the process hosting moto, which follows its
    parent's): outside them nothing is refused."""
    dynamodb_rate: float = 0.0
    """Share of the DynamoDB data-plane requests refused within a window."""
    sqs_rate: float = 0.0
    """Share of the SQS data-plane requests refused within a window."""
    throttle_share: float = 0.5
    """Share of the refusals that are throttling (the others are HTTP 500)."""
    seed: int = 0

    def rate(self, service: str) -> float:
        """The refused share of ``service``'s requests within a window."""
        return {"dynamodb": self.dynamodb_rate, "sqs": self.sqs_rate}.get(service, 0.0)

    def targets(self) -> dict[str, float]:
        """The expected share of each fault kind among the requests made within a window."""
        shares = {"throttled": self.throttle_share, "5xx": 1 - self.throttle_share}
        return {
            f"{service}_{kind}": self.rate(service) * share for service in OPERATIONS for kind, share in shares.items()
        }

    def to_json(self) -> str:
        """The settings as the emulator's command line carries them."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> AwsFaultSettings:
        """The inverse of :meth:`to_json`."""
        data = json.loads(text)
        data["windows"] = tuple((float(start), float(end)) for start, end in data.get("windows", ()))
        return cls(**data)

    @classmethod
    def relative(cls, origin: float, windows: Iterable[tuple[float, float]], **rates: Any) -> AwsFaultSettings:
        """Settings whose windows are ``(offset, seconds)`` pairs from ``origin`` (Unix seconds)."""
        return cls(windows=tuple((origin + offset, origin + offset + seconds) for offset, seconds in windows), **rates)


@dataclass(frozen=True)
class Decision:
    """What the injector decided for one request."""

    kind: str
    """A :data:`FAULT_KINDS` name."""
    error: WireError


def request_target(headers: Callable[[str], str | None]) -> tuple[str, str] | None:
    """``(service, operation)`` of a JSON-protocol request (its ``X-Amz-Target``), or None."""
    target = headers("X-Amz-Target") or ""
    prefix, _, operation = target.partition(".")
    service = SERVICE_TARGETS.get(prefix)
    return (service, operation) if service and operation else None


class AwsFaultInjector:
    """Decides, counts and answers the refusals (thread-safe; one seeded draw sequence per service)."""

    def __init__(self, settings: AwsFaultSettings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        # Seeded for reproducible chaos, not for secrecy.
        self._random = {service: random.Random(f"{settings.seed}:{service}") for service in OPERATIONS}  # nosec B311
        self._counts: dict[str, Counter[str]] = {
            name: Counter() for name in ("requests", "in_window", "faults", "codes", "spared_in_window")
        }

    def in_window(self, now: float | None = None) -> bool:
        """Whether ``now`` (default: the clock) falls within a window."""
        moment = self._clock() if now is None else now
        return any(start <= moment < end for start, end in self.settings.windows)

    def decide(self, service: str, operation: str, *, marked: bool) -> Decision | None:
        """The refusal for one request of ``service``'s ``operation``, or None to let it through."""
        if operation not in OPERATIONS.get(service, frozenset()):
            return None
        in_window = self.in_window()
        with self._lock:
            if not marked:
                if in_window:
                    self._counts["spared_in_window"][service] += 1
                return None
            self._counts["requests"][service] += 1
            if not in_window:
                return None
            self._counts["in_window"][service] += 1
            draw = self._random[service]
            if draw.random() >= self.settings.rate(service):
                return None
            throttled, failed = WIRE_ERRORS[service]
            if draw.random() < self.settings.throttle_share:
                kind, error = f"{service}_throttled", throttled[draw.randrange(len(throttled))]
            else:
                kind, error = f"{service}_5xx", failed[0]
            self._counts["faults"][kind] += 1
            self._counts["codes"][f"{service} {operation} {error.code}"] += 1
            return Decision(kind, error)

    def stats(self) -> dict[str, Any]:
        """The counts: marked ``requests`` and those ``in_window`` per service, ``faults`` per kind, ``codes``
        per service, operation and error code, and unmarked requests ``spared_in_window``."""
        with self._lock:
            return {name: dict(sorted(counter.items())) for name, counter in self._counts.items()}

    # -- WSGI --------------------------------------------------------------------------------------------
    def answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes] | None:
        """The WSGI answer for this request if the injector answers it (a refusal, or the stats), else None
        (moto answers)."""
        if environ.get("PATH_INFO") == STATS_PATH and environ.get("REQUEST_METHOD") == "GET":
            return _respond(start_response, 200, [("Content-Type", "application/json")], json.dumps(self.stats()))
        target = request_target(lambda name: environ.get("HTTP_" + name.upper().replace("-", "_")))
        if target is None:
            return None
        marked = ("HTTP_" + TARGET_HEADER.upper().replace("-", "_")) in environ
        decision = self.decide(*target, marked=marked)
        if decision is None:
            return None
        _drain_body(environ)
        error = decision.error
        body = json.dumps({"__type": error.type_name, "message": error.message})
        headers = [("Content-Type", JSON_CONTENT_TYPE), ("x-amzn-RequestId", str(uuid.uuid4()))]
        if target[0] == "dynamodb":
            headers.append(("x-amz-crc32", str(binascii.crc32(body.encode()) & 0xFFFFFFFF)))
        if error.query_error:
            headers.append(("x-amzn-query-error", error.query_error))
        return _respond(start_response, error.status, headers, body)


_REASONS = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}


def _respond(start_response: Callable[..., Any], status: int, headers: list[tuple[str, str]], body: str) -> list[bytes]:
    payload = body.encode()
    start_response(f"{status} {_REASONS[status]}", [*headers, ("Content-Length", str(len(payload)))])
    return [payload]


def _drain_body(environ: dict[str, Any]) -> None:
    """Read the request's body, as a server that parsed it would (a kept-alive connection stays in step)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if length > 0 and stream is not None:
        stream.read(length)


def _mark_request(request: Any, **_: Any) -> None:
    request.headers[TARGET_HEADER] = "1"


def mark_as_fault_target(client: Any) -> Any:
    """Make every request ``client`` sends (each retry too) one the injector may refuse; returns ``client``.
    Idempotent."""
    client.meta.events.register_first("before-send", _mark_request, unique_id="devstack-aws-fault-target")
    return client
