"""Log lines and metrics as plain values: what to report, with no knowledge of how it is emitted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Unit(StrEnum):
    """CloudWatch metric units in use (the values are CloudWatch's names)."""

    COUNT = "Count"
    SECONDS = "Seconds"


class Level(StrEnum):
    """Log levels in use."""

    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric data point.

    Without dimensions it joins the invocation's metrics (one EMF blob, flushed at the end); with
    dimensions it is emitted on its own, so that its dimensions do not apply to the others.
    """

    name: str
    value: float = 1.0
    unit: Unit = Unit.COUNT
    dimensions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LogLine:
    """One structured log line; ``extra`` becomes top-level JSON keys."""

    level: Level
    message: str
    extra: Mapping[str, object] = field(default_factory=dict)
    with_exception: bool = False
    """Attach the exception being handled (its type, message and traceback)."""


@dataclass(frozen=True, slots=True)
class Telemetry:
    """Everything reported for one event (a record's result, a failure, a response)."""

    metrics: tuple[Metric, ...] = ()
    log: LogLine | None = None
