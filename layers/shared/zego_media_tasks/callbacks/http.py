"""The receiver's HTTP edge: an API Gateway REST proxy event in, a proxy response out.

Deliberately not Powertools' resolver: one route, a body we parse ourselves (JSON, percent-encoded
JSON or form fields, see :mod:`zego_media_tasks.zego.callbacks`), and a cold start that must stay well
inside ZEGO's 2 s retry timer. Errors use the read API's envelope ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from zego_media_tasks.callbacks.service import ACCEPTED, CallbackResult

_METHOD = "POST"


def method_not_allowed(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The 405 answer (with ``Allow``) to any method but POST, as every route documents; None for POST.
    Deployed, API Gateway refuses other methods before the function; the local gateway hands them on."""
    method = event.get("httpMethod")
    if method in (None, _METHOD):
        return None
    body = {"error": {"code": "METHOD_NOT_ALLOWED", "message": f"{method} is not allowed here; ZEGO POSTs"}}
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store", "Allow": _METHOD}
    return {"statusCode": 405, "headers": headers, "body": json.dumps(body)}


def request_body(event: Mapping[str, Any]) -> tuple[bytes, str | None]:
    """The raw body bytes and Content-Type of a proxy event (base64 undone; an undecodable body is
    empty, which the parser refuses as unparseable)."""
    body = event.get("body") or ""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else b""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
    headers = event.get("headers") or {}
    content_type = next(
        (value for name, value in headers.items() if isinstance(name, str) and name.lower() == "content-type"), None
    )
    return raw, content_type if isinstance(content_type, str) else None


def response(result: CallbackResult) -> dict[str, Any]:
    """The proxy response for ``result``: ``{"outcome": ...}`` on success, the error envelope otherwise."""
    if result.outcome in ACCEPTED:
        body: dict[str, Any] = {"outcome": result.outcome.value}
    elif result.rejection is not None:
        body = {"error": {"code": result.rejection.reason.value, "message": result.rejection.detail}}
    else:
        body = {"error": {"code": "SERVICE_UNAVAILABLE", "message": "try again shortly"}}
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if result.status_code == 503:
        headers["Retry-After"] = "2"
    return {"statusCode": result.status_code, "headers": headers, "body": json.dumps(body)}
