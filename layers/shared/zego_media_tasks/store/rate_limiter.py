"""The ZEGO call budget shared by every poller instance: one DynamoDB item per AppId, conditional writes.

The item (``bucket = "zego#<AppId>"``) holds the :class:`~zego_media_tasks.domain.call_budget.BudgetState`:
``tat`` (next free call slot), ``qtat`` (next free place in the postponement queue), ``rate`` and
``cutAt`` (the last cut of the adaptive pace), ``throttledAt`` (the last Code 6); times in epoch
microseconds. What to write is decided by :mod:`zego_media_tasks.domain.call_budget` from the state this
instance last saw; every write returns the whole item as it was (``ALL_OLD``, also when its condition
fails), which refreshes that view.

The slot and the queue place are taken as GCRA reservations, so that instances writing at once do not
invalidate each other (each write adds one interval to what is there):

1. free: ``SET tat = :lead + :I IF (attribute_not_exists(tat) OR tat <= :lead) AND <pace unchanged>``:
   the caller owns slot ``now + lead`` (``lead``: a little more than its write round trip);
2. queued: ``SET tat = tat + :I IF tat > :lead AND tat <= :now + :maxWait AND <pace unchanged>``: the
   caller owns slot ``old tat`` and sleeps until it;
3. a ``tat`` beyond the maximum wait: **saturated** (the poll is postponed, no ZEGO call).

"Pace unchanged" is ``cutAt`` as the instance saw it, so that ``I`` is the interval at the current pace;
a cut by another instance fails the write, and the next round uses the new pace. The queue (``qtat``)
is reserved the same way without an upper bound; a Code 6 report changes ``throttledAt`` (and on a cut
``rate`` and ``cutAt``) if they are still as seen. DynamoDB applies the writes to one item one at a time,
so every slot handed out is at least one interval after the previous one, whichever instance holds it.
An item of the earlier limiter (a lone ``tat`` in milliseconds) reads as long past: step 1 takes it over.

Cost: one conditional write per reservation, two when the view was stale (the first returns the item);
one per postponement; at most one or two per Code 6.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
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
"""Rounds before giving up as saturated: a round is lost when the item changed since this instance
last saw it (another instance took the slot, or cut the pace)."""
_FIELDS = {
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
    """The state an item holds (a missing item is the initial state)."""
    values: dict[str, Any] = {}
    for attribute, name in _FIELDS.items():
        number = item.get(attribute, {}).get("N")
        if number is not None:
            values[name] = float(number) if name == "cut_rate" else int(float(number))
    return BudgetState(**values)


@dataclass(frozen=True, slots=True)
class _Write:
    """One conditional ``UpdateItem`` of the bucket (``#name`` for each attribute of :data:`_FIELDS`)."""

    update: str
    condition: str
    values: Mapping[str, int | float]


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
            seen = self._view()
            queue_ahead = max(0, seen.queue_tat_us - now)
            slot = self._reserve(seen, now)
            if slot is None:
                continue
            if slot < 0:
                return Saturated(self.policy.max_wait_seconds, queue_ahead / MICROS)
            wait = max(0.0, (slot - self._now_us()) / MICROS)
            self.clock.sleep(wait)
            waited += wait
            if self._now_us() - slot <= self.policy.departure_tolerance_us:
                return Permit(slot // 1000, waited, max(0, self._view().queue_tat_us - now) / MICROS)
        return Saturated(self.policy.max_wait_seconds, queue_ahead / MICROS)

    def _reserve(self, seen: BudgetState, now: int) -> int | None:
        """One round: the slot (epoch us), -1 when saturated, None when the round was lost."""
        claim = call_budget.claim(self.policy, seen, now, self._lead_us)
        if claim.slot_us is None:
            return -1
        interval = claim.state.tat_us - claim.slot_us
        lead = now + self._lead_us
        if claim.slot_us == lead:
            free = _Write(
                "SET #tat = :next",
                "attribute_not_exists(#tat) OR #tat <= :lead",
                {":next": lead + interval, ":lead": lead},
            )
            return claim.slot_us if self._write(free, seen) is not None else None
        limit = now + max(self.policy.max_wait_us, self._lead_us)
        queued = _Write(
            "SET #tat = #tat + :i", "#tat > :lead AND #tat <= :limit", {":i": interval, ":lead": lead, ":limit": limit}
        )
        old = self._write(queued, seen)
        return old.tat_us if old is not None else None

    def postpone(self, earliest: datetime) -> datetime:
        """A place for a poll in the fleet's postponement queue, no earlier than ``earliest``."""
        earliest_us = math.floor(earliest.timestamp() * MICROS)
        for _ in range(MAX_ROUNDS):
            seen = self._view()
            place, after = call_budget.book(self.policy, seen, earliest_us, self._now_us())
            spacing = after.queue_tat_us - place
            if place == earliest_us:
                write = _Write(
                    "SET #qtat = :next",
                    "attribute_not_exists(#qtat) OR #qtat <= :e",
                    {":next": earliest_us + spacing, ":e": earliest_us},
                )
                if self._write(write, seen) is not None:
                    return from_epoch(place / MICROS)
                continue
            old = self._write(_Write("SET #qtat = #qtat + :i", "#qtat > :e", {":i": spacing, ":e": earliest_us}), seen)
            if old is not None:
                return from_epoch(old.queue_tat_us / MICROS)
        return from_epoch(max(earliest_us, self._view().queue_tat_us) / MICROS)

    def throttled(self) -> None:
        """Report a Code 6 from ZEGO (best effort: a lost race means another instance reported one)."""
        for _ in range(3):
            seen = self._view()
            after = call_budget.throttled(self.policy, seen, self._now_us())
            if after is None:
                return
            same = "#throttledAt = :seenThrottled" if seen.throttled_at_us else "attribute_not_exists(#throttledAt)"
            write = _Write(
                "SET #throttledAt = :t, #rate = :r, #cutAt = :c",
                same,
                {
                    ":t": after.throttled_at_us,
                    ":r": after.cut_rate,
                    ":c": after.cut_at_us,
                    ":seenThrottled": seen.throttled_at_us,
                },
            )
            if self._write(write, seen) is not None:
                return

    def current_rate(self) -> float:
        """The pace in force as this instance last saw the item, calls per second."""
        return call_budget.rate(self.policy, self._view(), self._now_us())

    def _view(self) -> BudgetState:
        with self._lock:
            return self._seen

    def _saw(self, item: Mapping[str, Any], round_trip_us: int) -> BudgetState:
        """Remember the item as a write returned it, and the write's round trip for the slot lead."""
        state = state_from_item(item)
        with self._lock:
            self._seen = state
            measured = round_trip_us * 3 // 2 + 5_000
            self._lead_us = min(
                max(self.policy.max_wait_us, SLOT_LEAD_US), max(5_000, (4 * self._lead_us + measured) // 5)
            )
        return state

    def _write(self, write: _Write, seen: BudgetState) -> BudgetState | None:
        """Apply ``write`` if the pace is still the one ``seen`` (``cutAt``); the item as it was before
        the write, or None (and the current item remembered) when the condition failed."""
        pace = "(attribute_not_exists(#cutAt) OR #cutAt = :seenCut)"
        values = {**write.values, ":seenCut": seen.cut_at_us}
        names = {
            f"#{attribute}": attribute
            for attribute in _FIELDS
            if f"#{attribute}" in write.update + write.condition + pace
        }
        started = self.clock.monotonic()
        result = conditional_write(
            _OPERATION,
            lambda: self.client.update_item(
                TableName=self.table_name,
                Key={BUCKET_ATTR: {"S": self.bucket}},
                UpdateExpression=write.update,
                ConditionExpression=f"({write.condition}) AND {pace}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    name: {"N": _number(value)}
                    for name, value in values.items()
                    if name in write.update + write.condition + pace
                },
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
        )
        round_trip = math.floor((self.clock.monotonic() - started) * MICROS)
        if isinstance(result, ConditionFailed):
            self._saw(result.item, round_trip)
            return None
        old = state_from_item(result.get("Attributes", {}))
        # What the item holds now, as far as this write knows: the old item with the write applied.
        self._saw_after(old, write, round_trip)
        return old

    def _saw_after(self, old: BudgetState, write: _Write, round_trip_us: int) -> None:
        values = write.values
        if write.update.startswith("SET #tat = #tat"):
            now = replace(old, tat_us=old.tat_us + int(values[":i"]))
        elif write.update.startswith("SET #tat"):
            now = replace(old, tat_us=int(values[":next"]))
        elif write.update.startswith("SET #qtat = #qtat"):
            now = replace(old, queue_tat_us=old.queue_tat_us + int(values[":i"]))
        elif write.update.startswith("SET #qtat"):
            now = replace(old, queue_tat_us=int(values[":next"]))
        else:
            now = replace(
                old, throttled_at_us=int(values[":t"]), cut_rate=float(values[":r"]), cut_at_us=int(values[":c"])
            )
        self._saw({attribute: {"N": _number(getattr(now, name))} for attribute, name in _FIELDS.items()}, round_trip_us)


def _number(value: float) -> str:
    return str(value) if isinstance(value, float) else str(int(value))
