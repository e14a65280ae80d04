"""State-change events: the image comparison, the detail, the deterministic id and the size bound."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from zego_media_tasks.domain.polling import PollingPolicy, with_status
from zego_media_tasks.domain.reconciliation import decide_callback
from zego_media_tasks.domain.record import LastError, TaskRecord, pending_record
from zego_media_tasks.domain.snapshot import TaskSnapshot
from zego_media_tasks.domain.state_change import (
    DETAIL_TYPE,
    MAX_DETAIL_BYTES,
    MAX_LISTED_URLS,
    event_id,
    state_change,
)
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TASK = "1500030200-procedurev2-afc1tt0"


def _pending() -> TaskRecord:
    return pending_record(
        TASK, Vendor.TENCENT, now=NOW, first_seen_at=to_iso(NOW), deadline_at=to_iso(NOW + timedelta(days=1))
    )


def test_the_detail_type_is_the_documented_one() -> None:
    assert DETAIL_TYPE == "ZEGO Media Task State Change"


def test_a_registration_is_a_pending_event_without_a_previous_status() -> None:
    change = state_change(None, _pending())
    assert change is not None
    detail = change.detail
    assert (detail["status"], detail["previousStatus"], detail["source"]) == ("PENDING", None, "REGISTRATION")
    assert detail["sequence"] == 1
    assert detail["record"] == f"/tasks/{TASK}?vendor=Tencent"


def test_a_status_change_is_one_event_one_sequence_on() -> None:
    old = _pending()
    new = with_status(replace(old, vendor_status="PROCESSING"), TaskStatus.PROCESSING, NOW + timedelta(seconds=5))
    change = state_change(old, new)
    assert change is not None
    assert (change.detail["previousStatus"], change.detail["status"]) == ("PENDING", "PROCESSING")
    assert (change.detail["sequence"], change.detail["source"]) == (2, "POLL")
    assert change.time == to_iso(NOW + timedelta(seconds=5))


def test_a_write_that_changed_no_status_publishes_nothing() -> None:
    old = with_status(_pending(), TaskStatus.PROCESSING, NOW)
    polled_again = replace(old, generation=old.generation + 1, poll_count=7, last_polled_at=to_iso(NOW))
    assert state_change(old, polled_again) is None


def test_the_expiry_of_a_finished_record_publishes_nothing() -> None:
    assert state_change(with_status(_pending(), TaskStatus.SUCCEEDED, NOW), None) is None


def test_a_callback_that_ends_a_task_says_so() -> None:
    old = with_status(_pending(), TaskStatus.PROCESSING, NOW)
    evidence = TaskSnapshot(
        task_id=TASK, vendor=Vendor.TENCENT, status=TaskStatus.SUCCEEDED, vendor_status="SUCCESS", replay_url="u"
    )
    decision = decide_callback(old, evidence, kind=TaskKind.TRANSCODE, now=NOW, policy=PollingPolicy()).decision
    assert decision is not None
    change = state_change(old, decision.record)
    assert change is not None
    detail = change.detail
    assert (detail["status"], detail["source"], detail["completedBy"], detail["terminal"]) == (
        "SUCCEEDED",
        "CALLBACK",
        "CALLBACK",
        True,
    )
    assert (detail["replayUrl"], detail["kind"], detail["completedAt"]) == ("u", "transcode", to_iso(NOW))


@pytest.mark.parametrize("source", [ChangeSource.DEADLINE, ChangeSource.MALFORMED, ChangeSource.POLL])
def test_the_source_of_a_terminal_change_is_what_ended_the_task(source: ChangeSource) -> None:
    old = with_status(_pending(), TaskStatus.PROCESSING, NOW)
    new = replace(with_status(old, TaskStatus.TIMED_OUT, NOW), completed_by=source)
    change = state_change(old, new)
    assert change is not None
    assert change.detail["source"] == source.value


def test_the_event_id_is_the_same_for_every_publication_of_a_change_and_differs_between_changes() -> None:
    first = state_change(None, _pending())
    again = state_change(None, _pending())
    assert first is not None
    assert again is not None
    assert first.event_id == again.event_id == first.detail["eventId"] == event_id(TASK, "Tencent", 1)
    assert event_id(TASK, "Tencent", 2) != first.event_id
    assert event_id(TASK, "Huawei", 1) != first.event_id


def test_the_last_error_is_carried() -> None:
    old = _pending()
    error = LastError(kind="REJECTED", code="2", message="no such task", at=to_iso(NOW))
    new = replace(with_status(old, TaskStatus.REJECTED, NOW), last_error=error)
    change = state_change(old, new)
    assert change is not None
    assert change.detail["lastError"] == {"kind": "REJECTED", "code": "2", "message": "no such task", "at": to_iso(NOW)}


def test_a_long_thumbnail_list_is_cut_with_its_full_count() -> None:
    urls = tuple(f"https://vod.example/snapshot/{n:05d}.jpg" for n in range(10_000))
    new = replace(with_status(_pending(), TaskStatus.SUCCEEDED, NOW), thumbnail_urls=urls)
    change = state_change(_pending(), new)
    assert change is not None
    detail = change.detail
    assert detail["thumbnailUrls"] == list(urls[:MAX_LISTED_URLS])
    assert (detail["thumbnailCount"], detail["thumbnailsTruncated"]) == (10_000, True)


def test_every_event_stays_under_eventbridges_entry_limit_whatever_the_record_holds() -> None:
    huge = "x" * 60_000
    new = replace(
        with_status(_pending(), TaskStatus.FAILED, NOW),
        thumbnail_urls=tuple(f"https://vod.example/{n}/{huge[:1000]}" for n in range(5_000)),
        file_names=tuple(huge[:2000] + str(n) for n in range(5_000)),
        message=huge[:500],
        replay_url=huge[:1024],
    )
    change = state_change(_pending(), new)
    assert change is not None
    size = len(change.detail_json().encode("utf-8")) + len(DETAIL_TYPE) + len("zego-media-tasks")
    assert size < MAX_DETAIL_BYTES < 256 * 1024
    assert change.detail["thumbnailCount"] == 5_000
    assert json.loads(change.detail_json())["thumbnailsTruncated"] is True
