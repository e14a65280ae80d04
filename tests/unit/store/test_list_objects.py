"""store/list_objects.py against moto in-process: a long list's object is stored before the fenced record
write that names it, a rewrite is the same object, and a bucket failure writes nothing."""

from __future__ import annotations

import boto3
import pytest

from devstack.resources import ProvisionedStack
from tests.support.api_events import make_record
from tests.support.snapshots import sample_snapshot_urls
from zego_media_tasks.domain.lists import THUMBNAILS
from zego_media_tasks.domain.ports import WriteResult
from zego_media_tasks.domain.status import TaskStatus
from zego_media_tasks.store.list_objects import ListObjects, ListStoreError, SpillingRecords
from zego_media_tasks.store.task_store import TaskStore

URLS = tuple(sample_snapshot_urls(3_000))


@pytest.fixture
def bucket(moto_stack: ProvisionedStack) -> str:
    return moto_stack.bucket_names["TaskListsBucket"]


def _keys(bucket: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_a_long_list_is_stored_before_the_record_that_names_it(task_store: TaskStore, bucket: str) -> None:
    records = SpillingRecords(task_store, ListObjects(bucket))
    assert records.put(make_record("t", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS), None) is WriteResult.WRITTEN
    stored = records.get("t", make_record("t").vendor)
    assert stored is not None
    assert (stored.thumbnail_count, stored.thumbnails_truncated) == (len(URLS), True)
    assert _keys(bucket) == [stored.thumbnails_object]
    assert ListObjects(bucket).get(THUMBNAILS, stored.thumbnails_object or "") == URLS


def test_writing_the_same_list_again_is_the_same_object(task_store: TaskStore, bucket: str) -> None:
    records = SpillingRecords(task_store, ListObjects(bucket))
    records.put(make_record("t", status=TaskStatus.PROCESSING, thumbnail_urls=URLS), None)
    # the next poll of the same answer, fenced at the generation read
    again = make_record("t", status=TaskStatus.PROCESSING, thumbnail_urls=URLS, generation=4, poll_count=2)
    assert records.put(again, 3) is WriteResult.WRITTEN
    assert len(_keys(bucket)) == 1


def test_a_write_that_loses_the_fence_leaves_only_an_unnamed_object(task_store: TaskStore, bucket: str) -> None:
    records = SpillingRecords(task_store, ListObjects(bucket))
    records.put(make_record("t", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS[:3]), None)
    late = make_record("t", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS, generation=4)
    assert records.put(late, 3) is WriteResult.SUPERSEDED  # the record is terminal already
    stored = records.get("t", late.vendor)
    assert stored is not None
    assert (stored.thumbnail_urls, stored.thumbnails_object) == (URLS[:3], None)
    assert len(_keys(bucket)) == 1  # expired by the bucket's lifecycle, named by no record


@pytest.mark.parametrize("bucket_name", [None, "no-such-bucket-for-lists"])
def test_without_a_usable_bucket_a_long_list_writes_nothing(task_store: TaskStore, bucket_name: str | None) -> None:
    records = SpillingRecords(task_store, ListObjects(bucket_name))
    with pytest.raises(ListStoreError):
        records.put(make_record("t", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS), None)
    assert task_store.get("t", make_record("t").vendor) is None
    # while a record whose lists fit never needs the bucket
    assert records.put(make_record("small", thumbnail_urls=URLS[:3]), None) is WriteResult.WRITTEN
