"""Per-message orchestration of the poller: read → fence → rate limit → describe → decide → send → write.

The order is the one decided in docs/architecture.md ("One live poll chain per task"): the next
message is sent *before* the fenced write, so a crash between the two costs one extra ZEGO call and
never loses a chain. What to write and send is decided by :mod:`zego_media_tasks.domain.polling`;
this module only sequences the adapters and reports what happened.

How a message ends:

- a returned :class:`PollResult`: acknowledge it (it is done, skipped, superseded or dead-lettered);
- :class:`ItemRetry` (configuration error, message ahead of its record), or a ``StoreError`` /
  ``QueueSendError`` from an adapter: report the item failed, so SQS offers it again after the
  visibility timeout and, after ``maxReceiveCount``, moves it to the DLQ.

The handler contains each message's failure to that message (Powertools ``BatchProcessor``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from zego_media_tasks.domain.backoff import UniformSource
from zego_media_tasks.domain.messages import MalformedMessageError, PollRequest, parse_poll_request
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.polling import (
    RATE_LIMITED,
    Admission,
    PollContext,
    PollDecision,
    PollingPolicy,
    Step,
    admit,
    awaits_callback,
    decide_awaiting_callback,
    decide_deadline_passed,
    decide_outcome,
    decide_postponed,
    decide_rate_limited,
    is_past_deadline,
    is_postponed,
    reject_malformed,
)
from zego_media_tasks.domain.ports import Clock, PollSender, TaskDescriber, TaskRecords, WriteResult
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import Vendor
from zego_media_tasks.domain.timestamps import from_epoch
from zego_media_tasks.store.rate_limiter import Permit, Saturated
from zego_media_tasks.store.task_store import StoreError

REJECT_WRITE_ROUNDS = 3
"""Re-read-and-write rounds for a REJECTED record when a concurrent poll moves the record meanwhile."""

Correlate = Callable[[Mapping[str, str]], None]
"""Receives correlation keys (task id, vendor, ZEGO request ids) as soon as they are known, so that
every later log line of this message carries them."""


class DeadLetterSink(Protocol):
    """The dead-letter queue (implemented by ``zego_media_tasks.queue.poll_queue.DeadLetterQueue``)."""

    def send(self, body: str, reason: str, detail: str, source_message_id: str) -> str:
        """Park an unreadable body with its reason."""
        ...


class CallLimiter(Protocol):
    """The shared ZEGO rate limiter (implemented by ``zego_media_tasks.store.rate_limiter.RateLimiter``)."""

    def acquire(self) -> Permit | Saturated:
        """Reserve and wait for a call slot, or report saturation."""
        ...

    def postpone(self, earliest: datetime) -> datetime:
        """A place in the fleet's postponement queue, no earlier than ``earliest``."""
        ...

    def throttled(self) -> None:
        """Report a Code 6: the fleet's pace adapts (best effort)."""
        ...

    def current_rate(self) -> float:
        """The pace in force, calls per second."""
        ...


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """The parts of one SQS record the poller uses."""

    message_id: str
    body: str
    sent_timestamp_ms: int | None = None
    """SQS ``SentTimestamp``: first-seen time of a task when neither record nor message has one."""

    @property
    def sent_at(self) -> datetime | None:
        """``SentTimestamp`` as an aware datetime."""
        return from_epoch(self.sent_timestamp_ms / 1000) if self.sent_timestamp_ms is not None else None


class Action(StrEnum):
    """What happened to an acknowledged message."""

    POLLED = "POLLED"
    """A decision was made and written (ZEGO called, or deadline/rate-limit decided without a call)."""
    SUPERSEDED = "SUPERSEDED"
    """A decision was made but the fenced write lost: another copy advanced the record first."""
    SKIPPED_TERMINAL = "SKIPPED_TERMINAL"
    SKIPPED_STALE = "SKIPPED_STALE"
    DEAD_LETTERED = "DEAD_LETTERED"


@dataclass(frozen=True, slots=True)
class PollResult:
    """The report of one acknowledged message (the handler turns it into logs and metrics)."""

    message_id: str
    action: Action
    task_id: str | None = None
    vendor: Vendor | None = None
    decision: PollDecision | None = None
    outcome: CallOutcome | None = None
    write: WriteResult | None = None
    sent_message_id: str | None = None
    rate_limit_wait_seconds: float | None = None
    rate_limited: bool = False
    call_rate_per_second: float | None = None
    """The fleet's pace as the limiter last saw it, when this message went through the limiter."""
    malformed: MalformedMessageError | None = None
    warnings: tuple[str, ...] = field(default=())


class ItemRetry(Exception):  # noqa: N818 - it is an instruction to the handler, not an error kind
    """Report this message failed so that SQS offers it again (and eventually dead-letters it)."""


