"""Reading the ``POST /tasks`` body: media type, size, encoding, JSON, then the two fields.

The body is read here rather than by Powertools' body validation because Powertools parses the body
before any code of ours runs, and its paths cannot give the answers the contract asks for: a form body
ends as a field error instead of 415, a multipart body without a boundary escapes as a bare ValueError,
and an oversized body is parsed before its size is known. Each check below raises a typed error in
order: 415, 413, then 400s (encoding, JSON, shape, fields).
"""

from __future__ import annotations

import base64
import binascii
import json

from pydantic import ValidationError

from zego_media_tasks.api.errors import (
    ErrorCode,
    InvalidRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from zego_media_tasks.api.models import RegisterTaskRequest

MAX_BODY_BYTES = 16 * 1024
"""A registration body is well under 1 KiB; anything over 16 KiB is refused unread."""


def is_json_media_type(content_type: str | None) -> bool:
    """True for ``application/json`` and ``application/*+json`` (parameters and case ignored);
    a missing Content-Type is taken as JSON."""
    if content_type is None or not content_type.strip():
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _field_errors(error: ValidationError) -> InvalidRequestError:
    code = ErrorCode.INVALID_BODY
    parts: list[str] = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{field}: {message}")
        if code is ErrorCode.INVALID_BODY and item["loc"][:1] == ("TaskId",):
            code = ErrorCode.INVALID_TASK_ID
        elif code is ErrorCode.INVALID_BODY and item["loc"][:1] == ("Vendor",):
            code = ErrorCode.INVALID_VENDOR
    return InvalidRequestError("; ".join(parts), code)


def read_registration(body: str | None, *, is_base64_encoded: bool, content_type: str | None) -> RegisterTaskRequest:
    """The validated registration in a request body, or a typed error saying what is wrong with it."""
    if not is_json_media_type(content_type):
        raise UnsupportedMediaTypeError("the body must be JSON (Content-Type: application/json)")
    text = body or ""
    # Cheap bound before any decoding: base64 grows data by 4/3, UTF-8 is at least a byte a character.
    if len(text) > 2 * MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"the body must be at most {MAX_BODY_BYTES} bytes")
    if is_base64_encoded:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequestError("the body is not valid base64", ErrorCode.MALFORMED_JSON) from None
    else:
        raw = text.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"the body must be at most {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raise InvalidRequestError('a JSON body {"TaskId": ..., "Vendor": ...} is required', ErrorCode.INVALID_BODY)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: deeply nested arrays fit in 16 KiB.
        raise InvalidRequestError("the body is not valid JSON", ErrorCode.MALFORMED_JSON) from None
    if not isinstance(document, dict):
        raise InvalidRequestError("the body must be a JSON object", ErrorCode.INVALID_BODY)
    try:
        return RegisterTaskRequest.model_validate(document)
    except ValidationError as error:
        raise _field_errors(error) from None
