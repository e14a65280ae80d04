"""DynamoDB adapter for the tasks table: the one place records are read, listed and written.

Reads by key (consistent when a writer needs it), every record of a TaskId in one Query, listings by
status through the status index (never a Scan), and generation-fenced conditional writes.

Cheap writes (docs/benchmarks.md, section 2): the status index projects only its keys,
so a write that leaves the status alone writes no index entry, and a listing page reads its keys from
the index and the records from the table (one ``BatchGetItem``). A write of a record this store read
consistently at the fenced generation is an ``UpdateItem`` of only the attributes that changed (the
difference of the two encoded items, :func:`~zego_media_tasks.store.items.item_changes`), under the
same fence; any other write is a whole ``PutItem``.

The fence (docs/architecture.md, "One live poll chain per task"): a write applies only if the stored
record still has the generation the writer read and is not terminal; a new record is written only if
none exists. A failed condition is a normal outcome here (``WriteResult.SUPERSEDED``), not an error:
another copy of the message, the next message of the chain, or a concurrent registration got there
first. Every other failure becomes :class:`StoreError`, once, here.

Uses the low-level client (thread-safe, unlike boto3 resources), with boto3's type (de)serializer, so
items have the Python shapes :mod:`.items` expects.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
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
    SORT_KEY,
    STATUS_ATTR,
    STATUS_INDEX,
    item_changes,
    key_of,
    record_from_item,
    record_to_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeysAndAttributesTypeDef, QueryOutputTypeDef

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
READ_MEMO_SIZE = 64
"""Items a store remembers per thread from its consistent reads (a poller batch is at most 10)."""
BATCH_GET_ROUNDS = 5
"""``BatchGetItem`` calls per listing page before keys DynamoDB keeps leaving unprocessed fail it."""
LISTING_QUERY_ROUNDS = 8
"""Index Queries per listing page with a vendor filter before the page is returned short (with a
``nextToken``): bounds what one request reads when the other vendor's records fill the index."""


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


def _generation(item: Mapping[str, Any]) -> int | None:
    value = item.get(GENERATION_ATTR, {}).get("N")
    return int(value) if value is not None else None


def _update_expression(
    old: Mapping[str, Any], new: Mapping[str, Any], names: dict[str, str], values: dict[str, Any]
) -> str:
    """The ``UpdateExpression`` that turns ``old`` into ``new`` (both resource-layer items), adding its
    placeholders to ``names`` and ``values``; the generation is always set."""
    changes = item_changes(old, new)
    changed = {GENERATION_ATTR: new[GENERATION_ATTR], **changes.changed}
    assignments = []
    for index, (name, value) in enumerate(changed.items()):
        names[f"#s{index}"] = name
        values[f":s{index}"] = value
        assignments.append(f"#s{index} = :s{index}")
    expression = "SET " + ", ".join(assignments)
    if changes.removed:
        for index, name in enumerate(changes.removed):
            names[f"#r{index}"] = name
        expression += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(changes.removed)))
    return expression


