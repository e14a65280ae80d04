"""The API Lambda handler over moto's server on loopback, driven by API Gateway-shaped events: register,
read, list with pagination, and the errors, as a deployed stack would see them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from devstack.handlers import load_function_module
from devstack.lambda_context import LocalLambdaContext
from devstack.resources import ProvisionedStack
from tests.support.api_events import (
    api_environment,
    get_task_event,
    header,
    json_body,
    list_tasks_event,
    post_task_event,
    registration_body,
    sample,
)

pytestmark = pytest.mark.integration

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def invoke(stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``lambda_handler`` of a freshly loaded ``functions/api/app.py``, configured for the emulator."""
    for name, value in api_environment(stack).items():
        monkeypatch.setenv(name, value)
    module = load_function_module("api", "api_app_integration")
    context = LocalLambdaContext(function_name="ApiFunction")
    return lambda event: module.lambda_handler(event, context)


def test_register_then_read_then_list(invoke: Invoke) -> None:
    created = invoke(sample("apigw-post-task.json"))
    assert created["statusCode"] == 202
    location = header(created, "Location")
    assert location == "/v1/tasks/2b0c4d1e9f?vendor=Tencent"

    again = invoke(sample("apigw-post-task.json"))
    assert again["statusCode"] == 200
    assert json_body(again) == json_body(created)

    fetched = invoke(get_task_event("2b0c4d1e9f", vendor="Tencent"))
    assert fetched["statusCode"] == 200
    assert json_body(fetched)["tasks"] == [json_body(created)]

    etag = header(fetched, "ETag")
    assert etag is not None
    assert invoke(get_task_event("2b0c4d1e9f", vendor="Tencent", headers={"If-None-Match": etag}))["statusCode"] == 304

    listed = invoke(list_tasks_event(status="PENDING"))
    assert [t["taskId"] for t in json_body(listed)["tasks"]] == ["2b0c4d1e9f"]


def test_pagination_across_pages_over_the_wire(invoke: Invoke) -> None:
    for number in range(5):
        assert invoke(post_task_event(registration_body(f"page-{number}")))["statusCode"] == 202
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        query = {"status": "PENDING", "limit": "2", **({"nextToken": token} if token else {})}
        body = json_body(invoke(list_tasks_event(**query)))
        seen.extend(t["taskId"] for t in body["tasks"])
        pages += 1
        token = body["nextToken"]
        if token is None:
            break
    assert sorted(seen) == [f"page-{n}" for n in range(5)]
    assert len(seen) == len(set(seen))
    assert pages >= 3


def test_errors_over_the_wire(invoke: Invoke) -> None:
    assert invoke(get_task_event("unknown"))["statusCode"] == 404
    assert invoke(list_tasks_event(status="PENDING", nextToken="forged.token"))["statusCode"] == 400
    assert invoke(post_task_event("{", content_type="application/json"))["statusCode"] == 400
    assert invoke(post_task_event(registration_body("t"), content_type="text/plain"))["statusCode"] == 415
    too_big = json.dumps({"TaskId": "t", "Vendor": "Tencent", "pad": "x" * 20_000})
    assert invoke(post_task_event(too_big))["statusCode"] == 413
