"""The error edge: unknown routes, wrong methods, failing dependencies and bugs all answer in the one
JSON shape with the right status, never with a stack trace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response

from devstack.lambda_context import LocalLambdaContext
from tests.support.api_events import (
    get_task_event,
    header,
    json_body,
    list_tasks_event,
    make_record,
    post_task_event,
    registration_body,
    rest_event,
)
from tests.support.clock import FakeClock
from tests.unit.api.conftest import PAGINATION_SECRET, TASK_DEADLINE
from zego_media_tasks.api import errors
from zego_media_tasks.api.errors import ApiError, ErrorCode, ServiceUnavailableError
from zego_media_tasks.api.models import TaskList
from zego_media_tasks.api.pagination import PageTokenCodec
from zego_media_tasks.api.routes import build_app
from zego_media_tasks.api.service import TaskService
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.queue.poll_queue import PollQueue
from zego_media_tasks.store.task_store import TaskStore

Call = Callable[[dict[str, Any]], dict[str, Any]]


def _assert_error(response: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    assert response["statusCode"] == status
    assert header(response, "Content-Type") == "application/json"
    body = json_body(response)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert "Traceback" not in response["body"]
    return dict(body["error"])


@pytest.mark.parametrize("path", ["/", "/task", "/tasks/a/b", "/tasksx", "/tasks//x", "/v1/tasks"])
def test_an_unknown_path_is_404(call: Call, path: str) -> None:
    _assert_error(call(rest_event("GET", path)), 404, "ROUTE_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/tasks", "GET, POST"),
        ("PUT", "/tasks", "GET, POST"),
        ("PATCH", "/tasks/t-1", "GET"),
        ("POST", "/tasks/t-1", "GET"),
        ("HEAD", "/tasks/t-1", "GET"),
        ("OPTIONS", "/tasks", "GET, POST"),
    ],
)
def test_a_known_path_with_another_method_is_405_with_allow(call: Call, method: str, path: str, allow: str) -> None:
    response = call(rest_event(method, path))
    _assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert header(response, "Allow") == allow


def test_a_trailing_slash_is_the_same_route(call: Call) -> None:
    assert call(rest_event("GET", "/tasks/", query={"status": "FAILED"}))["statusCode"] == 200


# --- failing dependencies --------------------------------------------------------------------------------


def _app_over(tasks: TaskStore, queue: PollQueue, tokens: PageTokenCodec | None = None) -> Call:
    service = TaskService(
        tasks=tasks,
        queue=queue,
        tokens=tokens or PageTokenCodec(PAGINATION_SECRET.encode),
        clock=FakeClock(),
        task_deadline=TASK_DEADLINE,
    )
    app = build_app(lambda: service)
    return lambda event: app.resolve(event, LocalLambdaContext(function_name="ApiFunction"))  # type: ignore[arg-type]


def test_a_missing_table_is_503_with_retry_after(queue_url: str) -> None:
    call = _app_over(TaskStore("no-such-table"), PollQueue(queue_url))
    for event in (get_task_event("t-1"), list_tasks_event(status="FAILED"), post_task_event(registration_body("t"))):
        response = call(event)
        error = _assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert error["message"] == "the task table is unavailable; try again shortly"
        assert header(response, "Retry-After") == "1"


def test_a_failing_queue_is_503_and_stores_no_record(queries: TaskStore) -> None:
    call = _app_over(queries, PollQueue("https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue"))
    response = call(post_task_event(registration_body("t-q")))
    error = _assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert error["message"] == "the poll queue is unavailable; try again shortly"
    # Send-before-write: nothing was queued, so nothing may be stored either.
    assert call(get_task_event("t-q"))["statusCode"] == 404


def test_an_unreadable_pagination_secret_is_503(
    queries: TaskStore, queue_url: str, seed: Callable[..., TaskRecord]
) -> None:
    def no_secret() -> bytes:
        raise ServiceUnavailableError("the pagination secret cannot be read")

    call = _app_over(queries, PollQueue(queue_url), PageTokenCodec(no_secret))
    seed(make_record("t-1", changed_at="2026-11-23T10:00:00.000Z"), make_record("t-2"))
    # A first page needs no key to be read, but its nextToken needs the key to be signed.
    response = call(list_tasks_event(status="PROCESSING", limit="1"))
    _assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert header(response, "Retry-After") == "1"


def test_an_unexpected_exception_is_a_generic_500() -> None:
    class Broken:
        def get_task(self, *_: object) -> None:
            raise RuntimeError("secret internal detail")

    app = build_app(Broken)  # type: ignore[arg-type]
    response = app.resolve(get_task_event("t-1"), LocalLambdaContext(function_name="ApiFunction"))  # type: ignore[arg-type]
    error = _assert_error(response, 500, "INTERNAL_ERROR")
    assert error["message"] == "internal error"
    assert "secret internal detail" not in response["body"]


def test_a_response_that_breaks_its_own_model_is_500_not_400(service: TaskService) -> None:
    # Given a route whose body does not match its declared model (a bug, not an input)
    app = build_app(lambda: service)

    @app.get("/broken")
    def broken() -> Response[TaskList]:
        not_a_task_list: Any = {"tasks": "not a list"}
        return Response(status_code=200, content_type="application/json", body=not_a_task_list)

    # Then the client sees a generic 500, not Powertools' validation details or a 400
    response = app.resolve(rest_event("GET", "/broken"), LocalLambdaContext(function_name="ApiFunction"))  # type: ignore[arg-type]
    error = _assert_error(response, 500, "INTERNAL_ERROR")
    assert error["message"] == "internal error"


def test_cors_is_off_by_default(call: Call) -> None:
    response = call(rest_event("OPTIONS", "/tasks", headers={"Origin": "https://ui.example"}))
    assert response["statusCode"] == 405
    assert header(response, "Access-Control-Allow-Origin") is None


def test_cors_can_be_enabled_for_one_origin(service: TaskService) -> None:
    app = build_app(lambda: service, cors_allow_origin="https://ui.example")
    context = LocalLambdaContext(function_name="ApiFunction")
    preflight = app.resolve(rest_event("OPTIONS", "/tasks", headers={"Origin": "https://ui.example"}), context)  # type: ignore[arg-type]
    assert preflight["statusCode"] == 204
    assert header(preflight, "Access-Control-Allow-Origin") == "https://ui.example"
    event = rest_event("GET", "/tasks", query={"status": "FAILED"}, headers={"Origin": "https://ui.example"})
    listed = app.resolve(event, context)  # type: ignore[arg-type]
    assert header(listed, "Access-Control-Allow-Origin") == "https://ui.example"


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        (errors.InvalidRequestError, ErrorCode.INVALID_REQUEST),
        (errors.TaskNotFoundError, ErrorCode.TASK_NOT_FOUND),
        (errors.RouteNotFoundError, ErrorCode.ROUTE_NOT_FOUND),
        (errors.PayloadTooLargeError, ErrorCode.PAYLOAD_TOO_LARGE),
        (errors.UnsupportedMediaTypeError, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
        (errors.ServiceUnavailableError, ErrorCode.SERVICE_UNAVAILABLE),
    ],
)
def test_each_error_type_answers_with_its_own_code_unless_the_raiser_names_a_narrower_one(
    error_type: type[ApiError], code: ErrorCode
) -> None:
    assert error_type("why").code is code
    assert error_type("why", ErrorCode.INVALID_LIMIT).code is ErrorCode.INVALID_LIMIT


def test_an_error_subtype_that_names_no_code_keeps_its_parents() -> None:
    class NarrowerError(errors.TaskNotFoundError):
        pass

    assert (NarrowerError("gone").code, errors.MethodNotAllowedError("no", ("GET",)).code) == (
        ErrorCode.TASK_NOT_FOUND,
        ErrorCode.METHOD_NOT_ALLOWED,
    )
    assert ApiError("bug").code is ErrorCode.INTERNAL_ERROR
