"""GET /tasks/{taskId}/thumbnails and /file-names: every entry of a record's list in order, a page at a time,
with signed tokens bound to the task, vendor and list; the record itself holds the first page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api_events import get_task_event, json_body, list_page_event, list_tasks_event, make_record
from tests.support.snapshots import sample_snapshot_urls
from zego_media_tasks.domain.ports import WriteResult
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.store.list_objects import ListObjects, SpillingRecords
from zego_media_tasks.store.task_store import TaskStore

Call = Callable[[dict[str, Any]], dict[str, Any]]
URLS = tuple(sample_snapshot_urls(2_500))
NAMES = tuple(f"record/pickrecord/{n}.jpg" for n in range(2_500))


Store = Callable[..., WriteResult]


@pytest.fixture
def store(queries: TaskStore, lists: ListObjects) -> Store:
    """Write a record as the poller does (long lists to the bucket first), fenced at ``expected``."""
    spilling = SpillingRecords(queries, lists)

    def put(record: TaskRecord, expected: int | None = None) -> WriteResult:
        written = spilling.put(record, expected)
        assert written is WriteResult.WRITTEN
        return written

    return put


def _walk(call: Call, task_id: str, route: str, member: str, **query: str) -> list[list[str]]:
    pages: list[list[str]] = []
    params = dict(query)
    while True:
        response = call(list_page_event(task_id, route, **params))
        assert response["statusCode"] == 200, response["body"]
        body = json_body(response)
        pages.append(body[member])
        if body["nextToken"] is None:
            return pages
        params = {**query, "nextToken": body["nextToken"]}


def test_a_long_thumbnail_list_is_given_whole_in_order_over_pages(call: Call, store: Store) -> None:
    # Given a finished snapshot whose 2,500 URLs do not fit a record
    store(make_record("snap", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS))
    # When the record is read
    (task,) = json_body(call(get_task_event("snap", vendor="Tencent")))["tasks"]
    # Then it carries the first page, the full count and the flag
    assert (task["thumbnailCount"], task["thumbnailsTruncated"]) == (len(URLS), True)
    assert 0 < len(task["thumbnailUrls"]) < len(URLS)
    assert task["thumbnailUrls"] == list(URLS[: len(task["thumbnailUrls"])])
    # And the route pages through all of them, in order, at most `limit` at a time
    pages = _walk(call, "snap", "thumbnails", "thumbnailUrls", vendor="Tencent", limit="1000")
    assert [len(page) for page in pages] == [1000, 1000, 500]
    assert [url for page in pages for url in page] == list(URLS)


def test_a_long_huawei_file_name_list_is_given_whole_in_order(call: Call, store: Store) -> None:
    store(make_record("hw", Vendor.HUAWEI, TaskStatus.SUCCEEDED, file_names=NAMES))
    (task,) = json_body(call(get_task_event("hw", vendor="Huawei")))["tasks"]
    assert (task["fileNameCount"], task["fileNamesTruncated"]) == (len(NAMES), True)
    pages = _walk(call, "hw", "file-names", "fileNames", vendor="Huawei")
    assert [name for page in pages for name in page] == list(NAMES)


def test_a_small_list_is_unchanged_in_the_record_and_one_page_on_its_route(call: Call, store: Store) -> None:
    store(make_record("small", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS[:3]))
    (task,) = json_body(call(get_task_event("small", vendor="Tencent")))["tasks"]
    assert (task["thumbnailUrls"], task["thumbnailCount"], task["thumbnailsTruncated"]) == (list(URLS[:3]), 3, False)
    assert _walk(call, "small", "thumbnails", "thumbnailUrls", vendor="Tencent") == [list(URLS[:3])]
    assert _walk(call, "small", "file-names", "fileNames", vendor="Tencent") == [[]]


def test_an_untracked_task_is_404(call: Call) -> None:
    response = call(list_page_event("nobody", "thumbnails", vendor="Tencent"))
    assert response["statusCode"] == 404
    assert json_body(response)["error"]["code"] == "TASK_NOT_FOUND"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({}, "INVALID_VENDOR"),
        ({"vendor": "Akamai"}, "INVALID_VENDOR"),
        ({"vendor": "Tencent", "limit": "0"}, "INVALID_LIMIT"),
        ({"vendor": "Tencent", "limit": "1001"}, "INVALID_LIMIT"),
        ({"vendor": "Tencent", "nextToken": "not-a-token"}, "INVALID_NEXT_TOKEN"),
    ],
)
def test_a_bad_vendor_limit_or_token_is_400(call: Call, store: Store, query: dict[str, str], code: str) -> None:
    store(make_record("snap", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS))
    response = call(list_page_event("snap", "thumbnails", **query))
    assert response["statusCode"] == 400, response["body"]
    assert json_body(response)["error"]["code"] == code


def test_a_token_continues_only_its_own_task_vendor_and_list(call: Call, store: Store) -> None:
    store(make_record("a", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS, file_names=URLS))
    store(make_record("b", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS))
    token = json_body(call(list_page_event("a", "thumbnails", vendor="Tencent", limit="10")))["nextToken"]
    assert token
    foreign = [
        list_page_event("b", "thumbnails", vendor="Tencent", nextToken=token),
        list_page_event("a", "file-names", vendor="Tencent", nextToken=token),
        list_tasks_event(status="SUCCEEDED", nextToken=token),
    ]
    for event in foreign:
        response = call(event)
        assert response["statusCode"] == 400
        assert json_body(response)["error"]["code"] == "INVALID_NEXT_TOKEN"
    # and a listing's token does not continue a list either
    listing = json_body(call(list_tasks_event(status="SUCCEEDED", limit="1")))["nextToken"]
    assert listing
    response = call(list_page_event("a", "thumbnails", vendor="Tencent", nextToken=listing))
    assert response["statusCode"] == 400


@pytest.mark.parametrize(("first", "then"), [(URLS, URLS[::-1]), (URLS[:5], URLS[5:10])], ids=["cut", "whole"])
def test_a_token_of_a_list_the_record_no_longer_holds_is_400(
    call: Call, store: Store, first: tuple[str, ...], then: tuple[str, ...]
) -> None:
    # Given a walk begun on one answer's list, and a newer answer with another list in between
    store(make_record("moving", status=TaskStatus.PROCESSING, thumbnail_urls=first))
    token = json_body(call(list_page_event("moving", "thumbnails", vendor="Tencent", limit="2")))["nextToken"]
    store(make_record("moving", status=TaskStatus.PROCESSING, thumbnail_urls=then, generation=4), 3)
    # Then the old token is refused (start again) rather than mixing two lists
    response = call(list_page_event("moving", "thumbnails", vendor="Tencent", nextToken=token))
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "INVALID_NEXT_TOKEN"


def test_a_list_object_missing_from_the_bucket_is_503_not_a_short_list(
    call: Call, seed: Callable[..., TaskRecord]
) -> None:
    # A record naming an object that is not there (expired early, or deleted by hand)
    seed(
        make_record(
            "gone",
            status=TaskStatus.SUCCEEDED,
            thumbnail_urls=URLS[:2],
            thumbnail_count=len(URLS),
            thumbnails_truncated=True,
            thumbnails_object="lists/Tencent/gone/thumbnails-0.json",
        )
    )
    response = call(list_page_event("gone", "thumbnails", vendor="Tencent"))
    assert response["statusCode"] == 503
    assert json_body(response)["error"]["code"] == "SERVICE_UNAVAILABLE"
