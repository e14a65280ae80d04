"""The ZEGO call budget shared by every poller instance: one DynamoDB item per AppId, changed by
compare-and-set.

The item (``bucket = "zego#<AppId>"``) holds the :class:`~zego_media_tasks.domain.call_budget.BudgetState`:
``ver`` (the version), ``tat`` (next free call slot), ``qtat`` (next free place in the postponement
queue), ``rate`` and ``cutAt`` (the last cut of the adaptive rate), ``throttledAt`` (the last Code 6), all
numbers, times in epoch microseconds. Every change is computed by the pure functions of
:mod:`zego_media_tasks.domain.call_budget` from the state this instance last saw, and written with
``UpdateItem ... IF ver = :seen`` (``attribute_not_exists(ver)`` for a new item, or one written by the
earlier GCRA limiter, whose lone ``tat`` in milliseconds is simply replaced). When another instance wrote
first, the condition fails, DynamoDB returns the current item (``ReturnValuesOnConditionCheckFailure``)
and the change is computed again from it. DynamoDB applies the writes to one item one at a time, so the
slots handed out are exactly the ones the pure functions allow, whichever instance holds them.

Cost: one conditional write per reservation when this instance's view is current, two when another
instance wrote since (the usual case with several instances); one more for a postponement, and one or two
per Code 6 reported.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zego_media_tasks.aws import AwsAdapter, LazyClient
from zego_media_tasks.domain import call_budget
from zego_media_tasks.domain.call_budget import MICROS, SLOT_LEAD_US, BudgetPolicy, BudgetState
from zego_media_tasks.domain.ports import Clock
from zego_media_tasks.domain.timestamps import from_epoch
from zego_media_tasks.store.task_store import ConditionFailed, conditional_write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BUCKET_ATTR = "bucket"
_OPERATION = "rate limiter UpdateItem"
MAX_ROUNDS = 6
"""Compare-and-set rounds before giving up as saturated: each lost round means another instance changed
the item in the few milliseconds between our read of it and our write."""
_FIELDS = {
    "ver": "version",
    "tat": "tat_us",
    "qtat": "queue_tat_us",
    "rate": "cut_rate",
    "cutAt": "cut_at_us",
    "throttledAt": "throttled_at_us",
}
"""Item attribute -> :class:`BudgetState` field."""


def bucket_for_app(app_id: int | str) -> str:
    """The rate-limit bucket of a ZEGO AppId (the limit is per AppId, shared by all its callers)."""
    return f"zego#{app_id}"


@dataclass(frozen=True, slots=True)
class Permit:
    """A reserved call slot; the caller has already waited for it."""

    slot_epoch_ms: int
    waited_seconds: float
    queue_ahead_seconds: float = 0.0
    """How far the fleet's postponement queue reached beyond now (0: nothing postponed)."""


@dataclass(frozen=True, slots=True)
class Saturated:
    """No slot within the maximum wait: the caller must not call ZEGO now."""

    max_wait_seconds: float
    queue_ahead_seconds: float = 0.0


def state_from_item(item: Mapping[str, Any]) -> BudgetState:
    """The state an item holds (a missing or earlier-format item is the initial state)."""
    if "ver" not in item:
        return BudgetState()
    values: dict[str, Any] = {}
    for attribute, name in _FIELDS.items():
        number = item.get(attribute, {}).get("N")
        if number is not None:
            values[name] = float(number) if name == "cut_rate" else int(number)
    return BudgetState(**values)


