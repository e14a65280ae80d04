"""The local stand-in for the watchdog's EventBridge schedule (devstack/schedule.py)."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.schedule import LocalSchedule, ScheduleSettings, rate_seconds


def test_the_watchdogs_schedule_and_timeout_come_from_the_template() -> None:
    assert ScheduleSettings.from_template("WatchdogFunction") == ScheduleSettings(300.0, 120.0)
    overridden = ScheduleSettings.from_template("WatchdogFunction", {"WatchdogScheduleMinutes": "2"})
    assert overridden.interval_seconds == 120.0


@pytest.mark.parametrize(
    ("expression", "seconds"), [("rate(1 minute)", 60.0), ("rate(5 minutes)", 300.0), ("rate(2 hours)", 7200.0)]
)
def test_rate_expressions_are_read_as_eventbridge_reads_them(expression: str, seconds: float) -> None:
    assert rate_seconds(expression) == seconds


def test_a_cron_expression_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="only rate"):
        rate_seconds("cron(0 12 * * ? *)")


def test_a_tick_is_one_scheduled_invocation_with_the_functions_time_budget() -> None:
    seen: list[tuple[dict[str, Any], int]] = []

    def handler(event: dict[str, Any], context: Any) -> str:
        seen.append((event, context.get_remaining_time_in_millis()))
        return "done"

    results: list[Any] = []
    schedule = LocalSchedule(
        handler, ScheduleSettings(300.0, 120.0), function_name="WatchdogFunction", on_result=results.append
    )
    assert schedule.tick() == "done"
    [(event, remaining_ms)] = seen
    assert (event["source"], event["detail-type"]) == ("aws.events", "Scheduled Event")
    assert 100_000 < remaining_ms <= 120_000
    assert (schedule.invocations, results) == (1, ["done"])
