"""Cost arithmetic: DynamoDB item sizes and request units, usage per task, dollars per million tasks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from bench.costs import (
    LAMBDA_PLATFORM_LOG_BYTES,
    PRICE_SOURCES,
    SERVICES,
    IndexShape,
    LambdaModel,
    Prices,
    PublisherModel,
    Regime,
    SmallFunction,
    TaskUsage,
    attribute_value_size,
    billed_events,
    by_service,
    cost_per_million_tasks,
    cost_section,
    event_cost_per_million_tasks,
    event_cost_section,
    event_usage,
    index_shapes,
    index_write_units,
    item_size,
    item_write_units,
    pipeline_section,
    put_events_entry_bytes,
    read_units,
    records_per_invocation,
    small_function_cost,
    task_usage,
    write_units,
)


def test_attribute_sizes_follow_dynamodbs_rules() -> None:
    assert attribute_value_size("abc") == 3
    assert attribute_value_size("é") == 2  # UTF-8 bytes
    assert attribute_value_size(None) == 1
    assert attribute_value_size(True) == 1
    assert attribute_value_size(7) == 2  # one digit: ceil(1/2) + 1
    assert attribute_value_size(123456) == 4  # six digits: 3 + 1
    assert attribute_value_size(Decimal("1.50")) == 2  # trailing zero trimmed: "15"
    assert attribute_value_size(["ab", "c"]) == 3 + (1 + 2) + (1 + 1)
    assert attribute_value_size({"k": "vv"}) == 3 + (1 + 1 + 2)


def test_item_size_counts_names_and_values() -> None:
    assert item_size({"taskId": "abc", "generation": 12}) == (6 + 3) + (10 + 2)


def test_units_round_up_per_kilobyte_and_per_four_kilobytes() -> None:
    assert write_units(0) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert read_units(4096, consistent=True) == 1.0
    assert read_units(4097, consistent=True) == 2.0
    assert read_units(100, consistent=False) == 0.5


BY_STATUS_ALL = IndexShape("ByStatus", ("status", "statusChangedAt"))
BY_STATUS_KEYS = IndexShape("ByStatus", ("status", "statusChangedAt"), "KEYS_ONLY")
WATCH = IndexShape("ByWatchAt", ("watchShard", "watchAt"), "KEYS_ONLY")


def _item(status: str = "PROCESSING", polls: int = 1, padding: int = 800, **extra: object) -> dict[str, object]:
    return {
        "taskId": "t",
        "vendor": "Tencent",
        "status": status,
        "statusChangedAt": "2026-11-23T12:00:00.000Z",
        "pollCount": polls,
        "rawJson": "x" * padding,
        **extra,
    }


def test_an_index_projecting_everything_is_rewritten_by_every_write() -> None:
    # A new item: one put of the entry; another poll: one update; a status change: a delete and a put
    assert index_write_units(None, _item(), BY_STATUS_ALL) == 1
    assert index_write_units(_item(), _item(polls=2), BY_STATUS_ALL) == 1
    assert index_write_units(_item(), _item("SUCCEEDED", polls=2), BY_STATUS_ALL) == 2
    assert index_write_units(_item(padding=1500), _item(padding=1500, polls=2), BY_STATUS_ALL) == 2  # 2 KB entries


def test_a_keys_only_index_is_written_only_when_its_keys_move() -> None:
    assert index_write_units(None, _item(), BY_STATUS_KEYS) == 1
    assert index_write_units(_item(), _item(polls=2, padding=5000), BY_STATUS_KEYS) == 0
    assert index_write_units(_item(), _item("SUCCEEDED"), BY_STATUS_KEYS) == 2  # small entries, 1 unit each


def test_a_sparse_index_costs_one_write_when_an_entry_appears_or_goes() -> None:
    assert index_write_units(_item(), _item(), WATCH) == 0  # neither carries the index keys
    watched = _item(watchShard="1", watchAt=100)
    assert index_write_units(_item(), watched, WATCH) == 1
    assert index_write_units(watched, _item("SUCCEEDED"), WATCH) == 1
    assert index_write_units(watched, _item(watchShard="1", watchAt=200), WATCH) == 2


def test_a_write_costs_the_larger_item_on_the_table_plus_its_index_writes() -> None:
    assert item_write_units(None, _item(), [BY_STATUS_ALL, WATCH]) == 1 + 1
    assert item_write_units(_item(padding=900), _item(padding=1100), [BY_STATUS_KEYS]) == 2
    assert item_write_units(_item(padding=1100), _item("SUCCEEDED", padding=100), [BY_STATUS_KEYS]) == 2 + 2


def test_the_index_shapes_are_read_from_the_templates_table() -> None:
    table = {
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "ByStatus",
                "KeySchema": [{"AttributeName": "status"}, {"AttributeName": "statusChangedAt"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["pollCount"]},
            }
        ]
    }
    [shape] = index_shapes(table)
    assert shape == IndexShape("ByStatus", ("status", "statusChangedAt"), "INCLUDE", ("pollCount",))
    # an included attribute that changes rewrites the entry; one outside it does not
    assert index_write_units(_item(), _item(polls=2), shape) == 1
    assert index_write_units(_item(), _item(padding=10), shape) == 0


def test_a_small_function_is_priced_per_invocation_and_per_unit() -> None:
    prices = Prices()
    callback = SmallFunction(1024, 0.1, read_units=1, write_units=6, api_requests=1, log_bytes=700)
    costs = small_function_cost(callback, 0.5, prices)
    assert costs["api_gateway"] == pytest.approx(0.5 * prices.api_gateway_rest_per_million_requests)
    assert costs["dynamodb"] == pytest.approx(
        0.5 * (6 * prices.dynamodb_per_million_write_units + prices.dynamodb_per_million_read_units)
    )
    gb_seconds = 0.5 * 0.1 * 1.0 * 1_000_000
    assert costs["lambda"] == pytest.approx(
        0.5 * prices.lambda_per_million_requests + gb_seconds * prices.lambda_arm_per_gb_second
    )
    log_bytes = 0.5 * (700 + LAMBDA_PLATFORM_LOG_BYTES) * 1_000_000
    assert costs["cloudwatch_logs"] == pytest.approx(log_bytes / 1e9 * prices.cloudwatch_logs_per_gb)


def test_the_breakdown_adds_every_part_to_its_service() -> None:
    poller = {
        "sqs": 1.0,
        "lambda_requests": 2.0,
        "lambda_duration": 3.0,
        "dynamodb_writes": 4.0,
        "dynamodb_reads": 0.5,
        "cloudwatch_logs": 0.25,
    }
    publisher = {"stream": 0.0, "publisher_lambda": 1.0, "publisher_logs": 0.5, "put_events": 3.0}
    extra = dict.fromkeys(SERVICES, 0.0) | {"api_gateway": 3.15, "lambda": 0.5}
    row = by_service(poller, publisher, extra)
    assert row == {
        "sqs": 1.0,
        "lambda": 6.5,
        "dynamodb": 4.5,
        "api_gateway": 3.15,
        "eventbridge": 3.0,
        "cloudwatch_logs": 0.75,
        "total": 18.9,
    }


def test_lambda_model_scales_cpu_to_the_memory_share() -> None:
    model = LambdaModel(
        memory_mb=512, cpu_seconds_per_record=0.001, io_seconds_per_record=0.2, invocation_overhead_seconds=0.01
    )
    assert model.cpu_scale() == pytest.approx(1769 / 512)
    assert model.invocation_seconds(10, 0.05) == pytest.approx(0.01 + 10 * (0.001 * 1769 / 512 + 0.2 + 0.05))
    big = LambdaModel(
        memory_mb=3008, cpu_seconds_per_record=0.001, io_seconds_per_record=0, invocation_overhead_seconds=0
    )
    assert big.cpu_scale() == 1.0  # more than one vCPU does not make one thread faster


def io_bound_lambda(memory_mb: int, io_seconds_per_record: float) -> LambdaModel:
    """A poller that only waits (no CPU, no per-invocation overhead): its duration is its I/O."""
    return LambdaModel(
        memory_mb=memory_mb,
        cpu_seconds_per_record=0,
        io_seconds_per_record=io_seconds_per_record,
        invocation_overhead_seconds=0,
    )


def usage_of_task(polls: int, regime: Regime, lambda_model: LambdaModel) -> TaskUsage:
    """The usage of a task whose item is read in 1 unit and written in 3, at registration and at each poll."""
    return task_usage(
        polls=polls,
        registration_read_units=1,
        registration_write_units=3,
        poll_read_units=1,
        poll_write_units=3,
        regime=regime,
        lambda_model=lambda_model,
    )


def test_task_usage_counts_requests_per_task() -> None:
    # Given a task polled 10 times in full batches, 2 limiter writes per call
    regime = Regime("backlog", records_per_invocation=10, limiter_writes_per_call=2, limiter_wait_seconds=0.0)
    usage = usage_of_task(10, regime, io_bound_lambda(memory_mb=1024, io_seconds_per_record=0.1))
    # Then: 10 sends (registration + 9 re-enqueues), one receive and one delete per invocation
    assert usage.sqs_requests == 12
    assert usage.lambda_invocations == 1
    assert usage.lambda_gb_seconds == pytest.approx(1.0 * 1.0)  # 1 s at 1 GB
    assert usage.read_units == 1 + 10
    assert usage.write_units == 3 + 10 * (3 + 2)
    assert usage.zego_calls == 10


def test_cost_per_million_tasks_is_usage_times_price() -> None:
    # Given a task polled 5 times, one record per invocation, 0.2 s each at 512 MB
    regime = Regime(
        "quiet",
        records_per_invocation=1,
        limiter_writes_per_call=1,
        limiter_wait_seconds=0.0,
        log_bytes_per_record=1000,
    )
    usage = usage_of_task(5, regime, io_bound_lambda(memory_mb=512, io_seconds_per_record=0.2))
    prices = Prices(
        sqs_per_million_requests=0.4,
        lambda_per_million_requests=0.2,
        lambda_arm_per_gb_second=0.00001,
        dynamodb_per_million_write_units=1.0,
        dynamodb_per_million_read_units=0.5,
        cloudwatch_logs_per_gb=0.5,
    )
    costs = cost_per_million_tasks(usage, prices)
    assert costs["sqs"] == pytest.approx((5 + 2 * 5) * 0.4)
    assert costs["lambda_requests"] == pytest.approx(5 * 0.2)
    assert costs["lambda_duration"] == pytest.approx(5 * 0.2 * 0.5 * 1_000_000 * 0.00001)
    assert costs["dynamodb_writes"] == pytest.approx(3 + 5 * (3 + 1))
    assert costs["dynamodb_reads"] == pytest.approx((1 + 5) * 0.5)
    # 5 records of 1,000 B plus Lambda's own lines for 5 invocations, per task, for a million tasks
    assert costs["cloudwatch_logs"] == pytest.approx(
        (5 * 1000 + 5 * LAMBDA_PLATFORM_LOG_BYTES) * 1e6 / 1e9 * 0.5, abs=0.01
    )
    assert costs["total"] == pytest.approx(sum(v for k, v in costs.items() if k != "total"), abs=0.02)


def test_cost_section_covers_every_schedule_and_regime() -> None:
    schedules = {
        name: {
            "all": {
                "calls_per_task": {"mean": calls},
                "registration_write_units": 3,
                "read_units_per_poll": 1.0,
                "write_units_per_poll": 3.2,
            }
        }
        for name, calls in (("default", 13.0), ("fixed 10 s", 50.0))
    }
    section = cost_section(
        schedules,
        memory_mb=512,
        cpu_seconds_per_record=0.01,
        invocation_overhead_seconds=0.001,
        limiter_wait_seconds=0.1,
    )
    assert set(section["per_schedule"]) == {"default", "fixed 10 s"}
    default = section["per_schedule"]["default"]
    assert set(default) == {"backlog", "quiet"}
    # More polls cost more, whatever the regime
    for regime in ("backlog", "quiet"):
        assert (
            section["per_schedule"]["fixed 10 s"][regime]["usd_per_million_tasks"]["total"]
            > default[regime]["usd_per_million_tasks"]["total"]
        )
    # Full batches need a tenth of the invocations
    assert default["backlog"]["usage_per_task"]["lambda_invocations"] == pytest.approx(1.3)
    assert default["quiet"]["usage_per_task"]["lambda_invocations"] == pytest.approx(13.0)
    assert section["price_sources"]["dynamodb"].startswith("https://aws.amazon.com/")


# --- state-change events ---------------------------------------------------------------------------


def test_the_event_prices_are_the_published_ones_with_their_sources() -> None:
    prices = Prices()
    assert prices.eventbridge_per_million_events == 1.00
    assert prices.dynamodb_streams_lambda_reads_per_million == 0.0  # a Lambda trigger's reads are free
    assert PRICE_SOURCES["eventbridge"] == "https://aws.amazon.com/eventbridge/pricing/"
    assert PRICE_SOURCES["dynamodb_streams"] == PRICE_SOURCES["dynamodb"]


def test_an_entry_counts_its_time_source_detail_type_detail_and_resources() -> None:
    entry = {
        "EventBusName": "not counted",
        "Source": "src",
        "DetailType": "type",
        "Detail": '{"k":"é"}',
        "Resources": ["arn:1", "arn:22"],
        "Time": object(),
    }
    assert put_events_entry_bytes(entry) == 14 + 3 + 4 + len('{"k":"é"}'.encode()) + 5 + 6
    assert put_events_entry_bytes({**entry, "Time": None, "Resources": []}) == 3 + 4 + 10


def test_putevents_bills_each_64_kb_chunk() -> None:
    assert billed_events(0) == 1
    assert billed_events(64 * 1024) == 1
    assert billed_events(64 * 1024 + 1) == 2
    assert billed_events(256 * 1024) == 4


def test_a_batching_window_gathers_the_writes_of_one_shard_within_one_and_a_batch() -> None:
    assert records_per_invocation(0.2, batching_window_seconds=1, batch_size=100) == 1.0  # alone
    assert records_per_invocation(27.5, batching_window_seconds=1, batch_size=100) == 27.5
    assert records_per_invocation(27.5, batching_window_seconds=1, batch_size=100, shards=4) == pytest.approx(6.875)
    assert records_per_invocation(500, batching_window_seconds=1, batch_size=100) == 100.0  # full


def publisher() -> PublisherModel:
    """A 1,024 MB publisher (CPU scaled 1,769/1,024) with round figures."""
    return PublisherModel(
        memory_mb=1024,
        cpu_seconds_per_invocation=0.001,
        cpu_seconds_per_unchanged_record=0.0002,
        cpu_seconds_per_published_record=0.002,
        put_events_seconds=0.03,
        log_bytes_per_invocation=200,
        log_bytes_per_unchanged_record=5,
        log_bytes_per_published_record=600,
    )


def test_only_published_records_wait_for_putevents() -> None:
    model = publisher()
    scale = 1769 / 1024
    # Given one invocation of 9 unchanged records and 3 published ones
    seconds = model.seconds(1, 9, 3)
    assert seconds == pytest.approx((0.001 + 9 * 0.0002 + 3 * 0.002) * scale + 3 * 0.03)
    assert model.log_bytes(1, 9, 3) == 200 + LAMBDA_PLATFORM_LOG_BYTES + 9 * 5 + 3 * 600


def test_event_usage_spreads_a_tasks_writes_over_invocations() -> None:
    # Given a task whose record is written 12 times, 3 of them changing its status
    alone = event_usage(stream_records=12, events=3, billed=3, records_per_invocation=1, model=publisher())
    batched = event_usage(stream_records=12, events=3, billed=3, records_per_invocation=100, model=publisher())
    # Then alone each write is an invocation, in full batches 0.12 of one
    assert alone.publisher_invocations == 12
    assert batched.publisher_invocations == pytest.approx(0.12)
    # and batching saves the per-invocation part only
    per_invocation = 0.001 * 1769 / 1024
    assert alone.publisher_gb_seconds - batched.publisher_gb_seconds == pytest.approx((12 - 0.12) * per_invocation)
    with pytest.raises(ValueError, match="events"):
        event_usage(stream_records=2, events=3, billed=3, records_per_invocation=1, model=publisher())


def test_event_costs_are_usage_times_price_and_the_stream_is_free() -> None:
    usage = event_usage(stream_records=12, events=3, billed=4, records_per_invocation=1, model=publisher())
    costs = event_cost_per_million_tasks(usage, Prices())
    assert costs["stream"] == 0.0
    assert costs["put_events"] == pytest.approx(4 * 1.00)  # billed events, not entries
    assert costs["publisher_lambda"] == pytest.approx(
        12 * 0.20 + usage.publisher_gb_seconds * 1e6 * Prices().lambda_arm_per_gb_second, abs=0.001
    )
    assert costs["publisher_logs"] == pytest.approx(usage.publisher_log_bytes * 1e6 / 1e9 * 0.50, abs=0.001)
    assert costs["total"] == pytest.approx(sum(v for k, v in costs.items() if k != "total"), abs=0.003)


def test_event_cost_section_prices_three_regimes_per_scenario() -> None:
    scenarios = {
        "pull_only": {"stream_records": 14.5, "events": 3, "billed_events": 3, "zego_calls": 13.5},
        "callbacks_90": {"stream_records": 9.4, "events": 3, "billed_events": 3, "zego_calls": 7.5},
    }
    section = event_cost_section(
        scenarios, model=publisher(), batch_size=100, batching_window_seconds=1, zego_calls_per_second=20
    )
    pull = section["per_scenario"]["pull_only"]
    # At 20 calls/s, 20 * 14.5 / 13.5 writes a second, gathered per one-second window
    assert pull["writes_per_second_at_zego_ceiling"] == pytest.approx(20 * 14.5 / 13.5, abs=0.01)
    assert pull["zego_ceiling"]["records_per_invocation"] == pytest.approx(21.48, abs=0.01)
    assert (pull["low_traffic"]["records_per_invocation"], pull["full_batches"]["records_per_invocation"]) == (1, 100)
    totals = [
        pull[regime]["usd_per_million_tasks"]["total"] for regime in ("low_traffic", "zego_ceiling", "full_batches")
    ]
    assert totals == sorted(totals, reverse=True)  # bigger batches, fewer invocations
    assert section["price_sources"]["eventbridge"].startswith("https://aws.amazon.com/")


PUBLISHER = {
    "memory_mb": 256,
    "cpu_seconds_per_invocation": 0.0004,
    "cpu_seconds_per_unchanged_record": 0.0002,
    "cpu_seconds_per_published_record": 0.002,
}
"""A publisher model for the pipeline tests (the events benchmark's assumptions' shape)."""
PIPELINE_DEFAULTS = {"ZegoRateLimitPerSecond": 20, "WatchdogScheduleMinutes": 5, "ApiMemorySize": 512}
"""The template defaults the pipeline section reads."""


def test_the_pipeline_section_prices_each_scenario_with_what_it_adds() -> None:
    # Given pull-only and 90 %-callbacks results of the simulation (callbacks end most tasks, fewer polls)
    def scenario(calls: float, ended: int, arrived: int) -> dict[str, object]:
        block = {
            "tasks": 100,
            "calls_per_task": {"mean": calls},
            "registration_write_units": 3,
            "read_units_per_poll": 1.0,
            "write_units_per_poll": 1.9,
        }
        extra = {"callback_read_units": 1.0, "callback_write_units": 6.5} if ended else {}
        return {"all": block, "ended_by_callback": ended, "callbacks_arrived": arrived, **extra}

    scenarios = {"pull_only": scenario(12.0, 0, 0), "callbacks_90": scenario(6.0, 88, 90)}
    poller = cost_section(
        scenarios,
        memory_mb=512,
        cpu_seconds_per_record=0.01,
        invocation_overhead_seconds=0.001,
        limiter_wait_seconds=0.1,
        log_bytes_per_record={"backlog": 1000, "quiet": 1300},
    )

    def pipeline(results: dict[str, Any], **publisher: float) -> dict[str, Any]:
        return pipeline_section(
            results,
            poller,
            publisher_assumptions={**PUBLISHER, **publisher},
            events_per_task={"pull_only": 3.0, "callbacks_90": 3.0},
            defaults=PIPELINE_DEFAULTS,
            watch_shards=4,
        )

    section = pipeline(scenarios, batch_size=100, batching_window_seconds=1.0)
    pull, callbacks = section["breakdown"]["pull_only"], section["breakdown"]["callbacks_90"]
    assert set(pull) == {"quiet+low_traffic", "backlog+zego_ceiling"}
    # Then the keys are the dearer regime pair of each scenario
    assert section["per_million_tasks_pull_only"] == max(row["total"] for row in pull.values())
    assert section["per_million_tasks_with_callbacks"] == max(row["total"] for row in callbacks.values())
    # Only the callbacks scenario pays for API Gateway; both pay 3 PutEvents per task and the watchdog
    for row in pull.values():
        assert row["api_gateway"] == 0.0
        assert row["eventbridge"] == pytest.approx(3.0)
    for row in callbacks.values():
        assert row["api_gateway"] == pytest.approx(0.9 * Prices().api_gateway_rest_per_million_requests, abs=0.01)
    assert 0 < section["pipeline_assumptions"]["watchdog_runs_per_task"] < 0.01

    # And when the publisher's filter hands it only the status changes, only those invocations are paid
    filtered = {name: {**result, "publisher_records_per_task": 3.0} for name, result in scenarios.items()}
    narrower = pipeline(filtered)
    for name in scenarios:
        every_write = section["breakdown"][name]["quiet+low_traffic"]
        changes_only = narrower["breakdown"][name]["quiet+low_traffic"]
        assert changes_only["lambda"] < every_write["lambda"]
        assert changes_only["cloudwatch_logs"] < every_write["cloudwatch_logs"]
        assert changes_only["eventbridge"] == every_write["eventbridge"]


def test_a_registration_through_the_api_pays_api_gateway_the_function_and_its_read() -> None:
    # Given the same pull-only simulation result, registered by a queue message and through POST /tasks
    block = {
        "tasks": 100,
        "calls_per_task": {"mean": 7.0},
        "registration_write_units": 0,
        "read_units_per_poll": 1.0,
        "write_units_per_poll": 2.0,
    }
    queued = {"all": block, "through_api": False, "events_per_task": 2.0}
    via_api = {"all": {**block, "registration_write_units": 2}, "through_api": True, "events_per_task": 3.0}
    scenarios = {"pull_only": queued, "pull_only_via_api": via_api}
    poller = cost_section(
        scenarios,
        memory_mb=256,
        cpu_seconds_per_record=0.02,
        invocation_overhead_seconds=0.001,
        limiter_wait_seconds=0.0,
        log_bytes_per_record={"backlog": 300, "quiet": 600},
    )
    section = pipeline_section(
        scenarios,
        poller,
        publisher_assumptions=PUBLISHER,
        events_per_task={"pull_only": 3.0},
        defaults=PIPELINE_DEFAULTS,
        watch_shards=4,
    )
    # Then the API path's key read is priced (the queued task's first read is one of its polls')
    usage = {name: poller["per_schedule"][name]["quiet"]["usage_per_task"] for name in scenarios}
    assert usage["pull_only_via_api"]["read_units"] == usage["pull_only"]["read_units"] + 1
    # And only the API path pays API Gateway (one request per task) and the API function
    queue_row = section["breakdown"]["pull_only"]["quiet+low_traffic"]
    api_row = section["breakdown"]["pull_only_via_api"]["quiet+low_traffic"]
    assert queue_row["api_gateway"] == 0.0
    assert api_row["api_gateway"] == pytest.approx(Prices().api_gateway_rest_per_million_requests, abs=0.01)
    assert api_row["lambda"] > queue_row["lambda"]
    # And each path publishes its own count of events (the simulation's), so the queue path one event less
    assert api_row["eventbridge"] - queue_row["eventbridge"] == pytest.approx(1.0, abs=0.01)
    assert section["per_million_tasks_pull_only_via_api"] > section["per_million_tasks_pull_only"]
