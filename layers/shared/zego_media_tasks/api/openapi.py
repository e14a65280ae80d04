"""The OpenAPI document, generated from the routes and models; committed as ``docs/openapi.json``.

``python -m zego_media_tasks.api.openapi`` rewrites the committed file; ``--check`` exits 1 when it is
stale. :func:`openapi_json` is what the local Swagger UI serves.

Three adjustments are made to Powertools' output so the document says what the API does: Powertools
documents a 422 for every route with validated parameters and its own body for response-validation
failures, while our handlers answer validation errors with 400 and every error with
``{"error": {...}}``; and it gives every response without content the route's return model, while a 304
has no body. All three are rewritten here, in code, so the document stays generated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server, Tag

from zego_media_tasks import __version__
from zego_media_tasks.api.routes import build_app
from zego_media_tasks.api.service import TaskService
from zego_media_tasks.callbacks.document import PATH as CALLBACK_PATH
from zego_media_tasks.callbacks.document import TAG as CALLBACK_TAG
from zego_media_tasks.callbacks.document import callback_path_item
from zego_media_tasks.documents import write_or_check

DOCUMENT_PATH = Path(__file__).resolve().parents[4] / "docs" / "openapi.json"
"""``docs/openapi.json`` of the repository this module is checked out in."""
TITLE = "zego-media-tasks read API"
DESCRIPTION = (
    "Look up, list and register ZEGO media-processing tasks tracked by zego-media-tasks.\n\n"
    "Every request is authorized by API Gateway: AWS IAM (SigV4) by default, or an API key when the "
    "stack is deployed with API-key authorization. JSON field names are camelCase (except the "
    "registration body, which uses the poll-queue message names TaskId and Vendor); timestamps are "
    'ISO 8601 UTC. Every error is `{"error": {"code": "...", "message": "..."}}`; besides '
    "the statuses listed per operation, any route can answer 404 ROUTE_NOT_FOUND, 405 "
    "METHOD_NOT_ALLOWED (with Allow), 403 from API Gateway (authorization) and 429 (stage throttling)."
)
_INTERNAL_ERROR_RESPONSE: dict[str, Any] = {
    "description": "Unexpected server error (INTERNAL_ERROR); details are logged, never returned.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}


def _unavailable_service() -> TaskService:
    raise RuntimeError("the OpenAPI document is generated without a service")


def _security_schemes() -> dict[str, Any]:
    return {
        "sigv4": APIKey.model_validate(
            {
                "name": "Authorization",
                "in": APIKeyIn.header,
                "description": "AWS Signature Version 4 (IAM authorization, the default).",
                "openapi_extensions": {"x-amazon-apigateway-authtype": "awsSigv4"},
            }
        ),
        "api_key": APIKey.model_validate(
            {
                "name": "x-api-key",
                "in": APIKeyIn.header,
                "description": "API Gateway API key (when deployed with API-key authorization).",
            }
        ),
    }


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _references(value)
        return found
    if isinstance(node, list):
        found = set()
        for value in node:
            found |= _references(value)
        return found
    return set()


def _align_with_error_handlers(document: dict[str, Any]) -> dict[str, Any]:
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            responses.pop("422", None)
            responses["500"] = _INTERNAL_ERROR_RESPONSE
            if "304" in responses:
                responses["304"].pop("content", None)  # Not Modified never has a body
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    # Drop the schemas only Powertools' own (replaced) error bodies used, until nothing else goes.
    while True:
        used = {ref.rsplit("/", 1)[-1] for ref in _references({k: v for k, v in document.items() if k != "components"})}
        used |= {ref.rsplit("/", 1)[-1] for ref in _references(schemas)}
        unused = [name for name in schemas if name not in used]
        if not unused:
            return document
        for name in unused:
            del schemas[name]


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the API, as a JSON-ready dict."""
    app = build_app(_unavailable_service)
    generated = app.get_openapi_json_schema(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        servers=[Server(url="/", description="The API's stage URL")],
        tags=[
            Tag(name="tasks", description="ZEGO media-processing tasks"),
            Tag(
                name=CALLBACK_TAG,
                description="ZEGO's completion callbacks (served when the stack has a CallbackSecret)",
            ),
        ],
        security_schemes=_security_schemes(),
        security=[{"sigv4": []}, {"api_key": []}],
    )
    document: dict[str, Any] = json.loads(generated)
    document["paths"][CALLBACK_PATH] = callback_path_item()
    return _align_with_error_handlers(document)


def openapi_json() -> str:
    """The document as served and committed: indented JSON with a final newline."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the document (default ``docs/openapi.json``), or with ``--check`` report whether it is stale."""
    return write_or_check(
        argv, openapi_json, default_path=DOCUMENT_PATH, module="zego_media_tasks.api.openapi", doc=__doc__
    )


if __name__ == "__main__":
    raise SystemExit(main())
