"""ZEGO completion callbacks as ZEGO sends them, for the receiver's tests: signed bodies and proxy events.

Every callback is signed here with ZEGO's documented rule, written out independently of the code under
test (``hashlib`` over the sorted CallbackSecret, ``timestamp`` and ``nonce``), with a timestamp the test
takes from its injected clock. The proxy events start from a committed API Gateway sample
(:func:`tests.support.api_events.rest_event`), so the receiver gets exactly the shape API Gateway sends.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tests.support.api_events import rest_event

CALLBACK_SECRET = "unit-test-callback-secret-7d1f0c2a9b"
APP_ID = 1234567890
NONCE = "158243"
CALLBACK_PATH = "/callbacks/zego"

TENCENT_MERGE = "1400341231-ComposeMedia-6fdfc967d7eb12f5e9b27f52519f1afatt0"
HUAWEI_MERGE = "289665201"
TENCENT_TRANSCODE = "1500030200-procedurev2-afc1fe7dfe51cd88a5d588cacba53393tt0"
SNAPSHOT_TASK = "1253642700910365374"
REPLAY_URL = "https://example-vod.zego.im/compose/5285890813218549789/output.mp4"


def zego_signature(secret: str, timestamp: str, nonce: str) -> str:
    """ZEGO's rule: SHA-1 of the three strings sorted in dictionary order and concatenated, lowercase hex."""
    return hashlib.sha1("".join(sorted((secret, timestamp, nonce))).encode(), usedforsecurity=False).hexdigest()


def signed(
    fields: Mapping[str, Any],
    *,
    at: datetime,
    nonce: str = NONCE,
    secret: str = CALLBACK_SECRET,
    app_id: int = APP_ID,
) -> dict[str, Any]:
    """``fields`` as ZEGO sends them at ``at``: our AppId (unless ``fields`` says another), a timestamp,
    a nonce and the signature over them."""
    timestamp = str(int(at.timestamp()))
    return {
        "appid": str(app_id),
        **fields,
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": zego_signature(secret, timestamp, nonce),
    }


def tencent_compose(task_id: str = TENCENT_MERGE, *, code: str = "0", **extra: Any) -> dict[str, Any]:
    """A Tencent merge-finished callback (unsigned fields): ``file_id``, ``code`` and ``message``."""
    return {
        "event": "compose",
        "task_id": task_id,
        "replay_url": REPLAY_URL,
        "file_id": "5285890813218549789",
        "code": code,
        "message": "" if code == "0" else "bad source file",
        **extra,
    }


def huawei_compose(task_id: str = HUAWEI_MERGE, **extra: Any) -> dict[str, Any]:
    """A Huawei merge-finished callback (unsigned fields): no vendor, no file id, no code."""
    return {"event": "compose", "task_id": task_id, "replay_url": REPLAY_URL, **extra}


def tencent_snapshot(task_id: str = SNAPSHOT_TASK, **extra: Any) -> dict[str, Any]:
    """A Tencent snapshot-finished callback (unsigned fields)."""
    pictures = [{"url": "https://example.com/1.jpg", "offset": 0}, {"url": "https://example.com/2.jpg", "offset": 1000}]
    return {
        "event": "snapshot",
        "task_id": task_id,
        "vendor": "tencent",
        "field_id": "abcwurywbhsfwi",
        "snapshot_pic_list": json.dumps(pictures),
        **extra,
    }


def json_body(fields: Mapping[str, Any]) -> str:
    """The callback as a JSON body."""
    return json.dumps(fields)


def form_body(fields: Mapping[str, Any]) -> str:
    """The callback as ``application/x-www-form-urlencoded`` fields."""
    return urlencode({name: str(value) for name, value in fields.items()})


def callback_event(
    body: str | bytes | None,
    *,
    content_type: str | None = "application/json",
    base64_encoded: bool = False,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``POST /callbacks/zego`` as an API Gateway REST proxy event (``base64_encoded``: as API Gateway
    passes a body it treats as binary)."""
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["Content-Type"] = content_type
    raw = body.encode() if isinstance(body, str) else body
    if base64_encoded and raw is not None:
        text: str | None = base64.b64encode(raw).decode("ascii")
    else:
        text = raw.decode("utf-8", "surrogateescape") if raw is not None else None
    return rest_event("POST", CALLBACK_PATH, headers=all_headers, body=text, is_base64_encoded=base64_encoded)


def receiver_environment(stack: Any, **overrides: str) -> dict[str, str]:
    """The callback function's environment for a provisioned stack (``devstack.resources``), as the
    template sets it, with the CallbackSecret given directly (local runs)."""
    return {
        "TABLE_NAME": stack.table_names["TasksTable"],
        "ZEGO_APP_ID": str(APP_ID),
        "ZEGO_CALLBACK_SECRET": CALLBACK_SECRET,
        "POWERTOOLS_SERVICE_NAME": "zego-media-tasks-callbacks",
        "POWERTOOLS_METRICS_NAMESPACE": "ZegoMediaTasksTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        **overrides,
    }
