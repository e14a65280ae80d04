"""DynamoDB adapter for the tasks table: the one place records are read, listed and written.

Reads by key (consistent when a writer needs it), every record of a TaskId in one Query, listings by
status through the two status indexes (never a Scan), and generation-fenced conditional writes.

The fence (docs/architecture.md, "One live poll chain per task"): a write applies only if the stored
record still has the generation the writer read and is not terminal; a new record is written only if
none exists. A failed condition is a normal outcome here (``WriteResult.SUPERSEDED``), not an error:
another copy of the message, the next message of the chain, or a concurrent registration got there
first. Every other failure becomes :class:`StoreError`, once, here.

Uses the low-level client (thread-safe, unlike boto3 resources), with boto3's type (de)serializer, so
items have the Python shapes :mod:`.items` expects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from zego_media_tasks.aws import AwsAdapter, LazyClient, call_aws, error_code
from zego_media_tasks.domain.ports import DependencyUnavailable, RecordPage, WriteResult
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TERMINAL_STATUSES, TaskStatus, Vendor
from zego_media_tasks.store.items import (
    GENERATION_ATTR,
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
    from mypy_boto3_dynamodb.type_defs import QueryOutputTypeDef

# RecordPage and WriteResult are the port's own types (domain.ports), named from here too.
__all__ = [
    "CONDITION_FAILED",
    "ConditionFailed",
    "Fence",
    "RecordPage",
    "StoreError",
    "TaskStore",
    "WriteResult",
    "conditional_write",
    "fence",
    "from_wire",
    "to_wire",
]

CONDITION_FAILED = "ConditionalCheckFailedException"
_TERMINAL_VALUES = sorted(status.value for status in TERMINAL_STATUSES)
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
T = TypeVar("T")


class StoreError(DependencyUnavailable):
    """DynamoDB failed for a reason other than a write condition (throttling, unavailability,
    permissions); the poller retries the message, the API answers 503."""

    dependency = "task table"


@dataclass(frozen=True, slots=True)
class ConditionFailed:
    """A conditional write refused by its condition: a normal outcome of a fenced write, not an error."""

    item: Mapping[str, Any]
    """The stored item in DynamoDB's wire shape, when the write asked for it
    (``ReturnValuesOnConditionCheckFailure="ALL_OLD"``); else empty."""


def conditional_write(operation: str, write: Callable[[], T]) -> T | ConditionFailed:
    """``write()``'s response, or :class:`ConditionFailed` when its condition did not hold; every other
    failure is raised as :class:`StoreError`."""
    try:
        return write()
    except ClientError as error:
        if error_code(error) == CONDITION_FAILED:
            item: Any = error.response.get("Item") or {}
            return ConditionFailed(item)
        raise StoreError(operation, error_code(error)) from error
    except BotoCoreError as error:
        raise StoreError(operation, error_code(error)) from error


@dataclass(frozen=True, slots=True)
class Fence:
    """A write condition as DynamoDB expression parts."""

    expression: str
    names: dict[str, str]
    values: dict[str, Any]
    """Resource-layer values (serialized by the store)."""


def fence(expected_generation: int | None) -> Fence:
    """The write condition for a record read at ``expected_generation`` (None: there was no record)."""
    if expected_generation is None:
        return Fence("attribute_not_exists(#pk)", {"#pk": PARTITION_KEY}, {})
    terminal = {f":t{index}": value for index, value in enumerate(_TERMINAL_VALUES)}
    return Fence(
        f"#gen = :gen AND NOT (#status IN ({', '.join(terminal)}))",
        {"#gen": GENERATION_ATTR, "#status": STATUS_ATTR},
        {":gen": expected_generation, **terminal},
    )


def to_wire(values: Mapping[str, Any]) -> dict[str, Any]:
    """Resource-layer values → DynamoDB's typed wire shape."""
    return {name: _SERIALIZER.serialize(value) for name, value in values.items()}


def from_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed wire shape → resource-layer values (numbers as Decimal)."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def _record(item: Mapping[str, Any]) -> TaskRecord:
    return record_from_item(from_wire(item))


class TaskStore(AwsAdapter["DynamoDBClient"]):
    """Task records in the TasksTable. Built once per Lambda instance; the client is created lazily."""

    def __init__(self, table_name: str, client: DynamoDBClient | LazyClient[DynamoDBClient] | None = None) -> None:
        super().__init__("dynamodb", client)
        self.table_name = table_name

    def get(self, task_id: str, vendor: Vendor, *, consistent: bool = True) -> TaskRecord | None:
        """The record for (task_id, vendor), or None; consistent unless asked otherwise (a reader that
        only shows the record may take the cheaper eventually consistent read)."""
        response = call_aws(
            "GetItem",
            lambda: self.client.get_item(
                TableName=self.table_name, Key=to_wire(key_of(task_id, vendor)), ConsistentRead=consistent
            ),
            StoreError,
        )
        item = response.get("Item")
        return _record(item) if item else None

    def for_task(self, task_id: str, *, consistent: bool = False) -> list[TaskRecord]:
        """Every record of ``task_id`` (one per vendor), ordered by vendor: one Query on the partition
        (consistent when a writer decides on it)."""
        records: list[TaskRecord] = []
        options: dict[str, Any] = {"ConsistentRead": consistent}
        while True:  # one page in practice (an item per vendor), but a Query result must be paged to be complete
            response = self._query(PARTITION_KEY, task_id, options)
            records.extend(_record(item) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                return records
            options["ExclusiveStartKey"] = start

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
        options: dict[str, Any] = {
            "IndexName": index,
            "ScanIndexForward": False,  # statusChangedAt descending: newest change first
            "Limit": limit,
        }
        if start_key:
            options["ExclusiveStartKey"] = to_wire(start_key)
        response = self._query(key_attr, key_value, options)
        records = tuple(_record(item) for item in response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        last_key = {name: str(value) for name, value in from_wire(last).items()} if last else None
        return RecordPage(records=records, last_key=last_key)

    def _query(self, key_attr: str, key_value: str, options: Mapping[str, Any]) -> QueryOutputTypeDef:
        """One Query page of the items whose partition key ``key_attr`` (the table's, or the index's named
        in ``options``) is ``key_value``; ``options`` holds the Query's other parameters."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": key_attr},
            "ExpressionAttributeValues": {":pk": {"S": key_value}},
            **options,
        }
        return call_aws("Query", lambda: self.client.query(**request), StoreError)

    def put(self, record: TaskRecord, expected_generation: int | None) -> WriteResult:
        """Write ``record`` if the stored one is still at ``expected_generation`` and not terminal.

        ``expected_generation=None`` creates the record only if none exists. Raises :class:`StoreError`
        for every failure other than the condition.
        """
        condition = fence(expected_generation)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": to_wire(record_to_item(record)),
            "ConditionExpression": condition.expression,
            "ExpressionAttributeNames": condition.names,
        }
        if condition.values:  # DynamoDB refuses an empty ExpressionAttributeValues
            request["ExpressionAttributeValues"] = to_wire(condition.values)
        written = conditional_write("PutItem", lambda: self.client.put_item(**request))
        return WriteResult.SUPERSEDED if isinstance(written, ConditionFailed) else WriteResult.WRITTEN

    def put_new(self, record: TaskRecord) -> bool:
        """Store ``record`` unless a record with its key exists; False when one does (a lost race)."""
        return self.put(record, None) is WriteResult.WRITTEN
