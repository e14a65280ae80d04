"""Cost arithmetic: request counts per tracked task → dollars per million tracked tasks.

Pure functions over plain numbers (unit-tested); the counts come from the polling-efficiency
simulation, the per-record time from the per-record benchmark. Prices are public on-demand prices in
us-east-1; where they come from is written down in docs/benchmarks.md (and in :data:`PRICE_SOURCES`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

KIB = 1024
WRITE_UNIT_BYTES = 1 * KIB
READ_UNIT_BYTES = 4 * KIB
LAMBDA_FULL_VCPU_MB = 1769
"""At 1,769 MB a Lambda function has the equivalent of one vCPU; CPU share scales with memory."""


@dataclass(frozen=True)
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
    as_of: str = "2026-11-24"


PRICE_SOURCES: Mapping[str, str] = {
    "sqs": "https://aws.amazon.com/sqs/pricing/",
    "lambda": "https://aws.amazon.com/lambda/pricing/",
    "dynamodb": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "cloudwatch_logs": "https://aws.amazon.com/cloudwatch/pricing/",
    "eventbridge": "https://aws.amazon.com/eventbridge/pricing/",
    "dynamodb_streams": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
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


def put_write_units(old_size: int | None, new_size: int, *, index_key_changed: bool, indexes: int) -> int:
    """Write units of a PutItem on the base table plus its propagation to ``indexes`` GSIs that project
    every attribute.

    Base table: the larger of the old and new item. Each index: a new item is one put; a changed index
    key is a delete of the old entry plus a put of the new one; otherwise one update of the entry.
    """
    base = write_units(max(old_size or 0, new_size))
    if old_size is None:
        per_index = write_units(new_size)
    elif index_key_changed:
        per_index = write_units(old_size) + write_units(new_size)
    else:
        per_index = write_units(max(old_size, new_size))
    return base + indexes * per_index


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
class TaskUsage:
    """Requests one tracked task causes, on average."""

    zego_calls: float
    sqs_requests: float
    lambda_invocations: float
    lambda_gb_seconds: float
    read_units: float
    write_units: float
    log_bytes: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """Rounded, for results.json."""
        return {name: round(value, 4) for name, value in asdict(self).items()}


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
                registration_read_units=REGISTRATION_READ_UNITS,
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
class EventUsage:
    """What publishing one tracked task's state changes uses, on average."""

    stream_records: float
    events: float
    billed_events: float
    """PutEvents' billing units: 64 KB chunks of the events' entries."""
    publisher_invocations: float
    publisher_gb_seconds: float
    publisher_log_bytes: float

    def as_dict(self) -> dict[str, float]:
        """Rounded, for results.json."""
        return {name: round(value, 5) for name, value in asdict(self).items()}


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
