"""S3 adapter for a record's long lists, and the task-records port that stores them before the record.

:func:`~zego_media_tasks.domain.lists.split_lists` decides what stays in the item; :class:`ListObjects`
puts and gets the complete lists in the lists bucket (``LISTS_BUCKET_NAME``); :class:`SpillingRecords`
wraps the table's port so that every fenced write of the poller and the callback receiver stores a long
list's object first and then the record that names it. A crash between the two leaves an object no
record names (the bucket's lifecycle expires it), never a record naming a missing object.

Failures become :class:`ListStoreError` (a :class:`DependencyUnavailable`), once, here: the poller then
retries the message, the receiver answers 503 (ZEGO retries), the API answers 503. A function without a
bucket configured fails the same way, and only when a list is long enough to need one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zego_media_tasks.aws import AwsAdapter, LazyClient, call_aws
from zego_media_tasks.domain.lists import ListObject, RecordList, decode_list, split_lists
from zego_media_tasks.domain.ports import DependencyUnavailable, TaskRecords, WriteResult
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import Vendor

S3Client = Any
"""boto3's S3 client (no type stubs installed for S3)."""


class ListStoreError(DependencyUnavailable):
    """The lists bucket failed, holds no such object, or is not configured."""

    dependency = "lists bucket"


class ListObjects(AwsAdapter[S3Client]):
    """The complete lists in the lists bucket. Built once per Lambda instance; the client lazily."""

    def __init__(self, bucket: str | None, client: S3Client | LazyClient[S3Client] | None = None) -> None:
        super().__init__("s3", client)
        self.bucket = bucket

    def _bucket(self, operation: str) -> str:
        if self.bucket is None:
            raise ListStoreError(operation, "no lists bucket is configured (LISTS_BUCKET_NAME)")
        return self.bucket

    def put(self, item: ListObject) -> None:
        """Store one complete list (the same key always holds the same bytes: a rewrite is harmless)."""
        bucket = self._bucket("PutObject")
        call_aws(
            "PutObject",
            lambda: self.client.put_object(
                Bucket=bucket, Key=item.key, Body=item.body(), ContentType="application/json"
            ),
            ListStoreError,
        )

    def get(self, kind: RecordList, key: str) -> tuple[str, ...]:
        """The entries of the list stored under ``key``."""
        bucket = self._bucket("GetObject")

        def read() -> bytes:
            response = self.client.get_object(Bucket=bucket, Key=key)
            body: bytes = response["Body"].read()
            return body

        body = call_aws("GetObject", read, ListStoreError)
        try:
            return decode_list(kind, body)
        except ValueError:
            raise ListStoreError("GetObject", "the object is not a list object") from None


@dataclass(frozen=True, slots=True)
class SpillingRecords:
    """The task records with long lists kept in the lists bucket: a :class:`TaskRecords` around another."""

    records: TaskRecords
    objects: ListObjects

    def get(self, task_id: str, vendor: Vendor, *, consistent: bool = True) -> TaskRecord | None:
        """The stored record (its long lists as their first page)."""
        return self.records.get(task_id, vendor, consistent=consistent)

    def for_task(self, task_id: str, *, consistent: bool = False) -> list[TaskRecord]:
        """Every stored record of a TaskId."""
        return self.records.for_task(task_id, consistent=consistent)

    def put(self, record: TaskRecord, expected_generation: int | None) -> WriteResult:
        """Store each long list's object, then the fenced write of the record naming them."""
        split = split_lists(record)
        for item in split.objects:
            self.objects.put(item)
        return self.records.put(split.record, expected_generation)
