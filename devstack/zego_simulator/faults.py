"""Fault injection: the ways a real ZEGO endpoint misbehaves, on demand and reproducibly.

Each authenticated, rate-admitted call draws at most one fault from a seeded RNG (see
``FaultInjector.decide``); ``latency_seconds`` is added to every answer, and a uniform draw from
``[0, latency_spread_seconds]`` to every round trip: half of it before the call arrives (the rate limit
counts it after that), half before its answer leaves, as a network's varying delay would. Settings can be
changed at any time from any thread.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Generic, TypedDict, TypeVar, Unpack

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class Fault(StrEnum):
    """A fault injected into one call (the call log's ``fault`` field)."""

    HANG = "hang"
    """The request is held for ``hang_seconds`` (longer than the client's timeout), then the connection
    is closed without an answer."""
    HTTP_5XX = "http_5xx"
    """HTTP 500, 502 or 503 with an HTML or text body, as a gateway in front of ZEGO would send."""
    MALFORMED_JSON = "malformed_json"
    """HTTP 200 whose JSON body is cut short."""
    CODE_1000 = "code_1000"
    """Code 1000, "request failed"."""
    CODE_6 = "code_6"
    """Code 6, "request too frequent", whatever the real limiter says."""


HTTP_5XX_STATUSES: Final[tuple[int, ...]] = (500, 502, 503)
F = TypeVar("F")


class ExclusiveRates(Generic[F]):
    """Faults that exclude one another, each with a rate field of a settings dataclass.

    One uniform draw is mapped onto the rates in the order given, which fixes what a seed reproduces; so
    an event gets at most one fault, and the rates together must be at most 1. Shared by the call faults
    here and the callback faults (``devstack.zego_simulator.callbacks``).
    """

    def __init__(self, rates: Sequence[tuple[str, F]], *, per: str) -> None:
        """``rates``: (field name, fault) in draw order; ``per``: what gets a fault ("a call")."""
        self.rates: tuple[tuple[str, F], ...] = tuple(rates)
        self.per = per

    def total(self, settings: object) -> float:
        """The probability that an event gets some fault."""
        return float(sum(getattr(settings, name) for name, _ in self.rates))

    def check(self, settings: DataclassInstance, *, subject: str = "") -> None:
        """Refuse ``settings`` unless every field is a finite, non-negative number, each rate is at most 1
        and the rates add up to at most 1; the message starts with ``subject`` and names the field."""
        for knob in fields(settings):
            value = getattr(settings, knob.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{subject}{knob.name} must be a finite number, got {value!r}")
            if value < 0:
                raise ValueError(f"{subject}{knob.name} must not be negative, got {value}")
        for name, _ in self.rates:
            if getattr(settings, name) > 1:
                raise ValueError(f"{subject}{name} must be at most 1, got {getattr(settings, name)}")
        total = self.total(settings)
        if total > 1 + 1e-9:
            raise ValueError(
                f"{subject}fault rates add up to {total:.3f}; they must add up to at most 1 "
                f"({self.per} gets at most one fault)"
            )

    def draw(self, settings: object, rng: random.Random) -> F | None:
        """The fault one event gets, or None. Draws from ``rng`` only when some rate is non-zero, so a seed
        reproduces the same faults for the same sequence of events."""
        if self.total(settings) <= 0:
            return None
        draw, threshold = rng.random(), 0.0
        for name, fault in self.rates:
            threshold += getattr(settings, name)
            if draw < threshold:
                return fault
        return None


_CALL_FAULTS: Final = ExclusiveRates(
    (
        ("hang_rate", Fault.HANG),
        ("http_5xx_rate", Fault.HTTP_5XX),
        ("malformed_json_rate", Fault.MALFORMED_JSON),
        ("code_1000_rate", Fault.CODE_1000),
        ("code_6_rate", Fault.CODE_6),
    ),
    per="a call",
)


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """The fault knobs. Rates are probabilities per call in [0, 1] and together at most 1 (a call gets
    at most one fault); seconds are non-negative."""

    http_5xx_rate: float = 0.0
    latency_seconds: float = 0.0
    latency_spread_seconds: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    malformed_json_rate: float = 0.0
    code_1000_rate: float = 0.0
    code_6_rate: float = 0.0

    def __post_init__(self) -> None:
        _CALL_FAULTS.check(self)

    @property
    def total_rate(self) -> float:
        """The probability that a call gets some fault."""
        return _CALL_FAULTS.total(self)


class FaultChanges(TypedDict, total=False):
    """Some of the :class:`FaultSettings` knobs, by name: what ``configure`` changes at run time."""

    http_5xx_rate: float
    latency_seconds: float
    latency_spread_seconds: float
    hang_rate: float
    hang_seconds: float
    malformed_json_rate: float
    code_1000_rate: float
    code_6_rate: float


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one call: an optional fault, and the delay before answering."""

    fault: Fault | None = None
    delay_seconds: float = 0.0
    http_status: int | None = None
    """For ``Fault.HTTP_5XX``: 500, 502 or 503."""
    hang_seconds: float = 0.0
    """For ``Fault.HANG``: how long the request is held before the connection is closed."""


class FaultInjector:
    """Draws faults per call from a seeded RNG under a lock; settings are replaceable at run time."""

    def __init__(self, settings: FaultSettings | None = None, *, seed: int | None = 0) -> None:
        self._settings = settings if settings is not None else FaultSettings()
        self._rng = random.Random(seed)
        self._spread_rng = random.Random(None if seed is None else seed + 2)
        self._lock = threading.Lock()

    @property
    def settings(self) -> FaultSettings:
        """The knobs in force now."""
        with self._lock:
            return self._settings

    def configure(self, **changes: Unpack[FaultChanges]) -> FaultSettings:
        """Change the given knobs (the others stay as they are); returns the new settings. Invalid
        combinations raise ``ValueError`` and change nothing."""
        with self._lock:
            self._settings = replace(self._settings, **changes)
            return self._settings

    def replace_settings(self, settings: FaultSettings) -> None:
        """Put a whole new set of knobs in force (``FaultSettings()`` switches every fault off)."""
        with self._lock:
            self._settings = settings

    def network_delay(self) -> float:
        """One round trip's varying part, a uniform draw from ``[0, latency_spread_seconds]`` (0 without a
        spread, drawing nothing, so fault seeds reproduce as before)."""
        with self._lock:
            spread = self._settings.latency_spread_seconds
            return self._spread_rng.uniform(0.0, spread) if spread > 0 else 0.0

    def decide(self) -> FaultDecision:
        """The fate of one call. Draws from the RNG only when some rate is non-zero, so a seed
        reproduces the same sequence of faults for the same sequence of calls."""
        with self._lock:
            settings = self._settings
            fault = _CALL_FAULTS.draw(settings, self._rng)
            return FaultDecision(
                fault=fault,
                delay_seconds=settings.latency_seconds,
                http_status=self._rng.choice(HTTP_5XX_STATUSES) if fault is Fault.HTTP_5XX else None,
                hang_seconds=settings.hang_seconds if fault is Fault.HANG else 0.0,
            )


_REASONS: Final[dict[int, str]] = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def error_page(status: int) -> tuple[bytes, str]:
    """The body and content type of an injected HTTP error: nginx-style HTML for 502/503, plain text
    for 500 (never JSON, so a client must not try to parse it)."""
    reason = _REASONS.get(status, "Error")
    if status == 500:
        return f"{status} {reason}\n".encode(), "text/plain; charset=utf-8"
    html = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return html.encode(), "text/html"


def truncate_json(body: bytes) -> bytes:
    """A JSON document cut in half: still starts like the real answer, never parses."""
    return body[: max(1, len(body) // 2)]
