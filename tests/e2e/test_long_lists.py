"""Snapshots of 10,000 pictures through the whole local stack: the answer is read, the task ends, the
record stays a small item, and the read API gives every URL (and every Huawei file name) in order.

The simulator answers a 10,000-URL ``SampleSnapshot`` (about 1.3 MB of JSON, over the former 1 MiB cap of
the ZEGO client); the record keeps the first page, the lists bucket the rest. The same holds when such a
snapshot is ended by its completion callback: the test POSTs it as ZEGO documents it (signed, with
``snapshot_pic_list`` a string holding the JSON array), 1.7 MB as JSON and 2.0 MB as form fields, over
the receiver's former 64 KiB bound.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests

from devstack.stack import LOCAL_APP_ID, LocalStack
from devstack.zego_simulator import Scenario
from tests.support.local_pipeline import key_of, quick_run, register_all, wait_until_terminal
from tests.support.snapshots import sample_snapshot_urls
from tests.support.zego_callbacks import CALLBACK_SECRET, form_body, json_body, signed, tencent_snapshot

pytestmark = pytest.mark.e2e

COUNT = 10_000
DYNAMODB_ITEM_LIMIT = 400 * 1024
URLS = sample_snapshot_urls(COUNT)
FILE_NAMES = [f"record/pickrecord/command_record/long-video/{n}.jpg" for n in range(COUNT)]
SCENARIO = Scenario.from_dict(
    {
        "tasks": [
            {
                "task_id": "sample-snapshot-10000",
                "vendor": "Tencent",
                "event": "SampleSnapshot",
                "timeline": [{"status": "PROCESSING", "seconds": 2}],
                "final": {"status": "FINISH", "FileId": "5285890813290", "ThumbnailsUrl": URLS},
                "callback": "none",  # polling alone: the answer itself is what is under test
            },
            {
                "task_id": "huawei-snapshot-10000",
                "vendor": "Huawei",
                "event": "SnapshotByTimeOffset",
                "timeline": [{"status": "PROCESSING", "seconds": 2}],
                "final": {"status": "SUCCEEDED", "FileName": FILE_NAMES},
                "callback": "none",
            },
        ]
    }
)
TENCENT, HUAWEI = SCENARIO.tasks


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(replace(quick_run(SCENARIO), callback_secret=CALLBACK_SECRET)) as stack:
        register_all(stack, SCENARIO.tasks)
        wait_until_terminal(stack, SCENARIO.tasks, timeout=120)
        yield stack


def _walk(stack: LocalStack, task_id: str, vendor: str, route: str, member: str) -> list[list[str]]:
    """Every page of ``GET /tasks/{taskId}/<route>?vendor=``, following nextToken to the end."""
    pages: list[list[str]] = []
    params = {"vendor": vendor}
    while True:
        response = requests.get(f"{stack.api_url}/tasks/{task_id}/{route}", params=params, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body[member])
        if body["nextToken"] is None:
            return pages
        params = {"vendor": vendor, "nextToken": body["nextToken"]}


def _stored_item(stack: LocalStack, task_id: str, vendor: str) -> dict[str, Any]:
    table = stack.provisioned().table_names["TasksTable"]
    item: dict[str, Any] = boto3.client("dynamodb").get_item(
        TableName=table, Key={"taskId": {"S": task_id}, "vendor": {"S": vendor}}, ConsistentRead=True
    )["Item"]
    return item


def test_a_10000_thumbnail_snapshot_ends_succeeded_and_the_api_returns_all_10000_urls_in_order(
    stack: LocalStack,
) -> None:
    # Given a SampleSnapshot whose FINISH answer lists 10,000 URLs, polled until it ended
    state = stack.task(TENCENT.task_id, "Tencent")
    assert state is not None
    # Then it succeeded by that answer, and its record says how many URLs there are
    assert (state["status"], state["completedBy"]) == ("SUCCEEDED", "POLL")
    assert (state["thumbnailCount"], state["thumbnailsTruncated"]) == (COUNT, True)
    first_page = state["thumbnailUrls"]
    assert 0 < len(first_page) < COUNT
    assert first_page == URLS[: len(first_page)]
    # And the thumbnails route gives all 10,000, in order, over several pages
    pages = _walk(stack, TENCENT.task_id, "Tencent", "thumbnails", "thumbnailUrls")
    assert len(pages) >= COUNT // 1000
    assert [url for page in pages for url in page] == URLS


def test_a_10000_name_huawei_snapshot_gives_every_file_name_in_order(stack: LocalStack) -> None:
    state = stack.task(HUAWEI.task_id, "Huawei")
    assert state is not None
    assert state["status"] == "SUCCEEDED"
    assert (state["fileNameCount"], state["fileNamesTruncated"]) == (COUNT, True)
    pages = _walk(stack, HUAWEI.task_id, "Huawei", "file-names", "fileNames")
    assert [name for page in pages for name in page] == FILE_NAMES


def test_the_record_items_stay_far_under_dynamodbs_limit_and_the_lists_are_in_the_bucket(stack: LocalStack) -> None:
    bucket = stack.provisioned().bucket_names["TaskListsBucket"]
    s3 = boto3.client("s3")
    for spec in SCENARIO.tasks:
        task_id, vendor = key_of(spec)
        item = _stored_item(stack, task_id, vendor)
        size = len(json.dumps(item, ensure_ascii=False).encode("utf-8"))  # the item in DynamoDB's wire JSON
        assert size < DYNAMODB_ITEM_LIMIT // 2
        key = item["thumbnailsObject" if vendor == "Tencent" else "fileNamesObject"]["S"]
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert len(json.loads(body)["thumbnailUrls" if vendor == "Tencent" else "fileNames"]) == COUNT


def test_a_small_snapshot_record_is_unchanged_and_its_route_gives_the_same_list(stack: LocalStack) -> None:
    # A record's list route also serves a list the record holds whole: one page, no token.
    small = {
        "task_id": "small-snapshot",
        "vendor": "Tencent",
        "event": "SampleSnapshot",
        "final": {"status": "FINISH", "ThumbnailsUrl": URLS[:3]},
        "callback": "none",
    }
    assert stack.simulator is not None
    stack.simulator.add_task(small)
    [spec] = Scenario.from_dict({"tasks": [small]}).tasks
    register_all(stack, [spec])
    state = wait_until_terminal(stack, [spec], timeout=60)[key_of(spec)]
    assert (state["thumbnailUrls"], state["thumbnailCount"], state["thumbnailsTruncated"]) == (URLS[:3], 3, False)
    assert _walk(stack, spec.task_id, "Tencent", "thumbnails", "thumbnailUrls") == [URLS[:3]]


ZEGO_RETRIES = 5
"""ZEGO retries a callback answered with anything but a 2xx five times."""
BODY_SHAPES = {
    "json": (json_body, "application/json"),
    "form": (form_body, "application/x-www-form-urlencoded"),
}


def _deliver(stack: LocalStack, body: str, content_type: str) -> requests.Response:
    """POST the callback as ZEGO does: a 503 (the write met a concurrent poll) is retried after its
    Retry-After, at most :data:`ZEGO_RETRIES` times; any other answer is final."""
    for _ in range(ZEGO_RETRIES):
        response = requests.post(
            stack.callback_url, data=body.encode(), headers={"Content-Type": content_type}, timeout=30
        )
        if response.status_code != 503:
            return response
        time.sleep(float(response.headers.get("Retry-After", "2")))
    return requests.post(stack.callback_url, data=body.encode(), headers={"Content-Type": content_type}, timeout=30)


@pytest.mark.parametrize("shape", sorted(BODY_SHAPES))
def test_a_10000_picture_snapshot_callback_ends_the_task_and_the_api_returns_all_10000_urls_in_order(
    stack: LocalStack, shape: str
) -> None:
    # Given a registered SampleSnapshot that DescribeMediaTask keeps reporting as PROCESSING
    task_id = f"sample-snapshot-callback-{shape}-10000"
    urls = sample_snapshot_urls(COUNT, base=f"http://vod-tc-restorefile.zego.im/callback/{shape}")
    waiting = {
        "task_id": task_id,
        "vendor": "Tencent",
        "event": "SampleSnapshot",
        "timeline": [{"status": "PROCESSING", "seconds": 3600}],
        "final": {"status": "FINISH", "ThumbnailsUrl": urls[:1]},
        "callback": "none",  # the test sends the callback itself
    }
    assert stack.simulator is not None
    stack.simulator.add_task(waiting)
    register_all(stack, Scenario.from_dict({"tasks": [waiting]}).tasks)

    # When its completion callback arrives with 10,000 pictures, signed as ZEGO signs it
    pictures = [{"url": url, "offset": 10_000 * n} for n, url in enumerate(urls)]
    fields = signed(
        tencent_snapshot(task_id, snapshot_pic_list=json.dumps(pictures)), at=datetime.now(UTC), app_id=LOCAL_APP_ID
    )
    encode, content_type = BODY_SHAPES[shape]
    body = encode(fields)
    assert 64 * 1024 < len(body.encode()) < 2 * 1024 * 1024  # over the former bound, under the default
    response = _deliver(stack, body, content_type)

    # Then it is accepted and ends the task, SUCCEEDED by the callback, with the whole count
    assert (response.status_code, response.json()) == (200, {"outcome": "APPLIED"})
    state = stack.task(task_id, "Tencent")
    assert state is not None
    assert (state["status"], state["completedBy"]) == ("SUCCEEDED", "CALLBACK")
    assert (state["thumbnailCount"], state["thumbnailsTruncated"]) == (COUNT, True)
    # And the record stays far under DynamoDB's item limit, the whole list in the bucket
    item = _stored_item(stack, task_id, "Tencent")
    assert len(json.dumps(item, ensure_ascii=False).encode("utf-8")) < DYNAMODB_ITEM_LIMIT // 2
    bucket = stack.provisioned().bucket_names["TaskListsBucket"]
    stored = boto3.client("s3").get_object(Bucket=bucket, Key=item["thumbnailsObject"]["S"])["Body"].read()
    assert json.loads(stored)["thumbnailUrls"] == urls
    # And the thumbnails route gives all 10,000, in order
    pages = _walk(stack, task_id, "Tencent", "thumbnails", "thumbnailUrls")
    assert len(pages) > 1
    assert [url for page in pages for url in page] == urls
