"""The API's typed errors. Each type has one stable code family and, in ``routes``, one handler and one
HTTP status; nothing here knows about HTTP, so the service can raise them too.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """The ``error.code`` values clients can rely on."""

    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_TASK_ID = "INVALID_TASK_ID"
    INVALID_VENDOR = "INVALID_VENDOR"
    INVALID_STATUS = "INVALID_STATUS"
    INVALID_LIMIT = "INVALID_LIMIT"
    INVALID_NEXT_TOKEN = "INVALID_NEXT_TOKEN"  # noqa: S105  # an error code, not a secret
    MALFORMED_JSON = "MALFORMED_JSON"
    INVALID_BODY = "INVALID_BODY"
    TASK_NOT_FOUND = "TASK_NOT_FOUND"
    ROUTE_NOT_FOUND = "ROUTE_NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class ApiError(Exception):
    """Base of every error the API answers with a JSON error body; ``message`` is safe to show."""

    default_code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init_subclass__(cls, code: ErrorCode | None = None, **kwargs: object) -> None:
        # Each subtype names its code family in its class statement, ``class X(ApiError, code=...)``; a
        # subtype that names none keeps its parent's.
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.default_code = code

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class InvalidRequestError(ApiError, code=ErrorCode.INVALID_REQUEST):
    """The request is well-formed HTTP but a parameter or the body is invalid."""


class TaskNotFoundError(ApiError, code=ErrorCode.TASK_NOT_FOUND):
    """We do not track this TaskId (for this vendor, when one was given)."""


class RouteNotFoundError(ApiError, code=ErrorCode.ROUTE_NOT_FOUND):
    """No route has this path."""


class MethodNotAllowedError(ApiError, code=ErrorCode.METHOD_NOT_ALLOWED):
    """The path exists but not for this method; ``allowed`` lists the methods it has."""

    def __init__(self, message: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


class PayloadTooLargeError(ApiError, code=ErrorCode.PAYLOAD_TOO_LARGE):
    """The request body is over the size limit."""


class UnsupportedMediaTypeError(ApiError, code=ErrorCode.UNSUPPORTED_MEDIA_TYPE):
    """The request body is not declared as JSON."""


class ServiceUnavailableError(ApiError, code=ErrorCode.SERVICE_UNAVAILABLE):
    """A dependency (table, queue, secret) failed; the same request may succeed shortly."""