class TaskStore(AwsAdapter["DynamoDBClient"]):
    """Task records in the TasksTable. Built once per Lambda instance; the client is created lazily."""

    def __init__(self, table_name: str, client: DynamoDBClient | LazyClient[DynamoDBClient] | None = None) -> None:
        super().__init__("dynamodb", client)
        self.table_name = table_name
        self._reads = threading.local()  # the local event source runs invocations on several threads

    def _memo(self) -> OrderedDict[tuple[str, str], Mapping[str, Any]]:
        """This thread's consistently read items by key (wire shape), newest last."""
        memo: OrderedDict[tuple[str, str], Mapping[str, Any]] | None = getattr(self._reads, "items", None)
        if memo is None:
            memo = self._reads.items = OrderedDict()
        return memo

    def _remember(self, item: Mapping[str, Any]) -> None:
        memo = self._memo()
        key = (item[PARTITION_KEY]["S"], item[SORT_KEY]["S"])
        memo.pop(key, None)
        memo[key] = item
        while len(memo) > READ_MEMO_SIZE:
            memo.popitem(last=False)

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
        if item and consistent:
            self._remember(item)
        return _record(item) if item else None

    def for_task(self, task_id: str, *, consistent: bool = False) -> list[TaskRecord]:
        """Every record of ``task_id`` (one per vendor), ordered by vendor: one Query on the partition
        (consistent when a writer decides on it)."""
        records: list[TaskRecord] = []
        options: dict[str, Any] = {"ConsistentRead": consistent}
        while True:  # one page in practice (an item per vendor), but a Query result must be paged to be complete
            response = self._query(PARTITION_KEY, task_id, options)
            for item in response.get("Items", []):
                if consistent:
                    self._remember(item)
                records.append(_record(item))
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

        One index serves both, ``ByStatus``: a vendor is a filter on the index's entries (the table's sort
        key, so every keys-only entry holds it), which saves every record a second index entry to write on
        each status change (docs/benchmarks.md, section 2). DynamoDB applies ``Limit`` before the filter,
        so a vendor's page is filled by up to :data:`LISTING_QUERY_ROUNDS` Queries, each asking for no more
        entries than the page still lacks (a page never holds more than ``limit``, and its ``nextToken``
        continues right after its last entry); past that bound the page is returned short, with a token.
        The index holds keys only: the page's records are then read from the table in one ``BatchGetItem``
        and kept in the index's order. A record that left ``status`` (or the table) in the moment between
        the two reads is left out of the page, which is then shorter than ``limit``; the next page still
        continues after it.
        """
        options: dict[str, Any] = {
            "IndexName": STATUS_INDEX,
            "ScanIndexForward": False,  # statusChangedAt descending: newest change first
        }
        if vendor is not None:
            options["FilterExpression"] = "#vendor = :vendor"
            options["ExpressionAttributeNames"] = {"#vendor": SORT_KEY}
            options["ExpressionAttributeValues"] = {":vendor": {"S": vendor.value}}
        last: Any = to_wire(start_key) if start_key else None
        keys: list[dict[str, Any]] = []
        for _ in range(LISTING_QUERY_ROUNDS if vendor is not None else 1):
            page_options = {**options, "Limit": limit - len(keys)}
            if last:
                page_options["ExclusiveStartKey"] = last
            response = self._query(STATUS_ATTR, status.value, page_options)
            keys += [{name: item[name] for name in (PARTITION_KEY, SORT_KEY)} for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last or len(keys) >= limit:
                break
        records = tuple(
            record
            for record in self._batch_get(keys)
            if record.status is status and (vendor is None or record.vendor is vendor)
        )
        last_key = {name: str(value) for name, value in from_wire(last).items()} if last else None
        return RecordPage(records=records, last_key=last_key)

    def _batch_get(self, keys: Sequence[Mapping[str, Any]]) -> list[TaskRecord]:
        """The records of ``keys`` (wire shape, at most 100: a listing page), in the order of ``keys``;
        a key with no item is left out. Eventually consistent, as the index the keys came from."""
        found: dict[tuple[str, str], TaskRecord] = {}
        pending: list[Any] = list(keys)
        for _ in range(BATCH_GET_ROUNDS):
            if not pending:
                break
            items, pending = self._batch_get_round(pending)
            for item in items:
                found[(item[PARTITION_KEY]["S"], item[SORT_KEY]["S"])] = _record(item)
        if pending:
            raise StoreError("BatchGetItem", f"{len(pending)} keys left unprocessed")
        ordered = ((key[PARTITION_KEY]["S"], key[SORT_KEY]["S"]) for key in keys)
        return [found[key] for key in ordered if key in found]

    def _batch_get_round(self, keys: list[Any]) -> tuple[list[Any], list[Any]]:
        """One ``BatchGetItem``: the items it returned and the keys it left unprocessed."""
        request: dict[str, KeysAndAttributesTypeDef] = {self.table_name: {"Keys": keys}}
        response = call_aws("BatchGetItem", lambda: self.client.batch_get_item(RequestItems=request), StoreError)
        items: list[Any] = list(response.get("Responses", {}).get(self.table_name, []))
        unprocessed = response.get("UnprocessedKeys", {}).get(self.table_name)
        return items, list(unprocessed["Keys"]) if unprocessed else []

    def _query(self, key_attr: str, key_value: str, options: Mapping[str, Any]) -> QueryOutputTypeDef:
        """One Query page of the items whose partition key ``key_attr`` (the table's, or the index's named
        in ``options``) is ``key_value``; ``options`` holds the Query's other parameters."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk",
            **options,
            "ExpressionAttributeNames": {"#pk": key_attr, **options.get("ExpressionAttributeNames", {})},
            "ExpressionAttributeValues": {":pk": {"S": key_value}, **options.get("ExpressionAttributeValues", {})},
        }
        return call_aws("Query", lambda: self.client.query(**request), StoreError)

    def put(self, record: TaskRecord, expected_generation: int | None) -> WriteResult:
        """Write ``record`` if the stored one is still at ``expected_generation`` and not terminal.

        ``expected_generation=None`` creates the record only if none exists. When this store (on this
        thread) last read the record consistently at ``expected_generation``, only the attributes that
        differ from that read are sent (an ``UpdateItem``; the generation always, so a poll that changed
        nothing else still moves the fence); otherwise the whole item (a ``PutItem``). Under the fence both
        leave the item equal to ``record``, with one exception that the fence allows either way: a write
        that keeps the generation (a configuration failure's, ``Step.HOLD``) landing between the read and
        this write, whose other attributes this write then keeps unless it changes them itself. Raises
        :class:`StoreError` for every failure other than the condition.
        """
        condition = fence(expected_generation)
        item = record_to_item(record)
        read = self._memo().pop((record.task_id, record.vendor.value), None)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "ConditionExpression": condition.expression,
            "ExpressionAttributeNames": dict(condition.names),
        }
        values = dict(condition.values)
        if read is not None and expected_generation is not None and _generation(read) == expected_generation:
            operation = "UpdateItem"
            request["Key"] = to_wire(key_of(record.task_id, record.vendor))
            request["UpdateExpression"] = _update_expression(
                from_wire(read), item, request["ExpressionAttributeNames"], values
            )
        else:
            operation = "PutItem"
            request["Item"] = to_wire(item)
        if values:  # DynamoDB refuses an empty ExpressionAttributeValues
            request["ExpressionAttributeValues"] = to_wire(values)
        send = self.client.update_item if operation == "UpdateItem" else self.client.put_item
        written = conditional_write(operation, lambda: send(**request))
        return WriteResult.SUPERSEDED if isinstance(written, ConditionFailed) else WriteResult.WRITTEN

    def put_new(self, record: TaskRecord) -> bool:
        """Store ``record`` unless a record with its key exists; False when one does (a lost race)."""
        return self.put(record, None) is WriteResult.WRITTEN
