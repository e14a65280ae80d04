"""Cost arithmetic: request counts per tracked task → dollars per million tracked tasks.

Pure functions over plain numbers (unit-tested); the counts come from the polling-efficiency
simulation, the per-record time from the per-record benchmark. Prices are public on-demand prices in
us-east-1; where they come from is written down in docs/benchmarks.md (and in :data:`PRICE_SOURCES`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Any, ClassVar

KIB = 1024
WRITE_UNIT_BYTES = 1 * KIB
READ_UNIT_BYTES = 4 * KIB
LAMBDA_FULL_VCPU_MB = 1769
"""At 1,769 MB a Lambda function has the equivalent of one vCPU; CPU share scales with memory."""


@dataclass(frozen=True, kw_only=True)
class Prices:
    """On-demand prices, USD, us-east-1."""

    sqs_per_million_requests: float = 0.40
    lambda_per_million_requests: float = 0.20
    lambda_arm_per_gb_second: float = 0.0000133334
    dynamodb_per_million_write_units: float = 0.625
    dynamodb_per_million_read_units: float = 0.125
    cloudwatch_logs_per_gb: float = 0.50
    eventbridge_per_million_events: float = 1.00
    """Custom events put on a bus; each 64 KB chunk of an entry is billed as one event."""
    dynamodb_streams_lambda_reads_per_million: float = 0.0
    """GetRecords calls a Lambda trigger makes on a table's stream are not charged."""
    api_gateway_rest_per_million_requests: float = 3.50
    """REST API requests, first 333 million a month (the callbacks route is on the REST API)."""
    as_of: str = "2026-11-24"
    """When the prices were looked up (API Gateway's on 2026-12-01)."""


PRICE_SOURCES: Mapping[str, str] = {
    "sqs": "https://aws.amazon.com/sqs/pricing/",
    "lambda": "https://aws.amazon.com/lambda/pricing/",
    "dynamodb": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "cloudwatch_logs": "https://aws.amazon.com/cloudwatch/pricing/",
    "eventbridge": "https://aws.amazon.com/eventbridge/pricing/",
    "dynamodb_streams": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "api_gateway": "https://aws.amazon.com/api-gateway/pricing/",
}
LAMBDA_PLATFORM_LOG_BYTES = 300
"""Lambda's own START, END and REPORT lines per invocation (assumed; not measured here)."""


# --- DynamoDB item sizes -------------------------------------------------------------------------