class ConfigurationFailure(ItemRetry):
    """ZEGO says our configuration is wrong (AppId, secret, permissions): no task can progress.

    The task's ``lastError`` was recorded when ``recorded`` is True; nothing was made terminal and the
    chain's generation did not move, so the same message (retried, or redriven from the DLQ once the
    configuration is fixed) resumes the task.
    """

    def __init__(self, code: str, message: str, *, recorded: bool, warnings: tuple[str, ...] = ()) -> None:
        super().__init__(f"ZEGO configuration error {code}: {message}")
        self.code = code
        self.message = message
        self.recorded = recorded
        self.warnings = warnings


class ChainAhead(ItemRetry):
    """The message is newer than its record: the write of the poll that sent it has not landed yet."""

    def __init__(self, message_generation: int, record_generation: int | None) -> None:
        super().__init__(
            f"message generation {message_generation} is ahead of the record's "
            f"({'no record' if record_generation is None else record_generation})"
        )
        self.message_generation = message_generation
        self.record_generation = record_generation


class OutOfTime(ItemRetry):
    """Too little of the invocation is left to finish this record: it is retried, untouched, rather
    than cut off half-way by the Lambda timeout (which would fail the whole batch)."""

    def __init__(self, remaining_seconds: float, budget_seconds: float) -> None:
        super().__init__(f"{remaining_seconds:.1f} s left, a record may need {budget_seconds:.1f} s")
        self.remaining_seconds = remaining_seconds
        self.budget_seconds = budget_seconds


