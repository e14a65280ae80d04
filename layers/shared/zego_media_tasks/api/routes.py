"""The HTTP edge: a Powertools ``APIGatewayRestResolver`` with typed parameters, response models, and one
exception handler per error type, so that every answer is either a documented representation or
``{"error": {"code": ..., "message": ...}}`` with the right status.

Routes (all behind IAM or API-key authorization at API Gateway):

- ``GET /tasks/{taskId}[?vendor=]``: ``{"tasks": [...]}``, the task's record for each vendor we track it
  for (or only ``vendor``'s); ETag, ``Cache-Control``, ``If-None-Match`` → 304.
- ``GET /tasks?status=&vendor=&limit=&nextToken=``: one page by status (required), newest change first.
- ``GET /tasks/{taskId}/thumbnails?vendor=&limit=&nextToken=`` and ``.../file-names``: every entry of the
  record's list in order, a page at a time (a long list's record holds only its first page).
- ``POST /tasks`` with ``{"TaskId", "Vendor"}``: 202 and ``Location`` for a new task, 200 for a known one.

API Gateway REST APIs deliver ``path`` percent-encoded (Powertools routes on it) and ``pathParameters``
decoded; the TaskId is taken from ``pathParameters``, or decoded from the routed segment when an event
has none, and only then validated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import quote, unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import (
    COMPONENT_REF_TEMPLATE,
    OpenAPIResponse,
    OpenAPIResponseHeader,
)

from zego_media_tasks.api.conditional import NO_CACHE, NO_STORE, cache_control_for, entity_tag, none_match
from zego_media_tasks.api.errors import (
    ApiError,
    ErrorCode,
    InvalidRequestError,
    MethodNotAllowedError,
    PayloadTooLargeError,
    RouteNotFoundError,
    ServiceUnavailableError,
    TaskNotFoundError,
    UnsupportedMediaTypeError,
)
from zego_media_tasks.api.models import (
    ErrorDetail,
    ErrorResponse,
    FileNamePage,
    RegisterTaskRequest,
    Task,
    TaskList,
    TaskPage,
    ThumbnailPage,
    task_of,
)
from zego_media_tasks.api.pagination import MAX_TOKEN_LENGTH
from zego_media_tasks.api.request_body import MAX_BODY_BYTES, read_registration
from zego_media_tasks.api.service import TaskService
from zego_media_tasks.domain.fields import camel
from zego_media_tasks.domain.lists import FILE_NAMES, THUMBNAILS, RecordList
from zego_media_tasks.domain.messages import MAX_TASK_ID_LENGTH, TASK_ID_PATTERN, TASK_ID_RULE
from zego_media_tasks.domain.ports import DependencyUnavailable
from zego_media_tasks.domain.status import TaskStatus, Vendor

logger = Logger(child=True)

JSON = "application/json"
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_LIST_LIMIT = 1000
"""Entries per page of a record's list (a page also stops before 1 MiB)."""
RETRY_AFTER_SECONDS = "1"
_MAX_MESSAGE_LENGTH = 1000

# The routes' paths and methods, for telling 405 from 404 (Powertools answers both with NotFoundError).
_PATH_METHODS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"/tasks/*"), ("GET", "POST")),
    (re.compile(r"/tasks/[^/]+/*"), ("GET",)),
    (re.compile(r"/tasks/[^/]+/(thumbnails|file-names)/*"), ("GET",)),
)

# Powertools validation errors name the parameter last in ``loc``; each parameter has its own code.
_PARAMETER_CODES: Mapping[str, ErrorCode] = {
    "taskId": ErrorCode.INVALID_TASK_ID,
    "vendor": ErrorCode.INVALID_VENDOR,
    "status": ErrorCode.INVALID_STATUS,
    "limit": ErrorCode.INVALID_LIMIT,
    "nextToken": ErrorCode.INVALID_NEXT_TOKEN,
}

ServiceProvider = Callable[[], TaskService]


