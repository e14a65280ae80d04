"""Benchmark 7, the lost-chain watchdog: its cost per run at 100,000 records in flight (``--only watchdog``).

The template's tasks table (its real ``ByWatchAt`` index) in moto's in-process mock is filled with 100,000
non-terminal records as the poller writes them (the real item mapping; next polls due over the next two
minutes, watch times stamped by :func:`~zego_media_tasks.domain.watch.watch_at_after`), then the real
watchdog service runs once over a healthy table and once with 1 % of the chains lost (their next poll
overdue past the grace). Read units are computed from what the index queries return, with DynamoDB's
item-size rules on the index's projection (moto reports no real consumed capacity), plus the consistent
read of each record examined; the invocation time is the run's wall time against moto, and an estimate
for Lambda from per-call latencies (bench/costs.py). A third figure is the index's own write cost: how
often the watch time moves along a default backoff schedule, against an index keyed on ``nextPollAt``.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import progress, template_defaults
from bench.costs import (
    DYNAMODB_CALL_SECONDS,
    SQS_SEND_SECONDS,
    Prices,
    item_size,
    read_units,
    write_units,
)
from devstack.emulator import LOCAL_CREDENTIALS, LOCAL_REGION
from devstack.resources import LOCAL_ACCOUNT_ID, ProvisionedStack, provision
from devstack.template import load_template
from zego_media_tasks.domain.backoff import BackoffPolicy
from zego_media_tasks.domain.clock import SystemClock
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.domain.watch import DEFAULT_GRACE_SECONDS, watch_at_after
from zego_media_tasks.queue.poll_queue import PollQueue
from zego_media_tasks.store.items import PARTITION_KEY, SORT_KEY, WATCH_INDEX, record_to_item
from zego_media_tasks.store.task_store import TaskStore, from_wire, to_wire
from zego_media_tasks.store.watch_index import WatchIndex
from zego_media_tasks.watchdog.service import WatchdogService, WatchReport

RECORDS = 100_000
LOST_SHARE = 0.01
LAMBDA_MEMORY_MB = 256
"""WatchdogFunction's MemorySize in template.yaml."""
RUNS_PER_MONTH = 30 * 24 * 60 // 5
"""At the default schedule, every 5 minutes."""


@contextmanager
def _moto_table() -> Iterator[ProvisionedStack]:
    from moto import mock_aws

    saved = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", *LOCAL_CREDENTIALS)}
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update({"AWS_DEFAULT_REGION": LOCAL_REGION, **LOCAL_CREDENTIALS})
    try:
        with mock_aws():
            yield provision(prefix="bench")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _in_flight(index: int, now: datetime, rng: random.Random, lost: bool) -> TaskRecord:
    """A record as the poller leaves it mid-chain: polled, next poll due soon (or, lost, long overdue)."""
    first_seen = now - timedelta(seconds=rng.uniform(60, 3600))
    record = pending_record(
        f"1500020831-procedurev2-{index:032x}",
        Vendor.TENCENT if index % 3 else Vendor.HUAWEI,
        now=first_seen,
        first_seen_at=to_iso(first_seen),
        deadline_at=to_iso(first_seen + timedelta(days=1)),
    )
    interval = rng.uniform(4, 120)
    polled = now - timedelta(seconds=rng.uniform(0, interval))
    if lost:
        polled -= timedelta(seconds=DEFAULT_GRACE_SECONDS + 3600 + rng.uniform(0, 3600))
    next_poll = polled + timedelta(seconds=interval)
    return replace(
        record,
        status=TaskStatus.PROCESSING,
        vendor_status="PROCESSING",
        event="transcode",
        poll_count=12,
        attempt=12,
        generation=12,
        last_polled_at=to_iso(polled),
        next_poll_at=to_iso(next_poll),
        watch_at=watch_at_after(None, next_poll, polled),
        updated_at=to_iso(polled),
        zego_request_id=f"{index:019d}",
        raw={"TaskId": record.task_id, "Status": "PROCESSING", "Event": "transcode"},
    )


