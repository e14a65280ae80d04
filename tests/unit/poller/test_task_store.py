"""TaskStore on DynamoDB (moto in-process): consistent reads and generation-fenced writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from devstack.resources import ProvisionedStack
from tests.support.records import every_field_set
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.status import TERMINAL_STATUSES, TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.store.task_store import StoreError, TaskStore, WriteResult

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RECORD = pending_record(
    "task-1", Vendor.TENCENT, now=NOW, first_seen_at=to_iso(NOW), deadline_at=to_iso(NOW + timedelta(days=1))
)


@pytest.fixture
def store(task_store: TaskStore) -> TaskStore:
    """The tasks table as the poller writes it."""
    return task_store


def test_a_missing_record_reads_as_none(store: TaskStore) -> None:
    assert store.get("task-1", Vendor.TENCENT) is None


def test_a_new_record_is_created_once(store: TaskStore) -> None:
    assert store.put(RECORD, expected_generation=None) is WriteResult.WRITTEN
    assert store.put(replace(RECORD, status=TaskStatus.WAITING), expected_generation=None) is WriteResult.SUPERSEDED
    assert store.get("task-1", Vendor.TENCENT) == RECORD


def test_the_same_task_id_is_a_separate_record_per_vendor(store: TaskStore) -> None:
    store.put(RECORD, expected_generation=None)
    huawei = replace(RECORD, vendor=Vendor.HUAWEI, status=TaskStatus.WAITING)
    assert store.put(huawei, expected_generation=None) is WriteResult.WRITTEN
    assert store.get("task-1", Vendor.HUAWEI) == huawei
    assert store.get("task-1", Vendor.TENCENT) == RECORD


def test_a_write_applies_only_at_the_expected_generation(store: TaskStore) -> None:
    store.put(replace(RECORD, generation=3), expected_generation=None)
    advanced = replace(RECORD, generation=4, status=TaskStatus.PROCESSING, poll_count=1)
    assert store.put(advanced, expected_generation=2) is WriteResult.SUPERSEDED
    assert store.put(advanced, expected_generation=3) is WriteResult.WRITTEN
    assert store.put(replace(advanced, generation=5), expected_generation=3) is WriteResult.SUPERSEDED
    assert store.get("task-1", Vendor.TENCENT) == advanced


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_a_terminal_record_is_never_overwritten(store: TaskStore, terminal: TaskStatus) -> None:
    final = replace(RECORD, generation=4, status=terminal, completed_at="2026-11-23T13:00:00.000Z")
    store.put(final, expected_generation=None)
    assert store.put(replace(RECORD, generation=5, status=TaskStatus.PROCESSING), 4) is WriteResult.SUPERSEDED
    assert store.put(replace(RECORD, generation=5, status=TaskStatus.SUCCEEDED), 4) is WriteResult.SUPERSEDED
    assert store.get("task-1", Vendor.TENCENT) == final


def test_every_field_survives_the_round_trip(store: TaskStore) -> None:
    # Given a record with every declared field set (a new field is covered without being listed here)
    full = replace(every_field_set(TaskRecord), extra={"futureAttribute": "kept"})
    store.put(full, expected_generation=None)
    assert store.get(full.task_id, full.vendor) == full


def test_dynamodb_failures_other_than_the_condition_are_store_errors(
    store: TaskStore, moto_stack: ProvisionedStack
) -> None:
    boto3.client("dynamodb").delete_table(TableName=moto_stack.table_names["TasksTable"])
    with pytest.raises(StoreError, match="ResourceNotFoundException"):
        store.get("task-1", Vendor.TENCENT)
    with pytest.raises(StoreError, match="ResourceNotFoundException"):
        store.put(RECORD, expected_generation=None)


def _operations(store: TaskStore, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every DynamoDB call the store makes from now on, with its parameters."""
    calls: list[tuple[str, dict[str, Any]]] = []
    original = store.client._make_api_call  # type: ignore[attr-defined]

    def spy(operation: str, params: dict[str, Any]) -> Any:
        calls.append((operation, params))
        return original(operation, params)

    monkeypatch.setattr(store.client, "_make_api_call", spy)
    return calls


