"""Emitting telemetry through Powertools: where each metric goes, and what a log line looks like."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools import Logger, Metrics

from tests.support.powertools_logs import LogLines, captured_log_lines
from zego_media_tasks.observability.powertools import emit
from zego_media_tasks.observability.signals import Level, LogLine, Metric, Telemetry, Unit


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    # Powertools keeps metrics and default dimensions per namespace, shared by every Metrics object.
    metrics = Metrics(namespace="EmitTest")
    metrics.set_default_dimensions(environment="test")
    yield metrics
    metrics.clear_metrics()
    metrics.clear_default_dimensions()


@pytest.fixture
def logged() -> Iterator[tuple[Logger, LogLines]]:
    logger = Logger(service="emit-test")
    with captured_log_lines(logger) as lines:
        yield logger, lines


def blobs(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if '"_aws"' in line]


def test_a_metric_without_dimensions_joins_the_invocation_and_one_with_dimensions_goes_out_alone(
    metrics: Metrics, logged: tuple[Logger, LogLines], capsys: pytest.CaptureFixture[str]
) -> None:
    logger, _ = logged
    telemetry = Telemetry(
        metrics=(Metric("Polls"), Metric("TimeToTerminalSeconds", 90.0, Unit.SECONDS, {"Status": "SUCCEEDED"}))
    )

    emit(telemetry, logger=logger, metrics=metrics)

    # The dimensioned one is out already, alone, with its own dimension and the invocation's default ones
    [alone] = blobs(capsys.readouterr().out)
    [definition] = alone["_aws"]["CloudWatchMetrics"]
    assert definition["Metrics"] == [{"Name": "TimeToTerminalSeconds", "Unit": "Seconds"}]
    assert set(definition["Dimensions"][0]) == {"environment", "Status"}
    assert (alone["TimeToTerminalSeconds"], alone["Status"], alone["environment"]) == ([90.0], "SUCCEEDED", "test")
    # The other waits for the invocation's flush, without the Status dimension
    metrics.flush_metrics()
    [invocation] = blobs(capsys.readouterr().out)
    [definition] = invocation["_aws"]["CloudWatchMetrics"]
    assert definition["Metrics"] == [{"Name": "Polls", "Unit": "Count"}]
    assert definition["Dimensions"] == [["environment"]]


def test_a_log_line_carries_its_level_message_and_fields(metrics: Metrics, logged: tuple[Logger, LogLines]) -> None:
    logger, log_lines = logged
    line = LogLine(Level.WARNING, "message is ahead of its record", {"message_generation": 2, "record_generation": 1})

    emit(Telemetry(log=line), logger=logger, metrics=metrics)

    [record] = log_lines()
    assert (record["level"], record["message"]) == ("WARNING", "message is ahead of its record")
    assert (record["message_generation"], record["record_generation"]) == (2, 1)
    assert "exception" not in record
    assert record["location"].startswith("test_a_log_line_carries_its_level_message_and_fields:")


def test_a_line_with_the_exception_carries_the_one_being_handled(
    metrics: Metrics, logged: tuple[Logger, LogLines]
) -> None:
    logger, log_lines = logged
    try:
        raise RuntimeError("the store is down")
    except RuntimeError:
        emit(Telemetry(log=LogLine(Level.ERROR, "record failed", with_exception=True)), logger=logger, metrics=metrics)

    [record] = log_lines()
    assert (record["level"], record["message"]) == ("ERROR", "record failed")
    assert record["exception_name"] == "RuntimeError"
    assert "the store is down" in record["exception"]