def attribute_value_size(value: Any) -> int:
    """Bytes DynamoDB counts for one attribute value (its name excluded).

    Strings and binaries by length (UTF-8), numbers about one byte per two significant digits plus one,
    booleans and nulls one byte, lists and maps 3 bytes plus one byte per element plus the elements (a
    map's element also counts its key). See the Developer Guide's "Item sizes and formats".
    """
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, int | float | Decimal):
        digits = Decimal(str(value)).normalize().as_tuple().digits
        return math.ceil(len(digits) / 2) + 1
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(1 + attribute_value_size(item) for item in value)
    if isinstance(value, Mapping):
        return 3 + sum(1 + len(str(key).encode("utf-8")) + attribute_value_size(item) for key, item in value.items())
    raise TypeError(f"not a DynamoDB value: {type(value).__name__}")


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes of an item: attribute names plus values."""
    return sum(len(name.encode("utf-8")) + attribute_value_size(value) for name, value in item.items())


def write_units(size_bytes: int) -> int:
    """Write request units of one standard write of an item of ``size_bytes`` (1 KB each, at least 1)."""
    return max(1, math.ceil(size_bytes / WRITE_UNIT_BYTES))


def read_units(size_bytes: int, *, consistent: bool) -> float:
    """Read request units of one read (4 KB each, at least one unit; eventually consistent: half)."""
    units = max(1, math.ceil(size_bytes / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


TABLE_KEYS = ("taskId", "vendor")


@dataclass(frozen=True)
class IndexShape:
    """A global secondary index as its writes see it: its key attributes and what it projects."""

    name: str
    keys: tuple[str, ...]
    projection: str = "ALL"
    """``ALL``, ``KEYS_ONLY`` or ``INCLUDE`` (then ``included`` too)."""
    included: tuple[str, ...] = ()

    def entry(self, item: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The index entry of ``item``: None when the item lacks a key attribute (a sparse index)."""
        if item is None or any(key not in item for key in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        names = {*TABLE_KEYS, *self.keys, *(self.included if self.projection == "INCLUDE" else ())}
        return {name: value for name, value in item.items() if name in names}


def index_shapes(table_properties: Mapping[str, Any]) -> tuple[IndexShape, ...]:
    """The GSIs of a template's ``AWS::DynamoDB::Table`` properties."""
    return tuple(
        IndexShape(
            name=index["IndexName"],
            keys=tuple(key["AttributeName"] for key in index["KeySchema"]),
            projection=index["Projection"]["ProjectionType"],
            included=tuple(index["Projection"].get("NonKeyAttributes", ())),
        )
        for index in table_properties.get("GlobalSecondaryIndexes", ())
    )


def index_write_units(old_item: Mapping[str, Any] | None, new_item: Mapping[str, Any], index: IndexShape) -> int:
    """Write units one table write costs on ``index`` (the Developer Guide's GSI write rules).

    An entry that appears or disappears: one write of it; a changed index key: a delete of the old entry
    and a put of the new one; the same key with other projected values: one write of the larger entry;
    nothing projected changed, or no entry before or after: nothing.
    """
    old, new = index.entry(old_item), index.entry(new_item)
    if old is None and new is None:
        return 0
    if old is None or new is None:
        return write_units(item_size(old or new or {}))
    if any(old[key] != new[key] for key in index.keys):
        return write_units(item_size(old)) + write_units(item_size(new))
    return 0 if old == new else write_units(max(item_size(old), item_size(new)))


def item_write_units(
    old_item: Mapping[str, Any] | None, new_item: Mapping[str, Any], indexes: Sequence[IndexShape]
) -> int:
    """Write units of one write of ``new_item`` over ``old_item`` (None: a new item), PutItem or UpdateItem
    alike: the larger of the two items on the table, plus each index's :func:`index_write_units`."""
    base = write_units(max(item_size(old_item) if old_item is not None else 0, item_size(new_item)))
    return base + sum(index_write_units(old_item, new_item, index) for index in indexes)


# --- usage and cost per task ------------------------------------------------------------------------


@dataclass(frozen=True)
class Regime:
    """Assumptions that depend on traffic, not on the schedule."""

    name: str
    records_per_invocation: float
    """Records per poller invocation (10 = full batches, a standing backlog; 1 = a quiet queue)."""
    limiter_writes_per_call: float
    """UpdateItems on the rate-limit item per ZEGO call: 1 when the bucket is idle, 2 when calls queue."""
    limiter_wait_seconds: float
    """Average wait for a rate-limiter slot per record (billed Lambda time)."""
    log_bytes_per_record: float = 0.0
    """What the handler writes to stdout per record (log lines and EMF metrics), measured at this
    regime's batch size; Lambda ships it to CloudWatch Logs."""


@dataclass(frozen=True)
class LambdaModel:
    """How long a poller invocation runs (billed duration)."""

    memory_mb: int
    cpu_seconds_per_record: float
    """Measured CPU per record on the benchmark machine (one full core)."""
    io_seconds_per_record: float
    """Waiting on DynamoDB, SQS and ZEGO per record (assumed, see docs/benchmarks.md)."""
    invocation_overhead_seconds: float

    def cpu_scale(self) -> float:
        """How much slower CPU work runs at this memory size than on one full vCPU."""
        return max(1.0, LAMBDA_FULL_VCPU_MB / self.memory_mb)

    def invocation_seconds(self, records: float, limiter_wait_seconds: float) -> float:
        """Billed seconds of one invocation of ``records`` records."""
        per_record = self.cpu_seconds_per_record * self.cpu_scale() + self.io_seconds_per_record + limiter_wait_seconds
        return self.invocation_overhead_seconds + records * per_record


@dataclass(frozen=True)
class _Figures:
    """Averages per tracked task, rounded to ``DIGITS`` places for results.json by :meth:`as_dict`."""

    DIGITS: ClassVar[int]

    def as_dict(self) -> dict[str, float]:
        """Rounded, for results.json."""
        return {name: round(value, self.DIGITS) for name, value in asdict(self).items()}


@dataclass(frozen=True)
class TaskUsage(_Figures):
    """Requests one tracked task causes, on average."""

    zego_calls: float
    sqs_requests: float
    lambda_invocations: float
    lambda_gb_seconds: float
    read_units: float
    write_units: float
    log_bytes: float = 0.0

    DIGITS: ClassVar[int] = 4


def task_usage(
    *,
    polls: float,
    registration_read_units: float,
    registration_write_units: float,
    poll_read_units: float,
    poll_write_units: float,
    regime: Regime,
    lambda_model: LambdaModel,
) -> TaskUsage:
    """Requests of one task polled ``polls`` times (every poll is one ZEGO call and one poll message).

    SQS: one SendMessage at registration and one per re-enqueue (``polls`` sends in all, since the last
    poll sends nothing), plus one ReceiveMessage and one DeleteMessageBatch per invocation. DynamoDB:
    registration (GetItem + conditional PutItem), then per poll one consistent GetItem, the limiter's
    UpdateItems and the fenced PutItem with its index writes (``poll_*_units`` are per poll, limiter
    excluded).
    """
    invocations = polls / regime.records_per_invocation
    seconds = invocations * lambda_model.invocation_seconds(regime.records_per_invocation, regime.limiter_wait_seconds)
    return TaskUsage(
        zego_calls=polls,
        sqs_requests=polls + 2 * invocations,
        lambda_invocations=invocations,
        lambda_gb_seconds=seconds * lambda_model.memory_mb / 1024,
        read_units=registration_read_units + polls * poll_read_units,
        write_units=registration_write_units + polls * (poll_write_units + regime.limiter_writes_per_call),
        log_bytes=polls * regime.log_bytes_per_record + invocations * LAMBDA_PLATFORM_LOG_BYTES,
    )


def cost_per_million_tasks(usage: TaskUsage, prices: Prices) -> dict[str, float]:
    """Dollars per million tracked tasks, per service and in total (free tiers ignored)."""
    million = 1_000_000
    costs = {
        "sqs": usage.sqs_requests * prices.sqs_per_million_requests,
        "lambda_requests": usage.lambda_invocations * prices.lambda_per_million_requests,
        "lambda_duration": usage.lambda_gb_seconds * million * prices.lambda_arm_per_gb_second,
        "dynamodb_writes": usage.write_units * prices.dynamodb_per_million_write_units,
        "dynamodb_reads": usage.read_units * prices.dynamodb_per_million_read_units,
        "cloudwatch_logs": usage.log_bytes * million / 1e9 * prices.cloudwatch_logs_per_gb,
    }
    costs["total"] = sum(costs.values())
    return {name: round(value, 2) for name, value in costs.items()}


# --- the cost section of results.json -------------------------------------------------------------

DYNAMODB_CALL_SECONDS = 0.005
SQS_SEND_SECONDS = 0.010
ZEGO_ROUND_TRIP_SECONDS = 0.150
"""Assumed waits per call inside the function (same-region DynamoDB and SQS; ZEGO's unified endpoint
seen from us-east-1). Only the Lambda duration depends on them."""
REGISTRATION_READ_UNITS = 1.0
"""``POST /tasks`` reads the key first (consistent GetItem of a missing item: one unit)."""


def _io_seconds(limiter_writes: float) -> float:
    # GetItem, the limiter's UpdateItem(s), DescribeMediaTask, SendMessage, PutItem.
    return DYNAMODB_CALL_SECONDS * (2 + limiter_writes) + ZEGO_ROUND_TRIP_SECONDS + SQS_SEND_SECONDS


def regimes(wait: float, log_bytes: Mapping[str, float] | None = None) -> list[Regime]:
    """The two traffic regimes the costs are given for: a standing backlog (full batches, every call
    queues for a slot and waits ``wait`` on average) and a quiet queue (one record per invocation).
    ``log_bytes`` gives the measured stdout bytes per record for each."""
    logs = log_bytes or {}
    return [
        Regime(
            "backlog",
            10,
            limiter_writes_per_call=2,
            limiter_wait_seconds=wait,
            log_bytes_per_record=logs.get("backlog", 0.0),
        ),
        Regime(
            "quiet", 1, limiter_writes_per_call=1, limiter_wait_seconds=0.0, log_bytes_per_record=logs.get("quiet", 0.0)
        ),
    ]


def registered_through_api(result: Mapping[str, Any]) -> bool:
    """Whether a polling-efficiency result's tasks were registered through ``POST /tasks`` rather than by
    a message on the poll queue (the standard mix's path, also when the result does not say)."""
    return bool(result.get("through_api", False))


def cost_section(
    schedules: Mapping[str, Mapping[str, Any]],
    *,
    memory_mb: int,
    cpu_seconds_per_record: float,
    invocation_overhead_seconds: float,
    limiter_wait_seconds: float,
    log_bytes_per_record: Mapping[str, float] | None = None,
    prices: Prices | None = None,
) -> dict[str, Any]:
    """Usage and dollars per million tracked tasks for every schedule and regime.

    ``schedules`` is the polling-efficiency result (per schedule: the ``all`` block with calls per task
    and request units per poll).
    """
    prices = prices or Prices()
    section: dict[str, Any] = {
        "prices": asdict(prices),
        "price_sources": dict(PRICE_SOURCES),
        "assumptions": {
            "memory_mb": memory_mb,
            "cpu_seconds_per_record": cpu_seconds_per_record,
            "invocation_overhead_seconds": invocation_overhead_seconds,
            "dynamodb_call_seconds": DYNAMODB_CALL_SECONDS,
            "sqs_send_seconds": SQS_SEND_SECONDS,
            "zego_round_trip_seconds": ZEGO_ROUND_TRIP_SECONDS,
            "registration_read_units": REGISTRATION_READ_UNITS,
            "lambda_platform_log_bytes_per_invocation": LAMBDA_PLATFORM_LOG_BYTES,
            "regimes": [asdict(regime) for regime in regimes(limiter_wait_seconds, log_bytes_per_record)],
        },
        "per_schedule": {},
    }
    for name, schedule in schedules.items():
        block = schedule["all"]
        rows: dict[str, Any] = {}
        for regime in regimes(limiter_wait_seconds, log_bytes_per_record):
            model = LambdaModel(
                memory_mb=memory_mb,
                cpu_seconds_per_record=cpu_seconds_per_record,
                io_seconds_per_record=_io_seconds(regime.limiter_writes_per_call),
                invocation_overhead_seconds=invocation_overhead_seconds,
            )
            usage = task_usage(
                polls=float(block["calls_per_task"]["mean"]),
                # POST /tasks reads the key before writing; a queued task's first read is one of its polls'.
                registration_read_units=REGISTRATION_READ_UNITS if registered_through_api(schedule) else 0.0,
                registration_write_units=float(block["registration_write_units"]),
                poll_read_units=float(block["read_units_per_poll"]),
                poll_write_units=float(block["write_units_per_poll"]),
                regime=regime,
                lambda_model=model,
            )
            rows[regime.name] = {
                "usage_per_task": usage.as_dict(),
                "invocation_seconds": round(
                    model.invocation_seconds(regime.records_per_invocation, regime.limiter_wait_seconds), 4
                ),
                "usd_per_million_tasks": cost_per_million_tasks(usage, prices),
            }
        section["per_schedule"][name] = rows
    return section


# --- state-change events: the tasks table's stream, the publisher, PutEvents -----------------------

EVENTBRIDGE_CHUNK_BYTES = 64 * KIB
"""PutEvents bills each 64 KB chunk of an entry as one event."""
PUT_EVENTS_TIME_BYTES = 14
"""An entry's ``Time`` counts 14 bytes, whatever its value."""
PUT_EVENTS_SECONDS = 0.030
"""Assumed wait for one PutEvents call from Lambda in the bus's region (not measured here)."""


def put_events_entry_bytes(entry: Mapping[str, Any]) -> int:
    """Bytes EventBridge counts for one PutEvents entry (the User Guide's "Calculating PutEvents event
    entry size"): 14 for a ``Time``, plus ``Source``, ``DetailType``, ``Detail`` and each of ``Resources``
    in UTF-8. ``EventBusName`` does not count."""
    size = PUT_EVENTS_TIME_BYTES if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name) or "").encode("utf-8"))
    return size + sum(len(str(resource).encode("utf-8")) for resource in entry.get("Resources") or ())


