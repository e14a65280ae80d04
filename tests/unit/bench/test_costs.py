"""Cost arithmetic: DynamoDB item sizes and request units, usage per task, dollars per million tasks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bench.costs import (
    LAMBDA_PLATFORM_LOG_BYTES,
    LambdaModel,
    Prices,
    Regime,
    TaskUsage,
    attribute_value_size,
    cost_per_million_tasks,
    cost_section,
    item_size,
    put_write_units,
    read_units,
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


def test_put_units_include_both_indexes() -> None:
    # A new item: one write on the table, one per index
    assert put_write_units(None, 900, index_key_changed=True, indexes=2) == 3
    # Same status (index keys unchanged): the entries are updated in place
    assert put_write_units(900, 950, index_key_changed=False, indexes=2) == 3
    # Status changed: each index deletes the old entry and puts the new one
    assert put_write_units(900, 950, index_key_changed=True, indexes=2) == 5
    # A write that crosses 1 KB costs the larger size on the table
    assert put_write_units(900, 1100, index_key_changed=False, indexes=2) == 2 + 2 * 2


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
