"""Log lines and metrics as plain values: what to report, with no knowledge of how it is emitted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Unit(StrEnum):
    """CloudWatch metric units in use (the values are CloudWatch's names)."""

    COUNT = "Count"
    SECONDS = "Seconds"
    COUNT_PER_SECOND = "Count/Second"


class MetricName(StrEnum):
    """Every custom metric the functions emit: the one list of names, which the alarms and the dashboard
    in ``template.yaml`` use (tests/unit/test_dashboard.py keeps them in step; every ``Metric`` in the
    layer is named by a member)."""

    # poller
    MESSAGES_ACKNOWLEDGED = "MessagesAcknowledged"
    POLLS = "Polls"
    """DescribeMediaTask calls made (ZEGO's ceiling counts these)."""
    OUTCOMES = "Outcomes"
    """One per poll decision, by ``Kind`` (the outcome kind, or RATE_LIMITED, AWAITING_CALLBACK ...)."""
    MALFORMED_MESSAGES = "MalformedMessages"
    SKIPPED_MESSAGES = "SkippedMessages"
    SUPERSEDED_WRITES = "SupersededWrites"
    RATE_LIMITER_WAIT_SECONDS = "RateLimiterWaitSeconds"
    RATE_LIMITER_SATURATED = "RateLimiterSaturated"
    RATE_LIMITER_RATE = "RateLimiterRate"
    """The fleet's ZEGO call pace (calls/s) as the limiter item holds it: the ceiling's share after
    adaptation to Code 6 (domain.call_budget)."""
    CHAIN_AHEAD_RETRIES = "ChainAheadRetries"
    RECORDS_OUT_OF_TIME = "RecordsOutOfTime"
    RECORD_FAILURES = "RecordFailures"
    # poller and callback receiver
    TRANSITIONS = "Transitions"
    TIME_TO_TERMINAL_SECONDS = "TimeToTerminalSeconds"
    # read API, one per response class
    RESPONSES_2XX = "Responses2xx"
    RESPONSES_3XX = "Responses3xx"
    RESPONSES_4XX = "Responses4xx"
    RESPONSES_5XX = "Responses5xx"
    # callback receiver
    CALLBACKS_ACCEPTED = "CallbacksAccepted"
    CALLBACKS_REJECTED = "CallbacksRejected"
    CALLBACKS_FAILED = "CallbacksFailed"
    # state-change publisher
    EVENTS_PUBLISHED = "EventsPublished"
    EVENTS_UNCHANGED = "EventsUnchanged"
    PUBLISH_FAILURES = "PublishFailures"
    # watchdog
    CHAINS_REVIVED = "ChainsRevived"
    """Lost poll chains the watchdog re-enqueued in one run (alarmed)."""
    RECORDS_EXAMINED = "RecordsExamined"


class Level(StrEnum):
    """Log levels in use."""

    DEBUG = "DEBUG"
    """Routine lines an operator needs only when looking into one task (``PowertoolsLogLevel=DEBUG``, or
    Powertools' ``POWERTOOLS_LOGGER_SAMPLE_RATE`` for a share of the invocations)."""
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
    """A :class:`MetricName` (a ``str``, so that a test can compare with the literal contract name)."""
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