def test_a_write_after_a_consistent_read_sends_only_what_changed(
    store: TaskStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stored record with a raw block and an attribute this version does not know
    stored = replace(RECORD, generation=3, raw={"Status": 1}, message="queued", extra={"futureAttribute": "kept"})
    store.put(stored, expected_generation=None)
    calls = _operations(store, monkeypatch)
    # When a poll reads it and writes the next generation with one field changed and one cleared
    read = store.get("task-1", Vendor.TENCENT)
    assert read is not None
    polled = replace(read, generation=4, poll_count=1, message=None)
    assert store.put(polled, expected_generation=3) is WriteResult.WRITTEN
    # Then the write is an UpdateItem of those attributes alone (the raw block is not sent again)
    operation, params = calls[-1]
    assert operation == "UpdateItem"
    # (the fence names the generation and the status; the update sets two attributes and removes one)
    assert set(params["ExpressionAttributeNames"].values()) == {"generation", "status", "pollCount", "message"}
    assert "REMOVE" in params["UpdateExpression"]
    assert store.get("task-1", Vendor.TENCENT) == polled


def test_a_write_that_changes_nothing_still_moves_the_fence(store: TaskStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.put(replace(RECORD, generation=3), expected_generation=None)
    read = store.get("task-1", Vendor.TENCENT)
    assert read is not None
    calls = _operations(store, monkeypatch)
    assert store.put(replace(read, generation=4), expected_generation=3) is WriteResult.WRITTEN
    assert [operation for operation, _ in calls] == ["UpdateItem"]
    # the copy of the message that read the same generation is fenced off
    assert store.put(replace(read, generation=4, poll_count=9), expected_generation=3) is WriteResult.SUPERSEDED
    assert store.get("task-1", Vendor.TENCENT) == replace(read, generation=4)


def test_an_update_is_fenced_like_a_put(store: TaskStore) -> None:
    # Given a record read at generation 3 that another writer then moves to a terminal generation 4
    store.put(replace(RECORD, generation=3), expected_generation=None)
    read = store.get("task-1", Vendor.TENCENT)
    assert read is not None
    final = replace(read, generation=4, status=TaskStatus.SUCCEEDED)
    assert TaskStore(store.table_name).put(final, expected_generation=3) is WriteResult.WRITTEN
    # When the first reader writes on what it read, the fence refuses it and the terminal record stays
    assert store.put(replace(read, generation=4, status=TaskStatus.PROCESSING), 3) is WriteResult.SUPERSEDED
    assert store.get("task-1", Vendor.TENCENT) == final


def test_a_write_without_a_read_at_its_generation_puts_the_whole_item(
    store: TaskStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put(replace(RECORD, generation=3), expected_generation=None)
    assert store.get("task-1", Vendor.TENCENT, consistent=False) is not None  # a shown read is not remembered
    calls = _operations(store, monkeypatch)
    advanced = replace(RECORD, generation=4, status=TaskStatus.PROCESSING)
    assert store.put(advanced, expected_generation=3) is WriteResult.WRITTEN
    assert [operation for operation, _ in calls] == ["PutItem"]
    assert store.get("task-1", Vendor.TENCENT) == advanced


def test_every_field_survives_an_update(store: TaskStore) -> None:
    # Given a stored record with no optional field set, read consistently
    store.put(RECORD, expected_generation=None)
    assert store.for_task(RECORD.task_id, consistent=True) == [RECORD]
    # When every declared field changes in one write, every one lands
    full = replace(every_field_set(TaskRecord), task_id=RECORD.task_id, vendor=RECORD.vendor, generation=1)
    assert store.put(full, expected_generation=0) is WriteResult.WRITTEN
    assert store.get(full.task_id, full.vendor) == full