class RateLimiter(AwsAdapter["DynamoDBClient"]):
    """Reserves ZEGO call slots, postpones polls and adapts the pace, for all instances together."""

    def __init__(
        self,
        table_name: str,
        bucket: str,
        *,
        policy: BudgetPolicy,
        clock: Clock,
        client: DynamoDBClient | LazyClient[DynamoDBClient] | None = None,
    ) -> None:
        super().__init__("dynamodb", client)
        self.table_name = table_name
        self.bucket = bucket
        self.policy = policy
        self.clock = clock
        self._seen = BudgetState()
        self._lead_us = SLOT_LEAD_US
        """How far ahead a free slot is claimed: a little more than this instance's write round trip."""
        # The local event source runs several invocations of one instance in threads.
        self._lock = threading.Lock()

    def _now_us(self) -> int:
        return math.floor(self.clock.now().timestamp() * MICROS)

    @property
    def max_wait_seconds(self) -> float:
        return self.policy.max_wait_seconds

    def acquire(self) -> Permit | Saturated:
        """Reserve the next slot and wait for it; :class:`Saturated` when it is too far away.

        A slot the caller could only leave for later than the policy's departure tolerance (the process
        was descheduled) is given up and another one reserved: the call would arrive at ZEGO too close
        to the next one. Raises :class:`~zego_media_tasks.store.task_store.StoreError` when DynamoDB fails.
        """
        waited = 0.0
        queue_ahead = 0
        for _ in range(MAX_ROUNDS):
            now = self._now_us()
            claim = call_budget.claim(self.policy, self._view(), now, self._lead_us)
            queue_ahead = claim.queue_ahead_us
            if claim.slot_us is None:
                return Saturated(self.policy.max_wait_seconds, queue_ahead / MICROS)
            if not self._write(claim.state):
                continue
            wait = max(0.0, (claim.slot_us - self._now_us()) / MICROS)
            self.clock.sleep(wait)
            waited += wait
            if self._now_us() - claim.slot_us <= self.policy.departure_tolerance_us:
                return Permit(claim.slot_us // 1000, waited, queue_ahead / MICROS)
        return Saturated(self.policy.max_wait_seconds, queue_ahead / MICROS)

    def postpone(self, earliest: datetime) -> datetime:
        """A place for a poll in the fleet's postponement queue, no earlier than ``earliest``."""
        earliest_us = math.floor(earliest.timestamp() * MICROS)
        place = self._change(lambda state, now: call_budget.book(self.policy, state, earliest_us, now))
        return from_epoch((place if place is not None else earliest_us) / MICROS)

    def throttled(self) -> None:
        """Report a Code 6 from ZEGO (best effort: a lost race means another instance reported one)."""

        def change(state: BudgetState, now: int) -> tuple[int, BudgetState] | None:
            after = call_budget.throttled(self.policy, state, now)
            return None if after is None else (0, after)

        self._change(change)

    def current_rate(self) -> float:
        """The pace in force as this instance last saw the item, calls per second."""
        return call_budget.rate(self.policy, self._view(), self._now_us())

    def _change(self, compute: Callable[[BudgetState, int], tuple[int, BudgetState] | None]) -> int | None:
        for _ in range(MAX_ROUNDS):
            proposal = compute(self._view(), self._now_us())
            if proposal is None:
                return None
            if self._write(proposal[1]):
                return proposal[0]
        return None

    def _view(self) -> BudgetState:
        with self._lock:
            return self._seen

    def _saw(self, state: BudgetState, round_trip_us: int | None = None) -> None:
        """Remember the newest state seen (threads may answer out of order) and the write's round trip."""
        with self._lock:
            if state.version >= self._seen.version:
                self._seen = state
            if round_trip_us is not None:
                measured = round_trip_us * 3 // 2 + 5_000
                self._lead_us = min(self.policy.max_wait_us, max(5_000, (4 * self._lead_us + measured) // 5))

    def _write(self, state: BudgetState) -> bool:
        """Compare-and-set: write ``state`` if the item is still at the version this instance saw; else
        remember the item as it is and return False."""
        seen = state.version - 1
        condition = "attribute_not_exists(#ver)" if seen == 0 else "#ver = :seen"
        values = {f":{attribute}": {"N": _number(getattr(state, name))} for attribute, name in _FIELDS.items()}
        if seen:
            values[":seen"] = {"N": str(seen)}
        started = self.clock.monotonic()
        result = conditional_write(
            _OPERATION,
            lambda: self.client.update_item(
                TableName=self.table_name,
                Key={BUCKET_ATTR: {"S": self.bucket}},
                UpdateExpression="SET " + ", ".join(f"#{attribute} = :{attribute}" for attribute in _FIELDS),
                ConditionExpression=condition,
                ExpressionAttributeNames={f"#{attribute}": attribute for attribute in _FIELDS},
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
        )
        round_trip = math.floor((self.clock.monotonic() - started) * MICROS)
        if isinstance(result, ConditionFailed):
            self._saw(state_from_item(result.item), round_trip)
            return False
        self._saw(state, round_trip)
        return True


def _number(value: float) -> str:
    return str(value) if isinstance(value, float) else str(int(value))
