"""The pure poll decision (domain.polling): one test per row of the decision table, and the rules
around it (fencing admission, first-seen and deadline, status-change times, clamping, TTL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support.decisions import (
    FIRST_SEEN,
    NOW,
    POLICY,
    TASK,
    TENCENT,
    BottomOfWindow,
    TopOfWindow,
    request_for,
)
from tests.support.poller import failure, success
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.polling import (
    DEADLINE_PASSED,
    MALFORMED,
    NO_TASK_GRACE,
    RATE_LIMITED,
    Admission,
    PollContext,
    PollDecision,
    Step,
    Transition,
    admit,
    decide_deadline_passed,
    decide_outcome,
    decide_rate_limited,
    is_past_deadline,
    open_record,
    reject_malformed,
)
from zego_media_tasks.domain.record import LastError, TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso

HUAWEI = Vendor.HUAWEI


def stored_record(**changes: object) -> TaskRecord:
    record = TaskRecord(
        task_id=TASK,
        vendor=TENCENT,
        status=TaskStatus.PROCESSING,
        generation=3,
        first_seen_at=to_iso(FIRST_SEEN),
        deadline_at=to_iso(FIRST_SEEN + timedelta(days=1)),
        status_changed_at=to_iso(FIRST_SEEN + timedelta(minutes=1)),
        vendor_status="PROCESSING",
        poll_count=4,
        attempt=3,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def top_of_window(attempt: int) -> int:
    """The longest backoff after counted attempt index ``attempt`` with the default schedule."""
    backoff = POLICY.backoff
    return round(min(backoff.cap_seconds, backoff.base_seconds * backoff.factor**attempt))


def decide(stored: TaskRecord | None, outcome: CallOutcome) -> PollDecision:
    """Decide with the top of every jitter window, 5 s after SQS accepted the first message."""
    poll = PollContext(stored, request_for(stored), NOW, POLICY, sent_at=NOW - timedelta(seconds=5))
    return decide_outcome(poll, outcome, random=TopOfWindow())


# --- admission (generation fencing) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "generation", "expected"),
    [
        (None, 0, Admission.POLL),
        (None, 2, Admission.AHEAD),
        (stored_record(generation=3), 3, Admission.POLL),
        (stored_record(generation=3), 2, Admission.STALE),
        (stored_record(generation=3), 0, Admission.STALE),
        (stored_record(generation=3), 4, Admission.AHEAD),
        (stored_record(generation=3, status=TaskStatus.SUCCEEDED), 3, Admission.TERMINAL),
        (stored_record(generation=3, status=TaskStatus.REJECTED), 9, Admission.TERMINAL),
        (stored_record(generation=0, status=TaskStatus.PENDING), 0, Admission.POLL),
    ],
)
def test_admission_follows_the_generation_fence(
    stored: TaskRecord | None, generation: int, expected: Admission
) -> None:
    assert admit(stored, PollRequest(TASK, TENCENT, generation=generation)) is expected


# --- a new task ------------------------------------------------------------------------------------


def test_the_first_poll_of_a_new_task_creates_the_record_and_schedules_generation_one() -> None:
    decision = decide(None, success(TASK, TENCENT, "PROCESSING", event="transcode"))
    record = decision.record
    sent_at = NOW - timedelta(seconds=5)
    assert decision.step is Step.CONTINUE
    assert decision.expected_generation is None
    assert (record.status, record.vendor_status, record.event) == (TaskStatus.PROCESSING, "PROCESSING", "transcode")
    assert (record.generation, record.attempt, record.poll_count) == (1, 1, 1)
    assert record.first_seen_at == to_iso(sent_at)
    assert record.deadline_at == to_iso(sent_at + timedelta(days=1))
    assert record.status_changed_at == record.last_polled_at == to_iso(NOW)
    # the top of the first jitter window (TopOfWindow)
    assert decision.delay_seconds == POLICY.backoff.ceiling(0)
    assert record.next_poll_at == to_iso(NOW + timedelta(seconds=POLICY.backoff.ceiling(0)))
    assert decision.next_request == PollRequest(
        TASK, TENCENT, generation=1, attempt=1, first_seen_at=record.first_seen_at, deadline_at=record.deadline_at
    )
    assert decision.transition == Transition(None, TaskStatus.PROCESSING)
    assert record.completed_at is None
    assert record.expires_at is None


def test_first_seen_comes_from_the_record_then_the_message_then_sent_timestamp_then_now() -> None:
    message_time = "2026-11-23T11:00:00.000+00:00"
    sent = NOW - timedelta(seconds=30)
    assert open_record(stored_record(), TASK, TENCENT, NOW, POLICY, first_seen_hint=message_time).first_seen_at == (
        to_iso(FIRST_SEEN)
    )
    assert open_record(None, TASK, TENCENT, NOW, POLICY, first_seen_hint=message_time, sent_at=sent).first_seen_at == (
        "2026-11-23T11:00:00.000Z"
    )
    assert open_record(None, TASK, TENCENT, NOW, POLICY, sent_at=sent).first_seen_at == to_iso(sent)
    assert open_record(None, TASK, TENCENT, NOW, POLICY).first_seen_at == to_iso(NOW)


def test_a_deadline_carried_by_the_message_wins_over_the_configured_one() -> None:
    record = open_record(None, TASK, TENCENT, NOW, POLICY, deadline_hint="2026-11-23T13:00:00Z")
    assert record.deadline_at == "2026-11-23T13:00:00.000Z"


def test_a_terminal_record_is_never_opened_for_polling() -> None:
    with pytest.raises(ValueError, match="terminal"):
        open_record(stored_record(status=TaskStatus.FAILED), TASK, TENCENT, NOW, POLICY)


# --- one test per decision-table row ---------------------------------------------------------------


def test_success_with_a_non_terminal_status_counts_the_attempt_and_backs_off() -> None:
    stored = stored_record()
    decision = decide(stored, success(TASK, TENCENT, "PROCESSING"))
    assert decision.step is Step.CONTINUE
    assert decision.record.status is TaskStatus.PROCESSING
    assert decision.record.status_changed_at == stored.status_changed_at  # unchanged status, unchanged time
    assert (decision.record.attempt, decision.record.poll_count, decision.record.generation) == (4, 5, 4)
    assert decision.expected_generation == 3
    assert decision.delay_seconds == top_of_window(3)  # the window after counted attempt index 3
    assert decision.transition is None


def test_success_with_a_terminal_status_finishes_with_completion_time_and_ttl() -> None:
    stored = stored_record()
    outcome = success(
        TASK,
        TENCENT,
        "FINISH",
        event="transcode",
        file_id="f-1",
        replay_url="https://cdn/x.mp4",
        vendor_request_id="tencent-req-1",
        zego_request_id="zego-req-1",
    )
    decision = decide(stored, outcome)
    record = decision.record
    assert decision.step is Step.FINISH
    assert decision.next_request is None
    assert decision.delay_seconds is None
    assert record.status is TaskStatus.SUCCEEDED
    assert record.vendor_status == "FINISH"
    assert (record.file_id, record.replay_url) == ("f-1", "https://cdn/x.mp4")
    assert (record.vendor_request_id, record.zego_request_id) == ("tencent-req-1", "zego-req-1")
    assert record.completed_at == record.status_changed_at == to_iso(NOW)
    assert record.expires_at == int(NOW.timestamp()) + 30 * 86_400
    assert record.next_poll_at is None
    assert record.generation == 4
    assert record.attempt == 4
    assert decision.transition == Transition(TaskStatus.PROCESSING, TaskStatus.SUCCEEDED)
    assert decision.time_to_terminal_seconds == 600


def test_tencent_fail_is_terminal_failed_with_the_vendor_message() -> None:
    decision = decide(stored_record(), success(TASK, TENCENT, "FAIL", message="source file broken"))
    assert decision.step is Step.FINISH
    assert decision.record.status is TaskStatus.FAILED
    assert decision.record.message == "source file broken"


def test_an_unknown_vendor_status_is_stored_raw_and_polling_continues() -> None:
    decision = decide(stored_record(), success(TASK, TENCENT, "QUEUED_FOR_GPU"))
    assert decision.step is Step.CONTINUE
    assert decision.record.status is TaskStatus.UNKNOWN
    assert decision.record.vendor_status == "QUEUED_FOR_GPU"
    assert decision.transition == Transition(TaskStatus.PROCESSING, TaskStatus.UNKNOWN)


def test_huawei_no_task_within_the_grace_period_keeps_polling_without_a_terminal_status() -> None:
    request = PollRequest(TASK, HUAWEI)
    decision = decide_outcome(
        PollContext(None, request, NOW, POLICY, sent_at=NOW), success(TASK, HUAWEI, "NO_TASK"), random=TopOfWindow()
    )
    assert decision.step is Step.CONTINUE
    assert decision.reason == NO_TASK_GRACE
    assert decision.record.status is TaskStatus.PENDING
    assert decision.record.vendor_status == "NO_TASK"
    assert decision.record.attempt == 1


def test_huawei_no_task_within_grace_keeps_the_previous_status() -> None:
    stored = stored_record(vendor=HUAWEI, status=TaskStatus.WAITING, first_seen_at=to_iso(NOW - timedelta(minutes=2)))
    request = PollRequest(TASK, HUAWEI, generation=stored.generation)
    decision = decide_outcome(
        PollContext(stored, request, NOW, POLICY), success(TASK, HUAWEI, "NO_TASK"), random=TopOfWindow()
    )
    assert decision.record.status is TaskStatus.WAITING
    assert decision.record.status_changed_at == stored.status_changed_at


def test_huawei_no_task_after_the_grace_period_is_terminal_not_found() -> None:
    stored = stored_record(vendor=HUAWEI, status=TaskStatus.PENDING, first_seen_at=to_iso(NOW - timedelta(seconds=300)))
    request = PollRequest(TASK, HUAWEI, generation=stored.generation)
    decision = decide_outcome(
        PollContext(stored, request, NOW, POLICY), success(TASK, HUAWEI, "NO_TASK"), random=TopOfWindow()
    )
    assert decision.step is Step.FINISH
    assert decision.record.status is TaskStatus.NOT_FOUND
    assert decision.record.completed_at == to_iso(NOW)


def test_throttled_retries_shortly_without_counting_an_attempt() -> None:
    stored = stored_record()
    decision = decide(stored, failure(OutcomeKind.THROTTLED, "6", "too many requests"))
    record = decision.record
    assert decision.step is Step.CONTINUE
    assert decision.delay_seconds == 3  # throttle window [1, 3] for THROTTLE_RETRY_SECONDS=2, top end
    assert (record.status, record.attempt, record.poll_count) == (TaskStatus.PROCESSING, 3, 5)
    assert record.last_error == LastError("THROTTLED", "6", "too many requests", to_iso(NOW))
    assert decision.next_request is not None
    assert decision.next_request.attempt == 3


def test_rate_limiter_saturation_retries_shortly_without_a_call_or_an_attempt() -> None:
    stored = stored_record()
    decision = decide_rate_limited(PollContext(stored, request_for(stored), NOW, POLICY), random=BottomOfWindow())
    assert decision.step is Step.CONTINUE
    assert decision.reason == RATE_LIMITED
    assert decision.delay_seconds == 1
    assert (decision.record.attempt, decision.record.poll_count, decision.record.generation) == (3, 4, 4)
    assert decision.record.last_polled_at is None
    assert not decision.called_zego


def test_transient_backs_off_counts_the_attempt_and_records_the_error_keeping_the_status() -> None:
    stored = stored_record()
    decision = decide(stored, failure(OutcomeKind.TRANSIENT, "TIMEOUT", "read timed out"))
    record = decision.record
    assert decision.step is Step.CONTINUE
    assert decision.delay_seconds == top_of_window(3)
    assert (record.status, record.vendor_status, record.attempt, record.poll_count) == (
        TaskStatus.PROCESSING,
        "PROCESSING",
        4,
        5,
    )
    assert record.last_error == LastError("TRANSIENT", "TIMEOUT", "read timed out", to_iso(NOW))
    assert record.status_changed_at == stored.status_changed_at


def test_rejected_is_terminal_with_the_code_and_message() -> None:
    decision = decide(stored_record(), failure(OutcomeKind.REJECTED, "4", "CDN vendor mismatch"))
    assert decision.step is Step.FINISH
    assert decision.record.status is TaskStatus.REJECTED
    assert decision.record.last_error == LastError("REJECTED", "4", "CDN vendor mismatch", to_iso(NOW))
    assert decision.record.expires_at is not None


def test_configuration_error_holds_the_fence_and_records_the_error_only() -> None:
    stored = stored_record()
    decision = decide(stored, failure(OutcomeKind.CONFIGURATION, "7", "authentication failed"))
    assert decision.step is Step.HOLD
    assert decision.record.generation == stored.generation == decision.expected_generation
    assert decision.record.status is TaskStatus.PROCESSING
    assert not decision.record.terminal
    assert decision.record.attempt == stored.attempt
    assert decision.record.poll_count == stored.poll_count + 1
    assert decision.record.last_error == LastError("CONFIGURATION", "7", "authentication failed", to_iso(NOW))
    assert decision.next_request is None


def test_configuration_error_on_a_new_task_creates_a_pending_record_at_generation_zero() -> None:
    decision = decide(None, failure(OutcomeKind.CONFIGURATION, "7", "authentication failed"))
    assert decision.record.generation == 0
    assert decision.expected_generation is None
    assert decision.record.status is TaskStatus.PENDING


def test_a_passed_deadline_times_the_task_out_without_calling_zego() -> None:
    stored = stored_record(deadline_at=to_iso(NOW - timedelta(seconds=1)))
    request = request_for(stored)
    assert is_past_deadline(PollContext(stored, request, NOW, POLICY))
    decision = decide_deadline_passed(PollContext(stored, request, NOW, POLICY))
    assert decision.step is Step.FINISH
    assert decision.reason == DEADLINE_PASSED
    assert decision.record.status is TaskStatus.TIMED_OUT
    assert decision.record.poll_count == stored.poll_count
    assert not decision.called_zego
    assert decision.record.expires_at == int(NOW.timestamp()) + 30 * 86_400


def test_the_deadline_is_exclusive_of_time_left() -> None:
    stored = stored_record(deadline_at=to_iso(NOW + timedelta(milliseconds=1)))
    assert not is_past_deadline(PollContext(stored, request_for(stored), NOW, POLICY))


# --- delays near the deadline ----------------------------------------------------------------------


def test_the_next_poll_is_clamped_to_happen_at_the_deadline() -> None:
    stored = stored_record(attempt=10, deadline_at=to_iso(NOW + timedelta(seconds=30.5)))
    decision = decide(stored, success(TASK, TENCENT, "PROCESSING"))
    assert decision.delay_seconds == 30  # not the 120 s backoff ceiling


def test_under_a_second_before_the_deadline_the_next_message_lands_just_after_it() -> None:
    stored = stored_record(deadline_at=to_iso(NOW + timedelta(milliseconds=400)))
    decision = decide(stored, success(TASK, TENCENT, "PROCESSING"))
    assert decision.delay_seconds == 1
    assert decision.next_request is not None
    assert is_past_deadline(PollContext(decision.record, decision.next_request, NOW + timedelta(seconds=1), POLICY))


# --- malformed ---------------------------------------------------------------------------------------


def test_a_malformed_message_rejects_a_new_task_with_the_reason() -> None:
    decision = reject_malformed(
        None,
        TASK,
        TENCENT,
        code="INVALID_FIELD",
        detail="Generation must be a non-negative integer",
        now=NOW,
        policy=POLICY,
    )
    assert decision.step is Step.FINISH
    assert decision.expected_generation is None
    assert decision.record.status is TaskStatus.REJECTED
    assert decision.record.last_error == LastError(
        MALFORMED, "INVALID_FIELD", "Generation must be a non-negative integer", to_iso(NOW)
    )


def test_a_malformed_message_rejects_a_live_task_keeping_its_history() -> None:
    stored = stored_record()
    decision = reject_malformed(stored, TASK, TENCENT, code="INVALID_FIELD", detail="x", now=NOW, policy=POLICY)
    assert decision.record.first_seen_at == stored.first_seen_at
    assert decision.record.poll_count == stored.poll_count
    assert decision.expected_generation == stored.generation
    assert decision.record.generation == stored.generation + 1


@pytest.mark.parametrize(
    ("outcome", "status", "counted", "step"),
    [
        (success(TASK, TENCENT, "WAITING"), TaskStatus.WAITING, True, Step.CONTINUE),
        (success(TASK, TENCENT, "FINISH"), TaskStatus.SUCCEEDED, True, Step.FINISH),
        (failure(OutcomeKind.THROTTLED, "6"), TaskStatus.PROCESSING, False, Step.CONTINUE),
        (failure(OutcomeKind.TRANSIENT, "HTTP_502"), TaskStatus.PROCESSING, True, Step.CONTINUE),
        (failure(OutcomeKind.REJECTED, "2"), TaskStatus.REJECTED, True, Step.FINISH),
        (failure(OutcomeKind.CONFIGURATION, "3"), TaskStatus.PROCESSING, False, Step.HOLD),
    ],
)
def test_decision_table(outcome: CallOutcome, status: TaskStatus, counted: bool, step: Step) -> None:
    stored = stored_record()
    decision = decide(stored, outcome)
    assert decision.step is step
    assert decision.record.status is status
    assert decision.record.attempt == stored.attempt + (1 if counted else 0)
    assert decision.record.poll_count == stored.poll_count + 1
    assert (decision.next_request is not None) == (step is Step.CONTINUE)