def billed_events(entry_bytes: int) -> int:
    """Events PutEvents bills for one entry of ``entry_bytes``: one per 64 KB chunk, at least one."""
    return max(1, math.ceil(entry_bytes / EVENTBRIDGE_CHUNK_BYTES))


def records_per_invocation(
    writes_per_second: float, *, batching_window_seconds: float, batch_size: int, shards: int = 1
) -> float:
    """Stream records per publisher invocation when the table takes ``writes_per_second`` spread over
    ``shards``: what one batching window gathers on a shard, at least one record and at most a batch."""
    gathered = writes_per_second / shards * batching_window_seconds
    return min(float(batch_size), max(1.0, gathered))


@dataclass(frozen=True)
class PublisherModel:
    """What a publisher invocation is billed for: its duration and its log lines.

    Every write of a task record is one stream record; a record that changed no status costs only its
    reading, one that did also one PutEvents call (the publisher sends each change as it reads it).
    """

    memory_mb: int
    cpu_seconds_per_invocation: float
    cpu_seconds_per_unchanged_record: float
    cpu_seconds_per_published_record: float
    """Measured CPU on the benchmark machine (one full core)."""
    put_events_seconds: float = PUT_EVENTS_SECONDS
    log_bytes_per_invocation: float = 0.0
    """What the handler itself writes per invocation (its metrics); Lambda's own lines are added."""
    log_bytes_per_unchanged_record: float = 0.0
    log_bytes_per_published_record: float = 0.0

    def cpu_scale(self) -> float:
        """How much slower CPU work runs at this memory size than on one full vCPU."""
        return max(1.0, LAMBDA_FULL_VCPU_MB / self.memory_mb)

    def seconds(self, invocations: float, unchanged: float, published: float) -> float:
        """Billed seconds of ``invocations`` invocations handling ``unchanged`` and ``published`` records."""
        cpu = (
            invocations * self.cpu_seconds_per_invocation
            + unchanged * self.cpu_seconds_per_unchanged_record
            + published * self.cpu_seconds_per_published_record
        )
        return cpu * self.cpu_scale() + published * self.put_events_seconds

    def log_bytes(self, invocations: float, unchanged: float, published: float) -> float:
        """Bytes shipped to CloudWatch Logs, Lambda's own lines included."""
        return (
            invocations * (self.log_bytes_per_invocation + LAMBDA_PLATFORM_LOG_BYTES)
            + unchanged * self.log_bytes_per_unchanged_record
            + published * self.log_bytes_per_published_record
        )


