"""functions/api/app.py as Lambda runs it: configured from the environment at the first invocation."""

from __future__ import annotations

from types import ModuleType

import pytest

from devstack.handlers import load_function_module
from devstack.lambda_context import LocalLambdaContext
from devstack.resources import ProvisionedStack
from tests.support.api_events import header, json_body, sample
from tests.unit.api.conftest import PAGINATION_SECRET
from zego_media_tasks.config.environment import SettingsError


@pytest.fixture
def app_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of the entry point, loaded from its file as Lambda loads it."""
    # The template always sets a namespace; Powertools reads it when the module is imported.
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ZegoMediaTasksTest")
    return load_function_module("api", "api_app_under_test")


@pytest.fixture
def api_env(moto_stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", moto_stack.table_names["TasksTable"])
    monkeypatch.setenv("QUEUE_URL", moto_stack.queue_urls["PollQueue"])
    monkeypatch.setenv("PAGINATION_SECRET", PAGINATION_SECRET)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "zego-media-tasks-api")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ZegoMediaTasksTest")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")


def test_the_three_sample_events(app_module: ModuleType, api_env: None) -> None:
    context = LocalLambdaContext(function_name="ApiFunction")
    registered = app_module.lambda_handler(sample("apigw-post-task.json"), context)
    assert registered["statusCode"] == 202
    fetched = app_module.lambda_handler(sample("apigw-get-task.json"), context)
    assert fetched["statusCode"] == 200
    assert [t["status"] for t in json_body(fetched)["tasks"]] == ["PENDING"]
    assert header(fetched, "Cache-Control") == "no-cache"
    listed = app_module.lambda_handler(sample("apigw-list-tasks.json"), context)
    assert listed["statusCode"] == 200
    assert json_body(listed) == {"tasks": [], "nextToken": None}  # PENDING is not PROCESSING


def test_the_resolver_is_built_once_per_instance(app_module: ModuleType, api_env: None) -> None:
    context = LocalLambdaContext(function_name="ApiFunction")
    app_module.lambda_handler(sample("apigw-list-tasks.json"), context)
    first = app_module.api()
    app_module.lambda_handler(sample("apigw-list-tasks.json"), context)
    assert app_module.api() is first


def test_a_misconfigured_environment_fails_loudly_at_the_first_invocation(
    app_module: ModuleType, moto_stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TABLE_NAME", "QUEUE_URL", "PAGINATION_SECRET", "PAGINATION_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError, match="TABLE_NAME is required"):
        app_module.lambda_handler(sample("apigw-get-task.json"), LocalLambdaContext(function_name="ApiFunction"))
