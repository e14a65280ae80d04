"""What the poller reports for each way a record ends (poller.telemetry): exact metrics and log lines.

Plain values in, plain values out: the decisions come from the domain's own functions, and no AWS
emulator, Powertools logger or metrics object is involved. The names, units and dimensions asserted
here are the contract of the alarms and dashboards.
"""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from tests.support.decisions import FIRST_SEEN, NOW, POLICY, TASK, TENCENT, TopOfWindow, request_for
from tests.support.poller import POLLER_RESOURCES, success
from zego_media_tasks.domain.messages import MalformedMessageError, MalformedReason
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.polling import (
    PollContext,
    PollDecision,
    decide_deadline_passed,
    decide_outcome,
    decide_rate_limited,
    open_record,
    reject_malformed,
)
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus
from zego_media_tasks.observability.signals import Level, LogLine, Metric, Telemetry, Unit
from zego_media_tasks.poller.service import (
    Action,
    ChainAhead,
    ConfigurationFailure,
    OutOfTime,
    PollResult,
)
from zego_media_tasks.poller.telemetry import configured, for_failure, for_result
from zego_media_tasks.poller.wiring import load_settings
from zego_media_tasks.store.task_store import WriteResult

ACKNOWLEDGED = Metric("MessagesAcknowledged")
POLLS = Metric("Polls")


def processing(generation: int = 3) -> TaskRecord:
    """A stored record, PROCESSING since it was first seen ten minutes ago."""
    record = open_record(None, TASK, TENCENT, FIRST_SEEN, POLICY)
    return replace(record, status=TaskStatus.PROCESSING, vendor_status="PROCESSING", generation=generation)


def decided(stored: TaskRecord | None, outcome: CallOutcome) -> PollDecision:
    return decide_outcome(
        PollContext(stored, request_for(stored), NOW, POLICY, sent_at=NOW), outcome, random=TopOfWindow()
    )


def polled(decision: PollDecision, outcome: CallOutcome | None = None, **fields: object) -> PollResult:
    """The result of a decision whose fenced write landed."""
    result = PollResult(
        message_id="m-1",
        action=Action.POLLED,
        task_id=TASK,
        vendor=TENCENT,
        decision=decision,
        outcome=outcome,
        write=WriteResult.WRITTEN,
    )
    return replace(result, **fields)  # type: ignore[arg-type]


# --- acknowledged records ---------------------------------------------------------------------------


def test_an_acknowledged_record_without_a_decision_only_counts_the_acknowledgement() -> None:
    result = PollResult(message_id="m-1", action=Action.POLLED, task_id=TASK, vendor=TENCENT)
    assert for_result(result) == Telemetry(metrics=(ACKNOWLEDGED,))


def test_a_polled_task_still_in_progress_counts_the_call_its_outcome_and_the_limiter_wait() -> None:
    # Given a new task whose first call timed out (TRANSIENT), after 0.25 s waiting for a limiter slot
    outcome = CallOutcome.failure(OutcomeKind.TRANSIENT, "HTTP_502", "HTTP 502", zego_request_id="zego-1")
    decision = decided(None, outcome)
    result = polled(decision, outcome, sent_message_id="m-2", rate_limit_wait_seconds=0.25)

    # When it is reported
    telemetry = for_result(result)

    # Then: one call, its wait (in seconds), its outcome kind and the new record's first status
    assert telemetry.metrics == (
        ACKNOWLEDGED,
        POLLS,
        Metric("RateLimiterWaitSeconds", 0.25, Unit.SECONDS),
        Metric("Outcomes", dimensions={"Kind": "TRANSIENT"}),
        Metric("Transitions", dimensions={"From": "NEW", "To": "PENDING"}),
    )
    assert telemetry.log == LogLine(
        Level.INFO,
        "poll decided",
        {
            "reason": "TRANSIENT",
            "step": "CONTINUE",
            "status": "PENDING",
            "vendor_status": None,
            "generation": 1,
            "attempt": 1,
            "delay_seconds": decision.delay_seconds,
            "next_message_id": "m-2",
            "rate_limit_wait_seconds": 0.25,
            "error_code": "HTTP_502",
            "error_message": "HTTP 502",
            "write": "WRITTEN",
        },
    )


def test_a_routine_poll_logs_at_debug_and_a_poll_that_changes_or_fails_at_info() -> None:
    # Given a PROCESSING task that ZEGO still reports PROCESSING, then one that it reports finished
    still = success(TASK, TENCENT, "PROCESSING")
    routine = for_result(polled(decided(processing(), still), still))
    ended = for_result(polled(decided(processing(), success(TASK, TENCENT, "FINISH")), still))
    failed = CallOutcome.failure(OutcomeKind.TRANSIENT, "HTTP_502", "HTTP 502")
    erred = for_result(polled(decided(processing(), failed), failed))
    lost = for_result(polled(decided(processing(), still), still, action=Action.SUPERSEDED))

    # Then only the poll that confirmed what the record said is DEBUG; its metrics are still counted
    assert routine.log is not None
    assert routine.log.level is Level.DEBUG
    assert routine.log.extra["status"] == "PROCESSING"
    assert Metric("Outcomes", dimensions={"Kind": "SUCCESS"}) in routine.metrics
    assert [telemetry.log.level for telemetry in (ended, erred, lost) if telemetry.log] == [Level.INFO] * 3


