"""Benchmark 7, overload: 20,000 never-ending tasks in flight against the 20/s ceiling, on a virtual clock.

The REAL poller service (``poller.service.PollerService``: admission, the deadline and postponement
checks, the budgeted call, the decision and send-before-write) and the REAL limiter adapter
(``store.rate_limiter.RateLimiter``, whose compare-and-set changes are computed by
``domain.call_budget``) run unchanged. Around them, time is virtual and the neighbours are models:

- DynamoDB: the limiter's item, whose conditional ``UpdateItem`` expressions are parsed and applied as
  DynamoDB applies them (``ALL_OLD`` returned, also on a failed condition); records kept as objects with
  the generation fence.
  Each request takes 6 ms.
- SQS: delayed messages become visible at send time + ``DelaySeconds``; ``PollMaxConcurrency``
  instances each receive a batch of up to ``PollBatchSize`` visible messages (waiting up to the
  batching window for a full one), process it record by record and delete it with one request.
  A send takes 12 ms, a receive and a delete count one request each.
- ZEGO: each call's round trip is 130-170 ms (uniform; the 150 ms the template's ``PollMaxConcurrency``
  is sized for); it arrives after half of it and is counted by ZEGO's strict sliding one-second window
  there (admitted: PROCESSING, else Code 6).
- The handler's own CPU: what the rate-limit benchmark measured per record on one full core (boto3,
  requests, Powertools and our code), stretched to ``PollerMemorySize`` (Lambda gives 1,769 MB one
  vCPU), before each record. The fleet is the one the template deploys (:class:`Sizing`), so the
  benchmark measures the defaults, not a fleet of its own.

One instance's batch is processed in one go at its virtual start (instances interleave batch by batch),
so a record may see limiter writes of an overlapping batch a few milliseconds early; slots still come
out of the same sequence of compare-and-set changes.

Reported (``overload`` in results.json): ``tasks_in_flight``, ``ceiling_utilisation`` (Code-0 calls per
second / the configured ceiling), ``deferrals_per_call`` (polls the limiter turned away / ZEGO calls),
``limiter_wait_share`` (time spent waiting for a slot / invocation time), ``sqs_requests_per_call``, and
the spread of each task's actual poll interval against its scheduled one.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import operator
import random
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from bench.common import template_defaults
from bench.costs import LAMBDA_FULL_VCPU_MB, ZEGO_ROUND_TRIP_SECONDS
from bench.stats import summary
from zego_media_tasks.domain.backoff import BackoffPolicy
from zego_media_tasks.domain.call_budget import BudgetPolicy
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.polling import POSTPONED, RATE_LIMITED, PollingPolicy
from zego_media_tasks.domain.ports import WriteResult
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.snapshot import TaskSnapshot
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import from_iso
from zego_media_tasks.poller.service import Action, PollerService, PollResult, QueueMessage
from zego_media_tasks.store.rate_limiter import RateLimiter, bucket_for_app

START = datetime(2026, 11, 24, tzinfo=UTC)
SEED = 20261201
CEILING = 20
DYNAMODB_SECONDS = 0.006
SQS_SEND_SECONDS = 0.012
ZEGO_LATENCY_SECONDS = (ZEGO_ROUND_TRIP_SECONDS - 0.02, ZEGO_ROUND_TRIP_SECONDS + 0.02)
"""The round trip to ZEGO: the cost model's 150 ms (the template's sizing assumption), spread ±20 ms."""
HANDLER_CPU_SECONDS_PER_RECORD = 0.0243
"""The handler's CPU per record on one full core when the rate-limit benchmark has not measured it
(its handler-level figure of 2026-12, real adapters on loopback)."""
REGISTRATION_SECONDS = 60.0
"""The overload scenario registers its whole backlog within its first minute."""


class VirtualClock:
    """The clock of one record's processing: starts at the record's virtual start, moves only when the
    record's adapters take time or it sleeps."""

    def __init__(self, seconds: float) -> None:
        self.t = seconds
        self.slept = 0.0

    def now(self) -> datetime:
        return START + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.t += seconds
            self.slept += seconds

    def take(self, seconds: float) -> None:
        self.t += seconds