@dataclass(frozen=True)
class EventUsage(_Figures):
    """What publishing one tracked task's state changes uses, on average."""

    stream_records: float
    events: float
    billed_events: float
    """PutEvents' billing units: 64 KB chunks of the events' entries."""
    publisher_invocations: float
    publisher_gb_seconds: float
    publisher_log_bytes: float

    DIGITS: ClassVar[int] = 5


def event_usage(
    *,
    stream_records: float,
    events: float,
    billed: float,
    records_per_invocation: float,
    model: PublisherModel,
) -> EventUsage:
    """The usage of a task whose record is written ``stream_records`` times, ``events`` of them changing
    its status, when the stream hands the publisher ``records_per_invocation`` records at a time."""
    if not 0 <= events <= stream_records:
        raise ValueError("events must be between 0 and the stream records")
    invocations = stream_records / records_per_invocation
    unchanged = stream_records - events
    return EventUsage(
        stream_records=stream_records,
        events=events,
        billed_events=billed,
        publisher_invocations=invocations,
        publisher_gb_seconds=model.seconds(invocations, unchanged, events) * model.memory_mb / 1024,
        publisher_log_bytes=model.log_bytes(invocations, unchanged, events),
    )


def event_cost_per_million_tasks(usage: EventUsage, prices: Prices) -> dict[str, float]:
    """Dollars per million tracked tasks added by publishing their state changes (free tiers ignored).

    ``stream``: the stream's reads, at least one GetRecords per invocation, free for a Lambda trigger;
    ``publisher_lambda``: requests and GB-seconds; ``publisher_logs``: its CloudWatch Logs ingestion;
    ``put_events``: the billed events.
    """
    million = 1_000_000
    costs = {
        "stream": usage.publisher_invocations * prices.dynamodb_streams_lambda_reads_per_million,
        "publisher_lambda": usage.publisher_invocations * prices.lambda_per_million_requests
        + usage.publisher_gb_seconds * million * prices.lambda_arm_per_gb_second,
        "publisher_logs": usage.publisher_log_bytes * million / 1e9 * prices.cloudwatch_logs_per_gb,
        "put_events": usage.billed_events * prices.eventbridge_per_million_events,
    }
    costs["total"] = sum(costs.values())
    return {name: round(value, 3) for name, value in costs.items()}


