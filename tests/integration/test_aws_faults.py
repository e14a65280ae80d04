"""The emulator's AWS faults on the wire: botocore reads each refusal as AWS's own error and retries it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import ExponentialBackoff

from devstack.aws_faults import STATS_PATH, AwsFaultInjector, AwsFaultSettings, mark_as_fault_target
from devstack.emulator import AwsEmulator, inject_aws_faults
from devstack.resources import ProvisionedStack

pytestmark = pytest.mark.integration

NOW = 1_000.0
WINDOW = ((NOW - 10, NOW + 10),)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's standard retries without their sleeps; the delays it computed are recorded."""
    delays: list[float] = []
    original = ExponentialBackoff.delay_amount

    def recorded(self: ExponentialBackoff, context: Any) -> float:
        delays.append(original(self, context))
        return 0.0

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", recorded)
    return delays


def faulting(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> AwsFaultInjector:
    injector = AwsFaultInjector(AwsFaultSettings(windows=WINDOW, **settings), clock=lambda: NOW)
    inject_aws_faults(injector, monkeypatch.setattr)
    return injector


def client(service: str, attempts: int = 2) -> Any:
    """A client in botocore's standard retry mode (its default), marked as a fault target."""
    config = Config(retries={"mode": "standard", "total_max_attempts": attempts})
    return mark_as_fault_target(boto3.session.Session().client(service, config=config))  # type: ignore[call-overload]


def refused(call: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    "case",
    [
        (1.0, {"ProvisionedThroughputExceededException", "ThrottlingException"}, 400),
        (0.0, {"InternalServerError"}, 500),
    ],
)
def test_dynamodb_refusals_are_dynamodb_errors_that_botocore_retries(
    stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch, no_backoff: list[float], case: tuple[float, set[str], int]
) -> None:
    throttle_share, codes, status = case
    # Given every marked DynamoDB request refused, as throttling or as a 500
    injector = faulting(monkeypatch, dynamodb_rate=1.0, throttle_share=throttle_share)
    table = stack.table_names["TasksTable"]
    dynamodb = client("dynamodb", attempts=2)

    # When a marked client writes and reads
    errors = [
        refused(lambda: dynamodb.put_item(TableName=table, Item={"taskId": {"S": "t"}, "vendor": {"S": "Tencent"}})),
        refused(lambda: dynamodb.get_item(TableName=table, Key={"taskId": {"S": "t"}, "vendor": {"S": "Tencent"}})),
    ]

    # Then botocore reports DynamoDB's own error code and status, after retrying each once
    for error in errors:
        assert error.response["Error"]["Code"] in codes
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
        assert error.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(no_backoff) == 2
    # and nothing was applied
    assert "Item" not in boto3.client("dynamodb").get_item(
        TableName=table, Key={"taskId": {"S": "t"}, "vendor": {"S": "Tencent"}}
    )
    assert sum(injector.stats()["faults"].values()) == 4


@pytest.mark.parametrize("case", [(1.0, "RequestThrottled", 400), (0.0, "InternalFailure", 500)])
def test_sqs_refusals_are_sqs_json_errors_that_botocore_retries(
    stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch, no_backoff: list[float], case: tuple[float, str, int]
) -> None:
    throttle_share, code, status = case
    # Given every marked SQS request refused
    faulting(monkeypatch, sqs_rate=1.0, throttle_share=throttle_share)
    url = stack.queue_urls["PollQueue"]
    sqs = client("sqs", attempts=3)

    # When a marked client sends and receives
    errors = [
        refused(lambda: sqs.send_message(QueueUrl=url, MessageBody="{}")),
        refused(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)),
    ]

    # Then botocore reads the query-compatible code (x-amzn-query-error) and retried each to its limit
    for error in errors:
        assert error.response["Error"]["Code"] == code
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
        assert error.response["ResponseMetadata"]["RetryAttempts"] == 2
    # and the queue is as empty as before
    assert "Messages" not in boto3.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=0)


def test_a_retry_that_is_let_through_succeeds_and_observers_are_spared(
    stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch, no_backoff: list[float], aws_env: AwsEmulator
) -> None:
    # Given half of the marked SQS requests refused (seeded)
    faulting(monkeypatch, sqs_rate=0.5, seed=5)
    url = stack.queue_urls["PollQueue"]
    sqs = client("sqs", attempts=10)

    # When a marked client sends twenty messages, and an unmarked one reads them
    for index in range(20):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    observer = boto3.client("sqs", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    bodies: set[str] = set()
    for _ in range(10):
        bodies |= {
            m["Body"] for m in observer.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        }

    # Then every send went through in the end, after retries, and the observer saw no fault
    assert bodies == {str(index) for index in range(20)}
    stats = requests.get(f"{aws_env.endpoint_url}{STATS_PATH}", timeout=10).json()
    assert stats["requests"]["sqs"] == 20 + len(no_backoff)
    assert sum(stats["faults"].values()) == len(no_backoff) > 0
    assert stats["spared_in_window"]["sqs"] >= 1
