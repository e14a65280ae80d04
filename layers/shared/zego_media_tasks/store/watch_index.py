"""DynamoDB adapter for the tasks table's ``ByWatchAt`` index: the records whose chain may be lost.

Reads the sparse, keys-only index one shard at a time (a Query per page, never a Scan) and moves a
revived record's ``watchAt`` on with a conditional UpdateItem of that one attribute, so the next runs
do not revive it again before the grace has passed once more. Failures become ``StoreError``, as in
:mod:`.task_store`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zego_media_tasks.aws import AwsAdapter, LazyClient, call_aws
from zego_media_tasks.domain.status import Vendor, parse_vendor
from zego_media_tasks.domain.watch import WatchEntry, WatchPage
from zego_media_tasks.store.items import (
    GENERATION_ATTR,
    PARTITION_KEY,
    SORT_KEY,
    WATCH_AT_ATTR,
    WATCH_INDEX,
    WATCH_SHARD_ATTR,
    key_of,
)
from zego_media_tasks.store.task_store import ConditionFailed, StoreError, conditional_write, from_wire, to_wire

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class WatchIndex(AwsAdapter["DynamoDBClient"]):
    """The ``ByWatchAt`` index of the TasksTable (implements the watchdog's ``OverdueIndex``)."""

    def __init__(self, table_name: str, client: DynamoDBClient | LazyClient[DynamoDBClient] | None = None) -> None:
        super().__init__("dynamodb", client)
        self.table_name = table_name

    def overdue(self, shard: str, cutoff: int, limit: int, start_key: Mapping[str, Any] | None) -> WatchPage:
        """Up to ``limit`` entries of ``shard`` with ``watchAt <= cutoff``, oldest first, from ``start_key``."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": WATCH_INDEX,
            "KeyConditionExpression": "#shard = :shard AND #watch <= :cutoff",
            "ExpressionAttributeNames": {"#shard": WATCH_SHARD_ATTR, "#watch": WATCH_AT_ATTR},
            "ExpressionAttributeValues": to_wire({":shard": shard, ":cutoff": cutoff}),
            "Limit": limit,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        response = call_aws("Query", lambda: self.client.query(**request), StoreError)
        entries = []
        for wire in response.get("Items", []):
            item = from_wire(wire)
            vendor = parse_vendor(item.get(SORT_KEY))
            if vendor is not None and isinstance(item.get(PARTITION_KEY), str):
                entries.append(WatchEntry(item[PARTITION_KEY], vendor, int(item.get(WATCH_AT_ATTR, 0))))
        capacity: Any = response.get("ConsumedCapacity") or {}
        return WatchPage(
            entries=tuple(entries),
            last_key=response.get("LastEvaluatedKey") or None,
            read_units=float(capacity.get("CapacityUnits", 0.0)),
        )

    def defer(self, task_id: str, vendor: Vendor, *, generation: int, seen_watch_at: int, watch_at: int) -> bool:
        """Set the record's ``watchAt`` to ``watch_at`` if it is still at ``generation`` with ``seen_watch_at``;
        False when it moved meanwhile (its chain is alive, or another run revived it)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": to_wire(key_of(task_id, vendor)),
            "UpdateExpression": "SET #watch = :watch",
            "ConditionExpression": "#gen = :gen AND #watch = :seen",
            "ExpressionAttributeNames": {"#watch": WATCH_AT_ATTR, "#gen": GENERATION_ATTR},
            "ExpressionAttributeValues": to_wire({":watch": watch_at, ":gen": generation, ":seen": seen_watch_at}),
        }
        written = conditional_write("UpdateItem", lambda: self.client.update_item(**request))
        return not isinstance(written, ConditionFailed)
