"""``POST /callbacks/zego`` as an OpenAPI path item, from the receiver's own vocabulary.

The route is served by its own function (not by the read API's resolver), so its part of
``docs/openapi.json`` is built here, from the rejection reasons and HTTP statuses the parser answers
with (:data:`~zego_media_tasks.zego.callbacks.HTTP_STATUS_BY_REASON`) and the receiver's outcomes.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from zego_media_tasks.callbacks.service import ACCEPTED
from zego_media_tasks.zego.callbacks import DEFAULT_MAX_BODY_BYTES, HTTP_STATUS_BY_REASON, CallbackKind

PATH = "/callbacks/zego"
TAG = "callbacks"
_ERROR = {"$ref": "#/components/schemas/ErrorResponse"}
_TEXT_OR_NUMBER: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "integer"}]}


def _body_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "ZEGO's completion callback, every value a string (numbers included). compose: replay_url, "
        "file_id (Tencent), code, message; procedure: status, fileId/file_id, extra_params (a string holding "
        "JSON); snapshot: vendor (tencent/hw), field_id, snapshot_pic_list (a string holding a JSON array).",
        "required": ["appid", "event", "task_id", "timestamp", "nonce", "signature"],
        "properties": {
            "appid": _TEXT_OR_NUMBER,
            "event": {"type": "string", "enum": [kind.value for kind in CallbackKind]},
            "task_id": {"type": "string"},
            "timestamp": {**_TEXT_OR_NUMBER, "description": "Unix seconds; must be near the receiver's clock."},
            "nonce": _TEXT_OR_NUMBER,
            "signature": {
                "type": "string",
                "description": "SHA-1 (lowercase hex) of CallbackSecret, timestamp and nonce sorted and joined.",
            },
        },
        "additionalProperties": True,
    }


def _rejections() -> dict[str, Any]:
    by_status: dict[int, list[str]] = defaultdict(list)
    for reason, status in HTTP_STATUS_BY_REASON.items():
        by_status[status].append(reason.value)
    return {
        str(status): {
            "description": "Refused, nothing changed: " + ", ".join(sorted(reasons)) + ". ZEGO retries a non-2xx.",
            "content": {"application/json": {"schema": _ERROR}},
        }
        for status, reasons in sorted(by_status.items())
    }


def callback_path_item() -> dict[str, Any]:
    """The path item of ``POST /callbacks/zego``."""
    body = _body_schema()
    return {
        "post": {
            "tags": [TAG],
            "summary": "Receive a ZEGO completion callback",
            "description": "Called by ZEGO when a merge (compose), transcode (procedure) or snapshot finishes. Not "
            "behind IAM or an API key: the signature is checked instead. A valid callback ends the task it names "
            "(or records a task nobody registered, already ended); a late or duplicate one changes nothing. "
            f"At most {DEFAULT_MAX_BODY_BYTES} bytes; JSON, percent-encoded JSON or form fields.",
            "operationId": "receiveZegoCallback",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": body},
                    "application/x-www-form-urlencoded": {"schema": body},
                },
            },
            "responses": {
                "200": {
                    "description": "Accepted: the callback was applied, or the task had ended already.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["outcome"],
                                "properties": {
                                    "outcome": {"type": "string", "enum": sorted(o.value for o in ACCEPTED)}
                                },
                            }
                        }
                    },
                },
                **_rejections(),
                "503": {
                    "description": "Our failure (the table or the CallbackSecret is unavailable, or a concurrent poll "
                    "moved the task on): ZEGO retries, and the retry is safe.",
                    "content": {"application/json": {"schema": _ERROR}},
                },
            },
        }
    }