def _write(stack: ProvisionedStack, items: list[dict[str, Any]]) -> None:
    """Put the items straight into moto's table (the items are the real mapping's; moto's own API path
    would only add its request parsing, 2-3 times the filling time at 100,000 items)."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[LOCAL_ACCOUNT_ID][LOCAL_REGION]
    table = stack.table_names["TasksTable"]
    for count, item in enumerate(items, 1):
        backend.put_item(table, to_wire(item))
        if count % 20_000 == 0:
            progress(f"watchdog: {count} records written")


def _watch_index_keys() -> tuple[str, ...]:
    """The attributes of a ``ByWatchAt`` entry, from the template: the table's keys and the index's (keys only)."""
    table = load_template()["Resources"]["TasksTable"]["Properties"]
    [index] = [entry for entry in table["GlobalSecondaryIndexes"] if entry["IndexName"] == WATCH_INDEX]
    if index["Projection"]["ProjectionType"] != "KEYS_ONLY":
        raise ValueError(f"{WATCH_INDEX} is expected to project keys only")
    return (PARTITION_KEY, SORT_KEY, *(key["AttributeName"] for key in index["KeySchema"]))


def _entry(item: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {name: item[name] for name in keys if name in item}


class _QueryMeter:
    """Read units of the index queries, from the items each page returns, as the index projects them."""

    def __init__(self, client: Any, keys: tuple[str, ...]) -> None:
        self.pages: list[tuple[int, int]] = []  # (items, bytes) per query
        self._keys = keys
        client.meta.events.register("after-call.dynamodb.Query", self._after)

    def _after(self, parsed: Mapping[str, Any], **_: Any) -> None:
        entries = [_entry(from_wire(item), self._keys) for item in parsed.get("Items", [])]
        self.pages.append((len(entries), sum(item_size(entry) for entry in entries)))

    @property
    def read_units(self) -> float:
        # A Query's items are summed and rounded up to 4 KB once per request; an index read is eventually
        # consistent (half a unit per 4 KB), and even an empty page costs half a unit.
        return sum(read_units(size, consistent=False) for _, size in self.pages)


def _run(
    stack: ProvisionedStack,
    now: datetime,
    keys: tuple[str, ...],
    items_by_key: Mapping[tuple[str, str], dict[str, Any]],
) -> dict[str, Any]:
    table = stack.table_names["TasksTable"]
    index = WatchIndex(table)
    store = TaskStore(table)
    meter = _QueryMeter(index.client, keys)

    class Frozen(SystemClock):
        def now(self) -> datetime:
            return now

    service = WatchdogService(
        index=index,
        records=store,
        queue=PollQueue(stack.queue_urls["PollQueue"]),
        clock=Frozen(),
        grace_seconds=DEFAULT_GRACE_SECONDS,
    )
    began = time.perf_counter()
    report: WatchReport = service.run(lambda: 120.0)
    seconds = time.perf_counter() - began
    examined_units = sum(
        read_units(item_size(items_by_key[(revival.task_id, revival.vendor.value)]), consistent=True)
        for revival in report.revived
    )
    defer_write_units = sum(
        write_units(item_size(items_by_key[(revival.task_id, revival.vendor.value)])) + 2  # + index: key moved
        for revival in report.revived
    )
    queries = len(meter.pages)
    lambda_seconds = queries * DYNAMODB_CALL_SECONDS + len(report.revived) * (
        2 * DYNAMODB_CALL_SECONDS + SQS_SEND_SECONDS
    )
    return {
        "queries": queries,
        "index_items_read": sum(count for count, _ in meter.pages),
        "index_read_units": meter.read_units,
        "records_examined": report.examined,
        "record_read_units": examined_units,
        "chains_revived": len(report.revived),
        "defer_write_units": defer_write_units,
        "sqs_sends": len(report.revived),
        "out_of_time": report.out_of_time,
        "local_run_seconds": round(seconds, 3),
        "estimated_lambda_seconds": round(lambda_seconds, 3),
    }


def _index_writes_per_poll(polls: int = 400) -> dict[str, float]:
    """Index writes a chain causes per poll on the default backoff schedule: the watch time (only when it
    moves: 2 writes, its key changes) against an index keyed on ``nextPollAt`` (2 at every poll)."""
    policy = BackoffPolicy()
    rng = random.Random(3)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    watch: int | None = None
    moves = 0
    for attempt in range(polls):
        delay = policy.delay(attempt, rng)
        moved = watch_at_after(watch, now + timedelta(seconds=delay), now)
        moves += moved != watch
        watch = moved
        now += timedelta(seconds=delay)
    return {"watch_at_index_writes_per_poll": round(2 * moves / polls, 3), "next_poll_at_index_writes_per_poll": 2.0}


def run(quick: bool = False) -> dict[str, Any]:
    """The section of results.json."""
    records = 10_000 if quick else RECORDS
    lost = math.floor(records * LOST_SHARE)
    now = datetime.now(UTC).replace(microsecond=0)
    keys = _watch_index_keys()
    results: dict[str, Any] = {"records_in_flight": records, "grace_seconds": DEFAULT_GRACE_SECONDS}
    rng = random.Random(11)
    items = [record_to_item(_in_flight(index, now, rng, lost=False)) for index in range(records)]
    entry_sizes = [item_size(_entry(item, keys)) for item in items]
    results["index_entry_bytes_mean"] = round(sum(entry_sizes) / len(entry_sizes), 1)
    results["record_bytes_mean"] = round(sum(item_size(item) for item in items) / len(items), 1)
    with _moto_table() as stack:
        progress(f"watchdog: writing {records} records in flight")
        _write(stack, items)
        by_key = {(item["taskId"], item["vendor"]): item for item in items}
        progress("watchdog: a run over a healthy table")
        results["healthy"] = {"lost_chains": 0, **_run(stack, now, keys, by_key)}
        # Then 1 % of the chains lose their message: their next poll is long overdue.
        lost_items = [
            record_to_item(_in_flight(index, now, rng, lost=True)) for index in rng.sample(range(records), lost)
        ]
        _write(stack, lost_items)
        by_key.update({(item["taskId"], item["vendor"]): item for item in lost_items})
        progress(f"watchdog: a run with {lost} lost chains")
        results["one_percent_lost"] = {"lost_chains": lost, **_run(stack, now, keys, by_key)}
    prices = Prices()
    healthy = results["healthy"]
    gb_seconds = LAMBDA_MEMORY_MB / 1024 * max(healthy["estimated_lambda_seconds"], 0.001)
    results["healthy_month_usd"] = round(
        RUNS_PER_MONTH
        * (
            healthy["index_read_units"] * prices.dynamodb_per_million_read_units / 1e6
            + prices.lambda_per_million_requests / 1e6
            + gb_seconds * prices.lambda_arm_per_gb_second
        ),
        4,
    )
    results["runs_per_month"] = RUNS_PER_MONTH
    results["index"] = _index_writes_per_poll()
    results["template_watchdog_schedule_minutes"] = template_defaults()["WatchdogScheduleMinutes"]
    return results
