"""The ZEGO call rate limiter shared by every poller instance: GCRA reservations in DynamoDB.

One item per ZEGO AppId (``bucket = "zego#<AppId>"``) holds ``tat``, the next free slot in epoch
milliseconds. With the emission interval ``I = ceil(1000 / ceiling)`` ms:

1. ``SET tat = :now + :I  IF attribute_not_exists(tat) OR tat <= :now``: the caller owns slot ``now``.
2. Otherwise ``SET tat = tat + :I  IF tat > :now AND tat <= :now + :maxWait``, returning the old ``tat``:
   the caller owns slot ``old`` and sleeps until it.
3. If 2 fails because ``tat`` is beyond ``now + maxWait`` the reservation queue is longer than the
   caller may wait: **saturated** (the poller re-enqueues shortly without calling ZEGO). If it fails
   because ``tat <= now`` the queue drained between the two writes: start again at 1.

Each successful write moves ``tat`` forward by exactly ``I`` from the slot it hands out, and DynamoDB
applies conditional writes on one item one at a time, so the handed-out slots are pairwise at least
``I`` apart whichever instance holds them: any one-second window holds at most ``ceiling`` slots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zego_media_tasks.aws import AwsAdapter, LazyClient
from zego_media_tasks.domain.ports import Clock
from zego_media_tasks.store.task_store import ConditionFailed, conditional_write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import UpdateItemOutputTypeDef

BUCKET_ATTR = "bucket"
TAT_ATTR = "tat"
_OPERATION = "rate limiter UpdateItem"
MAX_ROUNDS = 5
"""Rounds of step 1-2 before giving up as saturated; more than one only when the queue keeps draining
exactly between our two writes, which real traffic does not sustain."""


def bucket_for_app(app_id: int | str) -> str:
    """The rate-limit bucket of a ZEGO AppId (the limit is per AppId, shared by all its callers)."""
    return f"zego#{app_id}"


@dataclass(frozen=True, slots=True)
class Permit:
    """A reserved call slot; the caller has already waited for it."""

    slot_epoch_ms: int
    waited_seconds: float


@dataclass(frozen=True, slots=True)
class Saturated:
    """No slot within the maximum wait: the caller must not call ZEGO now."""

    max_wait_seconds: float


class RateLimiter(AwsAdapter["DynamoDBClient"]):
    """Reserves ZEGO call slots so that all instances together stay under ``per_second`` calls."""

    def __init__(
        self,
        table_name: str,
        bucket: str,
        *,
        per_second: float,
        max_wait_seconds: float,
        clock: Clock,
        client: DynamoDBClient | LazyClient[DynamoDBClient] | None = None,
    ) -> None:
        if not math.isfinite(per_second) or not 0 < per_second <= 1000:
            raise ValueError("per_second must be in (0, 1000]")
        if not math.isfinite(max_wait_seconds) or max_wait_seconds < 0:
            raise ValueError("max_wait_seconds must not be negative")
        super().__init__("dynamodb", client)
        self.table_name = table_name
        self.bucket = bucket
        self.per_second = per_second
        # Rounded up, so that rounding can only make us slower than the ceiling, never faster.
        self.interval_ms = math.ceil(1000 / per_second)
        self.max_wait_ms = math.floor(max_wait_seconds * 1000)
        self.max_wait_seconds = max_wait_seconds
        self.clock = clock

    def _now_ms(self) -> int:
        return math.floor(self.clock.now().timestamp() * 1000)

    def acquire(self) -> Permit | Saturated:
        """Reserve the next slot and wait for it; :class:`Saturated` when it is too far away.

        Raises :class:`~zego_media_tasks.store.task_store.StoreError` when DynamoDB itself fails.
        """
        for _ in range(MAX_ROUNDS):
            now = self._now_ms()
            if self._claim_now(now):
                return Permit(slot_epoch_ms=now, waited_seconds=0.0)
            slot, tat = self._claim_next(now)
            if slot is not None:
                wait = max(0.0, (slot - now) / 1000)
                self.clock.sleep(wait)
                return Permit(slot_epoch_ms=slot, waited_seconds=wait)
            if tat is not None and tat > now + self.max_wait_ms:
                return Saturated(self.max_wait_seconds)
        return Saturated(self.max_wait_seconds)

    def _claim_now(self, now: int) -> bool:
        """Step 1: the bucket is idle (or new), take slot ``now``."""
        claimed = self._update_tat(
            "SET #tat = :next",
            "attribute_not_exists(#tat) OR #tat <= :now",
            {":next": now + self.interval_ms, ":now": now},
        )
        return not isinstance(claimed, ConditionFailed)

    def _claim_next(self, now: int) -> tuple[int | None, int | None]:
        """Step 2: queue behind the reservations already made; (slot, None) or (None, current tat)."""
        claimed = self._update_tat(
            "SET #tat = #tat + :interval",
            "#tat > :now AND #tat <= :limit",
            {":interval": self.interval_ms, ":now": now, ":limit": now + self.max_wait_ms},
            old_tat=True,
        )
        if isinstance(claimed, ConditionFailed):
            value = claimed.item.get(TAT_ATTR, {}).get("N")
            return None, int(value) if value is not None else None
        return int(claimed["Attributes"][TAT_ATTR]["N"]), None

    def _update_tat(
        self, update: str, condition: str, numbers: Mapping[str, int], *, old_tat: bool = False
    ) -> UpdateItemOutputTypeDef | ConditionFailed:
        """One conditional UpdateItem of the bucket's ``tat`` (``#tat``, with ``numbers`` as its values);
        with ``old_tat`` the ``tat`` it replaced, or found when the condition failed, comes back too."""
        returns: dict[str, Any] = (
            {"ReturnValues": "UPDATED_OLD", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"} if old_tat else {}
        )
        return conditional_write(
            _OPERATION,
            lambda: self.client.update_item(
                TableName=self.table_name,
                Key={BUCKET_ATTR: {"S": self.bucket}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#tat": TAT_ATTR},
                ExpressionAttributeValues={name: {"N": str(number)} for name, number in numbers.items()},
                **returns,
            ),
        )
