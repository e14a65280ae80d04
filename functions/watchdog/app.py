"""Lambda entry point: every few minutes (an EventBridge schedule), re-enqueue the lost poll chains.

Decorators, one call into ``zego_media_tasks.watchdog.service.WatchdogService`` within the invocation's
remaining time, and the run's metrics and log line (``zego_media_tasks.watchdog.telemetry``). The
service is built at the first invocation of an instance, never at import time.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.observability.powertools import emit
from zego_media_tasks.observability.tracing import function_tracer
from zego_media_tasks.watchdog.service import WatchdogService
from zego_media_tasks.watchdog.settings import WatchdogSettings
from zego_media_tasks.watchdog.telemetry import configured, for_report
from zego_media_tasks.watchdog.wiring import build_watchdog

logger = Logger()
tracer = function_tracer()  # X-Ray only when the stack's TracingEnabled is on
metrics = EphemeralMetrics()  # its own metric set: the local twin runs every function in one process


@cache
def watchdog() -> WatchdogService:
    """The instance's watchdog; the settings are validated here, at the first invocation."""
    settings = WatchdogSettings.from_env(os.environ)
    emit(configured(settings), logger=logger, metrics=metrics)
    return build_watchdog(settings)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """One run; returns its counts (the scheduled invocation's result is only logged by Lambda)."""
    report = watchdog().run(lambda: context.get_remaining_time_in_millis() / 1000)
    emit(for_report(report), logger=logger, metrics=metrics)
    return {"chainsRevived": len(report.revived), "recordsExamined": report.examined}
