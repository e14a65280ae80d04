"""API Gateway REST proxy events for the read API, built from the committed samples in ``events/``.

Every event starts as a copy of a sample, so the tests send exactly the shape API Gateway sends (and the
samples cannot drift into something the tests never exercise). As API Gateway does, ``path`` is
percent-encoded, ``pathParameters`` and query values are decoded. Also here: the API function's
environment for a provisioned stack.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
STAGE = "v1"


@cache
def _sample_text(name: str) -> str:
    return (EVENTS_DIR / name).read_text(encoding="utf-8")


def sample(name: str) -> dict[str, Any]:
    """A fresh copy of ``events/<name>``."""
    event: dict[str, Any] = json.loads(_sample_text(name))
    return event


def rest_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    query: Mapping[str, str | list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    is_base64_encoded: bool = False,
    path_parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A REST proxy event for ``method`` on ``path`` (already percent-encoded), shaped like the samples."""
    event = sample("apigw-get-task.json")
    merged_headers = {k: v for k, v in event["headers"].items() if k.lower() not in ("content-type", "content-length")}
    merged_headers.update(headers or {})
    multi_query = {k: (list(v) if isinstance(v, list) else [v]) for k, v in (query or {}).items()}
    event.update(
        {
            "resource": resource or path,
            "path": path,
            "httpMethod": method,
            "headers": merged_headers,
            "multiValueHeaders": {k: [v] for k, v in merged_headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(path_parameters) if path_parameters else None,
            "body": body,
            "isBase64Encoded": is_base64_encoded,
        }
    )
    context = copy.deepcopy(event["requestContext"])
    context.update({"httpMethod": method, "resourcePath": resource or path, "path": f"/{STAGE}{path}"})
    event["requestContext"] = context
    return event


def get_task_event(
    task_id: str,
    *,
    vendor: str | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str | list[str]] | None = None,
) -> dict[str, Any]:
    """``GET /tasks/{taskId}`` for ``task_id`` (encoded into the path as a client would)."""
    merged = dict(query or {})
    if vendor is not None:
        merged["vendor"] = vendor
    return rest_event(
        "GET",
        f"/tasks/{quote(task_id, safe='')}",
        resource="/tasks/{taskId}",
        query=merged,
        headers=headers,
        path_parameters={"taskId": task_id},
    )


def list_page_event(task_id: str, route: str, **query: str | list[str]) -> dict[str, Any]:
    """``GET /tasks/{taskId}/<route>`` (``thumbnails``, ``file-names``) with the given query parameters."""
    return rest_event(
        "GET",
        f"/tasks/{quote(task_id, safe='')}/{route}",
        resource=f"/tasks/{{taskId}}/{route}",
        query=query,
        path_parameters={"taskId": task_id},
    )


def list_tasks_event(**query: str | list[str]) -> dict[str, Any]:
    """``GET /tasks`` with the given query parameters (use ``nextToken=...`` as named)."""
    return rest_event("GET", "/tasks", query=query)


def post_task_event(
    body: str | None,
    *,
    content_type: str | None = "application/json",
    is_base64_encoded: bool = False,
) -> dict[str, Any]:
    """``POST /tasks`` with ``body``."""
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return rest_event("POST", "/tasks", headers=headers, body=body, is_base64_encoded=is_base64_encoded)


def registration_body(task_id: str, vendor: str = "Tencent") -> str:
    """The JSON body a pipeline would POST."""
    return json.dumps({"TaskId": task_id, "Vendor": vendor})


def json_body(response: Mapping[str, Any]) -> Any:
    """The decoded JSON body of a resolver response."""
    return json.loads(response["body"])


def header(response: Mapping[str, Any], name: str) -> str | None:
    """A response header (case-insensitive), from ``multiValueHeaders`` as Powertools returns it."""
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return str(values[-1])
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def make_record(
    task_id: str,
    vendor: Vendor = Vendor.TENCENT,
    status: TaskStatus = TaskStatus.PROCESSING,
    changed_at: str = "2026-11-23T10:00:00.000Z",
    **fields: Any,
) -> TaskRecord:
    """A stored-looking record; terminal statuses get ``completed_at`` unless given."""
    if status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED) and "completed_at" not in fields:
        fields["completed_at"] = changed_at
    return TaskRecord(
        task_id=task_id,
        vendor=vendor,
        status=status,
        generation=fields.pop("generation", 3),
        first_seen_at=fields.pop("first_seen_at", "2026-11-23T09:00:00.000Z"),
        deadline_at=fields.pop("deadline_at", "2026-11-24T09:00:00.000Z"),
        status_changed_at=changed_at,
        **fields,
    )


# --- the API function's environment ----------------------------------------------------------------


def api_environment(stack: Any, **overrides: str) -> dict[str, str]:
    """The API function's environment for a provisioned stack (``devstack.resources``), with a local
    pagination key instead of a Secrets Manager ARN."""
    return {
        "TABLE_NAME": stack.table_names["TasksTable"],
        "QUEUE_URL": stack.queue_urls["PollQueue"],
        "LISTS_BUCKET_NAME": stack.bucket_names["TaskListsBucket"],
        "PAGINATION_SECRET": "test-pagination-secret-0123456789abcdef",
        "POWERTOOLS_SERVICE_NAME": "zego-media-tasks-api",
        "POWERTOOLS_METRICS_NAMESPACE": "ZegoMediaTasksTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
        **overrides,
    }