def event_cost_section(
    scenarios: Mapping[str, Mapping[str, float]],
    *,
    model: PublisherModel,
    batch_size: int,
    batching_window_seconds: float,
    zego_calls_per_second: float,
    prices: Prices | None = None,
) -> dict[str, Any]:
    """Usage and dollars per million tracked tasks for each scenario in three traffic regimes.

    ``scenarios`` gives, per scenario, the means per task of ``stream_records``, ``events``,
    ``billed_events`` and ``zego_calls``. Regimes: ``low_traffic``, every write alone in its invocation
    (writes further apart than the batching window); ``zego_ceiling``, the writes of as many tasks as
    ZEGO's call budget polls, gathered per batching window on one shard; ``full_batches``, the bound.
    """
    prices = prices or Prices()
    section: dict[str, Any] = {
        "prices": {
            "lambda_per_million_requests": prices.lambda_per_million_requests,
            "lambda_arm_per_gb_second": prices.lambda_arm_per_gb_second,
            "cloudwatch_logs_per_gb": prices.cloudwatch_logs_per_gb,
            "eventbridge_per_million_events": prices.eventbridge_per_million_events,
            "dynamodb_streams_lambda_reads_per_million": prices.dynamodb_streams_lambda_reads_per_million,
            "as_of": prices.as_of,
        },
        "price_sources": {
            name: PRICE_SOURCES[name] for name in ("dynamodb_streams", "lambda", "cloudwatch_logs", "eventbridge")
        },
        "assumptions": {
            **asdict(model),
            "cpu_scale": round(model.cpu_scale(), 3),
            "lambda_platform_log_bytes_per_invocation": LAMBDA_PLATFORM_LOG_BYTES,
            "batch_size": batch_size,
            "batching_window_seconds": batching_window_seconds,
            "zego_calls_per_second": zego_calls_per_second,
            "shards": 1,
        },
        "per_scenario": {},
    }
    for name, scenario in scenarios.items():
        writes_per_second = zego_calls_per_second * scenario["stream_records"] / scenario["zego_calls"]
        regimes = {
            "low_traffic": 1.0,
            "zego_ceiling": records_per_invocation(
                writes_per_second, batching_window_seconds=batching_window_seconds, batch_size=batch_size
            ),
            "full_batches": float(batch_size),
        }
        rows: dict[str, Any] = {"writes_per_second_at_zego_ceiling": round(writes_per_second, 2)}
        for regime, per_invocation in regimes.items():
            usage = event_usage(
                stream_records=scenario["stream_records"],
                events=scenario["events"],
                billed=scenario["billed_events"],
                records_per_invocation=per_invocation,
                model=model,
            )
            rows[regime] = {
                "records_per_invocation": round(per_invocation, 2),
                "usage_per_task": usage.as_dict(),
                "usd_per_million_tasks": event_cost_per_million_tasks(usage, prices),
            }
        section["per_scenario"][name] = rows
    return section


