"""POST /tasks: idempotent registration; the first poll is queued before the record is written."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api_events import header, json_body, make_record, post_task_event, registration_body, sample
from tests.support.clock import FakeClock
from tests.unit.api.conftest import queued_bodies
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.store.task_store import TaskStore

Call = Callable[[dict[str, Any]], dict[str, Any]]
Seed = Callable[..., TaskRecord]


def test_the_sample_event_registers_a_new_task(
    call: Call, queries: TaskStore, queue_url: str, clock: FakeClock
) -> None:
    # When the committed sample (POST /tasks {"TaskId":"2b0c4d1e9f","Vendor":"Tencent"}) is resolved
    response = call(sample("apigw-post-task.json"))
    # Then 202 with the PENDING record and where to find it (under the stage, as the client called it)
    assert response["statusCode"] == 202
    assert header(response, "Location") == "/v1/tasks/2b0c4d1e9f?vendor=Tencent"
    assert header(response, "Cache-Control") == "no-store"
    task = json_body(response)
    assert task["taskId"] == "2b0c4d1e9f"
    assert task["vendor"] == "Tencent"
    assert task["status"] == "PENDING"
    assert task["firstSeenAt"] == task["statusChangedAt"] == "2026-11-23T12:00:00.000Z"
    assert task["deadlineAt"] == "2026-11-24T12:00:00.000Z"
    assert task["pollCount"] == 0
    # And the record is stored at generation 0
    stored = queries.get("2b0c4d1e9f", Vendor.TENCENT, consistent=True)
    assert stored is not None
    assert stored.status is TaskStatus.PENDING
    assert stored.generation == 0
    # And exactly one generation-0 poll message is queued, carrying the same times
    assert [json.loads(b) for b in queued_bodies(queue_url)] == [
        {
            "TaskId": "2b0c4d1e9f",
            "Vendor": "Tencent",
            "FirstSeenAt": "2026-11-23T12:00:00.000Z",
            "DeadlineAt": "2026-11-24T12:00:00.000Z",
        }
    ]


def test_registering_a_tracked_task_returns_it_and_queues_nothing(call: Call, seed: Seed, queue_url: str) -> None:
    seed(make_record("t-1", Vendor.HUAWEI, TaskStatus.SUCCEEDED, poll_count=9))
    response = call(post_task_event(registration_body("t-1", "Huawei")))
    assert response["statusCode"] == 200
    assert header(response, "Location") is None
    assert json_body(response)["status"] == "SUCCEEDED"
    assert json_body(response)["pollCount"] == 9
    assert queued_bodies(queue_url) == []


def test_registering_twice_is_idempotent(call: Call, queue_url: str) -> None:
    first = call(post_task_event(registration_body("t-2")))
    second = call(post_task_event(registration_body("t-2")))
    assert (first["statusCode"], second["statusCode"]) == (202, 200)
    assert json_body(first) == json_body(second)
    assert len(queued_bodies(queue_url)) == 1


def test_the_same_task_id_can_be_registered_for_both_vendors(call: Call, queue_url: str) -> None:
    assert call(post_task_event(registration_body("t-3", "Tencent")))["statusCode"] == 202
    assert call(post_task_event(registration_body("t-3", "Huawei")))["statusCode"] == 202
    assert len(queued_bodies(queue_url)) == 2


def test_the_location_percent_encodes_the_task_id(call: Call) -> None:
    response = call(post_task_event(registration_body('a#b?c"d%')))
    assert header(response, "Location") == "/v1/tasks/a%23b%3Fc%22d%25?vendor=Tencent"


def test_unknown_extra_fields_are_ignored(call: Call) -> None:
    body = json.dumps({"TaskId": "t-4", "Vendor": "Tencent", "Pipeline": "p-9"})
    assert call(post_task_event(body))["statusCode"] == 202


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "APPLICATION/JSON", None])
def test_json_content_types_and_no_content_type_are_accepted(call: Call, content_type: str | None) -> None:
    assert call(post_task_event(registration_body("t-5"), content_type=content_type))["statusCode"] in (200, 202)


def test_a_base64_encoded_json_body_is_accepted(call: Call) -> None:
    body = base64.b64encode(registration_body("t-6").encode()).decode()
    assert call(post_task_event(body, is_base64_encoded=True))["statusCode"] == 202


# --- errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml"]
)
def test_a_non_json_content_type_is_415(call: Call, queue_url: str, content_type: str) -> None:
    response = call(post_task_event("TaskId=t&Vendor=Tencent", content_type=content_type))
    assert response["statusCode"] == 415
    assert json_body(response)["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert queued_bodies(queue_url) == []


@pytest.mark.parametrize("size", [16 * 1024 + 1, 100 * 1024])
def test_a_body_over_16_kib_is_413(call: Call, size: int) -> None:
    padding = "x" * (size - len('{"TaskId":"t","Vendor":"Tencent","p":""}'))
    body = json.dumps({"TaskId": "t", "Vendor": "Tencent", "p": padding}, separators=(",", ":"))
    assert len(body) == size
    response = call(post_task_event(body))
    assert response["statusCode"] == 413
    assert json_body(response)["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_body_of_exactly_16_kib_is_accepted(call: Call) -> None:
    padding = "x" * (16 * 1024 - len('{"TaskId":"t","Vendor":"Tencent","p":""}'))
    body = json.dumps({"TaskId": "t", "Vendor": "Tencent", "p": padding}, separators=(",", ":"))
    assert call(post_task_event(body))["statusCode"] == 202


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ("{", "MALFORMED_JSON", "the body is not valid JSON"),
        ("", "INVALID_BODY", 'a JSON body {"TaskId": ..., "Vendor": ...} is required'),
        (None, "INVALID_BODY", 'a JSON body {"TaskId": ..., "Vendor": ...} is required'),
        ("[1, 2]", "INVALID_BODY", "the body must be a JSON object"),
        ('"t-1"', "INVALID_BODY", "the body must be a JSON object"),
        ("[" * 5000 + "]" * 5000, "MALFORMED_JSON", "the body is not valid JSON"),
        ("1" * 5000, "MALFORMED_JSON", "the body is not valid JSON"),
        ('{"Vendor": "Tencent"}', "INVALID_TASK_ID", "TaskId: Field required"),
        ('{"TaskId": "t-1"}', "INVALID_VENDOR", "Vendor: Field required"),
        ('{"taskId": "t-1", "vendor": "Tencent"}', "INVALID_TASK_ID", "TaskId: Field required; Vendor: Field required"),
        ('{"TaskId": 12, "Vendor": "Tencent"}', "INVALID_TASK_ID", "TaskId: TaskId must be a string"),
        ('{"TaskId": "", "Vendor": "Tencent"}', "INVALID_TASK_ID", "TaskId: TaskId must be 1-256 characters long"),
        (
            '{"TaskId": "a b", "Vendor": "Tencent"}',
            "INVALID_TASK_ID",
            "TaskId: TaskId may contain printable ASCII only, without white space or '/'",
        ),
        (
            '{"TaskId": "t-1", "Vendor": "huawei"}',
            "INVALID_VENDOR",
            "Vendor: Input should be 'Tencent' or 'Huawei'",
        ),
    ],
)
def test_invalid_bodies_are_400(call: Call, queue_url: str, body: str | None, code: str, message: str) -> None:
    response = call(post_task_event(body))
    assert response["statusCode"] == 400
    assert json_body(response) == {"error": {"code": code, "message": message}}
    assert queued_bodies(queue_url) == []


def test_invalid_base64_is_400(call: Call) -> None:
    response = call(post_task_event("!!!not base64", is_base64_encoded=True))
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "MALFORMED_JSON"


def test_a_body_that_is_not_utf8_is_400(call: Call) -> None:
    body = base64.b64encode(b'{"TaskId": "\xff", "Vendor": "Tencent"}').decode()
    response = call(post_task_event(body, is_base64_encoded=True))
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "MALFORMED_JSON"


def test_a_lone_surrogate_in_the_body_is_400(call: Call) -> None:
    response = call(post_task_event('{"TaskId": "\ud800", "Vendor": "Tencent"}'))
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "MALFORMED_JSON"
