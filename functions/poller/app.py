"""Lambda entry point: SQS poll messages → DescribeMediaTask → DynamoDB → delayed re-enqueue.

Thin on purpose: Powertools decorators, SQS record → ``QueueMessage``, one call into
``zego_media_tasks.poller.service.PollerService`` per record, and the translation of its result into
log lines and metrics. The service and its clients are built at the first invocation of an instance,
never at import time. Each record succeeds or fails on its own (partial batch response); a record
fails when the service raises, and SQS offers it again after the visibility timeout.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.poller.service import (
    Action,
    ChainAhead,
    ConfigurationFailure,
    OutOfTime,
    PollResult,
    QueueMessage,
)
from zego_media_tasks.poller.wiring import PollerRuntime, build_runtime

logger = Logger()
tracer = Tracer()
metrics = Metrics()

_runtime: PollerRuntime | None = None
_runtime_lock = threading.Lock()


def runtime() -> PollerRuntime:
    """The instance's service, built from the environment at first use (a cold start)."""
    global _runtime  # noqa: PLW0603 - one service per Lambda instance, built lazily
    with _runtime_lock:
        if _runtime is None:
            _runtime = build_runtime(os.environ)
            logger.info(
                "poller configured",
                extra={"app_id": _runtime.app_id, "settings": _public_settings(_runtime)},
            )
        return _runtime


def _public_settings(built: PollerRuntime) -> dict[str, Any]:
    # Poller settings carry names, URLs and numbers only; the ZEGO secret lives in ZegoSettings and
    # is never logged.
    settings = built.settings
    return {name: getattr(settings, name) for name in settings.__slots__}


def _count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    """One metric with its own dimensions (kind, status...), next to the invocation's metrics."""
    with single_metric(name=name, unit=unit, value=value, default_dimensions=metrics.default_dimensions) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


def _correlate(keys: Mapping[str, str]) -> None:
    # Thread-safe keys: the local event source runs several invocations in one process.
    logger.thread_safe_append_keys(**keys)
    for key in ("task_id", "vendor"):
        if key in keys:
            tracer.put_annotation(key=key, value=keys[key])  # searchable in X-Ray


def _report(result: PollResult) -> None:
    """Log lines and metrics for one acknowledged record."""
    metrics.add_metric(name="MessagesAcknowledged", unit=MetricUnit.Count, value=1)
    if result.action is Action.DEAD_LETTERED and result.malformed is not None:
        logger.warning(
            "malformed message sent to the dead-letter queue",
            extra={
                "message_id": result.message_id,
                "reason": result.malformed.reason.value,
                "detail": result.malformed.detail,
                "task_marked_rejected": result.decision is not None,
                "warnings": list(result.warnings),
            },
        )
        _count("MalformedMessages", Reason=result.malformed.reason.value)
        return
    if result.action in (Action.SKIPPED_TERMINAL, Action.SKIPPED_STALE):
        logger.info("message acknowledged without polling", extra={"action": result.action.value})
        _count("SkippedMessages", Reason=result.action.value)
        return

    decision = result.decision
    if decision is None:
        return
    if decision.called_zego:
        metrics.add_metric(name="Polls", unit=MetricUnit.Count, value=1)
    if result.rate_limit_wait_seconds:
        metrics.add_metric(name="RateLimiterWaitSeconds", unit=MetricUnit.Seconds, value=result.rate_limit_wait_seconds)
    if result.rate_limited:
        metrics.add_metric(name="RateLimiterSaturated", unit=MetricUnit.Count, value=1)
    _count("Outcomes", Kind=decision.reason)
    written = result.action is Action.POLLED
    if not written:
        metrics.add_metric(name="SupersededWrites", unit=MetricUnit.Count, value=1)
    if written and decision.transition is not None:
        _count(
            "Transitions",
            From=decision.transition.from_status.value if decision.transition.from_status else "NEW",
            To=decision.transition.to_status.value,
        )
    if written and decision.time_to_terminal_seconds is not None:
        _count(
            "TimeToTerminalSeconds",
            decision.time_to_terminal_seconds,
            MetricUnit.Seconds,
            Status=decision.record.status.value,
        )
    call_error = result.outcome.error if result.outcome is not None else None
    logger.info(
        "poll decided" if written else "poll decided, but another copy of the chain wrote first",
        extra={
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


@tracer.capture_method
def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    """Process one SQS record; raising marks it failed in the partial batch response."""
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(message_id=record.message_id)
    built = runtime()
    if lambda_context is not None:
        remaining = lambda_context.get_remaining_time_in_millis() / 1000
        if remaining < built.record_budget_seconds:
            # Started now, this record could be cut off by the timeout, and a timed-out invocation
            # fails its whole batch; left alone, it comes back after the visibility timeout instead.
            metrics.add_metric(name="RecordsOutOfTime", unit=MetricUnit.Count, value=1)
            logger.warning("too little time left in this invocation; the record is retried later")
            raise OutOfTime(remaining, built.record_budget_seconds)
    sent = record.attributes.sent_timestamp
    message = QueueMessage(
        message_id=record.message_id,
        body=record.body,
        sent_timestamp_ms=int(sent) if sent and sent.isdigit() else None,
    )
    try:
        result = built.service.handle(message, correlate=_correlate)
    except ConfigurationFailure as failure:
        metrics.add_metric(name="Polls", unit=MetricUnit.Count, value=1)
        _count("Outcomes", Kind="CONFIGURATION")
        logger.error(
            "ZEGO refused our configuration; the message is retried and reaches the DLQ after "
            "maxReceiveCount (see the runbook: fix the configuration, then redrive)",
            extra={
                "error_code": failure.code,
                "error_message": failure.message,
                "last_error_recorded": failure.recorded,
                "warnings": list(failure.warnings),
            },
        )
        raise
    except ChainAhead as ahead:
        metrics.add_metric(name="ChainAheadRetries", unit=MetricUnit.Count, value=1)
        logger.warning(
            "message is ahead of its record; retried after the visibility timeout",
            extra={
                "message_generation": ahead.message_generation,
                "record_generation": ahead.record_generation,
            },
        )
        raise
    except Exception:
        metrics.add_metric(name="RecordFailures", unit=MetricUnit.Count, value=1)
        logger.exception("record failed; SQS will offer it again")
        raise
    _report(result)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS batch → partial batch response (``{"batchItemFailures": [...]}``)."""
    runtime()  # a configuration error fails the invocation here, once, with every problem listed
    # A processor per invocation: the local event source runs invocations concurrently in one process.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
