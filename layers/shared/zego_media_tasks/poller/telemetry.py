"""What the poller reports for each way a record ends: the log line and the metrics, as plain data.

One function per path: :func:`for_result` for an acknowledged record (a :class:`PollResult`),
:func:`for_failure` for a record reported failed (the exception it raised), :func:`configured` for the
cold start. :mod:`zego_media_tasks.poller.lambda_adapter` emits them; the names, units and dimensions
are the alarms' and dashboards' contract (``template.yaml``, docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Final

from zego_media_tasks.domain.outcome import OutcomeKind
from zego_media_tasks.domain.polling import PollDecision, Step
from zego_media_tasks.observability.signals import Level, LogLine, Metric, MetricName, Telemetry, Unit
from zego_media_tasks.poller.service import (
    Action,
    ChainAhead,
    ConfigurationFailure,
    OutOfTime,
    PollResult,
)
from zego_media_tasks.poller.settings import PollerSettings

ANNOTATED_KEYS: Final = ("task_id", "vendor")
"""Correlation keys that also become X-Ray annotations (searchable); every key goes on the log lines."""

CONFIGURATION_REFUSED: Final = (
    "ZEGO refused our configuration; the message is retried and reaches the DLQ after "
    "maxReceiveCount (see the runbook: fix the configuration, then redrive)"
)

_ACKNOWLEDGED: Final = Metric(MetricName.MESSAGES_ACKNOWLEDGED)
_POLLED: Final = Metric(MetricName.POLLS)


def configured(settings: PollerSettings, app_id: int) -> Telemetry:
    """The cold-start line: the AppId and every poller setting.

    Poller settings carry names, URLs and numbers only; the ZEGO secret lives in ``ZegoSettings``,
    which this line never sees. A field declared secret (left out of ``repr``) would be left out here too.
    """
    public = {item.name: getattr(settings, item.name) for item in fields(settings) if item.repr}
    return Telemetry(log=LogLine(Level.INFO, "poller configured", {"app_id": app_id, "settings": public}))


def for_result(result: PollResult) -> Telemetry:
    """Log line and metrics of an acknowledged record."""
    if result.action is Action.DEAD_LETTERED and result.malformed is not None:
        reason = result.malformed.reason.value
        return Telemetry(
            metrics=(_ACKNOWLEDGED, Metric(MetricName.MALFORMED_MESSAGES, dimensions={"Reason": reason})),
            log=LogLine(
                Level.WARNING,
                "malformed message sent to the dead-letter queue",
                {
                    "message_id": result.message_id,
                    "reason": reason,
                    "detail": result.malformed.detail,
                    "task_marked_rejected": result.decision is not None,
                    "warnings": list(result.warnings),
                },
            ),
        )
    if result.action in (Action.SKIPPED_TERMINAL, Action.SKIPPED_STALE):
        return Telemetry(
            metrics=(_ACKNOWLEDGED, Metric(MetricName.SKIPPED_MESSAGES, dimensions={"Reason": result.action.value})),
            log=LogLine(Level.INFO, "message acknowledged without polling", {"action": result.action.value}),
        )
    if result.decision is None:
        return Telemetry(metrics=(_ACKNOWLEDGED,))
    return Telemetry(
        metrics=(_ACKNOWLEDGED, *_decision_metrics(result, result.decision)),
        log=_decision_log(result, result.decision),
    )


def _decision_metrics(result: PollResult, decision: PollDecision) -> tuple[Metric, ...]:
    written = result.action is Action.POLLED
    metrics: list[Metric] = []
    if decision.called_zego:
        metrics.append(_POLLED)
    if result.rate_limit_wait_seconds:
        metrics.append(Metric(MetricName.RATE_LIMITER_WAIT_SECONDS, result.rate_limit_wait_seconds, Unit.SECONDS))
    if result.rate_limited:
        metrics.append(Metric(MetricName.RATE_LIMITER_SATURATED))
    if result.call_rate_per_second is not None:
        metrics.append(Metric(MetricName.RATE_LIMITER_RATE, result.call_rate_per_second, Unit.COUNT_PER_SECOND))
    metrics.append(Metric(MetricName.OUTCOMES, dimensions={"Kind": decision.reason}))
    if not written:
        metrics.append(Metric(MetricName.SUPERSEDED_WRITES))
    # A superseded write changed nothing: its transition and time to terminal are the winner's to count.
    if written and decision.transition is not None:
        source = decision.transition.from_status
        metrics.append(
            Metric(
                MetricName.TRANSITIONS,
                dimensions={
                    "From": source.value if source else "NEW",
                    "To": decision.transition.to_status.value,
                },
            )
        )
    if written and decision.time_to_terminal_seconds is not None:
        metrics.append(
            Metric(
                MetricName.TIME_TO_TERMINAL_SECONDS,
                decision.time_to_terminal_seconds,
                Unit.SECONDS,
                {"Status": decision.record.status.value},
            )
        )
    return tuple(metrics)


def is_routine(result: PollResult, decision: PollDecision) -> bool:
    """A poll that only confirmed what the record said: written, no transition, no error, polling on.

    Most polls of a running task are routine; their line is DEBUG (about 700 bytes each, the largest
    share of the poller's log volume, docs/benchmarks.md), while every transition, end, error, throttle,
    superseded write and malformed message stays at INFO or above. The metrics count routine polls too.
    """
    return (
        result.action is Action.POLLED
        and decision.transition is None
        and decision.step is Step.CONTINUE
        and decision.reason == OutcomeKind.SUCCESS.value
        and not result.rate_limited
    )


def _decision_log(result: PollResult, decision: PollDecision) -> LogLine:
    written = result.action is Action.POLLED
    call_error = result.outcome.error if result.outcome is not None else None
    return LogLine(
        Level.DEBUG if is_routine(result, decision) else Level.INFO,
        "poll decided" if written else "poll decided, but another copy of the chain wrote first",
        {
            "reason": decision.reason,
            "step": decision.step.value,
            "status": decision.record.status.value,
            "vendor_status": decision.record.vendor_status,
            "generation": decision.record.generation,
            "attempt": decision.record.attempt,
            "delay_seconds": decision.delay_seconds,
            "next_message_id": result.sent_message_id,
            "rate_limit_wait_seconds": result.rate_limit_wait_seconds,
            "error_code": call_error.code if call_error else None,
            "error_message": call_error.message if call_error else None,
            "write": result.write.value if result.write else None,
        },
    )


def for_failure(error: Exception) -> Telemetry:
    """Log line and metrics of a record reported failed because processing it raised ``error``."""
    if isinstance(error, ConfigurationFailure):
        return Telemetry(
            metrics=(_POLLED, Metric(MetricName.OUTCOMES, dimensions={"Kind": "CONFIGURATION"})),
            log=LogLine(
                Level.ERROR,
                CONFIGURATION_REFUSED,
                {
                    "error_code": error.code,
                    "error_message": error.message,
                    "last_error_recorded": error.recorded,
                    "warnings": list(error.warnings),
                },
            ),
        )
    if isinstance(error, ChainAhead):
        return Telemetry(
            metrics=(Metric(MetricName.CHAIN_AHEAD_RETRIES),),
            log=LogLine(
                Level.WARNING,
                "message is ahead of its record; retried after the visibility timeout",
                {"message_generation": error.message_generation, "record_generation": error.record_generation},
            ),
        )
    if isinstance(error, OutOfTime):
        return Telemetry(
            metrics=(Metric(MetricName.RECORDS_OUT_OF_TIME),),
            log=LogLine(Level.WARNING, "too little time left in this invocation; the record is retried later"),
        )
    # A store or queue outage, or a bug: the traceback goes with the line.
    return Telemetry(
        metrics=(Metric(MetricName.RECORD_FAILURES),),
        log=LogLine(Level.ERROR, "record failed; SQS will offer it again", with_exception=True),
    )
