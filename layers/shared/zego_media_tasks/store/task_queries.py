"""The read API's DynamoDB access: reads by key, listings through the status indexes, and the one write
registration needs. Never a Scan.

Every call uses the low-level client (thread-safe, unlike boto3 resources) with boto3's type
(de)serializer, so items have the same Python shapes :mod:`.items` expects. Failures other than a lost
registration race become :class:`TaskStoreError`, once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.store.items import (
    PARTITION_KEY,
    STATUS_ATTR,
    STATUS_INDEX,
    VENDOR_STATUS_INDEX,
    VENDOR_STATUS_KEY_ATTR,
    key_of,
    record_from_item,
    record_to_item,
    vendor_status_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


class TaskStoreError(RuntimeError):
    """A DynamoDB call failed (throttling, unavailability, permissions); ``reason`` is the error code."""

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"{operation} failed: {reason}")
        self.operation = operation
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RecordPage:
    """One page of a listing; ``last_key`` is DynamoDB's LastEvaluatedKey (None on the last page)."""

    records: tuple[TaskRecord, ...]
    last_key: dict[str, str] | None


def _to_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _SERIALIZER.serialize(value) for name, value in item.items()}


def _from_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if isinstance(code, str) and code:
            return code
    return type(error).__name__


class TaskQueries:
    """Reads and registration writes on the tasks table. Build once per Lambda instance."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        """The DynamoDB client (created at first use)."""
        if self._client is None:
            import boto3  # built lazily: nothing at import time, nothing for code that never calls

            self._client = boto3.client("dynamodb")
        return self._client

    def get(self, task_id: str, vendor: Vendor, *, consistent: bool = False) -> TaskRecord | None:
        """The record of ``task_id`` for ``vendor``, or None."""
        try:
            response = self.client.get_item(
                TableName=self.table_name, Key=_to_wire(key_of(task_id, vendor)), ConsistentRead=consistent
            )
        except Exception as error:
            raise TaskStoreError("GetItem", _error_code(error)) from error
        item = response.get("Item")
        return record_from_item(_from_wire(item)) if item else None

    def for_task(self, task_id: str) -> list[TaskRecord]:
        """Every record of ``task_id`` (one per vendor), ordered by vendor: one Query on the partition."""
        records: list[TaskRecord] = []
        start: dict[str, Any] | None = None
        while True:  # one page in practice (an item per vendor), but a Query result must be paged to be complete
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                "ExpressionAttributeValues": {":pk": {"S": task_id}},
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            try:
                response = self.client.query(**kwargs)
            except Exception as error:
                raise TaskStoreError("Query", _error_code(error)) from error
            records.extend(record_from_item(_from_wire(item)) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                return records

    def by_status(
        self,
        status: TaskStatus,
        vendor: Vendor | None,
        limit: int,
        start_key: Mapping[str, str] | None = None,
    ) -> RecordPage:
        """Up to ``limit`` records in ``status`` (for ``vendor`` if given), newest status change first.

        ``ByVendorStatus`` serves the vendor case and ``ByStatus`` the other, so neither needs a filter
        expression and every page but the last is full.
        """
        if vendor is None:
            index, key_attr, key_value = STATUS_INDEX, STATUS_ATTR, status.value
        else:
            index, key_attr, key_value = VENDOR_STATUS_INDEX, VENDOR_STATUS_KEY_ATTR, vendor_status_key(vendor, status)
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": key_attr},
            "ExpressionAttributeValues": {":pk": {"S": key_value}},
            "ScanIndexForward": False,  # statusChangedAt descending: newest change first
            "Limit": limit,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = {name: {"S": value} for name, value in start_key.items()}
        try:
            response = self.client.query(**kwargs)
        except Exception as error:
            raise TaskStoreError("Query", _error_code(error)) from error
        records = tuple(record_from_item(_from_wire(item)) for item in response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        last_key = {name: str(_DESERIALIZER.deserialize(value)) for name, value in last.items()} if last else None
        return RecordPage(records=records, last_key=last_key)

    def put_new(self, record: TaskRecord) -> bool:
        """Store ``record`` unless a record with its key exists; False when one does (a lost race)."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_to_wire(record_to_item(record)),
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
            )
        except Exception as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return False
            raise TaskStoreError("PutItem", _error_code(error)) from error
        return True
