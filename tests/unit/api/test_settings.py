"""The API's environment: validated at cold start, every problem reported at once."""

from __future__ import annotations

import json

import boto3
import pytest

from devstack.resources import ProvisionedStack
from zego_media_tasks.api.errors import ServiceUnavailableError
from zego_media_tasks.api.settings import ApiSettings, pagination_key_from
from zego_media_tasks.config.environment import SettingsError

SECRET = "s" * 40
BASE = {"TABLE_NAME": "tasks", "QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/poll"}


def test_defaults() -> None:
    settings = ApiSettings.from_env({**BASE, "PAGINATION_SECRET": SECRET})
    assert settings.task_deadline_seconds == 86_400
    assert settings.cors_allow_origin is None
    assert settings.pagination_key()() == SECRET.encode()
    assert SECRET not in repr(settings)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        ApiSettings.from_env({"QUEUE_URL": "sqs-name", "TASK_DEADLINE_SECONDS": "soon"})
    assert caught.value.problems == (
        "TABLE_NAME is required",
        "QUEUE_URL must be an SQS queue URL",
        "TASK_DEADLINE_SECONDS must be a whole number from 60 to 2592000",
        "exactly one of PAGINATION_SECRET_ARN and PAGINATION_SECRET must be set",
    )


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({}, "exactly one of PAGINATION_SECRET_ARN and PAGINATION_SECRET must be set"),
        ({"PAGINATION_SECRET": SECRET, "PAGINATION_SECRET_ARN": "arn:x"}, "exactly one of"),
        ({"PAGINATION_SECRET": "short"}, "PAGINATION_SECRET must be at least 32 characters"),
        ({"PAGINATION_SECRET": SECRET, "TASK_DEADLINE_SECONDS": "59"}, "TASK_DEADLINE_SECONDS must be"),
        ({"PAGINATION_SECRET": SECRET, "SECRET_CACHE_SECONDS": "-1"}, "SECRET_CACHE_SECONDS must be"),
    ],
)
def test_invalid_settings(extra: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError) as caught:
        ApiSettings.from_env({**BASE, **extra})
    assert any(p.startswith(problem) for p in caught.value.problems)


def test_empty_variables_count_as_unset() -> None:
    settings = ApiSettings.from_env({**BASE, "PAGINATION_SECRET_ARN": "arn:x", "PAGINATION_SECRET": "  "})
    assert settings.pagination_secret is None


@pytest.mark.parametrize(
    ("value", "key"),
    [(SECRET, SECRET.encode()), (json.dumps({"PaginationSecret": SECRET}), SECRET.encode())],
)
def test_the_key_is_read_from_secrets_manager(moto_stack: ProvisionedStack, value: str, key: bytes) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="pagination", SecretString=value)["ARN"]
    settings = ApiSettings.from_env({**BASE, "PAGINATION_SECRET_ARN": arn, "SECRET_CACHE_SECONDS": "0"})
    assert settings.pagination_key()() == key


def test_an_unreadable_secret_is_service_unavailable(moto_stack: ProvisionedStack) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    settings = ApiSettings.from_env({**BASE, "PAGINATION_SECRET_ARN": arn, "SECRET_CACHE_SECONDS": "0"})
    with pytest.raises(ServiceUnavailableError):
        settings.pagination_key()()


@pytest.mark.parametrize("value", ["short", '{"Other": "x"}', '{"PaginationSecret": 5}', "{not json"])
def test_unusable_secret_values_are_refused(value: str) -> None:
    with pytest.raises(ServiceUnavailableError):
        pagination_key_from(value)
