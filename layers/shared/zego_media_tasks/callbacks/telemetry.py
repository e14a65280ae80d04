"""What the callback receiver reports, as plain data: one log line and its metrics per callback.

Every rejection is logged with its reason and counted as ``CallbacksRejected``, in total (an alarm
watches it: a spike means a wrong CallbackSecret or somebody forging callbacks) and by ``Reason``.
Accepted ones count as ``CallbacksAccepted`` by ``Outcome``, and a callback that changed a status also
counts in ``Transitions`` and ``TimeToTerminalSeconds``, as a poll does. Nothing here ever holds the
secret, the signature or the nonce: the result carries none of them.
"""

from __future__ import annotations

from zego_media_tasks.callbacks.service import ACCEPTED, CallbackResult
from zego_media_tasks.callbacks.settings import CallbackSettings
from zego_media_tasks.observability.signals import Level, LogLine, Metric, MetricName, Telemetry, Unit


def configured(settings: CallbackSettings) -> Telemetry:
    """The cold-start line: the settings as their ``repr``, which leaves the CallbackSecret out."""
    return Telemetry(log=LogLine(Level.INFO, "callback receiver configured", {"settings": repr(settings)}))


def for_result(result: CallbackResult) -> Telemetry:
    """The log line and metrics of one answered callback."""
    extra: dict[str, object] = {
        "outcome": result.outcome.value,
        "status_code": result.status_code,
        "task_id": result.task_id,
        "vendor": result.vendor.value if result.vendor else None,
        "event": result.event,
        "status": result.status.value if result.status else None,
    }
    if result.rejection is not None:
        reason = result.rejection.reason.value
        extra["reason"] = reason
        extra["detail"] = result.rejection.detail
        return Telemetry(
            # The total (service dimension only) is what CallbacksRejectedAlarm watches; CloudWatch
            # treats the by-Reason series as another metric, so it cannot stand in for the total.
            metrics=(
                Metric(MetricName.CALLBACKS_REJECTED),
                Metric(MetricName.CALLBACKS_REJECTED, dimensions={"Reason": reason}),
            ),
            log=LogLine(Level.WARNING, "callback rejected", extra),
        )
    if result.outcome not in ACCEPTED:
        extra["detail"] = result.detail
        return Telemetry(
            metrics=(Metric(MetricName.CALLBACKS_FAILED, dimensions={"Outcome": result.outcome.value}),),
            log=LogLine(Level.WARNING, "callback not applied; ZEGO will retry it", extra),
        )
    metrics = [Metric(MetricName.CALLBACKS_ACCEPTED, dimensions={"Outcome": result.outcome.value})]
    if result.transition is not None:
        from_status = result.transition.from_status.value if result.transition.from_status else "NEW"
        metrics.append(
            Metric(MetricName.TRANSITIONS, dimensions={"From": from_status, "To": result.transition.to_status.value})
        )
    if result.time_to_terminal_seconds is not None and result.status is not None:
        metrics.append(
            Metric(
                MetricName.TIME_TO_TERMINAL_SECONDS,
                result.time_to_terminal_seconds,
                Unit.SECONDS,
                {"Status": result.status.value},
            )
        )
    return Telemetry(metrics=tuple(metrics), log=LogLine(Level.INFO, "callback applied", extra))
