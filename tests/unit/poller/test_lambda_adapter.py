"""The poller's Lambda side (poller.lambda_adapter): SQS record → message, time left, one runtime."""

from __future__ import annotations

import threading
from typing import cast

import pytest
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tests.support.clock import FakeClock
from zego_media_tasks.poller.lambda_adapter import PollerInstance, ensure_time_left, queue_message
from zego_media_tasks.poller.service import OutOfTime, PollerService, QueueMessage
from zego_media_tasks.poller.settings import PollerSettings
from zego_media_tasks.poller.wiring import PollerRuntime


def sqs_record(sent_timestamp: str) -> SQSRecord:
    attributes = {"SentTimestamp": sent_timestamp}
    return SQSRecord({"messageId": "m-1", "body": '{"TaskId": "t-1"}', "attributes": attributes})


SENT_MS = int(FakeClock().now().timestamp() * 1000) + 123
"""A SentTimestamp from the tests' fake clock (a parse test: no wall clock is read)."""


@pytest.mark.parametrize(("sent", "expected"), [(str(SENT_MS), SENT_MS), ("", None), ("soon", None)])
def test_a_record_becomes_the_message_the_service_reads(sent: str, expected: int | None) -> None:
    assert queue_message(sqs_record(sent)) == QueueMessage("m-1", '{"TaskId": "t-1"}', expected)


def test_a_record_is_not_started_with_less_time_left_than_it_may_need() -> None:
    ensure_time_left(remaining_seconds=14.0, budget_seconds=14.0)
    with pytest.raises(OutOfTime) as caught:
        ensure_time_left(remaining_seconds=13.9, budget_seconds=14.0)
    assert (caught.value.remaining_seconds, caught.value.budget_seconds) == (13.9, 14.0)


def test_the_runtime_is_built_once_per_instance_even_under_concurrent_first_invocations() -> None:
    # Given an instance whose build is slow enough for several threads to ask at once
    settings = PollerSettings(table_name="t", queue_url="https://q", dlq_url="https://d", rate_limit_table_name="r")
    built = PollerRuntime(service=cast(PollerService, object()), settings=settings, app_id=1, record_budget_seconds=1.0)
    calls: list[int] = []
    started = threading.Barrier(4)

    def build() -> PollerRuntime:
        calls.append(1)
        return built

    instance = PollerInstance(
        build, logger=Logger(service="adapter-test"), tracer=Tracer(disabled=True), metrics=Metrics()
    )
    seen: list[PollerRuntime] = []

    def first_invocation() -> None:
        started.wait()
        seen.append(instance.runtime())

    threads = [threading.Thread(target=first_invocation) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then it was built once, and every invocation got that one
    assert calls == [1]
    assert seen == [built] * 4