def test_a_task_reaching_a_terminal_status_counts_its_transition_and_its_time_to_terminal() -> None:
    # Given a PROCESSING task, first seen ten minutes ago, that ZEGO now rejects
    outcome = CallOutcome.failure(OutcomeKind.REJECTED, "4", "CDN vendor mismatch")
    result = polled(decided(processing(), outcome), outcome)

    telemetry = for_result(result)

    assert telemetry.metrics == (
        ACKNOWLEDGED,
        POLLS,
        Metric("Outcomes", dimensions={"Kind": "REJECTED"}),
        Metric("Transitions", dimensions={"From": "PROCESSING", "To": "REJECTED"}),
        Metric("TimeToTerminalSeconds", 600.0, Unit.SECONDS, {"Status": "REJECTED"}),
    )
    assert telemetry.log is not None
    assert telemetry.log.message == "poll decided"
    assert {key: telemetry.log.extra[key] for key in ("reason", "step", "status", "generation", "write")} == {
        "reason": "REJECTED",
        "step": "FINISH",
        "status": "REJECTED",
        "generation": 4,
        "write": "WRITTEN",
    }
    assert (telemetry.log.extra["error_code"], telemetry.log.extra["next_message_id"]) == ("4", None)


def test_a_task_past_its_deadline_is_counted_without_a_call() -> None:
    decision = decide_deadline_passed(PollContext(processing(), request_for(processing()), NOW, POLICY))
    assert for_result(polled(decision)).metrics == (
        ACKNOWLEDGED,
        Metric("Outcomes", dimensions={"Kind": "DEADLINE_PASSED"}),
        Metric("Transitions", dimensions={"From": "PROCESSING", "To": "TIMED_OUT"}),
        Metric("TimeToTerminalSeconds", 600.0, Unit.SECONDS, {"Status": "TIMED_OUT"}),
    )


def test_a_superseded_write_is_counted_as_such_and_leaves_transitions_to_the_winner() -> None:
    # Given a terminal decision whose fenced write lost to another copy of the chain
    outcome = CallOutcome.failure(OutcomeKind.REJECTED, "4", "CDN vendor mismatch")
    result = polled(decided(processing(), outcome), outcome, action=Action.SUPERSEDED, write=WriteResult.SUPERSEDED)

    telemetry = for_result(result)

    # Then the call and its outcome count, the superseded write counts, and nothing else
    assert telemetry.metrics == (
        ACKNOWLEDGED,
        POLLS,
        Metric("Outcomes", dimensions={"Kind": "REJECTED"}),
        Metric("SupersededWrites"),
    )
    assert telemetry.log is not None
    assert telemetry.log.level is Level.INFO
    assert telemetry.log.message == "poll decided, but another copy of the chain wrote first"
    assert telemetry.log.extra["write"] == "SUPERSEDED"


def test_a_saturated_rate_limiter_is_counted_without_a_call() -> None:
    stored = processing()
    decision = decide_rate_limited(
        PollContext(stored, request_for(stored), NOW, POLICY, sent_at=NOW), random=TopOfWindow()
    )
    telemetry = for_result(polled(decision, rate_limited=True))
    assert telemetry.metrics == (
        ACKNOWLEDGED,
        Metric("RateLimiterSaturated"),
        Metric("Outcomes", dimensions={"Kind": "RATE_LIMITED"}),
    )
    assert telemetry.log is not None
    assert (telemetry.log.extra["reason"], telemetry.log.extra["delay_seconds"]) == ("RATE_LIMITED", 3)


def test_the_fleets_pace_is_reported_with_each_budgeted_record() -> None:
    stored = processing()
    decision = decide_rate_limited(
        PollContext(stored, request_for(stored), NOW, POLICY, sent_at=NOW), random=TopOfWindow()
    )
    telemetry = for_result(polled(decision, rate_limited=True, call_rate_per_second=16.3))
    assert Metric("RateLimiterRate", 16.3, Unit.COUNT_PER_SECOND) in telemetry.metrics


@pytest.mark.parametrize("action", [Action.SKIPPED_TERMINAL, Action.SKIPPED_STALE])
def test_a_skipped_message_is_counted_by_why_it_was_skipped(action: Action) -> None:
    result = PollResult(message_id="m-1", action=action, task_id=TASK, vendor=TENCENT)
    assert for_result(result) == Telemetry(
        metrics=(ACKNOWLEDGED, Metric("SkippedMessages", dimensions={"Reason": action.value})),
        log=LogLine(Level.INFO, "message acknowledged without polling", {"action": action.value}),
    )