class Clocked:
    """Gives the current record's clock to the models (one record is processed at a time)."""

    clock: VirtualClock = VirtualClock(0.0)

    def now(self) -> datetime:
        return self.clock.now()

    def monotonic(self) -> float:
        return self.clock.monotonic()

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)


class BudgetTable:
    """The limiter's DynamoDB item: its conditional ``UpdateItem`` evaluated as DynamoDB evaluates it.

    The limiter's writes use a small part of DynamoDB's expression language (comparisons of numbers,
    ``attribute_not_exists``, ``AND``/``OR``/parentheses in conditions; ``SET a = :v`` and ``SET a = a +
    :v`` in updates), and that part is parsed here (:func:`_condition_holds`, :func:`_apply_update`), so
    that any expression the adapter writes is applied exactly, or fails the benchmark loudly. Returns
    ``ALL_OLD`` as ``Attributes``, and the old item with a failed condition.
    """

    def __init__(self, clocked: Clocked) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.clocked = clocked
        self.requests = 0

    def update_item(self, **request: Any) -> dict[str, Any]:
        self.requests += 1
        self.clocked.clock.take(DYNAMODB_SECONDS)
        key = request["Key"]["bucket"]["S"]
        old = self.items.get(key, {})
        names = request.get("ExpressionAttributeNames", {})
        values = request.get("ExpressionAttributeValues", {})
        condition = request.get("ConditionExpression")
        if condition and not _condition_holds(condition, old, names, values):
            response: Any = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "condition"}}
            response["Item"] = dict(old)  # ReturnValuesOnConditionCheckFailure=ALL_OLD
            raise ClientError(response, "UpdateItem")
        self.items[key] = _apply_update(request["UpdateExpression"], {**old, "bucket": {"S": key}}, names, values)
        return {"Attributes": dict(old)}


_TOKEN = re.compile(r"\s*(attribute_not_exists|AND|OR|SET|<=|>=|<>|=|<|>|\+|,|\(|\)|#\w+|:\w+)")


def _tokens(expression: str) -> list[str]:
    tokens, at = [], 0
    while at < len(expression.rstrip()):
        match = _TOKEN.match(expression, at)
        if match is None:
            raise ValueError(f"the benchmark's DynamoDB model cannot parse {expression[at:]!r}")
        tokens.append(match.group(1))
        at = match.end()
    return tokens


class _Expression:
    """One expression's tokens over an item, its attribute names and its values."""

    def __init__(self, expression: str, item: Mapping[str, Any], names: Mapping[str, str], values: Mapping[str, Any]):
        self.tokens = _tokens(expression)
        self.at = 0
        self.item, self.names, self.values = item, names, values

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected or 'more'} in {' '.join(self.tokens)!r}")
        self.at += 1
        return token

    def operand(self) -> Decimal | None:
        token = self.take()
        if token.startswith("#"):
            held = self.item.get(self.names[token])
            return Decimal(held["N"]) if held is not None else None
        if token.startswith(":"):
            return Decimal(self.values[token]["N"])
        raise ValueError(f"not an operand: {token!r}")

    def condition(self) -> bool:
        return self._chain("OR", self.conjunction, operator.or_)

    def conjunction(self) -> bool:
        return self._chain("AND", self.factor, operator.and_)

    def _chain(self, keyword: str, operand: Callable[[], bool], combine: Callable[[bool, bool], bool]) -> bool:
        # Every operand is parsed (it consumes its tokens), so the combination never short-circuits.
        holds = operand()
        while self.peek() == keyword:
            self.take()
            holds = combine(operand(), holds)
        return holds

    def factor(self) -> bool:
        if self.peek() == "(":
            self.take("(")
            holds = self.condition()
            self.take(")")
            return holds
        if self.peek() == "attribute_not_exists":
            self.take()
            self.take("(")
            name = self.take()
            self.take(")")
            return self.names[name] not in self.item
        left, operator, right = self.operand(), self.take(), self.operand()
        if left is None or right is None:
            return False  # a comparison with a missing attribute is false in DynamoDB
        return bool(_COMPARE[operator](left, right))


