"""What the publisher reports, as plain data: one metric per stream record, a log line per problem.

``EventsPublished`` and ``EventsUnchanged`` count records; ``PublishFailures`` (in total, and by ``Reason``) counts
records that must be retried, and is alarmed: a sustained count means EventBridge refuses us or the
stream holds something this version cannot read.
"""

from __future__ import annotations

from zego_media_tasks.events.service import PublishResult
from zego_media_tasks.events.settings import PublisherSettings
from zego_media_tasks.observability.signals import Level, LogLine, Metric, MetricName, Telemetry


def configured(settings: PublisherSettings) -> Telemetry:
    """The cold-start line."""
    return Telemetry(log=LogLine(Level.INFO, "event publisher configured", {"settings": repr(settings)}))


def for_result(result: PublishResult) -> Telemetry:
    """One published event (with its id and sequence), or one unchanged write."""
    if result.change is None:
        return Telemetry(metrics=(Metric(MetricName.EVENTS_UNCHANGED),))
    detail = result.change.detail
    return Telemetry(
        metrics=(Metric(MetricName.EVENTS_PUBLISHED),),
        log=LogLine(
            Level.INFO,
            "state change published",
            {
                "task_id": detail["taskId"],
                "vendor": detail["vendor"],
                "status": detail["status"],
                "previous_status": detail["previousStatus"],
                "sequence": detail["sequence"],
                "event_id": detail["eventId"],
            },
        ),
    )


def for_failure(error: Exception) -> Telemetry:
    """A record that failed and will be retried (or, past the budget, sent to the on-failure queue)."""
    reason = type(error).__name__
    return Telemetry(
        # The total (service dimension only) is what PublishFailuresAlarm watches: CloudWatch counts a metric
        # with an extra dimension as another metric.
        metrics=(
            Metric(MetricName.PUBLISH_FAILURES),
            Metric(MetricName.PUBLISH_FAILURES, dimensions={"Reason": reason}),
        ),
        log=LogLine(Level.ERROR, "stream record not published; it is retried", {"reason": reason}, with_exception=True),
    )
