"""The overload benchmark's DynamoDB model applies the limiter's real conditional writes exactly, so the
benchmark keeps measuring the real limiter when its expressions change (they did once, unnoticed)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from bench import overload
from bench.common import template_defaults
from bench.overload import BudgetTable, Clocked, VirtualClock
from botocore.exceptions import ClientError

from zego_media_tasks.domain.call_budget import BudgetPolicy
from zego_media_tasks.store.rate_limiter import Permit, RateLimiter, bucket_for_app


def _table() -> BudgetTable:
    clocked = Clocked()
    clocked.clock = VirtualClock(100.0)
    return BudgetTable(clocked)


def _update(table: BudgetTable, update: str, condition: str, values: dict[str, int]) -> dict[str, object]:
    return table.update_item(
        Key={"bucket": {"S": "b"}},
        UpdateExpression=update,
        ConditionExpression=condition,
        ExpressionAttributeNames={"#tat": "tat", "#cutAt": "cutAt"},
        ExpressionAttributeValues={name: {"N": str(value)} for name, value in values.items()},
    )


def test_a_condition_is_evaluated_and_a_failed_one_returns_the_old_item() -> None:
    table = _table()
    assert _update(
        table, "SET #tat = :next", "attribute_not_exists(#tat) OR #tat <= :lead", {":next": 5, ":lead": 1}
    ) == {"Attributes": {}}
    assert _update(
        table, "SET #tat = #tat + :i", "#tat > :lead AND #tat <= :limit", {":i": 3, ":lead": 1, ":limit": 9}
    )["Attributes"] == {"bucket": {"S": "b"}, "tat": {"N": "5"}}
    assert table.items["b"]["tat"] == {"N": "8"}
    with pytest.raises(ClientError) as refused:
        _update(
            table,
            "SET #tat = :next",
            "(attribute_not_exists(#cutAt) OR #cutAt = :c) AND #tat <= :lead",
            {
                ":next": 1,
                ":c": 0,
                ":lead": 2,
            },
        )
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert refused.value.response["Item"]["tat"] == {"N": "8"}  # type: ignore[typeddict-item]
    assert table.items["b"]["tat"] == {"N": "8"}


def test_an_expression_outside_the_modelled_language_fails_loudly() -> None:
    with pytest.raises(ValueError, match="cannot parse"):
        _update(_table(), "REMOVE #tat", "attribute_exists(#tat)", {})


def test_the_real_limiter_hands_out_slots_one_interval_apart_through_the_model() -> None:
    table = _table()
    client: Any = table  # the model answers the one call the limiter makes
    limiter = RateLimiter(
        "budget", bucket_for_app(1), policy=BudgetPolicy(ceiling_per_second=20), clock=table.clocked, client=client
    )
    permits = [limiter.acquire() for _ in range(4)]
    assert all(isinstance(permit, Permit) for permit in permits)
    slots = [permit.slot_epoch_ms for permit in permits if isinstance(permit, Permit)]
    gaps = {later - earlier for earlier, later in itertools.pairwise(slots)}
    assert gaps == {52}  # 1.04 s / 20, in whole milliseconds


def test_a_short_overload_run_calls_zego_at_the_budget_without_code_6() -> None:
    raw = overload.simulate(
        tasks=300,
        sizing=overload.Sizing(instances=5),
        register_seconds=2.0,
        warmup_seconds=2.0,
        measure_seconds=5.0,
    )
    assert raw["code_6_calls"] == 0
    assert raw["busiest_second_all_calls"] <= overload.CEILING
    assert raw["calls"] >= 5 * 15


def test_the_model_runs_the_fleet_the_template_deploys() -> None:
    defaults = template_defaults()
    sizing = overload.Sizing.from_template(cpu_seconds_per_record=0.02)
    assert sizing.instances == int(defaults["PollMaxConcurrency"])
    assert sizing.batch_size == int(defaults["PollBatchSize"])
    assert sizing.memory_mb == int(defaults["PollerMemorySize"])
    # A record's CPU stretches with the function's share of a vCPU (one at 1,769 MB), never shrinks below it
    assert overload.Sizing(instances=2, memory_mb=256, cpu_seconds_per_record=0.02).record_cpu_seconds == (
        pytest.approx(0.02 * 1769 / 256)
    )
    assert overload.Sizing(instances=2, memory_mb=3008, cpu_seconds_per_record=0.02).record_cpu_seconds == 0.02


def test_a_records_cpu_moves_the_virtual_clock_before_its_calls() -> None:
    # Given a fleet whose records take 0.5 s of CPU each, and one message due now
    fleet = overload.Fleet.build(overload.SEED, None, overload.Sizing(instances=1, cpu_seconds_per_record=0.5))
    fleet.queue.put('{"TaskId": "load-00001", "Vendor": "Tencent"}', 0.0)
    message = fleet.queue.receive(0.0, 1)[0]
    # When it is handled at t = 10 s
    _result, clock = fleet.handle(message, 10.0, 1)
    # Then ZEGO saw the call only after the CPU time
    assert fleet.zego.arrivals
    assert fleet.zego.arrivals[0][0] >= 10.5
    assert clock.t > 10.5