def error_response(
    status: HTTPStatus, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response[dict[str, Any]]:
    """The one error shape, never cached."""
    body = ErrorResponse(error=ErrorDetail(code=code, message=message[:_MAX_MESSAGE_LENGTH])).model_dump()
    return Response(
        status_code=status.value,
        content_type=JSON,
        body=body,
        headers={"Cache-Control": NO_STORE, **(headers or {})},
    )


def _api_error(status: HTTPStatus, error: ApiError, headers: Mapping[str, str] | None = None) -> Response[Any]:
    return error_response(status, error.code.value, error.message, headers)


def allowed_methods(path: str) -> tuple[str, ...]:
    """The methods routed for ``path`` (empty when no route has it)."""
    for pattern, methods in _PATH_METHODS:
        if pattern.fullmatch(path):
            return methods
    return ()


def _validation_error(error: RequestValidationError) -> InvalidRequestError:
    parts: list[str] = []
    code: ErrorCode | None = None
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        where = f"{loc[0]} parameter {loc[-1]}" if len(loc) >= 2 and loc[0] != "body" else ".".join(loc)
        message = str(item.get("msg", "is invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
        if code is None and loc:
            code = _PARAMETER_CODES.get(loc[-1])
    return InvalidRequestError("; ".join(parts) or "the request is invalid", code or ErrorCode.INVALID_REQUEST)


def _base_path(event: Mapping[str, Any]) -> str:
    """The stage or base-path-mapping prefix of this request's URL (``/prod``), or ``""``."""
    request_context = event.get("requestContext") or {}
    full_path = request_context.get("path") if isinstance(request_context, Mapping) else None
    path = event.get("path")
    if isinstance(full_path, str) and isinstance(path, str) and path and full_path.endswith(path):
        return full_path[: -len(path)]
    return ""


def _path_task_id(event: Mapping[str, Any], routed_segment: str) -> str:
    """The TaskId of ``GET /tasks/{taskId}``: API Gateway's decoded ``pathParameters.taskId``, else the
    routed (percent-encoded) segment decoded once. Undecodable bytes become U+FFFD, which the TaskId
    rule then refuses."""
    parameters = event.get("pathParameters")
    if isinstance(parameters, Mapping) and isinstance(parameters.get("taskId"), str):
        return str(parameters["taskId"])
    return unquote(routed_segment, errors="replace")


_TASK_ID_PATH = Path(
    alias="taskId",
    description=f"ZEGO's TaskId, percent-encoded: {TASK_ID_RULE}.",
    # Documented for the decoded TaskId; enforced after decoding (``task_id_problem``), since the routed
    # segment is still percent-encoded and may be longer than the TaskId.
    json_schema_extra={"pattern": TASK_ID_PATTERN, "minLength": 1, "maxLength": MAX_TASK_ID_LENGTH},
)
_NEXT_TOKEN_QUERY = Query(
    alias="nextToken", min_length=1, max_length=MAX_TOKEN_LENGTH, description="The nextToken of the previous page."
)


def _error_doc(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {JSON: {"model": ErrorResponse}}}


_SERVICE_UNAVAILABLE_DOC = _error_doc("The table, the queue or the pagination secret failed; retry later.")
_CACHE_CONTROL_HEADER: OpenAPIResponseHeader = {
    "description": "private, max-age=86400, immutable for a terminal record of one vendor; "
    "private, max-age=300 when every record is terminal; otherwise no-cache.",
    "schema": {"type": "string"},
}


def _registration_body_doc() -> dict[str, Any]:
    """The ``POST /tasks`` requestBody, from :class:`RegisterTaskRequest` (read by our own code, see
    ``request_body``, so Powertools cannot document it from the handler's signature)."""
    schema = RegisterTaskRequest.model_json_schema(ref_template=COMPONENT_REF_TEMPLATE)
    schema.pop("$defs", None)  # Vendor is already a component (it is a query parameter type)
    return {
        "requestBody": {
            "required": True,
            "description": f"JSON, at most {MAX_BODY_BYTES} bytes. Field names exactly TaskId, Vendor and Kind, "
            "as in poll-queue messages; other fields are ignored.",
            "content": {JSON: {"schema": schema}},
        }
    }


def _conditional_get(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Adds a strong ETag to a 200 and answers 304 when ``If-None-Match`` matches it.

    Runs around Powertools' response validation, so the ETag hashes exactly the validated body.
    """
    response = next_middleware(app)
    if response.status_code != HTTPStatus.OK or not isinstance(response.body, dict):
        return response
    etag = entity_tag(response.body)
    response.headers["ETag"] = etag
    if none_match(app.current_event.headers.get("if-none-match"), etag):
        headers: dict[str, str | list[str]] = {"ETag": etag}
        if "Cache-Control" in response.headers:
            headers["Cache-Control"] = response.headers["Cache-Control"]
        return Response(status_code=HTTPStatus.NOT_MODIFIED.value, content_type=None, body="", headers=headers)
    return response


# --- the exception handlers: one per error type, registered by build_app ---------------------------


def _invalid_request(error: InvalidRequestError) -> Response[Any]:
    return _api_error(HTTPStatus.BAD_REQUEST, error)


def _invalid_parameters(error: RequestValidationError) -> Response[Any]:
    return _api_error(HTTPStatus.BAD_REQUEST, _validation_error(error))


def _task_not_found(error: TaskNotFoundError) -> Response[Any]:
    return _api_error(HTTPStatus.NOT_FOUND, error)


def _payload_too_large(error: PayloadTooLargeError) -> Response[Any]:
    return _api_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, error)


def _unsupported_media_type(error: UnsupportedMediaTypeError) -> Response[Any]:
    return _api_error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, error)


def _service_unavailable(error: ServiceUnavailableError) -> Response[Any]:
    logger.warning("dependency unavailable", extra={"reason": error.message})
    return _api_error(HTTPStatus.SERVICE_UNAVAILABLE, error, {"Retry-After": RETRY_AFTER_SECONDS})


def _dependency_failed(error: DependencyUnavailable) -> Response[Any]:
    logger.warning(
        "dependency call failed",
        extra={"dependency": error.dependency, "operation": error.operation, "reason": error.reason},
    )
    return error_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        ErrorCode.SERVICE_UNAVAILABLE.value,
        f"the {error.dependency} is unavailable; try again shortly",
        {"Retry-After": RETRY_AFTER_SECONDS},
    )


def _invalid_response(error: ResponseValidationError) -> Response[Any]:
    logger.error("response failed its own model", extra={"errors": str(error.errors())[:2000]})
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, ErrorCode.INTERNAL_ERROR.value, "internal error")


def _unexpected(error: Exception) -> Response[Any]:
    # No input should get here; a bug still answers in the one error shape, without details.
    logger.exception("unhandled error", extra={"error_type": type(error).__name__})
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, ErrorCode.INTERNAL_ERROR.value, "internal error")


def build_app(service: ServiceProvider, *, cors_allow_origin: str | None = None) -> APIGatewayRestResolver:
    """The resolver with every route and error handler. ``service`` is called per request (build it
    once, lazily); building the resolver itself touches no AWS, so the OpenAPI document can be
    generated anywhere."""
    cors = (
        CORSConfig(allow_origin=cors_allow_origin, expose_headers=["ETag", "Location"]) if cors_allow_origin else None
    )
    app = APIGatewayRestResolver(
        enable_validation=True,
        response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
        cors=cors,
    )

    @app.get(
        "/tasks/<taskId>",
        summary="Get a task's records",
        description="The task's record for each vendor it is tracked for (ordered by vendor), or only "
        "for `vendor`. Terminal records never change; use the ETag with If-None-Match.",
        tags=["tasks"],
        operation_id="getTask",
        middlewares=[_conditional_get],
        responses={
            200: {
                "description": "The task's records.",
                "headers": {
                    "ETag": {"description": "Strong validator of this body.", "schema": {"type": "string"}},
                    "Cache-Control": _CACHE_CONTROL_HEADER,
                },
                "content": {JSON: {"model": TaskList}},
            },
            304: {"description": "Not modified: If-None-Match matched the current ETag (no body)."},
            400: _error_doc("Invalid TaskId (INVALID_TASK_ID) or vendor (INVALID_VENDOR)."),
            404: _error_doc("We do not track this TaskId (for this vendor): TASK_NOT_FOUND."),
            503: _SERVICE_UNAVAILABLE_DOC,
        },
    )
    def get_task(
        task_id: Annotated[str, _TASK_ID_PATH],
        vendor: Annotated[Vendor | None, Query(description="Only this vendor's record.")] = None,
        if_none_match: Annotated[
            str | None, Header(alias="If-None-Match", description="An ETag from an earlier answer.")
        ] = None,
    ) -> Response[TaskList]:
        del if_none_match  # compared by _conditional_get against the finished body
        records = service().get_task(_path_task_id(app.current_event.raw_event, task_id), vendor)
        return Response(
            status_code=HTTPStatus.OK.value,
            content_type=JSON,
            body=TaskList(tasks=[task_of(record) for record in records]),
            headers={"Cache-Control": cache_control_for(records, single_vendor=vendor is not None)},
        )

    def list_page_route(kind: RecordList, model: type[ThumbnailPage | FileNamePage], what: str) -> None:
        @app.get(
            f"/tasks/<taskId>/{kind.name}",
            summary=f"Page through a task's {what}",
            description=f"Every one of the {what} of the task's record for `vendor`, in the vendor's order, a "
            f"page at a time. The record itself holds only the first ones when `{camel(kind.truncated_field)}` is "
            "true. Pass the returned nextToken to continue.",
            tags=["tasks"],
            operation_id=f"list{model.__name__.removesuffix('Page')}s",
            responses={
                200: {
                    "description": f"One page of {what}.",
                    "headers": {"Cache-Control": {"description": "no-cache", "schema": {"type": "string"}}},
                    "content": {JSON: {"model": model}},
                },
                400: _error_doc(
                    "Invalid TaskId (INVALID_TASK_ID), missing or invalid vendor (INVALID_VENDOR), limit "
                    "(INVALID_LIMIT) or nextToken (INVALID_NEXT_TOKEN)."
                ),
                404: _error_doc("We do not track this TaskId for this vendor: TASK_NOT_FOUND."),
                503: _SERVICE_UNAVAILABLE_DOC,
            },
        )
        def list_page(
            task_id: Annotated[str, _TASK_ID_PATH],
            vendor: Annotated[Vendor, Query(description="The vendor whose record it is (required).")],
            limit: Annotated[
                int, Query(ge=1, le=MAX_LIST_LIMIT, description=f"Page size, 1-{MAX_LIST_LIMIT}.")
            ] = MAX_LIST_LIMIT,
            next_token: Annotated[str | None, _NEXT_TOKEN_QUERY] = None,
        ) -> Response[ThumbnailPage | FileNamePage]:
            task = _path_task_id(app.current_event.raw_event, task_id)
            page = service().list_page(task, vendor, kind, limit, next_token)
            body = model.model_validate({kind.member: list(page.values), "nextToken": page.next_token})
            return Response(
                status_code=HTTPStatus.OK.value, content_type=JSON, body=body, headers={"Cache-Control": NO_CACHE}
            )

    list_page_route(THUMBNAILS, ThumbnailPage, "snapshot URLs")
    list_page_route(FILE_NAMES, FileNamePage, "snapshot file names")

    @app.get(
        "/tasks",
        summary="List tasks by status",
        description="Tasks in `status` (required), optionally of one `vendor`, newest status change "
        "first, through the table's status index. Pass the returned nextToken to continue; it is "
        "only valid with the same status and vendor. A page may hold fewer tasks than `limit`, even none, "
        "and still carry a nextToken (with a vendor, the other vendor's tasks are skipped a bounded number "
        "at a time): page until nextToken is null. A task that changes status while you page moves to "
        "another listing, so a long walk may miss or repeat it.",
        tags=["tasks"],
        operation_id="listTasks",
        responses={
            200: {
                "description": "One page of tasks.",
                "headers": {"Cache-Control": {"description": "no-cache", "schema": {"type": "string"}}},
                "content": {JSON: {"model": TaskPage}},
            },
            400: _error_doc(
                "Invalid or missing status (INVALID_STATUS), vendor (INVALID_VENDOR), limit "
                "(INVALID_LIMIT) or nextToken (INVALID_NEXT_TOKEN)."
            ),
            503: _SERVICE_UNAVAILABLE_DOC,
        },
    )
    def list_tasks(
        status: Annotated[TaskStatus, Query(description="The normalized status to list (required).")],
        vendor: Annotated[Vendor | None, Query(description="Only tasks of this vendor.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1-{MAX_LIMIT}.")] = DEFAULT_LIMIT,
        next_token: Annotated[str | None, _NEXT_TOKEN_QUERY] = None,
    ) -> Response[TaskPage]:
        listing = service().list_tasks(status, vendor, limit, next_token)
        return Response(
            status_code=HTTPStatus.OK.value,
            content_type=JSON,
            body=TaskPage(tasks=[task_of(record) for record in listing.records], next_token=listing.next_token),
            headers={"Cache-Control": NO_CACHE},
        )

    @app.post(
        "/tasks",
        summary="Start tracking a task",
        description="Idempotent: a task already tracked for this vendor is returned as it is (200); a new "
        "one is stored as PENDING and its first poll is enqueued (202, Location). Concurrent "
        "registrations of one task make one record.",
        tags=["tasks"],
        operation_id="registerTask",
        openapi_extensions=_registration_body_doc(),
        responses={
            200: {"description": "Already tracked: the current record.", "content": {JSON: {"model": Task}}},
            202: {
                "description": "Registered: the new PENDING record; its first poll is queued.",
                "headers": {
                    "Location": {"description": "The task's URL for this vendor.", "schema": {"type": "string"}}
                },
                "content": {JSON: {"model": Task}},
            },
            400: _error_doc(
                "Malformed JSON (MALFORMED_JSON), not an object or fields missing (INVALID_BODY), invalid "
                "TaskId (INVALID_TASK_ID) or Vendor (INVALID_VENDOR)."
            ),
            413: _error_doc(f"The body is over {MAX_BODY_BYTES} bytes: PAYLOAD_TOO_LARGE."),
            415: _error_doc("The body is not declared as JSON: UNSUPPORTED_MEDIA_TYPE."),
            503: _SERVICE_UNAVAILABLE_DOC,
        },
    )
    def register_task() -> Response[Task]:
        event = app.current_event
        request = read_registration(
            event.body,
            is_base64_encoded=bool(event.get("isBase64Encoded")),
            content_type=event.headers.get("content-type"),
        )
        registration = service().register(request.task_id, request.vendor, request.kind)
        headers = {"Cache-Control": NO_STORE}
        if registration.created:
            headers["Location"] = (
                f"{_base_path(event.raw_event)}/tasks/{quote(request.task_id, safe='')}?vendor={request.vendor.value}"
            )
            logger.info("task registered", extra={"task_id": request.task_id, "vendor": request.vendor.value})
        return Response(
            status_code=(HTTPStatus.ACCEPTED if registration.created else HTTPStatus.OK).value,
            content_type=JSON,
            body=task_of(registration.record),
            headers=headers,
        )

    # --- one handler per error type -------------------------------------------------------------

    def no_route(_: NotFoundError) -> Response[Any]:
        method = app.current_event.http_method.upper()
        methods = allowed_methods(app.current_event.path)
        if not methods:
            return _api_error(HTTPStatus.NOT_FOUND, RouteNotFoundError("no such route"))
        if method not in methods:
            not_allowed = MethodNotAllowedError(f"{method} is not allowed here", methods)
            return _api_error(HTTPStatus.METHOD_NOT_ALLOWED, not_allowed, {"Allow": ", ".join(not_allowed.allowed)})
        # The path has a route's shape but Powertools could not route it: a TaskId segment holding
        # characters that are only valid percent-encoded (", #, ?, \, `, non-ASCII).
        unroutable = InvalidRequestError("the TaskId in the path must be percent-encoded", ErrorCode.INVALID_TASK_ID)
        return _api_error(HTTPStatus.BAD_REQUEST, unroutable)

    handlers: list[tuple[type[Exception], Callable[[Any], Response[Any]]]] = [
        (NotFoundError, no_route),
        (InvalidRequestError, _invalid_request),
        (RequestValidationError, _invalid_parameters),
        (TaskNotFoundError, _task_not_found),
        (PayloadTooLargeError, _payload_too_large),
        (UnsupportedMediaTypeError, _unsupported_media_type),
        (ServiceUnavailableError, _service_unavailable),
        (DependencyUnavailable, _dependency_failed),
        (ResponseValidationError, _invalid_response),
        (Exception, _unexpected),
    ]
    for error_type, handler in handlers:
        app.exception_handler(error_type)(handler)
    return app