def test_a_malformed_message_of_an_identifiable_task_is_counted_by_reason_and_logged_as_marked_rejected() -> None:
    error = MalformedMessageError(MalformedReason.INVALID_FIELD, "Attempt must be >= 0", TASK, TENCENT)
    decision = reject_malformed(
        None, TASK, TENCENT, code=error.reason.value, detail=error.detail, now=NOW, policy=POLICY
    )
    result = polled(decision, message_id="m-9", action=Action.DEAD_LETTERED, malformed=error)
    assert for_result(result) == Telemetry(
        metrics=(ACKNOWLEDGED, Metric("MalformedMessages", dimensions={"Reason": "INVALID_FIELD"})),
        log=LogLine(
            Level.WARNING,
            "malformed message sent to the dead-letter queue",
            {
                "message_id": "m-9",
                "reason": "INVALID_FIELD",
                "detail": "Attempt must be >= 0",
                "task_marked_rejected": True,
                "warnings": [],
            },
        ),
    )


def test_a_malformed_message_that_could_not_mark_its_task_says_so_with_its_warnings() -> None:
    error = MalformedMessageError(MalformedReason.NOT_JSON, "Expecting value")
    result = PollResult(
        message_id="m-9", action=Action.DEAD_LETTERED, malformed=error, warnings=("the task record kept moving",)
    )
    telemetry = for_result(result)
    assert telemetry.metrics == (ACKNOWLEDGED, Metric("MalformedMessages", dimensions={"Reason": "NOT_JSON"}))
    assert telemetry.log is not None
    assert (telemetry.log.extra["task_marked_rejected"], telemetry.log.extra["warnings"]) == (
        False,
        ["the task record kept moving"],
    )


# --- records reported failed ------------------------------------------------------------------------


def test_a_configuration_failure_counts_the_call_and_its_outcome_and_logs_an_error_for_the_operator() -> None:
    failure = ConfigurationFailure("100000005", "signature wrong", recorded=True, warnings=("w",))
    assert for_failure(failure) == Telemetry(
        metrics=(POLLS, Metric("Outcomes", dimensions={"Kind": "CONFIGURATION"})),
        log=LogLine(
            Level.ERROR,
            "ZEGO refused our configuration; the message is retried and reaches the DLQ after "
            "maxReceiveCount (see the runbook: fix the configuration, then redrive)",
            {
                "error_code": "100000005",
                "error_message": "signature wrong",
                "last_error_recorded": True,
                "warnings": ["w"],
            },
        ),
    )


def test_a_message_ahead_of_its_record_is_counted_as_a_chain_ahead_retry() -> None:
    assert for_failure(ChainAhead(message_generation=2, record_generation=None)) == Telemetry(
        metrics=(Metric("ChainAheadRetries"),),
        log=LogLine(
            Level.WARNING,
            "message is ahead of its record; retried after the visibility timeout",
            {"message_generation": 2, "record_generation": None},
        ),
    )


def test_a_record_left_for_lack_of_time_is_counted_as_out_of_time() -> None:
    assert for_failure(OutOfTime(remaining_seconds=4.0, budget_seconds=14.0)) == Telemetry(
        metrics=(Metric("RecordsOutOfTime"),),
        log=LogLine(Level.WARNING, "too little time left in this invocation; the record is retried later"),
    )


@pytest.mark.parametrize("error", [ConnectionResetError("connection reset by peer"), RuntimeError("bug")])
def test_any_other_failure_is_a_record_failure_logged_with_its_traceback(error: Exception) -> None:
    assert for_failure(error) == Telemetry(
        metrics=(Metric("RecordFailures"),),
        log=LogLine(Level.ERROR, "record failed; SQS will offer it again", with_exception=True),
    )


def test_no_failure_counts_as_acknowledged() -> None:
    failures = [ConfigurationFailure("7", "x", recorded=False), ChainAhead(1, 0), OutOfTime(1, 2), ValueError()]
    assert all(ACKNOWLEDGED not in for_failure(error).metrics for error in failures)


# --- cold start -------------------------------------------------------------------------------------


def test_the_cold_start_line_lists_every_poller_setting_and_the_app_id_but_never_the_secret() -> None:
    secret = "0123456789abcdef0123456789abcdef"
    settings, zego = load_settings({**POLLER_RESOURCES, "ZEGO_APP_ID": "1234567890", "ZEGO_SERVER_SECRET": secret})
    telemetry = configured(settings, zego.app_id)
    assert telemetry.metrics == ()
    assert telemetry.log is not None
    assert (telemetry.log.level, telemetry.log.message) == (Level.INFO, "poller configured")
    assert telemetry.log.extra["app_id"] == 1234567890
    logged = telemetry.log.extra["settings"]
    assert isinstance(logged, dict)
    assert logged["table_name"] == "tasks"
    assert set(logged) == {item.name for item in fields(settings)}  # the record store's two included
    assert secret not in repr(telemetry)
