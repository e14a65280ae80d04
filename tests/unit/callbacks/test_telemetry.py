"""What the receiver reports (``callbacks/telemetry.py``), without moto: a log line and metrics per answer.

The rejections come from the real receiver over an in-memory store that must never be touched, so the
telemetry is checked for what the receiver actually produces from a callback carrying a secret-bearing
signature and a nonce.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.support.clock import FakeClock
from tests.support.zego_callbacks import (
    APP_ID,
    CALLBACK_SECRET,
    TENCENT_MERGE,
    json_body,
    signed,
    tencent_compose,
)
from zego_media_tasks.callbacks.service import CallbackResult, CallbackService, Outcome
from zego_media_tasks.callbacks.settings import CallbackSettings
from zego_media_tasks.callbacks.telemetry import configured, for_result
from zego_media_tasks.domain.polling import PollingPolicy, Transition
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.observability.signals import Level, Metric, Unit
from zego_media_tasks.store.task_store import WriteResult
from zego_media_tasks.zego.callbacks import (
    DEFAULT_MAX_AGE_SECONDS,
    HTTP_STATUS_BY_REASON,
    RejectionReason,
)

NONCE = "nonce-3c2b1a09"


class UntouchedStore:
    """A store for callbacks that are refused before any read: touching it fails the test."""

    def for_task(self, task_id: str, *, consistent: bool = False) -> list[TaskRecord]:
        raise AssertionError("a refused callback read the table")

    def get(self, task_id: str, vendor: Vendor, *, consistent: bool = True) -> TaskRecord | None:
        raise AssertionError("a refused callback read the table")

    def put(self, record: TaskRecord, expected_generation: int | None) -> WriteResult:
        raise AssertionError("a refused callback wrote the table")


@pytest.fixture
def receiver(clock: FakeClock) -> CallbackService:
    return CallbackService(
        store=UntouchedStore(),
        secret=lambda: CALLBACK_SECRET,
        app_id=APP_ID,
        clock=clock,
        policy=PollingPolicy(),
        max_age_seconds=DEFAULT_MAX_AGE_SECONDS,
        max_body_bytes=4096,
    )


def refusals(clock: FakeClock) -> dict[RejectionReason, bytes]:
    """A body the receiver refuses for each reason it can meet before reading the table."""
    now = clock.now()

    def body(**changes: object) -> bytes:
        fields = {**signed(tencent_compose(), at=now, nonce=NONCE), **changes}
        return json_body({name: value for name, value in fields.items() if value is not None}).encode()

    good = signed(tencent_compose(), at=now, nonce=NONCE)
    return {
        RejectionReason.OVERSIZE: body(padding="x" * 5000),
        RejectionReason.NOT_PARSEABLE: b"\xff\xfe not text",
        RejectionReason.MISSING_SIGNATURE: body(signature=None),
        RejectionReason.BAD_SIGNATURE: body(signature=good["signature"][::-1]),
        RejectionReason.BAD_TIMESTAMP: body(timestamp="yesterday"),
        RejectionReason.STALE_TIMESTAMP: json_body(
            signed(tencent_compose(), at=now - timedelta(hours=1), nonce=NONCE)
        ).encode(),
        RejectionReason.WRONG_APP_ID: json_body(
            signed(tencent_compose(), at=now, nonce=NONCE, app_id=APP_ID + 1)
        ).encode(),
        RejectionReason.UNKNOWN_EVENT: body(event="record"),
        RejectionReason.MISSING_TASK_ID: body(task_id=None),
        RejectionReason.INVALID_TASK_ID: body(task_id="a/b"),
        RejectionReason.UNKNOWN_STATUS: json_body(
            signed({"event": "procedure", "task_id": TENCENT_MERGE, "status": "RUNNING"}, at=now, nonce=NONCE)
        ).encode(),
        RejectionReason.BAD_FIELD: body(code="zero"),
    }


REASONS_BEFORE_THE_TABLE = sorted(set(RejectionReason) - {RejectionReason.VENDOR_MISMATCH})


@pytest.mark.parametrize("reason", REASONS_BEFORE_THE_TABLE)
def test_each_rejection_is_logged_with_its_reason_and_counted_in_total_and_by_reason(
    receiver: CallbackService, clock: FakeClock, reason: RejectionReason
) -> None:
    # Given a callback the receiver refuses for this reason
    result = receiver.handle(refusals(clock)[reason], "application/json")
    assert result.rejection is not None
    assert result.rejection.reason is reason
    assert result.status_code == HTTP_STATUS_BY_REASON[reason]

    telemetry = for_result(result)

    # Then one warning names the reason, and the rejection is counted in total and by reason
    assert telemetry.metrics == (
        Metric("CallbacksRejected"),
        Metric("CallbacksRejected", dimensions={"Reason": reason.value}),
    )
    assert telemetry.log is not None
    assert (telemetry.log.level, telemetry.log.message) == (Level.WARNING, "callback rejected")
    assert telemetry.log.extra["reason"] == reason.value
    assert telemetry.log.extra["status_code"] == HTTP_STATUS_BY_REASON[reason]
    # And nothing reported holds the secret, the signature or the nonce
    signature = signed(tencent_compose(), at=clock.now(), nonce=NONCE)["signature"]
    reported = json.dumps(telemetry.log.extra, default=str) + repr(telemetry)
    for value in (CALLBACK_SECRET, signature, signature[::-1], NONCE):
        assert value not in reported


def test_every_reason_the_receiver_can_meet_is_covered() -> None:
    # VENDOR_MISMATCH needs a vendor chosen against the callback's own, which the receiver never does
    assert set(refusals(FakeClock())) == set(REASONS_BEFORE_THE_TABLE)


def test_an_applied_callback_counts_its_outcome_transition_and_time_to_terminal() -> None:
    result = CallbackResult(
        Outcome.APPLIED,
        200,
        task_id=TENCENT_MERGE,
        vendor=Vendor.TENCENT,
        event="compose",
        status=TaskStatus.SUCCEEDED,
        transition=Transition(TaskStatus.PROCESSING, TaskStatus.SUCCEEDED),
        time_to_terminal_seconds=42.5,
    )
    telemetry = for_result(result)
    assert telemetry.metrics == (
        Metric("CallbacksAccepted", dimensions={"Outcome": "APPLIED"}),
        Metric("Transitions", dimensions={"From": "PROCESSING", "To": "SUCCEEDED"}),
        Metric("TimeToTerminalSeconds", 42.5, Unit.SECONDS, {"Status": "SUCCEEDED"}),
    )
    assert telemetry.log is not None
    assert (telemetry.log.level, telemetry.log.message) == (Level.INFO, "callback applied")
    assert telemetry.log.extra["task_id"] == TENCENT_MERGE


def test_a_created_record_counts_as_a_transition_from_new() -> None:
    result = CallbackResult(
        Outcome.CREATED,
        200,
        status=TaskStatus.FAILED,
        transition=Transition(None, TaskStatus.FAILED),
        time_to_terminal_seconds=0.0,
    )
    assert Metric("Transitions", dimensions={"From": "NEW", "To": "FAILED"}) in for_result(result).metrics


def test_a_late_callback_is_counted_as_accepted_without_a_transition() -> None:
    telemetry = for_result(CallbackResult(Outcome.ALREADY_TERMINAL, 200, status=TaskStatus.SUCCEEDED))
    assert telemetry.metrics == (Metric("CallbacksAccepted", dimensions={"Outcome": "ALREADY_TERMINAL"}),)


@pytest.mark.parametrize("outcome", [Outcome.CONFLICT, Outcome.UNAVAILABLE])
def test_our_own_failures_are_counted_apart_from_rejections(outcome: Outcome) -> None:
    telemetry = for_result(CallbackResult(outcome, 503, detail="Query failed: ResourceNotFoundException"))
    assert telemetry.metrics == (Metric("CallbacksFailed", dimensions={"Outcome": outcome.value}),)
    assert telemetry.log is not None
    assert telemetry.log.level is Level.WARNING
    assert telemetry.log.extra["detail"] == "Query failed: ResourceNotFoundException"


def test_the_cold_start_line_shows_the_settings_but_not_the_callback_secret() -> None:
    settings = CallbackSettings.from_env(
        {"TABLE_NAME": "tasks", "ZEGO_APP_ID": str(APP_ID), "ZEGO_CALLBACK_SECRET": CALLBACK_SECRET}
    )
    telemetry = configured(settings)
    assert telemetry.log is not None
    assert "tasks" in str(telemetry.log.extra["settings"])
    assert CALLBACK_SECRET not in repr(telemetry)
