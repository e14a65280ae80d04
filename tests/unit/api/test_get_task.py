"""GET /tasks/{taskId}: the task's records, 404 when untracked, caching headers and 304."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api_events import get_task_event, header, json_body, make_record, rest_event, sample
from zego_media_tasks.domain.record import LastError, TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor

Call = Callable[[dict[str, Any]], dict[str, Any]]
Seed = Callable[..., TaskRecord]


def test_the_sample_event_returns_the_record_in_camel_case(call: Call, seed: Seed) -> None:
    # Given a succeeded Tencent task with every field set
    seed(
        make_record(
            "2b0c4d1e9f",
            status=TaskStatus.SUCCEEDED,
            changed_at="2026-11-23T10:05:00.000Z",
            vendor_status="FINISH",
            event="TranscodeFinish",
            file_id="f-1",
            replay_url="https://cdn.example/replay.mp4",
            thumbnail_urls=("https://cdn.example/1.jpg",),
            file_names=("replay.mp4",),
            message="ok",
            vendor_request_id="v-req",
            zego_request_id="z-req",
            last_polled_at="2026-11-23T10:05:00.000Z",
            poll_count=4,
            last_error=LastError(
                kind="TRANSIENT", code="TIMEOUT", message="read timeout", at="2026-11-23T10:01:00.000Z"
            ),
            raw={"TaskId": "2b0c4d1e9f", "Status": "FINISH", "Nested": {"a": [1, 2.5]}},
        )
    )
    # When the committed sample event (GET /tasks/2b0c4d1e9f?vendor=Tencent) is resolved
    response = call(sample("apigw-get-task.json"))
    # Then the record comes back in the documented shape
    assert response["statusCode"] == 200
    assert header(response, "Content-Type") == "application/json"
    (task,) = json_body(response)["tasks"]
    assert task == {
        "taskId": "2b0c4d1e9f",
        "vendor": "Tencent",
        "status": "SUCCEEDED",
        "vendorStatus": "FINISH",
        "event": "TranscodeFinish",
        "fileId": "f-1",
        "replayUrl": "https://cdn.example/replay.mp4",
        "thumbnailUrls": ["https://cdn.example/1.jpg"],
        "thumbnailCount": 1,
        "thumbnailsTruncated": False,
        "fileNames": ["replay.mp4"],
        "fileNameCount": 1,
        "fileNamesTruncated": False,
        "message": "ok",
        "vendorRequestId": "v-req",
        "zegoRequestId": "z-req",
        "vendorCreatedAt": None,
        "vendorEndedAt": None,
        "resultCode": None,
        "media": None,
        "kind": None,
        "firstSeenAt": "2026-11-23T09:00:00.000Z",
        "lastPolledAt": "2026-11-23T10:05:00.000Z",
        "statusChangedAt": "2026-11-23T10:05:00.000Z",
        "completedAt": "2026-11-23T10:05:00.000Z",
        "completedBy": None,
        "deadlineAt": "2026-11-24T09:00:00.000Z",
        "pollCount": 4,
        "nextPollAt": None,
        "sequence": 1,
        "lastError": {
            "kind": "TRANSIENT",
            "code": "TIMEOUT",
            "message": "read timeout",
            "at": "2026-11-23T10:01:00.000Z",
        },
        "raw": {"TaskId": "2b0c4d1e9f", "Status": "FINISH", "Nested": {"a": [1, 2.5]}},
    }


def test_without_vendor_every_vendor_record_is_returned_ordered_by_vendor(call: Call, seed: Seed) -> None:
    seed(make_record("t-both", Vendor.TENCENT), make_record("t-both", Vendor.HUAWEI, TaskStatus.WAITING))
    response = call(get_task_event("t-both"))
    assert response["statusCode"] == 200
    assert [(t["vendor"], t["status"]) for t in json_body(response)["tasks"]] == [
        ("Huawei", "WAITING"),
        ("Tencent", "PROCESSING"),
    ]


def test_vendor_narrows_to_that_vendor(call: Call, seed: Seed) -> None:
    seed(make_record("t-both", Vendor.TENCENT), make_record("t-both", Vendor.HUAWEI))
    response = call(get_task_event("t-both", vendor="Huawei"))
    assert [t["vendor"] for t in json_body(response)["tasks"]] == ["Huawei"]


def test_an_untracked_task_is_404(call: Call) -> None:
    response = call(get_task_event("never-registered"))
    assert response["statusCode"] == 404
    assert json_body(response) == {
        "error": {"code": "TASK_NOT_FOUND", "message": "task never-registered is not tracked"}
    }
    assert header(response, "Cache-Control") == "no-store"


def test_a_task_tracked_for_another_vendor_is_404_for_this_vendor(call: Call, seed: Seed) -> None:
    seed(make_record("t-1", Vendor.TENCENT))
    response = call(get_task_event("t-1", vendor="Huawei"))
    assert response["statusCode"] == 404
    assert json_body(response)["error"] == {
        "code": "TASK_NOT_FOUND",
        "message": "task t-1 is not tracked for vendor Huawei",
    }


def test_a_percent_encoded_task_id_is_decoded_once(call: Call, seed: Seed) -> None:
    # Given a TaskId with characters a URL must encode (and a literal %41)
    task_id = 'a#b?c"d%41'
    seed(make_record(task_id))
    # When it is requested encoded, as a client does (path /tasks/a%23b%3Fc%22d%2541)
    response = call(get_task_event(task_id))
    # Then it is found under its real id
    assert response["statusCode"] == 200
    assert json_body(response)["tasks"][0]["taskId"] == task_id


def test_without_path_parameters_the_routed_segment_is_decoded(call: Call, seed: Seed) -> None:
    seed(make_record("a#b"))
    event = rest_event("GET", "/tasks/a%23b", resource="/tasks/{taskId}")
    assert call(event)["statusCode"] == 200


@pytest.mark.parametrize(
    ("task_id", "message"),
    [
        ("a b", "TaskId may contain printable ASCII only, without white space or '/'"),
        ("é", "TaskId may contain printable ASCII only, without white space or '/'"),
        ("x" * 257, "TaskId must be 1-256 characters long"),
        ("a/b", "TaskId may contain printable ASCII only, without white space or '/'"),
    ],
)
def test_an_invalid_task_id_is_400(call: Call, task_id: str, message: str) -> None:
    response = call(get_task_event(task_id))
    assert response["statusCode"] == 400
    assert json_body(response) == {"error": {"code": "INVALID_TASK_ID", "message": message}}


def test_an_unencoded_special_character_in_the_path_is_400(call: Call) -> None:
    # '"' can only reach us unencoded in a hand-made event; Powertools cannot route it.
    response = call(rest_event("GET", '/tasks/a"b', resource="/tasks/{taskId}"))
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "INVALID_TASK_ID"


def test_an_unknown_vendor_is_400(call: Call) -> None:
    response = call(get_task_event("t-1", vendor="tencent"))
    assert response["statusCode"] == 400
    assert json_body(response) == {
        "error": {"code": "INVALID_VENDOR", "message": "query parameter vendor: Input should be 'Tencent' or 'Huawei'"}
    }


# --- caching -------------------------------------------------------------------------------------------


def test_a_running_task_is_no_cache_with_a_strong_etag(call: Call, seed: Seed) -> None:
    seed(make_record("t-1", status=TaskStatus.PROCESSING))
    response = call(get_task_event("t-1", vendor="Tencent"))
    assert header(response, "Cache-Control") == "no-cache"
    etag = header(response, "ETag")
    assert etag is not None
    assert etag.startswith('"')
    assert not etag.startswith("W/")


def test_a_terminal_record_of_one_vendor_is_cacheable_for_a_day(call: Call, seed: Seed) -> None:
    seed(make_record("t-1", status=TaskStatus.SUCCEEDED))
    response = call(get_task_event("t-1", vendor="Tencent"))
    assert header(response, "Cache-Control") == "private, max-age=86400, immutable"


def test_all_vendors_terminal_is_cacheable_briefly_because_a_vendor_may_be_added(call: Call, seed: Seed) -> None:
    seed(make_record("t-1", status=TaskStatus.SUCCEEDED))
    response = call(get_task_event("t-1"))
    assert header(response, "Cache-Control") == "private, max-age=300"


def test_one_running_vendor_makes_the_whole_view_no_cache(call: Call, seed: Seed) -> None:
    seed(make_record("t-1", Vendor.TENCENT, TaskStatus.FAILED), make_record("t-1", Vendor.HUAWEI, TaskStatus.WAITING))
    assert header(call(get_task_event("t-1")), "Cache-Control") == "no-cache"


def test_the_etag_is_stable_and_changes_with_the_record(call: Call, seed: Seed) -> None:
    seed(make_record("t-1", status=TaskStatus.PROCESSING, poll_count=1))
    first = header(call(get_task_event("t-1")), "ETag")
    assert header(call(get_task_event("t-1")), "ETag") == first
    seed(make_record("t-1", status=TaskStatus.PROCESSING, poll_count=2))
    assert header(call(get_task_event("t-1")), "ETag") != first


def test_if_none_match_with_the_current_etag_is_304_without_a_body(call: Call, seed: Seed) -> None:
    # Given a terminal record and its ETag
    seed(make_record("t-1", status=TaskStatus.SUCCEEDED))
    etag = header(call(get_task_event("t-1", vendor="Tencent")), "ETag")
    assert etag is not None
    # When it is asked for again with If-None-Match
    response = call(get_task_event("t-1", vendor="Tencent", headers={"If-None-Match": etag}))
    # Then 304, no body, same validators
    assert response["statusCode"] == 304
    assert not response["body"]
    assert header(response, "ETag") == etag
    assert header(response, "Cache-Control") == "private, max-age=86400, immutable"
    assert header(response, "Content-Type") is None


@pytest.mark.parametrize("form", ["weak", "listed", "star"])
def test_if_none_match_uses_weak_comparison_and_lists(call: Call, seed: Seed, form: str) -> None:
    seed(make_record("t-1"))
    etag = header(call(get_task_event("t-1")), "ETag")
    value = {"weak": f"W/{etag}", "listed": f'"other", {etag}', "star": "*"}[form]
    assert call(get_task_event("t-1", headers={"If-None-Match": value}))["statusCode"] == 304


def test_a_stale_etag_gets_the_full_body(call: Call, seed: Seed) -> None:
    seed(make_record("t-1", poll_count=1))
    etag = header(call(get_task_event("t-1")), "ETag")
    assert etag is not None
    seed(make_record("t-1", poll_count=2))
    response = call(get_task_event("t-1", headers={"If-None-Match": etag}))
    assert response["statusCode"] == 200
    assert json_body(response)["tasks"][0]["pollCount"] == 2


def test_if_none_match_on_an_untracked_task_is_still_404(call: Call) -> None:
    response = call(get_task_event("nope", headers={"If-None-Match": "*"}))
    assert response["statusCode"] == 404
