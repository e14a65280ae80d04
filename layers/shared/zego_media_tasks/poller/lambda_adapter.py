"""The poller's Lambda side: SQS record in, ``PollerService`` call, Powertools logs and metrics out.

One :class:`PollerInstance` per Lambda instance (``functions/poller/app.py`` creates it at import,
without reading the environment). It builds the runtime at the first invocation, keeps each record's
correlation keys, refuses to start a record the invocation has no time left for, and emits what
:mod:`zego_media_tasks.poller.telemetry` decides for the record's result or failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.observability.powertools import FunctionMetrics, emit
from zego_media_tasks.poller.service import OutOfTime, QueueMessage
from zego_media_tasks.poller.telemetry import ANNOTATED_KEYS, configured, for_failure, for_result
from zego_media_tasks.poller.wiring import PollerRuntime


def queue_message(record: SQSRecord) -> QueueMessage:
    """The parts of an SQS record the service uses."""
    sent = record.attributes.sent_timestamp
    return QueueMessage(
        message_id=record.message_id,
        body=record.body,
        sent_timestamp_ms=int(sent) if sent and sent.isdigit() else None,
    )


def ensure_time_left(remaining_seconds: float, budget_seconds: float) -> None:
    """Raise :class:`OutOfTime` when less than ``budget_seconds`` of the invocation is left.

    Started now, the record could be cut off by the timeout, and a timed-out invocation fails its whole
    batch; left alone, it comes back after the visibility timeout instead.
    """
    if remaining_seconds < budget_seconds:
        raise OutOfTime(remaining_seconds, budget_seconds)


class PollerInstance:
    """What one Lambda instance of the poller holds: its runtime, built once, and its Powertools tools."""

    def __init__(
        self, build: Callable[[], PollerRuntime], *, logger: Logger, tracer: Tracer, metrics: FunctionMetrics
    ) -> None:
        self._build = build
        self._logger = logger
        self._tracer = tracer
        self._metrics = metrics
        self._runtime: PollerRuntime | None = None
        self._lock = threading.Lock()

    def runtime(self) -> PollerRuntime:
        """The instance's service, built at first use (a cold start); a ``SettingsError`` lists every problem."""
        with self._lock:  # the local event source runs several invocations in one process
            if self._runtime is None:
                self._runtime = self._build()
                cold_start = configured(self._runtime.settings, self._runtime.app_id)
                emit(cold_start, logger=self._logger, metrics=self._metrics)
            return self._runtime

    def process(self, record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
        """Process one SQS record; raising marks it failed in the partial batch response."""
        self._logger.thread_safe_clear_keys()
        self._logger.thread_safe_append_keys(message_id=record.message_id)
        built = self.runtime()
        message = queue_message(record)
        try:
            if lambda_context is not None:
                remaining = lambda_context.get_remaining_time_in_millis() / 1000
                ensure_time_left(remaining, built.record_budget_seconds)
            result = built.service.handle(message, correlate=self._correlate)
        except Exception as error:
            emit(for_failure(error), logger=self._logger, metrics=self._metrics)
            raise
        emit(for_result(result), logger=self._logger, metrics=self._metrics)

    def _correlate(self, keys: Mapping[str, str]) -> None:
        # Thread-safe keys: the local event source runs several invocations in one process.
        self._logger.thread_safe_append_keys(**keys)
        for key in ANNOTATED_KEYS:
            if key in keys:
                self._tracer.put_annotation(key=key, value=keys[key])