@dataclass(slots=True, kw_only=True)
class PollerService:
    """Processes one poll message at a time. Built once per Lambda instance (not frozen: the rate-limit
    benchmark swaps in timed wrappers of the limiter and the describer)."""

    store: TaskRecords
    """Read consistently (``get``'s default) and written with the generation fence."""
    queue: PollSender
    dead_letters: DeadLetterSink
    limiter: CallLimiter
    describer: TaskDescriber
    clock: Clock
    policy: PollingPolicy
    random: UniformSource

    def handle(self, message: QueueMessage, correlate: Correlate | None = None) -> PollResult:
        """Process one message; return when it may be acknowledged, raise when it must be retried."""
        bind = correlate or (lambda _keys: None)
        try:
            request = parse_poll_request(message.body)
        except MalformedMessageError as error:
            if error.task_id:
                bind({"task_id": error.task_id, **({"vendor": error.vendor.value} if error.vendor else {})})
            return self._dead_letter(message, error)
        bind({"task_id": request.task_id, "vendor": request.vendor.value})

        stored = self.store.get(request.task_id, request.vendor)
        admission = admit(stored, request)
        if admission is Admission.TERMINAL:
            return PollResult(message.message_id, Action.SKIPPED_TERMINAL, request.task_id, request.vendor)
        if admission is Admission.STALE:
            return PollResult(message.message_id, Action.SKIPPED_STALE, request.task_id, request.vendor)
        if admission is Admission.AHEAD:
            raise ChainAhead(request.generation, stored.generation if stored else None)

        poll = PollContext(stored, request, self.clock.now(), self.policy, message.sent_at)
        if is_past_deadline(poll):
            decision = decide_deadline_passed(poll)
        elif awaits_callback(stored, request):
            decision = decide_awaiting_callback(poll)
        elif is_postponed(request, poll.now):
            decision = decide_postponed(poll)
        else:
            return self._budgeted(message, request, stored, bind)
        return self._apply(message, request, decision, None, None)

    def _budgeted(
        self, message: QueueMessage, request: PollRequest, stored: TaskRecord | None, bind: Correlate
    ) -> PollResult:
        """The poll through the fleet's call budget (docs/architecture.md, "Rate limiter"): a slot within
        the short maximum wait, else a place in the postponement queue; after the call, a next poll that
        would be due before the polls already postponed queues up behind them, so every task takes its
        turn."""
        sent_at = message.sent_at
        permit = self.limiter.acquire()
        warnings: tuple[str, ...] = ()
        if isinstance(permit, Saturated):
            queued = self.limiter.postpone(self.clock.now() + timedelta(seconds=1))
            poll = PollContext(stored, request, self.clock.now(), self.policy, sent_at)
            decision = decide_rate_limited(poll, random=self.random, not_before=queued)
            return self._apply(message, request, decision, None, None, call_rate=self.limiter.current_rate())
        outcome = self.describer.describe_media_task(request.task_id, request.vendor)
        ids = {
            "zego_request_id": outcome.zego_request_id,
            "vendor_request_id": outcome.snapshot.vendor_request_id if outcome.snapshot else None,
        }
        bind({name: value for name, value in ids.items() if value})
        if outcome.kind is OutcomeKind.THROTTLED:
            try:
                self.limiter.throttled()
            except StoreError as error:
                warnings = (f"could not report the throttled call to the rate limiter: {error}",)
        after_call = PollContext(stored, request, self.clock.now(), self.policy, sent_at)
        decision = decide_outcome(after_call, outcome, random=self.random)
        if decision.delay_seconds is not None and decision.delay_seconds < permit.queue_ahead_seconds:
            # Polls postponed earlier are due after this task's next one would be: it queues up behind them.
            place = self.limiter.postpone(after_call.now + timedelta(seconds=decision.delay_seconds))
            decision = decide_outcome(after_call, outcome, random=self.random, not_before=place)
        result = self._apply(
            message, request, decision, outcome, permit.waited_seconds, call_rate=self.limiter.current_rate()
        )
        return replace(result, warnings=result.warnings + warnings) if warnings else result

    def _apply(
        self,
        message: QueueMessage,
        request: PollRequest,
        decision: PollDecision,
        outcome: CallOutcome | None,
        wait: float | None,
        *,
        call_rate: float | None = None,
    ) -> PollResult:
        if decision.step is Step.HOLD:
            warnings: tuple[str, ...] = ()
            recorded = False
            try:
                recorded = self.store.put(decision.record, decision.expected_generation) is WriteResult.WRITTEN
            except StoreError as error:
                # Best effort: the retry of this message will try again; the item fails either way.
                warnings = (f"could not record the configuration error on the task: {error}",)
            error_info = decision.record.last_error
            raise ConfigurationFailure(
                error_info.code if error_info else "UNKNOWN",
                error_info.message if error_info else "",
                recorded=recorded,
                warnings=warnings,
            )

        sent_message_id: str | None = None
        if decision.step is Step.CONTINUE and decision.next_request is not None:
            # Send before write (docs/architecture.md): a crash after this line is recovered by the
            # redelivery of this message, and the duplicate next message is fenced off later.
            sent_message_id = self.queue.send(decision.next_request, decision.delay_seconds or 0)
        write = self.store.put(decision.record, decision.expected_generation)
        if write is WriteResult.SUPERSEDED and decision.expected_generation is None:
            write = self._write_over_registration(request, decision)
        return PollResult(
            message_id=message.message_id,
            action=Action.POLLED if write is WriteResult.WRITTEN else Action.SUPERSEDED,
            task_id=request.task_id,
            vendor=request.vendor,
            decision=decision,
            outcome=outcome,
            write=write,
            sent_message_id=sent_message_id,
            rate_limit_wait_seconds=wait,
            rate_limited=decision.reason == RATE_LIMITED,
            call_rate_per_second=call_rate,
        )

    def _write_over_registration(self, request: PollRequest, decision: PollDecision) -> WriteResult:
        """Retry a first write that found a record created meanwhile at generation 0.

        The read API registers a task by sending its generation-0 message and then creating a PENDING
        record at generation 0. If this poll read "no record" and the registration's record landed
        before this write, the record is still at the fence position this message was admitted for;
        giving up would leave it at generation 0 while the generation-1 message is already queued,
        which would then be "ahead" of it forever. Any other record (advanced, or terminal) wins.
        """
        current = self.store.get(request.task_id, request.vendor)
        if current is None or current.terminal or current.generation != request.generation:
            return WriteResult.SUPERSEDED
        return self.store.put(decision.record, current.generation)

    def _dead_letter(self, message: QueueMessage, error: MalformedMessageError) -> PollResult:
        """Park an unreadable message in the DLQ; mark its task REJECTED when the task is identifiable.

        The record is written first and the DLQ copy sent second, so a failure of either retries the
        whole message and the retry finds the REJECTED record already there (nothing written twice).
        """
        decision: PollDecision | None = None
        write: WriteResult | None = None
        warnings: tuple[str, ...] = ()
        if error.task_id and error.vendor:
            for _ in range(REJECT_WRITE_ROUNDS):
                stored = self.store.get(error.task_id, error.vendor)
                if stored is not None and stored.terminal:
                    break  # a terminal record is never overwritten
                decision = reject_malformed(
                    stored,
                    error.task_id,
                    error.vendor,
                    code=error.reason.value,
                    detail=error.detail,
                    now=self.clock.now(),
                    policy=self.policy,
                    sent_at=message.sent_at,
                )
                write = self.store.put(decision.record, decision.expected_generation)
                if write is WriteResult.WRITTEN:
                    break
            else:
                warnings = ("the task record kept moving; it was not marked REJECTED",)
        self.dead_letters.send(message.body, error.reason.value, error.detail, message.message_id)
        return PollResult(
            message_id=message.message_id,
            action=Action.DEAD_LETTERED,
            task_id=error.task_id,
            vendor=error.vendor,
            decision=decision if write is WriteResult.WRITTEN else None,
            write=write,
            malformed=error,
            warnings=warnings,
        )
