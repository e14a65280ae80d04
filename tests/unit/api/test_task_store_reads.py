"""The task store as the read API uses it: by key, by TaskId, by status (the status index), registration writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.support.api_events import make_record
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.store.task_store import LISTING_QUERY_ROUNDS, StoreError, TaskStore

Seed = Callable[..., TaskRecord]


def test_get_returns_the_record_or_none(queries: TaskStore, seed: Seed) -> None:
    stored = seed(make_record("t-1", Vendor.HUAWEI, raw={"a": 1.5}))
    assert queries.get("t-1", Vendor.HUAWEI) == stored
    assert queries.get("t-1", Vendor.TENCENT) is None


def test_for_task_queries_the_partition_ordered_by_vendor(queries: TaskStore, seed: Seed) -> None:
    seed(make_record("t-1", Vendor.TENCENT), make_record("t-1", Vendor.HUAWEI), make_record("t-2"))
    assert [(r.task_id, r.vendor) for r in queries.for_task("t-1")] == [("t-1", Vendor.HUAWEI), ("t-1", Vendor.TENCENT)]
    assert queries.for_task("t-3") == []


def test_by_status_pages_newest_first_without_a_scan(
    queries: TaskStore, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    for minute in range(5):
        seed(make_record(f"t-{minute}", changed_at=f"2026-11-23T10:0{minute}:00.000Z"))
    calls: list[str] = []
    original = queries.client._make_api_call  # type: ignore[attr-defined]

    def spy(operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return original(operation, params)

    monkeypatch.setattr(queries.client, "_make_api_call", spy)
    first = queries.by_status(TaskStatus.PROCESSING, None, 3)
    second = queries.by_status(TaskStatus.PROCESSING, None, 3, first.last_key)
    assert [r.task_id for r in first.records] == ["t-4", "t-3", "t-2"]
    assert [r.task_id for r in second.records] == ["t-1", "t-0"]
    assert second.last_key is None
    assert first.last_key is not None
    assert all(isinstance(v, str) for v in first.last_key.values())
    # The indexes hold keys only: each page is one index Query and one BatchGetItem of its records
    assert calls == ["Query", "BatchGetItem", "Query", "BatchGetItem"]


def test_by_status_with_a_vendor_filters_the_status_index(queries: TaskStore, seed: Seed) -> None:
    seed(make_record("t-1", Vendor.TENCENT), make_record("t-2", Vendor.HUAWEI))
    page = queries.by_status(TaskStatus.PROCESSING, Vendor.HUAWEI, 10)
    assert [r.task_id for r in page.records] == ["t-2"]
    assert page.last_key is None


def _alternating_vendors(seed: Seed, count: int) -> None:
    """``count`` PROCESSING records, newest first t-<count-1> .. t-0, Huawei at even numbers."""
    for n in range(count):
        vendor = Vendor.HUAWEI if n % 2 == 0 else Vendor.TENCENT
        seed(make_record(f"t-{n:02d}", vendor, changed_at=f"2026-11-23T10:{n:02d}:00.000Z"))


def test_a_vendor_page_is_filled_across_index_queries_and_continues_after_its_last_record(
    queries: TaskStore, seed: Seed
) -> None:
    # Given Huawei and Tencent records interleaved in the index
    _alternating_vendors(seed, 12)
    # When Huawei's records are listed three at a time
    pages = [queries.by_status(TaskStatus.PROCESSING, Vendor.HUAWEI, 3)]
    while pages[-1].last_key is not None:
        pages.append(queries.by_status(TaskStatus.PROCESSING, Vendor.HUAWEI, 3, pages[-1].last_key))
    # Then every page but the last is full (the filter runs after DynamoDB's Limit, so each page took more
    # than one Query), no page holds more, and together they list each Huawei record once, newest first
    sizes = [len(page.records) for page in pages]
    assert sizes[:2] == [3, 3]
    assert all(size <= 3 for size in sizes)
    listed = [r.task_id for page in pages for r in page.records]
    assert listed == ["t-10", "t-08", "t-06", "t-04", "t-02", "t-00"]


def test_a_vendor_page_stops_after_its_query_bound_and_says_where_to_go_on(
    queries: TaskStore, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given many Tencent records newer than the only Huawei one
    seed(make_record("t-huawei", Vendor.HUAWEI, changed_at="2026-11-23T09:00:00.000Z"))
    for n in range(LISTING_QUERY_ROUNDS + 2):
        seed(make_record(f"t-{n:02d}", Vendor.TENCENT, changed_at=f"2026-11-23T10:{n:02d}:00.000Z"))
    queried: list[int] = []
    original = queries.client._make_api_call  # type: ignore[attr-defined]

    def count(operation: str, params: dict[str, Any]) -> Any:
        if operation == "Query":
            queried.append(params["Limit"])
        return original(operation, params)

    monkeypatch.setattr(queries.client, "_make_api_call", count)
    # When a page of one Huawei record is asked for
    first = queries.by_status(TaskStatus.PROCESSING, Vendor.HUAWEI, 1)
    # Then it read at most its bound of index Queries, returned empty with a token, and the token leads on
    assert (first.records, len(queried)) == ((), LISTING_QUERY_ROUNDS)
    assert first.last_key is not None
    second = queries.by_status(TaskStatus.PROCESSING, Vendor.HUAWEI, 1, first.last_key)
    assert [r.task_id for r in second.records] == ["t-huawei"]


def test_a_listed_record_that_left_the_status_is_left_out_of_its_page(
    queries: TaskStore, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three records in the index, one of which a writer moves on between the index read and the table
    # read (simulated by changing the item right after the index Query)
    for minute in range(3):
        seed(make_record(f"t-{minute}", changed_at=f"2026-11-23T10:0{minute}:00.000Z"))
    original = queries.client._make_api_call  # type: ignore[attr-defined]

    def move_on_after_query(operation: str, params: dict[str, Any]) -> Any:
        response = original(operation, params)
        if operation == "Query":
            seed(make_record("t-1", status=TaskStatus.SUCCEEDED, changed_at="2026-11-23T10:05:00.000Z"))
        return response

    monkeypatch.setattr(queries.client, "_make_api_call", move_on_after_query)
    page = queries.by_status(TaskStatus.PROCESSING, None, 3)
    assert [r.task_id for r in page.records] == ["t-2", "t-0"]


def test_keys_the_table_keeps_leaving_unprocessed_fail_the_listing(
    queries: TaskStore, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(make_record("t-1"))
    original = queries.client._make_api_call  # type: ignore[attr-defined]

    def throttle_batch_gets(operation: str, params: dict[str, Any]) -> Any:
        if operation == "BatchGetItem":
            return {"Responses": {}, "UnprocessedKeys": params["RequestItems"]}
        return original(operation, params)

    monkeypatch.setattr(queries.client, "_make_api_call", throttle_batch_gets)
    with pytest.raises(StoreError, match="unprocessed"):
        queries.by_status(TaskStatus.PROCESSING, None, 3)


def test_put_new_writes_once(queries: TaskStore) -> None:
    record = make_record("t-1", status=TaskStatus.PENDING, generation=0)
    assert queries.put_new(record) is True
    assert queries.put_new(make_record("t-1", status=TaskStatus.FAILED)) is False
    assert queries.get("t-1", Vendor.TENCENT, consistent=True) == record


def test_failures_become_task_store_errors(moto_stack: object) -> None:
    queries = TaskStore("missing-table", boto3.client("dynamodb"))
    for call in (
        lambda: queries.get("t", Vendor.TENCENT),
        lambda: queries.for_task("t"),
        lambda: queries.by_status(TaskStatus.FAILED, None, 1),
        lambda: queries.put_new(make_record("t")),
    ):
        with pytest.raises(StoreError) as caught:
            call()
        assert caught.value.reason == "ResourceNotFoundException"