_COMPARE = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _condition_holds(
    condition: str, item: Mapping[str, Any], names: Mapping[str, str], values: Mapping[str, Any]
) -> bool:
    expression = _Expression(condition, item, names, values)
    holds = expression.condition()
    if expression.peek() is not None:
        raise ValueError(f"unparsed rest of {condition!r}")
    return holds


def _apply_update(
    update: str, item: dict[str, Any], names: Mapping[str, str], values: Mapping[str, Any]
) -> dict[str, Any]:
    expression = _Expression(update, item, names, values)
    expression.take("SET")
    result = dict(item)
    while True:
        target = expression.take()
        expression.take("=")
        value = expression.operand()
        if expression.peek() == "+":
            expression.take()
            addend = expression.operand()
            if value is None or addend is None:
                raise ValueError(f"{update!r}: an operand of + is missing")
            value += addend
        if value is None:
            raise ValueError(f"{update!r}: the value is missing")
        result[names[target]] = {"N": str(value)}
        if expression.peek() != ",":
            break
        expression.take()
    if expression.peek() is not None:
        raise ValueError(f"unparsed rest of {update!r}")
    return result


class Records:
    """The tasks table: records with the generation fence."""

    def __init__(self, clocked: Clocked) -> None:
        self.items: dict[tuple[str, Vendor], TaskRecord] = {}
        self.clocked = clocked
        self.requests = 0

    def get(self, task_id: str, vendor: Vendor, *, consistent: bool = True) -> TaskRecord | None:
        self.requests += 1
        self.clocked.clock.take(DYNAMODB_SECONDS)
        return self.items.get((task_id, vendor))

    def for_task(self, task_id: str, *, consistent: bool = False) -> list[TaskRecord]:
        return [record for (tid, _), record in self.items.items() if tid == task_id]

    def put(self, record: TaskRecord, expected_generation: int | None) -> WriteResult:
        self.requests += 1
        self.clocked.clock.take(DYNAMODB_SECONDS)
        key = (record.task_id, record.vendor)
        current = self.items.get(key)
        if (current.generation if current else None) != expected_generation:
            return WriteResult.SUPERSEDED
        self.items[key] = record
        return WriteResult.WRITTEN


@dataclass(order=True)
class _Message:
    visible_at: float
    seq: int
    body: str = field(compare=False)
    sent_at: float = field(compare=False)


class Queue:
    """SQS: delayed messages, visible at send time + delay; counts requests."""

    def __init__(self, clocked: Clocked) -> None:
        self.clocked = clocked
        self.pending: list[_Message] = []
        self.seq = itertools.count()
        self.sends = 0
        self.receives = 0
        self.deletes = 0

    def put(self, body: str, at: float) -> None:
        heapq.heappush(self.pending, _Message(at, next(self.seq), body, at))

    def send(self, request: PollRequest, delay_seconds: int = 0) -> str:
        self.sends += 1
        self.clocked.clock.take(SQS_SEND_SECONDS)
        now = self.clocked.clock.t
        self.put(request.to_body(), now + delay_seconds)
        return f"m-{self.sends}"

    def receive(self, now: float, limit: int) -> list[_Message]:
        batch: list[_Message] = []
        while self.pending and self.pending[0].visible_at <= now and len(batch) < limit:
            batch.append(heapq.heappop(self.pending))
        self.receives += 1
        return batch

    def next_visible(self) -> float | None:
        return self.pending[0].visible_at if self.pending else None

    def visible_by(self, moment: float, count: int) -> float | None:
        """When the ``count``-th message is visible, if it is by ``moment``."""
        smallest = heapq.nsmallest(count, self.pending)
        if len(smallest) < count or smallest[-1].visible_at > moment:
            return None
        return smallest[-1].visible_at


