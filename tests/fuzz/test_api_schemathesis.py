"""The API against its own OpenAPI document, with schemathesis: zero 5xx, zero answers that break it.

The real handlers (``functions/api/app.py``, and ``functions/callbacks/app.py`` for the callback route the
document also describes) run behind the local API Gateway (``devstack.api_gateway``) on a free loopback
port, with moto's server behind it holding the template's table and queue and a few
registered tasks. schemathesis generates requests from ``docs/openapi.json`` (valid and invalid ones) and
runs every response check it has, except two:

- ``ignored_auth``: the document declares SigV4/API-key security, which API Gateway enforces in front of
  the function; the local gateway does not, on purpose.
- ``positive_data_acceptance`` ("schema-valid requests must not be refused"): it is not about answers
  breaking the document, and one refusal is right and cannot be described by a schema: an opaque
  ``nextToken`` is only valid if we signed it.

Bounded: ``EXAMPLES`` per operation and phase (four operations), so the whole module runs in well under a
minute.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from devstack.api_gateway import API_FUNCTION, CALLBACK_FUNCTION, OPENAPI_PATH, LocalApiGateway
from devstack.emulator import AwsEmulator, patched_environment
from devstack.handlers import load_handler, load_template_handler
from devstack.resources import provision
from tests.support.api_events import api_environment
from tests.support.zego_callbacks import receiver_environment

pytestmark = pytest.mark.integration

EXAMPLES = 60
FORWARDED_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
"""Methods the local gateway hands to the function (``LocalApiGateway``); the other undeclared ones are
checked nowhere here."""
SEEDED_TASKS = [("2b0c4d1e9f", "Tencent"), ("2b0c4d1e9f", "Huawei"), ("289665200", "Huawei")]

ANSWERS: Counter[tuple[str, int]] = Counter()
"""(operation, HTTP status) of every answer checked, printed at the end of the module (``pytest -s``)."""

schema = schemathesis.openapi.from_path(OPENAPI_PATH)
# Deterministic generation, so a failure found in CI is found again locally.
schema.config.generation.update(max_examples=EXAMPLES, deterministic=True)


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    """The local API Gateway in front of the real handlers, over moto, with a few tasks registered."""
    emulator = AwsEmulator().start()
    try:
        with patched_environment(emulator.environment()):
            stack = provision(prefix="fuzz")
            tuning = {"POWERTOOLS_METRICS_NAMESPACE": "ZegoMediaTasksFuzz", "POWERTOOLS_LOG_LEVEL": "WARNING"}
            environment = {**receiver_environment(stack, **tuning), **api_environment(stack, **tuning)}
            with patched_environment(environment):
                handlers = {
                    API_FUNCTION: load_handler("api", "api_app_schemathesis"),
                    CALLBACK_FUNCTION: load_template_handler(CALLBACK_FUNCTION, "callbacks_app_schemathesis"),
                }
                gateway = LocalApiGateway(0).start(handlers)
                try:
                    for task_id, vendor in SEEDED_TASKS:
                        body = json.dumps({"TaskId": task_id, "Vendor": vendor})
                        response = requests.post(
                            f"{gateway.url}/tasks", data=body, headers={"Content-Type": "application/json"}, timeout=10
                        )
                        assert response.status_code == 202, response.text
                    yield gateway.url
                    total = sum(ANSWERS.values())
                    sys.stdout.write(f"\nschemathesis: {total} requests checked: {dict(sorted(ANSWERS.items()))}\n")
                finally:
                    gateway.stop()
    finally:
        emulator.stop()


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_conforms_to_the_openapi_document(case: schemathesis.Case[Any], api_url: str) -> None:
    if case.method.upper() not in FORWARDED_METHODS:
        # Never reaches the function: API Gateway answers undeclared methods itself, and the local stand-in
        # (http.server) answers 501 for methods it has no handler for, without calling the function.
        return
    response = case.call_and_validate(
        base_url=api_url, excluded_checks=[ignored_auth, positive_data_acceptance], timeout=30
    )
    ANSWERS[(f"{case.operation.method.upper()} {case.operation.path}", response.status_code)] += 1
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: HTTP {response.status_code}"


def _etag(response: schemathesis.Response) -> str:
    value = response.headers["etag"]
    return str(value[0] if isinstance(value, list) else value)


@pytest.mark.parametrize(("task_id", "vendor"), [*SEEDED_TASKS, ("2b0c4d1e9f", None)])
def test_tracked_tasks_are_answered_as_the_document_says(api_url: str, task_id: str, vendor: str | None) -> None:
    # Generated ids almost never hit a tracked task; these do.
    query = {"vendor": vendor} if vendor else {}
    case = schema["/tasks/{taskId}"]["GET"].Case(path_parameters={"taskId": task_id}, query=query)
    response = case.call_and_validate(base_url=api_url, excluded_checks=[ignored_auth], timeout=30)
    assert response.status_code == 200
    assert _etag(response)


def test_a_not_modified_answer_is_as_the_document_says(api_url: str) -> None:
    operation = schema["/tasks/{taskId}"]["GET"]
    first = operation.Case(path_parameters={"taskId": "289665200"}, query={"vendor": "Huawei"})
    etag = _etag(first.call(base_url=api_url, timeout=30))
    again = operation.Case(
        path_parameters={"taskId": "289665200"}, query={"vendor": "Huawei"}, headers={"If-None-Match": etag}
    )
    response = again.call(base_url=api_url, timeout=30)
    assert response.status_code == 304
    again.validate_response(response, excluded_checks=[ignored_auth])


def test_the_task_id_rule_is_in_the_parameter_schema() -> None:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    parameter = next(p for p in document["paths"]["/tasks/{taskId}"]["get"]["parameters"] if p["name"] == "taskId")
    assert parameter["schema"].get("maxLength") == 256
    assert "pattern" in parameter["schema"]


@pytest.mark.parametrize("status", ["PENDING", "SUCCEEDED"])
def test_listings_of_tracked_tasks_are_answered_as_the_document_says(api_url: str, status: str) -> None:
    case = schema["/tasks"]["GET"].Case(query={"status": status, "limit": 1})
    response = case.call_and_validate(base_url=api_url, excluded_checks=[ignored_auth], timeout=30)
    assert response.status_code == 200
    token = response.json().get("nextToken")
    if token:  # a real token from the previous page is accepted
        following = schema["/tasks"]["GET"].Case(query={"status": status, "limit": 1, "nextToken": token})
        assert (
            following.call_and_validate(base_url=api_url, excluded_checks=[ignored_auth], timeout=30).status_code == 200
        )
