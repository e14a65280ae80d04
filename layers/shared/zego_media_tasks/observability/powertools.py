"""Emits :class:`~zego_media_tasks.observability.signals.Telemetry` through Powertools.

Metrics without dimensions are added to the invocation's ``Metrics`` (flushed by ``log_metrics``);
a metric with dimensions goes out alone through ``single_metric``, in the invocation's namespace and
with its default dimensions, so that its own dimensions (``Kind``, ``Status``...) never split the other
metrics.
"""

from __future__ import annotations

from typing import TypeAlias

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from zego_media_tasks.observability.signals import Level, LogLine, Metric, Telemetry

FunctionMetrics: TypeAlias = Metrics | EphemeralMetrics
"""A function's metric set: the handlers use ``EphemeralMetrics``, which keeps its own state, because the
local twin runs every function in one process, where ``Metrics`` instances share one set and one
function's flush would take (or empty) another's."""


def emit(telemetry: Telemetry, *, logger: Logger, metrics: FunctionMetrics) -> None:
    """Emit the metrics, then the log line (call it inside ``except`` for a line with the exception)."""
    for metric in telemetry.metrics:
        _emit_metric(metric, metrics)
    if telemetry.log is not None:
        _emit_log(telemetry.log, logger)


def _emit_metric(metric: Metric, metrics: FunctionMetrics) -> None:
    unit = MetricUnit(metric.unit.value)
    if not metric.dimensions:
        metrics.add_metric(name=metric.name, unit=unit, value=metric.value)
        return
    with single_metric(
        name=metric.name,
        unit=unit,
        value=metric.value,
        namespace=metrics.namespace,
        default_dimensions=metrics.default_dimensions,
    ) as alone:
        for key, value in metric.dimensions.items():
            alone.add_dimension(name=key, value=value)


def _emit_log(line: LogLine, logger: Logger) -> None:
    log = {
        Level.DEBUG: logger.debug,
        Level.INFO: logger.info,
        Level.WARNING: logger.warning,
        Level.ERROR: logger.error,
    }[line.level]
    # The line's "location" names the caller of emit(): Powertools' method (1), here (2), emit (3), it (4).
    log(line.message, extra=dict(line.extra), exc_info=line.with_exception, stacklevel=4)