class Zego:
    """DescribeMediaTask with ZEGO's strict sliding one-second window, counted at arrival."""

    def __init__(
        self,
        clocked: Clocked,
        rng: random.Random,
        admits: int = CEILING,
        latency_seconds: tuple[float, float] = ZEGO_LATENCY_SECONDS,
    ) -> None:
        self.clocked = clocked
        self.rng = rng
        self.admits = admits
        self.latency_seconds = latency_seconds
        self.window: deque[float] = deque()
        self.arrivals: list[tuple[float, bool]] = []

    def describe_media_task(self, task_id: str, vendor: Vendor) -> CallOutcome:
        clock = self.clocked.clock
        latency = self.rng.uniform(*self.latency_seconds)
        arrival = clock.t + latency / 2
        while self.window and self.window[0] <= arrival - 1.0:
            self.window.popleft()
        admitted = len(self.window) < self.admits
        if admitted:
            self.window.append(arrival)
        self.arrivals.append((arrival, admitted))
        clock.take(latency)
        if not admitted:
            return CallOutcome.failure(OutcomeKind.THROTTLED, "6", "request too frequent")
        snapshot = TaskSnapshot(
            task_id=task_id, vendor=vendor, status=TaskStatus.PROCESSING, vendor_status="PROCESSING"
        )
        return CallOutcome.success(snapshot)


class _Unused:
    def send(self, body: str, reason: str, detail: str, source_message_id: str) -> str:
        raise AssertionError("no malformed messages in this benchmark")


@dataclass
class Tally:
    """What happened in the measured window ``[start, end)``."""

    start: float
    end: float
    calls: int = 0
    deferrals: int = 0
    hops: int = 0
    invocation_seconds: float = 0.0
    wait_seconds: float = 0.0
    invocations: int = 0
    sqs_requests: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    intervals: list[float] = field(default_factory=list)
    lateness: list[float] = field(default_factory=list)
    calls_per_task: dict[str, int] = field(default_factory=dict)
    rates: list[float] = field(default_factory=list)
    scheduled: dict[str, float] = field(default_factory=dict)
    last_call: dict[str, float] = field(default_factory=dict)

    def inside(self, moment: float) -> bool:
        return self.start <= moment < self.end

    def invocation(self, began: float, ended: float, waited: float) -> None:
        """One batch: its receive and delete requests, its time and its wait for slots."""
        if self.inside(began):
            self.sqs_requests += 2
            self.invocations += 1
            self.invocation_seconds += ended - began
            self.wait_seconds += waited

    def record(self, result: PollResult, began: float, t: float) -> None:
        """One record, finished at ``t`` in a batch begun at ``began``."""
        decision = result.decision
        if self.inside(began) and result.sent_message_id is not None:
            self.sqs_requests += 1
        if self.inside(t):
            reason = decision.reason if decision is not None else result.action.value
            self.reasons[reason] = self.reasons.get(reason, 0) + 1
            if result.call_rate_per_second is not None:
                self.rates.append(result.call_rate_per_second)
        if result.action is not Action.POLLED or decision is None:
            return
        task = result.task_id or ""
        if decision.called_zego:
            self._called(task, t)
        elif decision.reason == RATE_LIMITED and self.inside(t):
            self.deferrals += 1
        elif decision.reason == POSTPONED and self.inside(t):
            self.hops += 1
        due = _scheduled_due(result)
        if due is not None and decision.reason not in (POSTPONED, RATE_LIMITED):
            self.scheduled[task] = due

    def _called(self, task: str, t: float) -> None:
        if self.inside(t):
            self.calls += 1
            self.calls_per_task[task] = self.calls_per_task.get(task, 0) + 1
            if task in self.last_call:
                self.intervals.append(t - self.last_call[task])
                self.lateness.append(t - self.scheduled[task])
        self.last_call[task] = t


def _scheduled_due(result: PollResult) -> float | None:
    decision = result.decision
    if decision is None or decision.next_request is None:
        return None
    due = decision.next_request.not_before or decision.record.next_poll_at
    return (from_iso(due) - START).total_seconds() if due else None


