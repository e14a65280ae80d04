"""A local stand-in for API Gateway (REST): HTTP on loopback -> REST proxy events -> the real handler.

Routes come from the template's ``ApiFunction`` events, so the resource paths in the events are the ones
API Gateway would send. Authorization (IAM/API key) is the one thing not enforced locally; requests carry
an ``identity`` block like an IAM-authorized call would. ``/swagger`` serves a Swagger UI for the
committed OpenAPI document, ``/openapi.json`` the document itself.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from devstack.handlers import Handler
from devstack.lambda_context import LocalLambdaContext
from devstack.template import load_template

LOG = logging.getLogger(__name__)
OPENAPI_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
STAGE = "local"
_SWAGGER_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>zego-media-tasks API (local)</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5.17.14/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5.17.14/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
<noscript>Swagger UI needs JavaScript; the document itself is at /openapi.json</noscript>
</body></html>"""


@dataclass(frozen=True)
class Route:
    """One API Gateway resource path + method, and the regex that matches concrete paths."""

    resource: str
    method: str
    pattern: re.Pattern[str]


def routes_from_template(function_logical_id: str = "ApiFunction") -> list[Route]:
    """The REST routes declared as ``Api`` events of the API function in ``template.yaml``."""
    function = load_template()["Resources"][function_logical_id]["Properties"]
    routes = []
    for event in function.get("Events", {}).values():
        if event.get("Type") != "Api":
            continue
        path: str = event["Properties"]["Path"]
        regex = "^" + re.sub(r"\\\{([^}/+]+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
        routes.append(
            Route(resource=path, method=str(event["Properties"]["Method"]).upper(), pattern=re.compile(regex))
        )
    return routes


def _match(routes: list[Route], path: str, method: str) -> tuple[str, dict[str, str] | None]:
    fallback: tuple[str, dict[str, str] | None] | None = None
    for route in routes:
        found = route.pattern.match(path)
        if not found:
            continue
        parameters = {k: unquote(v) for k, v in found.groupdict().items()} or None
        if route.method in (method, "ANY"):
            return route.resource, parameters
        fallback = fallback or (route.resource, parameters)
    # Unknown route or method: still handed to the function, which answers 404/405 itself.
    return fallback or (path, None)


def build_proxy_event(
    routes: list[Route],
    method: str,
    raw_path: str,
    *,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
) -> dict[str, Any]:
    """An API Gateway REST proxy (v1) event for one HTTP request."""
    split = urlsplit(raw_path)
    # API Gateway REST delivers ``path`` as received (percent-encoded); only path parameters are decoded.
    path = split.path or "/"
    resource, path_parameters = _match(routes, split.path, method)
    multi_query = parse_qs(split.query, keep_blank_values=True) or None
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    text: str | None
    encoded = False
    if not body:
        text = None
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode("ascii"), True
    now = time.time()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} if multi_query else None,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{STAGE}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": dict(headers).get("User-Agent"),
                "user": None,
            },
            "domainName": "localhost",
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


class LocalApiGateway:
    """Serves the API function on ``http://127.0.0.1:<port>`` until stopped."""

    def __init__(self, handler: Handler, port: int, function_name: str = "ApiFunction", timeout: float = 29.0):
        self._handler = handler
        self._routes = routes_from_template()
        self._function_name = function_name
        self._timeout = timeout
        self._invoke_lock = threading.Lock()
        gateway = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                LOG.debug("api %s", format % args)

            def _serve(self) -> None:
                gateway.serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", port), _RequestHandler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-api", daemon=True)

    def start(self) -> LocalApiGateway:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        """Answer one HTTP request."""
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length > 0 else b""
        path = urlsplit(request.path).path
        if request.command == "GET" and path in ("/swagger", "/openapi.json"):
            self._static(request, path)
            return
        event = build_proxy_event(
            self._routes,
            request.command,
            request.path,
            headers=list(request.headers.items()),
            body=body,
            source_ip=request.client_address[0],
        )
        context = LocalLambdaContext(function_name=self._function_name, timeout_seconds=self._timeout)
        try:
            # One request at a time, as one Lambda instance serves them (Powertools' resolver keeps
            # per-request state and is not thread-safe; concurrent calls corrupted it under load).
            with self._invoke_lock:
                response = self._handler(event, context)
        except Exception:
            LOG.exception("API handler raised")
            # What API Gateway answers when the integration fails.
            response = {"statusCode": 502, "body": json.dumps({"message": "Internal server error"})}
        self._write(request, response)

    def _static(self, request: BaseHTTPRequestHandler, path: str) -> None:
        if path == "/swagger":
            content, kind = _SWAGGER_HTML.encode(), "text/html; charset=utf-8"
        else:
            content, kind = OPENAPI_PATH.read_bytes(), "application/json"
        request.send_response(200)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(content)))
        request.end_headers()
        request.wfile.write(content)

    @staticmethod
    def _write(request: BaseHTTPRequestHandler, response: dict[str, Any]) -> None:
        raw = response.get("body") or ""
        content = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode("utf-8")
        request.send_response(int(response.get("statusCode", 200)))
        headers: dict[str, list[str]] = {}
        for name, value in (response.get("headers") or {}).items():
            headers[name] = [str(value)]
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = [str(v) for v in values]
        for name, values in headers.items():
            if name.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            for value in values:
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(content)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(content)