# --- the whole pipeline per million tasks: poller, publisher, callbacks route, watchdog -----------------


@dataclass(frozen=True)
class SmallFunction:
    """What one invocation of a function outside the poll loop is billed for (the callback receiver, the
    poll message a callback made pointless, the watchdog's run)."""

    memory_mb: int
    seconds: float
    """Billed duration (assumed; see docs/benchmarks.md)."""
    read_units: float = 0.0
    write_units: float = 0.0
    sqs_requests: float = 0.0
    api_requests: float = 0.0
    log_bytes: float = 0.0
    """Its own lines; Lambda's own lines are added."""


def small_function_cost(function: SmallFunction, per_task: float, prices: Prices) -> dict[str, float]:
    """Dollars per million tasks of ``per_task`` invocations of ``function`` per task, by service."""
    million = 1_000_000
    log_bytes = per_task * (function.log_bytes + LAMBDA_PLATFORM_LOG_BYTES)
    return {
        "sqs": per_task * function.sqs_requests * prices.sqs_per_million_requests,
        "lambda": per_task
        * (
            prices.lambda_per_million_requests
            + function.seconds * function.memory_mb / 1024 * million * prices.lambda_arm_per_gb_second
        ),
        "dynamodb": per_task
        * (
            function.write_units * prices.dynamodb_per_million_write_units
            + function.read_units * prices.dynamodb_per_million_read_units
        ),
        "api_gateway": per_task * function.api_requests * prices.api_gateway_rest_per_million_requests,
        "cloudwatch_logs": log_bytes * million / 1e9 * prices.cloudwatch_logs_per_gb,
    }


SERVICES = ("sqs", "lambda", "dynamodb", "api_gateway", "eventbridge", "cloudwatch_logs")
SCENARIO_KEYS = (
    ("pull_only", "per_million_tasks_pull_only"),
    ("callbacks_90", "per_million_tasks_with_callbacks"),
    ("pull_only_via_api", "per_million_tasks_pull_only_via_api"),
    ("callbacks_90_via_api", "per_million_tasks_with_callbacks_via_api"),
)
"""The polling-efficiency scenarios priced as whole pipelines, and their results.json key: the standard
mix registered as a pipeline does (a message on the poll queue), and the same through ``POST /tasks``."""
"""The services of the per-service breakdown, in the chart's order."""


def by_service(
    poller: Mapping[str, float], publisher: Mapping[str, float], *others: Mapping[str, float]
) -> dict[str, float]:
    """One breakdown per service from the poller's (:func:`cost_per_million_tasks`), the publisher's
    (:func:`event_cost_per_million_tasks`) and the small functions' (:func:`small_function_cost`)."""
    total = dict.fromkeys(SERVICES, 0.0)
    total["sqs"] += poller["sqs"]
    total["lambda"] += poller["lambda_requests"] + poller["lambda_duration"] + publisher["publisher_lambda"]
    total["dynamodb"] += poller["dynamodb_writes"] + poller["dynamodb_reads"] + publisher["stream"]
    total["eventbridge"] += publisher["put_events"]
    total["cloudwatch_logs"] += poller["cloudwatch_logs"] + publisher["publisher_logs"]
    for other in others:
        for service, dollars in other.items():
            total[service] += dollars
    rounded = {service: round(dollars, 2) for service, dollars in total.items()}
    rounded["total"] = round(sum(total.values()), 2)
    return rounded