@dataclass(frozen=True)
class Sizing:
    """The fleet the model runs: how many instances, their batches, and how long a record's own CPU
    work takes at the function's memory."""

    instances: int
    batch_size: int = 10
    batching_window_seconds: float = 1.0
    memory_mb: int = LAMBDA_FULL_VCPU_MB
    cpu_seconds_per_record: float = 0.0
    """On one full vCPU."""
    zego_latency_seconds: tuple[float, float] = ZEGO_LATENCY_SECONDS

    @classmethod
    def from_template(cls, cpu_seconds_per_record: float = HANDLER_CPU_SECONDS_PER_RECORD) -> Sizing:
        """The template's poller defaults, with the handler's measured CPU per record."""
        defaults = template_defaults()
        return cls(
            instances=int(defaults["PollMaxConcurrency"]),
            batch_size=int(defaults["PollBatchSize"]),
            batching_window_seconds=float(defaults["PollBatchingWindowSeconds"]),
            memory_mb=int(defaults["PollerMemorySize"]),
            cpu_seconds_per_record=cpu_seconds_per_record,
        )

    @property
    def record_cpu_seconds(self) -> float:
        """A record's CPU time at ``memory_mb`` (Lambda's CPU share grows with memory up to one vCPU)."""
        return self.cpu_seconds_per_record * max(1.0, LAMBDA_FULL_VCPU_MB / self.memory_mb)

    def as_dict(self) -> dict[str, Any]:
        return {
            "instances": self.instances,
            "batch_size": self.batch_size,
            "batching_window_seconds": self.batching_window_seconds,
            "memory_mb": self.memory_mb,
            "cpu_seconds_per_record_full_core": self.cpu_seconds_per_record,
            "record_cpu_seconds": round(self.record_cpu_seconds, 4),
            "zego_latency_seconds": list(self.zego_latency_seconds),
        }


@dataclass
class Fleet:
    """The models around one real :class:`PollerService`."""

    clocked: Clocked
    queue: Queue
    zego: Zego
    service: PollerService
    record_cpu_seconds: float = 0.0

    @classmethod
    def build(
        cls, seed: int, budget: Mapping[str, float] | None, sizing: Sizing | None = None, admits: int = CEILING
    ) -> Fleet:
        sizing = sizing or Sizing(instances=1)
        clocked = Clocked()
        queue = Queue(clocked)
        zego = Zego(clocked, random.Random(seed + 1), admits=admits, latency_seconds=sizing.zego_latency_seconds)
        policy = BudgetPolicy(ceiling_per_second=CEILING, **(budget or {}))
        table: Any = BudgetTable(clocked)
        limiter = RateLimiter("budget", bucket_for_app(1), policy=policy, clock=clocked, client=table)
        service = PollerService(
            store=Records(clocked),
            queue=queue,
            dead_letters=_Unused(),
            limiter=limiter,
            describer=zego,
            clock=clocked,
            policy=PollingPolicy(backoff=BackoffPolicy()),
            random=random.Random(seed + 2),
        )
        return cls(clocked, queue, zego, service, sizing.record_cpu_seconds)

    def handle(self, message: _Message, now: float, number: int) -> tuple[PollResult, VirtualClock]:
        clock = VirtualClock(now)
        clock.take(self.record_cpu_seconds)  # the record's own CPU (its share, in one piece)
        self.clocked.clock = clock
        sent_ms = int((START.timestamp() + message.sent_at) * 1000)
        return self.service.handle(QueueMessage(f"id-{number}", message.body, sent_timestamp_ms=sent_ms)), clock


@dataclass
class _Batch:
    left: list[_Message]
    began: float
    waited: float = 0.0


