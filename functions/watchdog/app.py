"""Lambda entry point: every few minutes (an EventBridge schedule), re-enqueue the lost poll chains.

Decorators, one call into ``zego_media_tasks.watchdog.service.WatchdogService`` within the invocation's
remaining time, and the run's metrics and log line (``zego_media_tasks.watchdog.telemetry``). The
service is built at the first invocation of an instance, never at import time.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.observability.entry_point import EntryPoint
from zego_media_tasks.watchdog.settings import WatchdogSettings
from zego_media_tasks.watchdog.telemetry import configured, for_report
from zego_media_tasks.watchdog.wiring import build_watchdog

entry = EntryPoint.create()
logger = entry.logger
# Settings validated at the first invocation; build_watchdog looked up then (the local twin replaces it).
watchdog = entry.built_once(WatchdogSettings, configured, lambda settings: build_watchdog(settings))  # noqa: PLW0108


@entry.handler(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """One run; returns its counts (the scheduled invocation's result is only logged by Lambda)."""
    report = watchdog().run(lambda: context.get_remaining_time_in_millis() / 1000)
    entry.emit(for_report(report))
    return {"chainsRevived": len(report.revived), "recordsExamined": report.examined}