CALLBACK_SECONDS = 0.030
"""Assumed billed time of one callback invocation: the signature check, a Query and a write (5 ms each
to DynamoDB in-region) at the API's memory."""
REGISTRATION_SECONDS = 0.030
"""Assumed billed time of one ``POST /tasks``: the body check, a GetItem, a SendMessage and a PutItem at
the API's memory (its request units are the simulation's, counted with the poll loop's)."""
REGISTRATION_LOG_BYTES = 500
"""Assumed: the API's log line and EMF metrics per registration."""
CALLBACK_LOG_BYTES = 700
"""Assumed: the receiver's one log line and its EMF metrics per callback."""
WATCHDOG_SECONDS = 0.200
"""Assumed billed time of one watchdog run that finds nothing overdue (one Query per shard)."""
WATCHDOG_LOG_BYTES = 500
WATCHDOG_MEMORY_MB = 256
"""The template's WatchdogFunction memory."""
TASKS_PER_MONTH = 1_000_000
"""The traffic the watchdog's fixed cost is spread over (a million tasks a month)."""
MINUTES_PER_MONTH = 30 * 24 * 60
REGIME_PAIRS = (("quiet", "low_traffic"), ("backlog", "zego_ceiling"))
"""Poller regime and publisher regime that go together: a quiet queue writes the table rarely (every
stream record alone in its invocation); at ZEGO's ceiling batches are full on both sides."""


@dataclass(frozen=True)
class PipelineScenario:
    """One scenario's counts per task (from the polling-efficiency simulation)."""

    poller_usd: Mapping[str, Mapping[str, float]]
    """Regime name → :func:`cost_per_million_tasks` of the poll loop."""
    stream_records: float
    """Records the publisher is handed per task: the writes its event source's filter lets through."""
    events: float
    callbacks_applied: float = 0.0
    """Callbacks that ended their task (each also leaves one queued poll message that calls nobody)."""
    callbacks_late: float = 0.0
    """Callbacks that found the task already ended by a poll (read, not written)."""
    callback_read_units: float = 0.0
    callback_write_units: float = 0.0


def pipeline_cost(
    scenario: PipelineScenario,
    *,
    publisher: PublisherModel,
    publisher_records_per_invocation: Mapping[str, float],
    callback_memory_mb: int,
    poller: LambdaModel,
    poller_log_bytes_per_record: Mapping[str, float],
    watchdog_runs_per_task: float,
    watchdog_read_units: float,
    watchdog_memory_mb: int,
    prices: Prices,
    registrations_through_api: float = 0.0,
) -> dict[str, dict[str, float]]:
    """Per regime pair (:data:`REGIME_PAIRS`): dollars per million tasks by service (:func:`by_service`).
    ``registrations_through_api`` per task pay API Gateway and the API function (a queued task pays its
    SendMessage, counted with the poll loop's)."""
    registration = SmallFunction(
        callback_memory_mb, REGISTRATION_SECONDS, api_requests=1, log_bytes=REGISTRATION_LOG_BYTES
    )
    callback = SmallFunction(
        callback_memory_mb,
        CALLBACK_SECONDS,
        read_units=scenario.callback_read_units,
        write_units=scenario.callback_write_units,
        api_requests=1,
        log_bytes=CALLBACK_LOG_BYTES,
    )
    late = replace(callback, write_units=0.0)
    watchdog = SmallFunction(
        watchdog_memory_mb, WATCHDOG_SECONDS, read_units=watchdog_read_units, log_bytes=WATCHDOG_LOG_BYTES
    )
    rows: dict[str, dict[str, float]] = {}
    for poll_regime, stream_regime in REGIME_PAIRS:
        stopped = SmallFunction(
            poller.memory_mb,
            poller.invocation_overhead_seconds
            + poller.cpu_seconds_per_record * poller.cpu_scale()
            + DYNAMODB_CALL_SECONDS,
            read_units=1.0,
            sqs_requests=3.0,  # its SendMessage (by the last poll), ReceiveMessage and DeleteMessageBatch
            log_bytes=poller_log_bytes_per_record.get(poll_regime, 0.0),
        )
        usage = event_usage(
            stream_records=scenario.stream_records,
            events=scenario.events,
            billed=scenario.events,
            records_per_invocation=publisher_records_per_invocation[stream_regime],
            model=publisher,
        )
        rows[f"{poll_regime}+{stream_regime}"] = by_service(
            scenario.poller_usd[poll_regime],
            event_cost_per_million_tasks(usage, prices),
            small_function_cost(callback, scenario.callbacks_applied, prices),
            small_function_cost(late, scenario.callbacks_late, prices),
            small_function_cost(stopped, scenario.callbacks_applied, prices),
            small_function_cost(watchdog, watchdog_runs_per_task, prices),
            small_function_cost(registration, registrations_through_api, prices),
        )
    return rows


