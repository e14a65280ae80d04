"""What the watchdog reports for a run, as plain data: two metrics and one log line.

``ChainsRevived`` (alarmed: chains that keep being revived mean something upstream loses messages) and
``RecordsExamined`` go out for every run, zero included, so the alarm always has data.
"""

from __future__ import annotations

from typing import Final

from zego_media_tasks.observability.signals import Level, LogLine, Metric, MetricName, Telemetry
from zego_media_tasks.watchdog.service import WatchReport
from zego_media_tasks.watchdog.settings import WatchdogSettings

MAX_LOGGED_REVIVALS: Final = 50
"""Revived tasks named in a run's log line; the count is always complete."""


def configured(settings: WatchdogSettings) -> Telemetry:
    """The cold-start line."""
    return Telemetry(log=LogLine(Level.INFO, "watchdog configured", {"settings": repr(settings)}))


def for_report(report: WatchReport) -> Telemetry:
    """The run's metrics, and its log line (a warning when it revived a chain)."""
    revived = report.revived
    return Telemetry(
        metrics=(
            Metric(MetricName.CHAINS_REVIVED, float(len(revived))),
            Metric(MetricName.RECORDS_EXAMINED, float(report.examined)),
        ),
        log=LogLine(
            Level.WARNING if revived or report.warnings else Level.INFO,
            "lost poll chains re-enqueued" if revived else "no lost poll chain",
            {
                "chains_revived": len(revived),
                "records_examined": report.examined,
                "verdicts": dict(report.verdicts),
                "pages": report.pages,
                "index_read_units": report.read_units,
                "shards_finished": report.shards_finished,
                "out_of_time": report.out_of_time,
                "revived": [
                    {
                        "task_id": revival.task_id,
                        "vendor": revival.vendor.value,
                        "generation": revival.generation,
                        "overdue_seconds": revival.overdue_seconds,
                        "message_id": revival.message_id,
                    }
                    for revival in revived[:MAX_LOGGED_REVIVALS]
                ],
                "warnings": report.warnings,
            },
        ),
    )
