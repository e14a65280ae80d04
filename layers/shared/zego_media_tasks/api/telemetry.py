"""What the read API reports, as plain data: the cold-start line and a count per response class.

``functions/api/app.py`` emits them (:mod:`zego_media_tasks.observability.powertools`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from zego_media_tasks.api.settings import ApiSettings
from zego_media_tasks.observability.signals import Level, LogLine, Metric, MetricName, Telemetry

_RESPONSE_CLASSES: Final = {
    2: MetricName.RESPONSES_2XX,
    3: MetricName.RESPONSES_3XX,
    4: MetricName.RESPONSES_4XX,
    5: MetricName.RESPONSES_5XX,
}


def configured(settings: ApiSettings) -> Telemetry:
    """The cold-start line: the settings as their ``repr``, which leaves the pagination secret out."""
    return Telemetry(log=LogLine(Level.INFO, "api configured", {"settings": repr(settings)}))


def for_response(response: Mapping[str, Any]) -> Telemetry:
    """One count per response class (``Responses2xx``/``3xx``/``4xx``/``5xx``): error rates without parsing logs.

    A response without a status code, or with one outside 2xx-5xx, counts as a server error.
    """
    status = int(response.get("statusCode", 500))
    return Telemetry(metrics=(Metric(_RESPONSE_CLASSES.get(status // 100, MetricName.RESPONSES_5XX)),))