def pipeline_section(
    scenarios: Mapping[str, Mapping[str, Any]],
    poller_section: Mapping[str, Any],
    *,
    publisher_assumptions: Mapping[str, Any],
    events_per_task: Mapping[str, float],
    defaults: Mapping[str, Any],
    watch_shards: int,
    prices: Prices | None = None,
) -> dict[str, Any]:
    """``per_million_tasks_pull_only`` and ``per_million_tasks_with_callbacks`` (the larger of the two
    regime pairs, dollars), with the breakdown by service per regime pair and what was assumed
    (``pipeline_assumptions``, beside :func:`cost_section`'s own ``assumptions``).

    ``scenarios``: the polling-efficiency results named in :data:`SCENARIO_KEYS`; ``poller_section``:
    :func:`cost_section` of those; ``publisher_assumptions``: the events benchmark's publisher model
    and batching; ``defaults``: the template's parameter defaults.
    """
    prices = prices or Prices()
    names = set(PublisherModel.__dataclass_fields__)
    publisher = PublisherModel(**{key: value for key, value in publisher_assumptions.items() if key in names})
    assumptions = poller_section["assumptions"]
    poller = LambdaModel(
        memory_mb=int(assumptions["memory_mb"]),
        cpu_seconds_per_record=float(assumptions["cpu_seconds_per_record"]),
        io_seconds_per_record=0.0,
        invocation_overhead_seconds=float(assumptions["invocation_overhead_seconds"]),
    )
    log_bytes = {regime["name"]: float(regime["log_bytes_per_record"]) for regime in assumptions["regimes"]}
    batch = int(publisher_assumptions.get("batch_size", 100))
    window = float(publisher_assumptions.get("batching_window_seconds", 1.0))
    runs_per_task = MINUTES_PER_MONTH / float(defaults["WatchdogScheduleMinutes"]) / TASKS_PER_MONTH
    section: dict[str, Any] = {
        "pipeline_assumptions": {
            "regime_pairs": [f"{poll}+{stream}" for poll, stream in REGIME_PAIRS],
            "callback_seconds": CALLBACK_SECONDS,
            "callback_log_bytes": CALLBACK_LOG_BYTES,
            "callback_memory_mb": int(defaults["ApiMemorySize"]),
            "watchdog_seconds_per_run": WATCHDOG_SECONDS,
            "watchdog_runs_per_task": runs_per_task,
            "watchdog_read_units_per_run": watch_shards * 0.5,
            "tasks_per_month": TASKS_PER_MONTH,
            "publisher_batch_size": batch,
            "publisher_batching_window_seconds": window,
        },
        "breakdown": {},
    }
    for name, result in scenarios.items():
        block = result["all"]
        tasks = float(block["tasks"])
        applied = float(result.get("ended_by_callback", 0)) / tasks
        calls = float(block["calls_per_task"]["mean"])
        # What reaches the publisher: the writes its filter lets through (counted by the simulation), else
        # every write (registration, each poll, the callback).
        handed = float(result.get("publisher_records_per_task") or 1.0 + calls + applied)
        writes_per_second = float(defaults["ZegoRateLimitPerSecond"]) * handed / calls
        per_invocation = {
            "low_traffic": 1.0,
            "zego_ceiling": records_per_invocation(writes_per_second, batching_window_seconds=window, batch_size=batch),
        }
        scenario = PipelineScenario(
            poller_usd={
                regime: row["usd_per_million_tasks"] for regime, row in poller_section["per_schedule"][name].items()
            },
            stream_records=handed,
            # The simulation's own count of status changes where it has one (it follows the scenario's
            # registration path), else the events benchmark's measurement through make run's stack.
            events=min(handed, float(result.get("events_per_task") or events_per_task.get(name, 3.0))),
            callbacks_applied=applied,
            callbacks_late=float(result.get("callbacks_arrived", 0)) / tasks - applied,
            callback_read_units=float(result.get("callback_read_units") or 0.0),
            callback_write_units=float(result.get("callback_write_units") or 0.0),
        )
        section["breakdown"][name] = pipeline_cost(
            scenario,
            publisher=publisher,
            publisher_records_per_invocation=per_invocation,
            callback_memory_mb=int(defaults["ApiMemorySize"]),
            poller=poller,
            poller_log_bytes_per_record=log_bytes,
            watchdog_runs_per_task=runs_per_task,
            watchdog_read_units=watch_shards * 0.5,
            watchdog_memory_mb=WATCHDOG_MEMORY_MB,
            prices=prices,
            registrations_through_api=1.0 if registered_through_api(result) else 0.0,
        )
    for name, key in SCENARIO_KEYS:
        if name in section["breakdown"]:
            section[key] = max(row["total"] for row in section["breakdown"][name].values())
    return section
