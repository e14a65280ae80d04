"""The overload benchmark's DynamoDB model applies the limiter's real conditional writes exactly, so the
benchmark keeps measuring the real limiter when its expressions change (they did once, unnoticed)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from bench import overload
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
        instances=5,
        batch_size=10,
        batching_window_seconds=1.0,
        register_seconds=2.0,
        warmup_seconds=2.0,
        measure_seconds=5.0,
    )
    assert raw["code_6_calls"] == 0
    assert raw["busiest_second_all_calls"] <= overload.CEILING
    assert raw["calls"] >= 5 * 15