def simulate(
    *,
    tasks: int,
    sizing: Sizing,
    register_seconds: float,
    warmup_seconds: float,
    measure_seconds: float,
    seed: int = SEED,
    budget: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Run the virtual fleet; figures cover ``[warmup, warmup + measure)``. Instances interleave record by
    record: the one whose clock is earliest processes its next record."""
    rng = random.Random(seed)
    fleet = Fleet.build(seed, budget, sizing)
    instances, batch_size, batching_window_seconds = sizing.instances, sizing.batch_size, sizing.batching_window_seconds
    queue = fleet.queue
    for number in range(tasks):
        queue.put(json.dumps({"TaskId": f"load-{number:05d}", "Vendor": "Tencent"}), rng.uniform(0, register_seconds))
    end = warmup_seconds + measure_seconds
    tally = Tally(warmup_seconds, end)
    free = [(0.0, index) for index in range(instances)]
    heapq.heapify(free)
    batches: dict[int, _Batch] = {}
    ids = itertools.count()
    while free:
        now, index = heapq.heappop(free)
        batch = batches.get(index)
        if batch is None:
            first = queue.next_visible()
            if now >= end or first is None:
                continue
            full = queue.visible_by(now + batching_window_seconds, batch_size)
            start = max(now, min(full if full is not None else math.inf, max(first, now) + batching_window_seconds))
            received = queue.receive(start, batch_size)
            if received:
                batches[index] = _Batch(received, start + rng.uniform(0.0, 0.02))  # the event source's invoke
                heapq.heappush(free, (batches[index].began, index))
            else:
                heapq.heappush(free, (max(start, first), index))
            continue
        if not batch.left:
            done = now + DYNAMODB_SECONDS  # DeleteMessageBatch
            queue.deletes += 1
            del batches[index]
            tally.invocation(batch.began, done, batch.waited)
            heapq.heappush(free, (done, index))
            continue
        result, clock = fleet.handle(batch.left.pop(0), now, next(ids))
        batch.waited += clock.slept
        heapq.heappush(free, (clock.t, index))
        tally.record(result, batch.began, clock.t)
    return _raw(fleet, tally, tasks, warmup_seconds, measure_seconds)


def _raw(fleet: Fleet, tally: Tally, tasks: int, warmup_seconds: float, measure_seconds: float) -> dict[str, Any]:
    arrivals = [(arrival, admitted) for arrival, admitted in fleet.zego.arrivals if tally.inside(arrival)]
    per_second = [0] * math.ceil(measure_seconds)
    for arrival, admitted in arrivals:
        if admitted:
            per_second[int(arrival - warmup_seconds)] += 1
    admitted_count = sum(per_second)
    task_calls = list(tally.calls_per_task.values())
    queue = fleet.queue
    return {
        "sqs_total": tally.sqs_requests,
        "per_second_code_0": per_second,
        "code_0_per_second": round(admitted_count / measure_seconds, 3),
        "code_6_calls": len(arrivals) - admitted_count,
        "busiest_second_all_calls": _busiest(sorted(arrival for arrival, _ in arrivals)),
        "calls": tally.calls,
        "deferrals": tally.deferrals,
        "hops": tally.hops,
        "invocations": tally.invocations,
        "calls_per_task": summary(task_calls, digits=2) if task_calls else {"count": 0},
        "tasks_never_called_in_window": tasks - len(task_calls),
        "interval_seconds": summary(tally.intervals, digits=1),
        "lateness_seconds": summary(tally.lateness, digits=2),
        "rate_per_second": summary(tally.rates, digits=3),
        "_tally": tally,
        "_queue": queue,
        "_calls_in_window": max(1, tally.calls),
    }


def _busiest(times: list[float]) -> int:
    best, low = 0, 0
    for high, moment in enumerate(times):
        while times[low] <= moment - 1.0:
            low += 1
        best = max(best, high - low + 1)
    return best


HEADLINE = ("ceiling_utilisation", "deferrals_per_call", "limiter_wait_share", "sqs_requests_per_call")
NEAR_ZEGO_LATENCY_SECONDS = (0.05, 0.09)
"""The sweep's what-if: ZEGO 70 ms away instead of 150 ms (the figures this benchmark used before)."""


def sizing_variants(sizing: Sizing) -> list[tuple[str, Sizing]]:
    """What the sweep runs beside the defaults: two instances fewer, one fewer and one more (Lambda's
    minimum is 2), ZEGO nearer, and the defaults with twice the CPU per record (a slower core)."""
    sizes = sorted({max(2, sizing.instances + step) for step in (-2, -1, 1)} - {sizing.instances})
    variants = [(f"{size} instances", replace(sizing, instances=size)) for size in sizes]
    near = replace(sizing, zego_latency_seconds=NEAR_ZEGO_LATENCY_SECONDS)
    slower = replace(sizing, cpu_seconds_per_record=2 * sizing.cpu_seconds_per_record)
    return [
        *variants,
        (f"ZEGO 70 ms away, {sizing.instances} instances", near),
        (f"twice the CPU per record, {sizing.instances} instances", slower),
    ]


def run(
    *,
    tasks: int = 20_000,
    sizing: Sizing | None = None,
    warmup_seconds: float = 1500.0,
    measure_seconds: float = 1500.0,
    seeds: tuple[int, ...] = (SEED,),
    sweep: bool = True,
) -> dict[str, Any]:
    """The overload scenario on the template's fleet (median over ``seeds`` of each headline figure), and
    when ``sweep``, the same at the sizes around it (:func:`sizing_variants`, first seed only)."""
    sizing = sizing or Sizing.from_template()

    def once(chosen: Sizing, seed: int) -> dict[str, Any]:
        raw = simulate(
            tasks=tasks,
            sizing=chosen,
            register_seconds=REGISTRATION_SECONDS,
            warmup_seconds=warmup_seconds,
            measure_seconds=measure_seconds,
            seed=seed,
        )
        return _figures(raw, tasks, measure_seconds)

    runs = [once(sizing, seed) for seed in seeds]
    headline = {key: _median([run[key] for run in runs]) for key in (*HEADLINE, "limiter_wait_seconds_per_record")}
    variants = []
    for label, variant in sizing_variants(sizing) if sweep else []:
        figures = once(variant, seeds[0])
        variants.append(
            {
                "label": label,
                **variant.as_dict(),
                **{key: figures[key] for key in HEADLINE},
                "code_6_calls": figures["code_6_calls"],
                "busiest_second_all_calls": figures["busiest_second_all_calls"],
            }
        )
    return {
        "tasks_in_flight": tasks,
        **headline,
        "interval_spread": runs[len(runs) // 2]["interval_spread"],
        "runs": runs,
        "sizing_sweep": variants,
        "model": {
            **sizing.as_dict(),
            "dynamodb_seconds": DYNAMODB_SECONDS,
            "sqs_send_seconds": SQS_SEND_SECONDS,
            "warmup_seconds": warmup_seconds,
            "measure_seconds": measure_seconds,
            "registration_seconds": REGISTRATION_SECONDS,
        },
    }


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _figures(raw: Mapping[str, Any], tasks: int, measure_seconds: float) -> dict[str, Any]:
    tally: Tally = raw["_tally"]
    queue: Queue = raw["_queue"]
    calls = raw["_calls_in_window"]
    return {
        "ceiling_utilisation": round(raw["code_0_per_second"] / CEILING, 4),
        "deferrals_per_call": round(tally.deferrals / calls, 4),
        "limiter_wait_share": (
            round(tally.wait_seconds / tally.invocation_seconds, 4) if tally.invocation_seconds else 0.0
        ),
        "limiter_wait_seconds_per_record": round(tally.wait_seconds / max(1, sum(tally.reasons.values())), 4),
        "sqs_requests_per_call": round(raw["sqs_total"] / calls, 3),
        "interval_spread": {
            "actual_interval_seconds": raw["interval_seconds"],
            "actual_minus_scheduled_seconds": raw["lateness_seconds"],
            "calls_per_task": raw["calls_per_task"],
            "tasks_never_called_in_window": raw["tasks_never_called_in_window"],
        },
        "code_0_per_second": raw["code_0_per_second"],
        "code_6_calls": raw["code_6_calls"],
        "busiest_second_all_calls": raw["busiest_second_all_calls"],
        "calls": raw["calls"],
        "deferrals": raw["deferrals"],
        "hops": raw["hops"],
        "invocations": raw["invocations"],
        "rate_per_second": raw["rate_per_second"],
        "per_second_code_0": raw["per_second_code_0"],
        "lateness_sample": sorted(tally.lateness)[:: max(1, len(tally.lateness) // 400)],
        "sqs_requests_total": {"sends": queue.sends, "receives": queue.receives, "deletes": queue.deletes},
        "records_by_reason": dict(sorted(tally.reasons.items())),
    }
