"""What the publisher reports: a count per record, and failures in total (alarmed) and by reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zego_media_tasks.domain.record import pending_record
from zego_media_tasks.domain.state_change import state_change
from zego_media_tasks.domain.status import Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.events.publisher import PublishError
from zego_media_tasks.events.service import PublishResult
from zego_media_tasks.events.telemetry import for_failure, for_result
from zego_media_tasks.observability.signals import Level, Metric

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_failure_is_counted_in_total_for_the_alarm_and_by_reason() -> None:
    telemetry = for_failure(PublishError("PutEvents", "1 entries failed (ThrottlingException)"))
    assert telemetry.metrics == (
        Metric("PublishFailures"),
        Metric("PublishFailures", dimensions={"Reason": "PublishError"}),
    )
    assert telemetry.log is not None
    assert (telemetry.log.level, telemetry.log.with_exception) == (Level.ERROR, True)


def test_a_published_event_is_logged_with_its_id_and_sequence() -> None:
    record = pending_record(
        "t-1", Vendor.TENCENT, now=NOW, first_seen_at=to_iso(NOW), deadline_at=to_iso(NOW + timedelta(days=1))
    )
    change = state_change(None, record)
    assert change is not None
    telemetry = for_result(PublishResult(change))
    assert telemetry.metrics == (Metric("EventsPublished"),)
    assert telemetry.log is not None
    assert (telemetry.log.extra["event_id"], telemetry.log.extra["sequence"]) == (change.event_id, 1)


def test_an_unchanged_write_is_only_counted() -> None:
    telemetry = for_result(PublishResult())
    assert (telemetry.metrics, telemetry.log) == ((Metric("EventsUnchanged"),), None)
