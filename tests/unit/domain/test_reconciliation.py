"""Callbacks reconciled with the poll chain: one test per row of the table in ``domain/reconciliation.py``,
the vendor rule for the merge callback, and Huawei merges that are never polled."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.polling import (
    AWAITING_CALLBACK,
    Admission,
    PollContext,
    PollingPolicy,
    Step,
    admit,
    awaits_callback,
    decide_awaiting_callback,
)
from zego_media_tasks.domain.reconciliation import CallbackEffect, callback_vendor, decide_callback
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.snapshot import TaskSnapshot
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = PollingPolicy()
TASK = "1400341231-ComposeMedia-6fdfc967d7eb12f5e9b27f52519f1afatt0"


def _record(status: TaskStatus = TaskStatus.PROCESSING, generation: int = 5, **fields: object) -> TaskRecord:
    base = pending_record(
        TASK,
        Vendor.TENCENT,
        now=NOW - timedelta(minutes=10),
        first_seen_at=to_iso(NOW - timedelta(minutes=10)),
        deadline_at=to_iso(NOW + timedelta(hours=23)),
    )
    return replace(base, status=status, generation=generation, vendor_request_id="tc-1", **fields)  # type: ignore[arg-type]


def _callback(status: TaskStatus = TaskStatus.SUCCEEDED, vendor: Vendor = Vendor.TENCENT) -> TaskSnapshot:
    return TaskSnapshot(
        task_id=TASK,
        vendor=vendor,
        status=status,
        vendor_status="SUCCESS" if status is TaskStatus.SUCCEEDED else "FAILED",
        event="compose",
        replay_url="https://vod.example/output.mp4",
        result_code="0",
        raw={"event": "compose", "task_id": TASK},
    )


def test_a_callback_ends_a_tracked_task_one_generation_on_fenced_on_the_stored_one() -> None:
    stored = _record()
    result = decide_callback(stored, _callback(), kind=None, now=NOW, policy=POLICY)
    assert result.effect is CallbackEffect.APPLIED
    assert result.decision is not None
    record = result.decision.record
    assert (record.status, record.generation, result.decision.expected_generation) == (TaskStatus.SUCCEEDED, 6, 5)
    assert (record.completed_by, record.completed_at, record.next_poll_at) == (ChangeSource.CALLBACK, to_iso(NOW), None)
    assert record.replay_url == "https://vod.example/output.mp4"
    assert record.vendor_request_id == "tc-1"  # what polling found and the callback does not bring is kept
    assert record.expires_at is not None


def test_the_chains_queued_message_then_stops_without_a_call() -> None:
    stored = _record(generation=5)
    result = decide_callback(stored, _callback(), kind=None, now=NOW, policy=POLICY)
    assert result.decision is not None
    queued = PollRequest(TASK, Vendor.TENCENT, generation=5)
    assert admit(result.decision.record, queued) is Admission.TERMINAL


@pytest.mark.parametrize("terminal", [TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.TIMED_OUT])
def test_a_late_duplicate_or_contrary_callback_after_the_end_changes_nothing(terminal: TaskStatus) -> None:
    stored = _record(status=terminal)
    for evidence in (_callback(TaskStatus.SUCCEEDED), _callback(TaskStatus.FAILED)):
        result = decide_callback(stored, evidence, kind=None, now=NOW, policy=POLICY)
        assert (result.effect, result.decision) == (CallbackEffect.ALREADY_TERMINAL, None)


def test_a_callback_for_a_task_nobody_registered_creates_it_already_terminal() -> None:
    result = decide_callback(None, _callback(TaskStatus.FAILED), kind=TaskKind.MERGE, now=NOW, policy=POLICY)
    assert result.effect is CallbackEffect.CREATED
    assert result.decision is not None
    record = result.decision.record
    assert result.decision.expected_generation is None  # created only if still absent
    assert (record.status, record.generation, record.kind) == (TaskStatus.FAILED, 1, TaskKind.MERGE)
    assert record.first_seen_at == record.completed_at == to_iso(NOW)
    assert result.decision.transition is not None
    assert result.decision.transition.from_status is None


def test_a_non_terminal_status_is_not_a_completion_callback() -> None:
    with pytest.raises(ValueError, match="terminal"):
        decide_callback(None, _callback(TaskStatus.PROCESSING), kind=None, now=NOW, policy=POLICY)


def test_the_stated_vendor_wins() -> None:
    assert callback_vendor(Vendor.HUAWEI, Vendor.TENCENT, [_record()]) is Vendor.HUAWEI


def test_a_merge_callback_goes_to_the_record_in_progress() -> None:
    tencent = _record(status=TaskStatus.SUCCEEDED)
    huawei = replace(_record(), vendor=Vendor.HUAWEI)
    assert callback_vendor(None, Vendor.TENCENT, [huawei, tencent]) is Vendor.HUAWEI


def test_a_merge_callback_goes_to_the_only_record_even_when_it_ended() -> None:
    assert callback_vendor(None, Vendor.HUAWEI, [_record(status=TaskStatus.SUCCEEDED)]) is Vendor.TENCENT


def test_without_records_the_hint_decides() -> None:
    assert callback_vendor(None, Vendor.HUAWEI, []) is Vendor.HUAWEI
    assert callback_vendor(None, Vendor.TENCENT, []) is Vendor.TENCENT


def test_two_records_in_progress_are_told_apart_by_the_hint() -> None:
    huawei = replace(_record(), vendor=Vendor.HUAWEI)
    assert callback_vendor(None, Vendor.HUAWEI, [huawei, _record()]) is Vendor.HUAWEI


@pytest.mark.parametrize(
    ("vendor", "kind", "awaits"),
    [
        (Vendor.HUAWEI, TaskKind.MERGE, True),
        (Vendor.HUAWEI, TaskKind.TRANSCODE, True),
        (Vendor.HUAWEI, TaskKind.SNAPSHOT, False),
        (Vendor.HUAWEI, None, False),  # without a kind, behaviour stays as it was
        (Vendor.TENCENT, TaskKind.MERGE, False),
    ],
)
def test_only_huawei_merges_and_transcodes_wait_for_their_callback(
    vendor: Vendor, kind: TaskKind | None, awaits: bool
) -> None:
    assert awaits_callback(None, PollRequest(TASK, vendor, kind=kind)) is awaits


def test_a_task_waiting_for_its_callback_comes_back_at_the_deadline_without_a_call() -> None:
    request = PollRequest(TASK, Vendor.HUAWEI, kind=TaskKind.MERGE)
    decision = decide_awaiting_callback(PollContext(None, request, NOW, POLICY, sent_at=NOW))
    assert (decision.step, decision.reason, decision.called_zego) == (Step.CONTINUE, AWAITING_CALLBACK, False)
    assert decision.delay_seconds == 900  # SQS's longest delay; hops on until the deadline
    assert decision.record.poll_count == decision.record.attempt == 0
    assert decision.next_request is not None
    assert decision.next_request.kind is TaskKind.MERGE
    assert decision.record.kind is TaskKind.MERGE


def test_the_last_hop_lands_on_the_deadline() -> None:
    stored = replace(
        _record(), vendor=Vendor.HUAWEI, kind=TaskKind.MERGE, deadline_at=to_iso(NOW + timedelta(seconds=90))
    )
    request = PollRequest(TASK, Vendor.HUAWEI, generation=stored.generation)
    decision = decide_awaiting_callback(PollContext(stored, request, NOW, POLICY))
    assert decision.delay_seconds == 90
