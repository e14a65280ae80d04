"""DynamoDB adapter for task records: consistent reads and generation-fenced conditional writes.

The fence (docs/architecture.md, "One live poll chain per task"): a write applies only if the stored
record still has the generation the writer read and is not terminal; a new record is written only if
none exists. A failed condition is a normal outcome here (``WriteResult.SUPERSEDED``), not an error:
another copy of the message, or the next message of the chain, got there first.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TERMINAL_STATUSES, Vendor
from zego_media_tasks.store.items import (
    GENERATION_ATTR,
    PARTITION_KEY,
    STATUS_ATTR,
    key_of,
    record_from_item,
    record_to_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONDITION_FAILED = "ConditionalCheckFailedException"
_TERMINAL_VALUES = sorted(status.value for status in TERMINAL_STATUSES)


class WriteResult(StrEnum):
    """How a fenced write ended."""

    WRITTEN = "WRITTEN"
    SUPERSEDED = "SUPERSEDED"
    """The condition failed: the record moved on (another generation, or terminal) or already exists."""


class StoreError(RuntimeError):
    """DynamoDB failed for a reason other than the write condition; the message must be retried."""


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


class TaskStore:
    """Task records in the TasksTable. Built once per Lambda instance; the client is created lazily.

    Uses the low-level client (thread-safe, unlike boto3 resources), with boto3's type (de)serializer.
    """

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = client
        self._client_lock = threading.Lock()
        self._serializer = TypeSerializer()
        self._deserializer = TypeDeserializer()

    @property
    def client(self) -> DynamoDBClient:
        """The DynamoDB client (created at first use, honouring ``AWS_ENDPOINT_URL``)."""
        # Locked: boto3's default session is not safe to build clients from on several threads at once
        # (the local event source runs invocations concurrently in one process).
        with self._client_lock:
            if self._client is None:
                import boto3

                self._client = boto3.client("dynamodb")
            return self._client

    def _wire(self, values: dict[str, Any]) -> dict[str, Any]:
        return {name: self._serializer.serialize(value) for name, value in values.items()}

    def get(self, task_id: str, vendor: Vendor) -> TaskRecord | None:
        """The record for (task_id, vendor), read consistently; None when there is none."""
        try:
            response = self.client.get_item(
                TableName=self.table_name, Key=self._wire(key_of(task_id, vendor)), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise StoreError(f"GetItem failed: {_describe(error)}") from error
        item = response.get("Item")
        if item is None:
            return None
        return record_from_item({name: self._deserializer.deserialize(value) for name, value in item.items()})

    def put(self, record: TaskRecord, expected_generation: int | None) -> WriteResult:
        """Write ``record`` if the stored one is still at ``expected_generation`` and not terminal.

        ``expected_generation=None`` creates the record only if none exists. Raises :class:`StoreError`
        for every failure other than the condition.
        """
        condition = fence(expected_generation)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": self._wire(record_to_item(record)),
            "ConditionExpression": condition.expression,
            "ExpressionAttributeNames": condition.names,
        }
        if condition.values:  # DynamoDB refuses an empty ExpressionAttributeValues
            request["ExpressionAttributeValues"] = self._wire(condition.values)
        try:
            self.client.put_item(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == CONDITION_FAILED:
                return WriteResult.SUPERSEDED
            raise StoreError(f"PutItem failed: {_describe(error)}") from error
        except BotoCoreError as error:
            raise StoreError(f"PutItem failed: {_describe(error)}") from error
        return WriteResult.WRITTEN


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", type(error).__name__))
    return type(error).__name__
