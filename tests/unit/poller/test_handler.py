"""The poller Lambda handler end to end over moto (in-process) with a scripted ZEGO describer.

Each test asserts the exact ``batchItemFailures``, the stored record and the messages put back on the
queue (body and delay). Message delays are read from moto's queue (see ``tests.support.poller``), so no
test waits for a delay to pass.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from devstack.lambda_context import LocalLambdaContext
from tests.support.poller import (
    QueuedMessage,
    body,
    failure,
    public_message_count,
    record_from_message,
    sqs_event,
    sqs_record,
    success,
)
from tests.support.powertools_logs import LogLines, captured_log_lines
from tests.unit.poller.conftest import Poller
from zego_media_tasks.domain.backoff import BackoffPolicy
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.record import LastError, TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import from_iso, to_iso
from zego_media_tasks.store.rate_limiter import RateLimiter
from zego_media_tasks.store.task_store import StoreError, WriteResult

TENCENT = Vendor.TENCENT
HUAWEI = Vendor.HUAWEI
TASK = "1500020831-procedurev2-58ed61fcdbb0f78a0bf15cabd8ae4713tt0"
HUAWEI_TASK = "289665200"

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def invoke(poller_app: ModuleType, lambda_context: LocalLambdaContext) -> Invoke:
    def run(event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = poller_app.lambda_handler(event, lambda_context)
        return response

    return run


class Queue:
    """Tracks which messages of the poll queue a test has already looked at."""

    def __init__(self, poller: Poller) -> None:
        self.poller = poller
        self.seen: set[str] = set()

    def new(self) -> list[QueuedMessage]:
        fresh = [m for m in self.poller.queued() if m.message_id not in self.seen]
        self.seen.update(m.message_id for m in fresh)
        return fresh


@pytest.fixture
def queue(poller: Poller) -> Queue:
    return Queue(poller)


@pytest.fixture
def log_lines(poller_app: ModuleType) -> Iterator[LogLines]:
    """The handler's log lines as JSON, formatted by its own Powertools formatter at logging time."""
    with captured_log_lines(poller_app.logger) as lines:
        yield lines


def jitter_window(attempt: int) -> range:
    """The whole-second delays the default schedule may draw after counted attempt ``attempt``."""
    backoff = BackoffPolicy()
    ceiling = backoff.ceiling(attempt)
    return range(math.floor(ceiling * (1 - backoff.jitter)), round(ceiling) + 1)


