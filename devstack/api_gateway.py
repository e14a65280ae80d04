"""A local stand-in for API Gateway (REST): HTTP on loopback -> REST proxy events -> the real handlers.

Which function serves which route comes from the ``Api`` events of the template's functions (the read
API's ``ApiFunction``, ZEGO's callbacks' ``CallbackFunction``), so the resource paths in the events are
the ones API Gateway would send, to the function it would send them to. Each function is invoked one
request at a time, as one Lambda instance would be. Authorization (IAM/API key) is the one thing not
enforced locally: every request carries an unauthenticated ``identity`` block (the callback route has no
auth in the deployed stack either; its signature is checked by its function). ``/swagger`` serves a
Swagger UI for the committed OpenAPI document, ``/openapi.json`` the document itself.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from devstack.handlers import Handler
from devstack.lambda_context import LocalLambdaContext
from devstack.template import load_template

LOG = logging.getLogger(__name__)
OPENAPI_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
STAGE = "local"
API_FUNCTION: Final = "ApiFunction"
"""The function that answers a path no route declares (the read API answers 404 itself)."""
CALLBACK_FUNCTION: Final = "CallbackFunction"
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
    """One API Gateway resource path + method, the regex that matches concrete paths, and the function
    (template logical id) that serves it."""

    resource: str
    method: str
    pattern: re.Pattern[str]
    function: str = API_FUNCTION


@dataclass(frozen=True)
class RouteMatch:
    """What API Gateway resolves one request to: the resource, its decoded path parameters, the function."""

    resource: str
    path_parameters: dict[str, str] | None
    function: str


def routes_from_template(template: Mapping[str, Any] | None = None) -> list[Route]:
    """The REST routes declared as ``Api`` events of every function in ``template.yaml``, each with the
    logical id of the function that serves it."""
    resources = (template or load_template())["Resources"]
    routes = []
    for function_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") != "Api":
                continue
            path: str = event["Properties"]["Path"]
            regex = "^" + re.sub(r"\\\{([^}/+]+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
            method = str(event["Properties"]["Method"]).upper()
            routes.append(Route(resource=path, method=method, pattern=re.compile(regex), function=function_id))
    return routes


def route_path(routes: Sequence[Route], function: str, method: str = "POST") -> str:
    """The resource path ``function`` serves for ``method`` (e.g. the callback route, ``/callbacks/zego``)."""
    for route in routes:
        if route.function == function and route.method in (method.upper(), "ANY"):
            return route.resource
    raise LookupError(f"no {method.upper()} route of {function} in the template")


def match_route(routes: Sequence[Route], path: str, method: str, default_function: str = API_FUNCTION) -> RouteMatch:
    """The route a request goes to: the one declared for its path and method; else (an undeclared method)
    the function of its path; else (an unknown path) ``default_function``, which answers 404/405 itself."""
    fallback: RouteMatch | None = None
    for route in routes:
        found = route.pattern.match(path)
        if not found:
            continue
        parameters = {k: unquote(v) for k, v in found.groupdict().items()} or None
        matched = RouteMatch(route.resource, parameters, route.function)
        if route.method in (method, "ANY"):
            return matched
        fallback = fallback or matched
    return fallback or RouteMatch(path, None, default_function)


def build_proxy_event(
    routes: Sequence[Route],
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
    matched = match_route(routes, split.path, method)
    resource, path_parameters = matched.resource, matched.path_parameters
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
    """Serves the template's API routes on ``http://127.0.0.1:<port>`` until stopped.

    Two steps, so that the URL is known before the handlers are (the ZEGO simulator needs the callback
    URL before the stack's environment, and so its handlers, can be set up): the constructor binds the
    port, :meth:`start` takes the handlers and serves. Routes of functions given no handler are not
    served: their paths reach ``default_function``, as unknown paths do.
    """

    def __init__(
        self,
        port: int,
        *,
        routes: Sequence[Route] | None = None,
        default_function: str = API_FUNCTION,
        timeout: float = 29.0,
    ) -> None:
        self.routes: tuple[Route, ...] = tuple(routes if routes is not None else routes_from_template())
        self._default_function = default_function
        self._timeout = timeout
        self._handlers: dict[str, Handler] = {}
        self._served: tuple[Route, ...] = ()
        # One lock per function: one request at a time, as one Lambda instance serves them (Powertools'
        # resolver keeps per-request state and is not thread-safe; concurrent calls corrupted it under load).
        self._invoke_locks: dict[str, threading.Lock] = {}
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

    def url_of(self, function: str, method: str = "POST") -> str:
        """The full URL of the route ``function`` serves for ``method`` (e.g. ``.../callbacks/zego``)."""
        return self.url + route_path(self.routes, function, method)

    def start(self, handlers: Mapping[str, Handler]) -> LocalApiGateway:
        """Serve the routes of ``handlers`` (template logical id -> handler) in a background thread."""
        if self._default_function not in handlers:
            raise ValueError(f"no handler for {self._default_function}, which answers unknown paths")
        self._handlers = dict(handlers)
        self._invoke_locks = {function: threading.Lock() for function in self._handlers}
        self._served = tuple(route for route in self.routes if route.function in self._handlers)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (if started) and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        """Answer one HTTP request."""
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length > 0 else b""
        path = urlsplit(request.path).path
        if request.command == "GET" and path in ("/swagger", "/openapi.json"):
            self._static(request, path)
            return
        function = match_route(self._served, path, request.command, self._default_function).function
        event = build_proxy_event(
            self._served,
            request.command,
            request.path,
            headers=list(request.headers.items()),
            body=body,
            source_ip=request.client_address[0],
        )
        context = LocalLambdaContext(function_name=function, timeout_seconds=self._timeout)
        try:
            with self._invoke_locks[function]:
                response = self._handlers[function](event, context)
        except Exception:
            LOG.exception("%s handler raised", function)
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
