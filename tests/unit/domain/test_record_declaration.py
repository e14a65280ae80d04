"""The record is declared once: every declared field reaches the item, the API and the poll decision.

The records here are built *from the declaration* (``tests.support.records``): a value is made for each
declared field from its type, and each differs from the field's default, so a field the item mapping,
the API representation or the snapshot copy dropped (or a new field of a type nobody maps) fails these
tests without anyone listing it.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.records import every_field_set
from zego_media_tasks.api.models import Task, TaskLastError, task_of
from zego_media_tasks.domain.fields import camel, declared_fields
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.outcome import CallOutcome
from zego_media_tasks.domain.polling import PollContext, PollingPolicy, decide_outcome
from zego_media_tasks.domain.record import LastError, TaskRecord, pending_record
from zego_media_tasks.domain.snapshot import IDENTITY_FIELDS, TaskSnapshot
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.store.items import STORED_ATTRIBUTES, record_from_item, record_to_item

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _defaults(cls: type[Any]) -> dict[str, Any]:
    found = {}
    for item in dataclasses.fields(cls):
        if item.default is not dataclasses.MISSING:
            found[item.name] = item.default
        elif item.default_factory is not dataclasses.MISSING:
            found[item.name] = item.default_factory()
    return found


@pytest.fixture
def record() -> TaskRecord:
    full: TaskRecord = every_field_set(TaskRecord)
    return dataclasses.replace(full, extra={"futureAttribute": "kept"})


def test_the_sample_record_sets_every_declared_field_to_something_other_than_its_default(record: TaskRecord) -> None:
    defaults = _defaults(TaskRecord)
    for item in declared_fields(TaskRecord):
        assert getattr(record, item.name) not in (None, "", (), {}), item.name
        if item.name in defaults:
            assert getattr(record, item.name) != defaults[item.name], item.name


def test_every_declared_field_survives_the_item_round_trip(record: TaskRecord) -> None:
    item = record_to_item(record)
    for field in declared_fields(TaskRecord):
        assert field.stored_name in item, field.name
    assert record_from_item(item) == record


def test_every_attribute_written_is_declared_or_derived(record: TaskRecord) -> None:
    written = set(record_to_item(dataclasses.replace(record, extra={})))
    assert written == set(STORED_ATTRIBUTES)


def test_the_api_shows_every_public_field_and_no_internal_one(record: TaskRecord) -> None:
    public = [item for item in declared_fields(TaskRecord) if not item.info.internal]
    body = task_of(record).model_dump(by_alias=True, mode="json")
    assert list(body) == [item.public_name for item in public]
    assert all(body[item.public_name] is not None for item in public)
    assert not {"generation", "attempt", "expiresAt", "updatedAt", "extra", "futureAttribute"} & set(body)
    assert body["thumbnailUrls"] == list(record.thumbnail_urls)
    assert body["raw"] == dict(record.raw or {})
    assert record.last_error is not None
    assert body["lastError"] == {camel(f.name): getattr(record.last_error, f.name) for f in declared_fields(LastError)}


def test_the_api_models_are_generated_with_the_fields_documentation() -> None:
    fields = Task.model_fields
    assert fields["poll_count"].description == "DescribeMediaTask calls made for this task."
    assert fields["task_id"].alias == "taskId"
    assert set(TaskLastError.model_fields) == {f.name for f in declared_fields(LastError)}


def test_a_poll_answer_replaces_every_vendor_field(record: TaskRecord) -> None:
    snapshot: TaskSnapshot = every_field_set(TaskSnapshot)
    snapshot = dataclasses.replace(snapshot, task_id=record.task_id, vendor=record.vendor, status=TaskStatus.PROCESSING)
    stored = dataclasses.replace(record, status=TaskStatus.WAITING, completed_at=None)
    request = PollRequest(record.task_id, record.vendor, generation=stored.generation)
    poll = PollContext(stored, request, START, PollingPolicy())
    decision = decide_outcome(poll, CallOutcome.success(snapshot), random=random.Random(1))
    for item in dataclasses.fields(TaskSnapshot):
        if item.name not in IDENTITY_FIELDS:
            assert getattr(decision.record, item.name) == getattr(snapshot, item.name), item.name


def test_a_new_task_is_pending_at_generation_zero_and_due_at_once() -> None:
    record = pending_record(
        "t-1", Vendor.TENCENT, now=START, first_seen_at=to_iso(START), deadline_at=to_iso(START + timedelta(days=1))
    )
    assert (record.status, record.generation, record.attempt) == (TaskStatus.PENDING, 0, 0)
    assert record.next_poll_at == record.status_changed_at == record.updated_at == to_iso(START)
