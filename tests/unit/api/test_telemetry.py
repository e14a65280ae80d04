"""What the read API reports (api.telemetry): a count per response class, and a cold-start line."""

from __future__ import annotations

import pytest

from zego_media_tasks.api.settings import ApiSettings
from zego_media_tasks.api.telemetry import configured, for_response
from zego_media_tasks.observability.signals import Level, Metric, Telemetry


@pytest.mark.parametrize(
    ("status", "name"),
    [(200, "Responses2xx"), (202, "Responses2xx"), (304, "Responses3xx"), (404, "Responses4xx"), (503, "Responses5xx")],
)
def test_each_response_is_counted_once_by_its_class(status: int, name: str) -> None:
    assert for_response({"statusCode": status, "body": ""}) == Telemetry(metrics=(Metric(name),))


def test_a_response_without_a_status_code_counts_as_a_server_error() -> None:
    assert for_response({}) == Telemetry(metrics=(Metric("Responses5xx"),))


def test_the_cold_start_line_shows_the_settings_but_not_the_pagination_secret() -> None:
    secret = "api-telemetry-pagination-secret-0123456789"
    settings = ApiSettings.from_env(
        {
            "TABLE_NAME": "tasks",
            "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/poll",
            "PAGINATION_SECRET": secret,
        }
    )
    telemetry = configured(settings)
    assert telemetry.metrics == ()
    assert telemetry.log is not None
    assert (telemetry.log.level, telemetry.log.message) == (Level.INFO, "api configured")
    assert "tasks" in str(telemetry.log.extra["settings"])
    assert secret not in repr(telemetry)