def failures(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def stored(poller: Poller, task_id: str = TASK, vendor: Vendor = TENCENT) -> TaskRecord:
    record = poller.record(task_id, vendor)
    assert record is not None
    return record


def deliver(poller: Poller, message: QueuedMessage) -> dict[str, Any]:
    """The Lambda event that delivers one queued message."""
    return sqs_event([record_from_message(message, poller.queue_arn, sent_at=poller.clock.now())])


# --- one test per outcome row ----------------------------------------------------------------------


def test_a_new_task_in_progress_is_recorded_and_polled_again_later(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    # Given a pipeline's two-field message for a task ZEGO reports as PROCESSING
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PROCESSING", event="transcode"))
    event = poller.event(body(TASK, TENCENT))
    first_seen = poller.clock.now()

    # When the poller handles it
    response = invoke(event)

    # Then the message is acknowledged, the record created at generation 1, and the next poll queued
    assert failures(response) == []
    record = stored(poller)
    assert (record.status, record.vendor_status, record.event) == (TaskStatus.PROCESSING, "PROCESSING", "transcode")
    assert (record.generation, record.attempt, record.poll_count) == (1, 1, 1)
    assert record.first_seen_at == to_iso(first_seen)
    assert record.deadline_at == to_iso(first_seen + timedelta(days=1))
    [message] = queue.new()
    assert message.body == {
        "TaskId": TASK,
        "Vendor": "Tencent",
        "Generation": 1,
        "Attempt": 1,
        "FirstSeenAt": record.first_seen_at,
        "DeadlineAt": record.deadline_at,
    }
    assert message.delay_seconds in jitter_window(0)
    assert record.next_poll_at == to_iso(poller.clock.now() + timedelta(seconds=message.delay_seconds))
    assert poller.describer.calls == [(TASK, TENCENT)]


def test_a_finished_task_is_terminal_with_its_results_and_nothing_is_queued(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    poller.describer.script(
        TASK,
        TENCENT,
        success(
            TASK,
            TENCENT,
            "FINISH",
            event="compose",
            file_id="528589",
            replay_url="https://vod.example/out.mp4",
            vendor_request_id="6aac31f4",
            zego_request_id="zego-req-1",
        ),
    )
    response = invoke(poller.event(body(TASK, TENCENT)))
    assert failures(response) == []
    record = stored(poller)
    assert record.status is TaskStatus.SUCCEEDED
    assert (record.file_id, record.replay_url) == ("528589", "https://vod.example/out.mp4")
    assert (record.vendor_request_id, record.zego_request_id) == ("6aac31f4", "zego-req-1")
    assert record.completed_at == to_iso(poller.clock.now())
    assert record.expires_at == int(poller.clock.now().timestamp()) + 30 * 86_400
    assert queue.new() == []


def test_a_failed_tencent_task_is_terminal_failed_with_the_vendor_message(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "FAIL", message="source file is corrupted"))
    assert failures(invoke(poller.event(body(TASK, TENCENT)))) == []
    record = stored(poller)
    assert (record.status, record.message) == (TaskStatus.FAILED, "source file is corrupted")
    assert queue.new() == []


def test_throttled_comes_back_shortly_without_counting_an_attempt(poller: Poller, invoke: Invoke, queue: Queue) -> None:
    poller.describer.script(TASK, TENCENT, failure(OutcomeKind.THROTTLED, "6", "too many requests"))
    assert failures(invoke(poller.event(body(TASK, TENCENT)))) == []
    record = stored(poller)
    assert (record.status, record.attempt, record.poll_count, record.generation) == (TaskStatus.PENDING, 0, 1, 1)
    assert record.last_error == LastError("THROTTLED", "6", "too many requests", to_iso(poller.clock.now()))
    [message] = queue.new()
    assert message.body["Generation"] == 1
    assert "Attempt" not in message.body  # attempt 0 is not written
    assert 1 <= message.delay_seconds <= 3


def test_transient_backs_off_counts_the_attempt_and_keeps_the_status(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    # Given a task already PROCESSING at generation 1, attempt 1
    poller.describer.script(
        TASK, TENCENT, success(TASK, TENCENT, "PROCESSING"), failure(OutcomeKind.TRANSIENT, "HTTP_502", "HTTP 502")
    )
    invoke(poller.event(body(TASK, TENCENT)))
    [first] = queue.new()
    before = stored(poller)

    # When the next poll times out
    poller.clock.advance(first.delay_seconds)
    response = invoke(deliver(poller, first))

    # Then the status and its change time are kept, the attempt counted and the error recorded
    assert failures(response) == []
    record = stored(poller)
    assert (record.status, record.status_changed_at) == (TaskStatus.PROCESSING, before.status_changed_at)
    assert (record.generation, record.attempt, record.poll_count) == (2, 2, 2)
    assert record.last_error == LastError("TRANSIENT", "HTTP_502", "HTTP 502", to_iso(poller.clock.now()))
    [message] = queue.new()
    assert (message.body["Generation"], message.body["Attempt"]) == (2, 2)
    assert message.body["FirstSeenAt"] == before.first_seen_at
    assert message.delay_seconds in jitter_window(1)  # the second counted attempt's window


def test_rejected_by_zego_is_terminal_rejected_with_code_and_message(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    poller.describer.script(TASK, TENCENT, failure(OutcomeKind.REJECTED, "4", "CDN vendor mismatch"))
    assert failures(invoke(poller.event(body(TASK, TENCENT)))) == []
    record = stored(poller)
    assert record.status is TaskStatus.REJECTED
    assert record.last_error == LastError("REJECTED", "4", "CDN vendor mismatch", to_iso(poller.clock.now()))
    assert queue.new() == []


def test_configuration_error_fails_the_item_records_the_error_and_a_redrive_resumes_the_task(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    # Given ZEGO refuses our signature
    poller.describer.script(
        TASK,
        TENCENT,
        failure(OutcomeKind.CONFIGURATION, "100000005", "signature wrong"),
        success(TASK, TENCENT, "FINISH"),
    )
    record = sqs_record(body(TASK, TENCENT), queue_arn=poller.queue_arn, sent_at=poller.clock.now())

    # When the message is processed
    response = invoke(sqs_event([record]))

    # Then the item fails (SQS retries it, then dead-letters it), the task shows the error, nothing is
    # terminal, the fence did not move and nothing was queued
    assert failures(response) == [record["messageId"]]
    held = stored(poller)
    assert (held.status, held.generation, held.attempt, held.poll_count) == (TaskStatus.PENDING, 0, 0, 1)
    assert held.last_error == LastError("CONFIGURATION", "100000005", "signature wrong", to_iso(poller.clock.now()))
    assert queue.new() == []

    # And once the operator has fixed the configuration, the same message (redriven) resumes the task
    response = invoke(sqs_event([record]))
    assert failures(response) == []
    assert stored(poller).status is TaskStatus.SUCCEEDED


def test_huawei_no_task_is_polled_through_the_grace_period_then_not_found(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    poller.describer.script(HUAWEI_TASK, HUAWEI, success(HUAWEI_TASK, HUAWEI, "NO_TASK"))

    # Within the grace period: not terminal, vendor status visible, polling continues
    assert failures(invoke(poller.event(body(HUAWEI_TASK, HUAWEI)))) == []
    record = stored(poller, HUAWEI_TASK, HUAWEI)
    assert (record.status, record.vendor_status) == (TaskStatus.PENDING, "NO_TASK")
    [message] = queue.new()
    assert message.delay_seconds in jitter_window(0)

    # After it: terminal NOT_FOUND
    poller.clock.advance(300)
    assert failures(invoke(deliver(poller, message))) == []
    record = stored(poller, HUAWEI_TASK, HUAWEI)
    assert (record.status, record.vendor_status, record.generation) == (TaskStatus.NOT_FOUND, "NO_TASK", 2)
    assert record.completed_at == to_iso(poller.clock.now())
    assert queue.new() == []


def test_a_task_past_its_deadline_times_out_without_calling_zego(poller: Poller, invoke: Invoke, queue: Queue) -> None:
    deadline = poller.clock.now() - timedelta(seconds=1)
    event = poller.event(body(TASK, TENCENT, DeadlineAt=to_iso(deadline)))
    assert failures(invoke(event)) == []
    record = stored(poller)
    assert (record.status, record.poll_count, record.deadline_at) == (TaskStatus.TIMED_OUT, 0, to_iso(deadline))
    assert poller.describer.calls == []
    assert queue.new() == []


def test_the_last_poll_is_scheduled_at_the_deadline(poller: Poller, invoke: Invoke, queue: Queue) -> None:
    deadline = poller.clock.now() + timedelta(seconds=2.5)
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PROCESSING"))
    invoke(poller.event(body(TASK, TENCENT, DeadlineAt=to_iso(deadline), Attempt=9)))
    [message] = queue.new()
    assert message.delay_seconds == 2  # not up to the 120 s backoff


def _budget_item(poller: Poller, *, tat_ahead_seconds: float, queue_ahead_seconds: float = 0) -> None:
    """The limiter item as other instances left it: slots and postponed polls reaching this far ahead."""
    now_us = int(poller.clock.now().timestamp() * 1_000_000)
    numbers = {"ver": 7, "tat": now_us + int(tat_ahead_seconds * 1e6), "qtat": now_us + int(queue_ahead_seconds * 1e6)}
    boto3.client("dynamodb").put_item(
        TableName=poller.stack.table_names["RateLimitTable"],
        Item={"bucket": {"S": "zego#1234567890"}, **{name: {"N": str(value)} for name, value in numbers.items()}},
    )


def test_rate_limiter_saturation_requeues_shortly_without_calling_zego(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    # Given reservations already queued far beyond the maximum wait (other instances are busy)
    _budget_item(poller, tat_ahead_seconds=60)
    response = invoke(poller.event(body(TASK, TENCENT)))
    assert failures(response) == []
    assert poller.describer.calls == []
    record = stored(poller)
    assert (record.status, record.poll_count, record.attempt, record.generation) == (TaskStatus.PENDING, 0, 0, 1)
    [message] = queue.new()
    assert message.body["Generation"] == 1
    assert 1 <= message.delay_seconds <= 3


def test_a_saturated_poll_takes_its_place_behind_the_postponed_ones(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    # Given a fleet that has already postponed polls for the next 40 s
    _budget_item(poller, tat_ahead_seconds=60, queue_ahead_seconds=40)
    assert failures(invoke(poller.event(body(TASK, TENCENT)))) == []
    assert poller.describer.calls == []
    [message] = queue.new()
    assert message.delay_seconds == 40
    assert "NotBefore" not in message.body


def test_a_place_beyond_the_longest_sqs_delay_is_reached_in_hops(poller: Poller, invoke: Invoke, queue: Queue) -> None:
    # Given a backlog postponed for 1,500 s: after its call, the task's next poll joins the queue's end
    _budget_item(poller, tat_ahead_seconds=0, queue_ahead_seconds=1500)
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PROCESSING"))
    assert failures(invoke(poller.event(body(TASK, TENCENT)))) == []
    assert len(poller.describer.calls) == 1
    [hop] = queue.new()
    assert hop.delay_seconds == 900
    not_before = from_iso(hop.body["NotBefore"])
    assert (not_before - poller.clock.now()).total_seconds() == pytest.approx(1500, abs=1)
    # When the hop arrives, it goes on towards its place without calling ZEGO or the limiter
    poller.clock.advance(900)
    assert failures(invoke(deliver(poller, hop))) == []
    assert len(poller.describer.calls) == 1
    [last] = queue.new()
    assert 599 <= last.delay_seconds <= 601
    assert stored(poller).generation == 2
    # Then at its place it polls
    poller.clock.advance(last.delay_seconds)
    assert failures(invoke(deliver(poller, last))) == []
    assert len(poller.describer.calls) == 2


def test_code_6_from_zego_slows_the_fleet(poller: Poller, invoke: Invoke, queue: Queue) -> None:
    throttle = failure(OutcomeKind.THROTTLED, "6", "request too frequent")
    poller.describer.script(TASK, TENCENT, throttle, throttle)
    assert failures(invoke(poller.event(body(TASK, TENCENT)))) == []
    [retry] = queue.new()
    poller.clock.advance(0.5)
    assert failures(invoke(deliver(poller, retry))) == []
    limiter = poller.service.limiter
    assert isinstance(limiter, RateLimiter)
    assert limiter.current_rate() < limiter.policy.cap_per_second


def test_an_unknown_vendor_status_keeps_polling(poller: Poller, invoke: Invoke, queue: Queue) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PAUSED"))
    assert failures(invoke(poller.event(body(TASK, TENCENT)))) == []
    record = stored(poller)
    assert (record.status, record.vendor_status) == (TaskStatus.UNKNOWN, "PAUSED")
    assert len(queue.new()) == 1


# --- one live chain --------------------------------------------------------------------------------


def test_the_same_message_twice_in_one_batch_polls_once_and_queues_one_next_message(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PROCESSING"))
    message = body(TASK, TENCENT)
    response = invoke(poller.event(message, message))
    assert failures(response) == []
    assert poller.describer.calls == [(TASK, TENCENT)]
    assert stored(poller).generation == 1
    [next_message] = queue.new()
    assert next_message.body["Generation"] == 1


def test_a_duplicate_delivery_is_acknowledged_without_calling_zego(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PROCESSING"))
    event = poller.event(body(TASK, TENCENT))
    invoke(event)
    queue.new()
    before = stored(poller)

    # SQS delivers the same message again (at-least-once delivery, or a crash after the write)
    response = invoke(event)

    assert failures(response) == []
    assert poller.describer.calls == [(TASK, TENCENT)]
    assert stored(poller) == before
    assert queue.new() == []


def test_a_crash_between_send_and_write_costs_one_extra_call_and_leaves_one_chain(
    poller: Poller, invoke: Invoke, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "WAITING"))
    record = sqs_record(body(TASK, TENCENT), queue_arn=poller.queue_arn, sent_at=poller.clock.now())

    # Given the store fails right after the next message was sent
    store = poller.table
    real_put = store.put

    def crash(*_args: object, **_kwargs: object) -> WriteResult:
        raise StoreError("PutItem", "InternalServerError")

    monkeypatch.setattr(store, "put", crash)
    response = invoke(sqs_event([record]))

    # Then the item fails, nothing is stored, and the generation-1 message is already queued
    assert failures(response) == [record["messageId"]]
    assert poller.record(TASK, TENCENT) is None
    [orphan] = queue.new()
    assert orphan.body["Generation"] == 1

    # When SQS redelivers the message and the store works again
    monkeypatch.setattr(store, "put", real_put)
    assert failures(invoke(sqs_event([record]))) == []
    [second] = queue.new()
    assert stored(poller).generation == 1

    # Then of the two generation-1 messages, the first processed advances the chain, the other is dropped
    poller.clock.advance(5)
    assert failures(invoke(deliver(poller, orphan))) == []
    assert stored(poller).generation == 2
    [third] = queue.new()
    assert third.body["Generation"] == 2
    assert failures(invoke(deliver(poller, second))) == []
    assert stored(poller).generation == 2
    assert queue.new() == []
    assert len(poller.describer.calls) == 3  # one extra call, never a lost or doubled chain


def test_an_older_generation_arriving_late_is_dropped(poller: Poller, invoke: Invoke, queue: Queue) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "WAITING"), success(TASK, TENCENT, "PROCESSING"))
    invoke(poller.event(body(TASK, TENCENT)))
    [gen1] = queue.new()
    poller.clock.advance(4)
    invoke(deliver(poller, gen1))
    [gen2] = queue.new()
    before = stored(poller)
    assert (before.generation, before.status) == (2, TaskStatus.PROCESSING)

    # A stale copy of the generation-1 message (an old redelivery) arrives after generation 2 was written
    response = invoke(deliver(poller, gen1))

    assert failures(response) == []
    assert stored(poller) == before
    assert queue.new() == []
    assert len(poller.describer.calls) == 2
    assert gen2.body["Generation"] == 2


def test_a_message_ahead_of_its_record_is_retried_not_dropped(poller: Poller, invoke: Invoke, queue: Queue) -> None:
    # Given a generation-1 message whose sender's write has not landed (no record yet)
    record = sqs_record(
        body(TASK, TENCENT, Generation=1, Attempt=1), queue_arn=poller.queue_arn, sent_at=poller.clock.now()
    )
    response = invoke(sqs_event([record]))
    # Then it is reported failed, so that SQS offers it again after the visibility timeout
    assert failures(response) == [record["messageId"]]
    assert poller.record(TASK, TENCENT) is None
    assert poller.describer.calls == []
    assert queue.new() == []


def test_a_terminal_record_is_never_polled_again(poller: Poller, invoke: Invoke, queue: Queue) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "FINISH"))
    invoke(poller.event(body(TASK, TENCENT)))
    final = stored(poller)

    # Any message, from the old chain or a re-registration, finds the terminal record
    response = invoke(poller.event(body(TASK, TENCENT), body(TASK, TENCENT, Generation=final.generation)))

    assert failures(response) == []
    assert stored(poller) == final
    assert len(poller.describer.calls) == 1
    assert queue.new() == []


def test_a_terminal_state_written_by_another_copy_meanwhile_is_not_regressed(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    # Given another copy of the chain finishes the task while this poll is talking to ZEGO
    def finish_elsewhere_then_answer_processing(task_id: str, vendor: Vendor) -> CallOutcome:
        current = stored(poller, task_id, vendor)
        done = replace(current, status=TaskStatus.SUCCEEDED, generation=current.generation + 1)
        assert poller.store.put(done, expected_generation=current.generation) is WriteResult.WRITTEN
        return success(task_id, vendor, "PROCESSING")

    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "WAITING"))
    invoke(poller.event(body(TASK, TENCENT)))
    [gen1] = queue.new()
    poller.describer.describe_media_task = finish_elsewhere_then_answer_processing  # type: ignore[method-assign]

    # When this (older) poll writes its non-terminal result
    response = invoke(deliver(poller, gen1))

    # Then the write is fenced off: the record stays SUCCEEDED; the message sent before the write will be
    # acknowledged as terminal when it arrives
    assert failures(response) == []
    assert stored(poller).status is TaskStatus.SUCCEEDED
    [sent] = queue.new()
    assert failures(invoke(deliver(poller, sent))) == []
    assert stored(poller).status is TaskStatus.SUCCEEDED


# --- malformed input ---------------------------------------------------------------------------------


MALFORMED = [
    ("not json", "NOT_JSON"),
    ('["TaskId", "x"]', "NOT_OBJECT"),
    ('{"Vendor": "Tencent"}', "MISSING_TASK_ID"),
    ('{"TaskId": "a b", "Vendor": "Tencent"}', "INVALID_TASK_ID"),
    ('{"TaskId": 42, "Vendor": "Tencent"}', "INVALID_TASK_ID"),
    ('{"TaskId": "t-1"}', "MISSING_VENDOR"),
    ('{"TaskId": "t-1", "Vendor": "Aliyun"}', "UNKNOWN_VENDOR"),
    ('{"TaskId": "t-1", "Vendor": "Tencent", "Generation": "2"}', "INVALID_FIELD"),
    ('{"TaskId": "t-1", "Vendor": "Tencent", "FirstSeenAt": "yesterday"}', "INVALID_FIELD"),
    (json.dumps({"TaskId": "t-1", "Vendor": "Tencent", "Padding": "x" * 5000}), "OVERSIZE"),
    ("", "NOT_JSON"),
]


@pytest.mark.parametrize(("raw", "reason"), MALFORMED)
def test_malformed_input_is_dead_lettered_with_its_reason_without_failing_neighbours(
    poller: Poller, invoke: Invoke, queue: Queue, *, raw: str, reason: str, log_lines: LogLines
) -> None:
    # Given a batch holding one malformed message next to a good one
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PROCESSING"))
    bad = sqs_record(raw, queue_arn=poller.queue_arn, sent_at=poller.clock.now())
    good = sqs_record(body(TASK, TENCENT), queue_arn=poller.queue_arn, sent_at=poller.clock.now())

    response = invoke(sqs_event([bad, good]))

    # Then nothing fails, ZEGO is only asked about the good task, and the bad body sits in the DLQ
    assert failures(response) == []
    assert poller.describer.calls == [(TASK, TENCENT)]
    [parked] = poller.dead_letters()
    assert parked.raw_body == (raw or "<empty>")
    assert parked.attributes["ErrorReason"] == reason
    assert parked.attributes["SourceMessageId"] == bad["messageId"]
    assert len(queue.new()) == 1  # only the good task's next poll
    # And the log says why, with the message id
    [logged] = [line for line in log_lines() if line["message"] == "malformed message sent to the dead-letter queue"]
    assert (logged["message_id"], logged["reason"]) == (bad["messageId"], reason)


def test_a_malformed_message_for_an_identifiable_task_marks_it_rejected(poller: Poller, invoke: Invoke) -> None:
    raw = '{"TaskId": "t-1", "Vendor": "Huawei", "Attempt": -1}'
    assert failures(invoke(sqs_event([sqs_record(raw, queue_arn=poller.queue_arn, sent_at=poller.clock.now())]))) == []
    record = stored(poller, "t-1", HUAWEI)
    assert record.status is TaskStatus.REJECTED
    assert record.last_error is not None
    assert (record.last_error.kind, record.last_error.code) == ("MALFORMED", "INVALID_FIELD")
    assert "Attempt" in record.last_error.message
    assert poller.describer.calls == []


def test_a_malformed_message_never_overwrites_a_terminal_record(poller: Poller, invoke: Invoke) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "FINISH"))
    invoke(poller.event(body(TASK, TENCENT)))
    final = stored(poller)
    raw = json.dumps({"TaskId": TASK, "Vendor": "Tencent", "Generation": -3})
    assert failures(invoke(sqs_event([sqs_record(raw, queue_arn=poller.queue_arn, sent_at=poller.clock.now())]))) == []
    assert stored(poller) == final
    assert len(poller.dead_letters()) == 1


# --- batches, failures, configuration, logs and metrics --------------------------------------------------


def test_a_mixed_batch_reports_exactly_the_records_that_must_be_retried(poller: Poller, invoke: Invoke) -> None:
    poller.describer.script("t-ok", TENCENT, success("t-ok", TENCENT, "PROCESSING"))
    poller.describer.script("t-done", HUAWEI, success("t-done", HUAWEI, "SUCCEEDED", file_names=("a.jpg",)))
    poller.describer.script("t-config", TENCENT, failure(OutcomeKind.CONFIGURATION, "7", "authentication failed"))
    records = [
        sqs_record(body("t-ok", TENCENT), queue_arn=poller.queue_arn, sent_at=poller.clock.now()),
        sqs_record("{oops", queue_arn=poller.queue_arn, sent_at=poller.clock.now()),
        sqs_record(body("t-config", TENCENT), queue_arn=poller.queue_arn, sent_at=poller.clock.now()),
        sqs_record(body("t-done", HUAWEI), queue_arn=poller.queue_arn, sent_at=poller.clock.now()),
        sqs_record(body("t-ahead", TENCENT, Generation=4), queue_arn=poller.queue_arn, sent_at=poller.clock.now()),
    ]
    response = invoke(sqs_event(records))
    assert failures(response) == [records[2]["messageId"], records[4]["messageId"]]
    assert stored(poller, "t-ok").status is TaskStatus.PROCESSING
    done = stored(poller, "t-done", HUAWEI)
    assert (done.status, done.file_names) == (TaskStatus.SUCCEEDED, ("a.jpg",))
    assert stored(poller, "t-config").status is TaskStatus.PENDING


def test_a_store_outage_fails_only_the_affected_record(
    poller: Poller, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    poller.describer.script("t-ok", TENCENT, success("t-ok", TENCENT, "PROCESSING"))
    store = poller.table
    real_get = store.get

    def flaky_get(task_id: str, vendor: Vendor, *, consistent: bool = True) -> TaskRecord | None:
        if task_id == "t-down":
            raise StoreError("GetItem", "ProvisionedThroughputExceededException")
        return real_get(task_id, vendor, consistent=consistent)

    monkeypatch.setattr(store, "get", flaky_get)
    records = [
        sqs_record(body("t-down", TENCENT), queue_arn=poller.queue_arn, sent_at=poller.clock.now()),
        sqs_record(body("t-ok", TENCENT), queue_arn=poller.queue_arn, sent_at=poller.clock.now()),
    ]
    assert failures(invoke(sqs_event(records))) == [records[0]["messageId"]]
    assert stored(poller, "t-ok").status is TaskStatus.PROCESSING


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_handler_imports_without_environment_and_reports_every_problem_at_cold_start(
    monkeypatch: pytest.MonkeyPatch, lambda_context: LocalLambdaContext
) -> None:
    from tests.support.clock import FakeClock
    from tests.support.poller import load_poller_app
    from zego_media_tasks.poller.settings import SettingsError

    for name in ("TABLE_NAME", "QUEUE_URL", "DLQ_URL", "RATE_LIMIT_TABLE_NAME", "ZEGO_APP_ID", "ZEGO_SERVER_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    module = load_poller_app("poller_app_cold")  # no environment needed to import

    with pytest.raises(SettingsError) as caught:
        module.lambda_handler(sqs_event([sqs_record(body(TASK, TENCENT), sent_at=FakeClock().now())]), lambda_context)
    for variable in ("TABLE_NAME", "QUEUE_URL", "DLQ_URL", "RATE_LIMIT_TABLE_NAME", "ZEGO_APP_ID"):
        assert variable in str(caught.value)


def test_logs_carry_task_vendor_and_request_ids_and_never_the_secret(
    poller: Poller, invoke: Invoke, log_lines: LogLines, capsys: pytest.CaptureFixture[str]
) -> None:
    poller.describer.script(
        TASK, TENCENT, success(TASK, TENCENT, "PROCESSING", zego_request_id="zego-77", vendor_request_id="tc-88")
    )
    invoke(poller.event(body(TASK, TENCENT)))
    lines = log_lines()
    assert all("0123456789abcdef0123456789abcdef" not in json.dumps(line) for line in lines)
    assert "0123456789abcdef0123456789abcdef" not in capsys.readouterr().out
    [decided] = [line for line in lines if line["message"] == "poll decided"]
    assert decided["task_id"] == TASK
    assert decided["vendor"] == "Tencent"
    assert decided["zego_request_id"] == "zego-77"
    assert decided["vendor_request_id"] == "tc-88"
    assert decided["status"] == "PROCESSING"


def test_metrics_count_polls_outcomes_transitions_and_time_to_terminal(
    poller: Poller, invoke: Invoke, capsys: pytest.CaptureFixture[str]
) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "FINISH"))
    poller.clock.advance(0)
    event = sqs_event(
        [
            sqs_record(
                body(TASK, TENCENT), queue_arn=poller.queue_arn, sent_at=poller.clock.now() - timedelta(seconds=90)
            )
        ]
    )
    invoke(event)
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]

    def values(name: str) -> list[tuple[Any, dict[str, Any]]]:
        found = []
        for blob in blobs:
            names = [m["Name"] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
            if name in names:
                found.append((blob[name], blob))
        return found

    assert values("Polls")[0][0] in (1, 1.0, [1.0])
    [(_, outcome)] = values("Outcomes")
    assert outcome["Kind"] == "SUCCESS"
    [(_, transition)] = values("Transitions")
    assert (transition["From"], transition["To"]) == ("NEW", "SUCCEEDED")
    [(seconds, terminal)] = values("TimeToTerminalSeconds")
    assert seconds == [pytest.approx(90.0, abs=0.05)]  # plus the limiter's slot lead, waited on the fake clock
    assert terminal["Status"] == "SUCCEEDED"
    assert all(blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ZegoMediaTasksTest" for blob in blobs)


def test_the_queue_holds_exactly_what_the_test_inspects(poller: Poller, invoke: Invoke, queue: Queue) -> None:
    # The backend inspection used above agrees with SQS's public counters.
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PROCESSING"))
    invoke(poller.event(body(TASK, TENCENT)))
    assert public_message_count(boto3.client("sqs"), poller.queue_url) == len(queue.new()) == 1


def test_first_seen_comes_from_sqs_sent_timestamp_for_a_pipeline_message(poller: Poller, invoke: Invoke) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PROCESSING"))
    sent = poller.clock.now() - timedelta(minutes=3)
    invoke(sqs_event([sqs_record(body(TASK, TENCENT), queue_arn=poller.queue_arn, sent_at=sent)]))
    record = stored(poller)
    assert from_iso(record.first_seen_at) == sent.replace(microsecond=sent.microsecond // 1000 * 1000)


def test_records_are_not_started_when_the_invocation_is_about_to_time_out(
    poller: Poller, poller_app: ModuleType, queue: Queue
) -> None:
    # Given an invocation with less time left than one record may need (limiter wait + ZEGO timeouts)
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PROCESSING"))
    context = LocalLambdaContext(function_name="PollerFunction", timeout_seconds=5)
    records = [sqs_record(body(TASK, TENCENT), queue_arn=poller.queue_arn, sent_at=poller.clock.now())]
    # When it is invoked
    response = poller_app.lambda_handler(sqs_event(records), context)
    # Then the record is left for a later delivery, untouched
    assert failures(response) == [records[0]["messageId"]]
    assert poller.describer.calls == []
    assert poller.record(TASK, TENCENT) is None
    assert queue.new() == []


def test_a_registration_that_lands_during_the_first_poll_does_not_strand_the_chain(
    poller: Poller, invoke: Invoke, queue: Queue
) -> None:
    # Given the read API's registration: its generation-0 message is processed before its PENDING
    # record is written, and the record lands while the poller talks to ZEGO
    registered = TaskRecord(
        task_id=TASK,
        vendor=TENCENT,
        status=TaskStatus.PENDING,
        generation=0,
        first_seen_at=to_iso(poller.clock.now()),
        deadline_at=to_iso(poller.clock.now() + timedelta(days=1)),
        status_changed_at=to_iso(poller.clock.now()),
    )

    def register_then_answer(task_id: str, vendor: Vendor) -> CallOutcome:
        assert poller.store.put(registered, expected_generation=None) is WriteResult.WRITTEN
        return success(task_id, vendor, "PROCESSING")

    poller.describer.describe_media_task = register_then_answer  # type: ignore[method-assign]
    message = body(TASK, TENCENT, FirstSeenAt=registered.first_seen_at, DeadlineAt=registered.deadline_at)

    # When the poll writes its result
    assert failures(invoke(poller.event(message))) == []

    # Then the chain advanced over the registration's record, in step with the queued message
    record = stored(poller)
    assert (record.status, record.generation, record.poll_count) == (TaskStatus.PROCESSING, 1, 1)
    [next_message] = queue.new()
    assert next_message.body["Generation"] == record.generation
