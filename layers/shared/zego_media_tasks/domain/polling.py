"""The poll decision: given what is stored, the message and what ZEGO said, what to write and send next.

Pure functions, no I/O: :mod:`zego_media_tasks.poller.service` reads, calls, sends and writes; this module
only decides. The decision table (also in docs/architecture.md):

============================  =====================  ========  ======================  =============
event                         stored status          attempt   next message            item
============================  =====================  ========  ======================  =============
SUCCESS, non-terminal status  vendor's (UNKNOWN ok)  counted   backoff(attempt)        acknowledged
SUCCESS, terminal status      vendor's               counted   none                    acknowledged
SUCCESS, NO_TASK within grace unchanged (PENDING)    counted   backoff(attempt)        acknowledged
SUCCESS, NO_TASK after grace  NOT_FOUND              counted   none                    acknowledged
THROTTLED (ZEGO)              unchanged              no        throttle delay          acknowledged
rate limiter saturated        unchanged              no        queue place / throttle  acknowledged
postponed (NotBefore ahead)   unchanged              no        hop to NotBefore        acknowledged
TRANSIENT                     unchanged              counted   backoff(attempt)        acknowledged
REJECTED                      REJECTED               counted   none                    acknowledged
CONFIGURATION                 unchanged              no        none (fence unchanged)  failed (retry)
deadline passed (no call)     TIMED_OUT              no        none                    acknowledged
awaiting callback (no call)   unchanged              no        900 s (to the deadline) acknowledged
============================  =====================  ========  ======================  =============

"Awaiting callback" is a task DescribeMediaTask cannot describe (a Huawei merge or transcode, known by
its ``Kind``): its completion callback ends it (:mod:`zego_media_tasks.domain.reconciliation`), and
its chain only carries it to its deadline, at no ZEGO call.

Every delay is clamped so that the next poll is due no later than the deadline: the last ZEGO call
happens at (or within a second before) the deadline, and the message after it finds the deadline
passed and records ``TIMED_OUT`` without calling ZEGO.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from zego_media_tasks.domain.backoff import (
    MIN_DELAY_SECONDS,
    SQS_MAX_DELAY_SECONDS,
    BackoffPolicy,
    ThrottleDelay,
    UniformSource,
)
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.record import LastError, TaskRecord, pending_record
from zego_media_tasks.domain.snapshot import VENDOR_FIELDS, TaskSnapshot
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus, Vendor, is_pollable, is_terminal
from zego_media_tasks.domain.timestamps import from_iso, to_iso
from zego_media_tasks.domain.watch import resume_request, watch_at_after

SECONDS_PER_DAY = 86_400
# The deployed policy's defaults, the one copy (the settings of both functions take them from here).
DEFAULT_NOT_FOUND_GRACE_SECONDS = 300.0
DEFAULT_TASK_DEADLINE_SECONDS = 86_400
DEFAULT_TERMINAL_RECORD_TTL_DAYS = 30


@dataclass(frozen=True, slots=True)
class PollingPolicy:
    """The tuning knobs of the poll schedule (from the poller's settings)."""

    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    throttle: ThrottleDelay = field(default_factory=ThrottleDelay)
    not_found_grace_seconds: float = DEFAULT_NOT_FOUND_GRACE_SECONDS
    """How long after first seen a Huawei ``NO_TASK`` is still treated as "not visible yet"."""
    task_deadline_seconds: float = DEFAULT_TASK_DEADLINE_SECONDS
    """How long after first seen a task is given up as ``TIMED_OUT``."""
    terminal_record_ttl_days: int = DEFAULT_TERMINAL_RECORD_TTL_DAYS
    """Terminal records expire (DynamoDB TTL) this many days after completion."""


class Admission(StrEnum):
    """Whether a message may poll its task (generation fencing, docs/architecture.md)."""

    POLL = "POLL"
    """The message carries the record's generation (or generation 0 and there is no record)."""
    TERMINAL = "TERMINAL"
    """The record is terminal: acknowledge without calling ZEGO."""
    STALE = "STALE"
    """The message is older than the record (a duplicate, a late copy, a re-registration of a task
    already tracked): acknowledge without calling ZEGO; the live chain carries on."""
    AHEAD = "AHEAD"
    """The message is newer than the record: the write of the poll that sent it has not landed (still
    in flight, or lost in a crash). Report the item failed so SQS offers it again after the visibility
    timeout, by which time either that write landed (the message is then current) or the crashed
    message was redelivered and advanced the chain (the message is then stale). Dropping it instead
    would lose the chain whenever it overtakes its own write."""


def admit(stored: TaskRecord | None, request: PollRequest) -> Admission:
    """Decide whether ``request`` may poll, given the stored record (None when there is none)."""
    if stored is None:
        return Admission.POLL if request.generation == 0 else Admission.AHEAD
    if stored.terminal:
        return Admission.TERMINAL
    if request.generation < stored.generation:
        return Admission.STALE
    if request.generation > stored.generation:
        return Admission.AHEAD
    return Admission.POLL


class Step(StrEnum):
    """What the service does with a decision."""

    CONTINUE = "CONTINUE"
    """Send the next message (generation + 1), then write the record (generation + 1)."""
    FINISH = "FINISH"
    """Write the terminal record (generation + 1); nothing more to send."""
    HOLD = "HOLD"
    """Write the record with its last error, generation unchanged, and report the item failed so SQS
    retries it (and, after ``maxReceiveCount``, parks it in the DLQ for a redrive)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """A status change, for the transitions metric; ``from_status`` is None for a new record."""

    from_status: TaskStatus | None
    to_status: TaskStatus


@dataclass(frozen=True, slots=True)
class PollDecision:
    """The outcome of deciding one poll."""

    step: Step
    record: TaskRecord
    """The record to write."""
    expected_generation: int | None
    """The generation the stored record must still have for the write to apply; None: must not exist."""
    reason: str
    """``OutcomeKind`` value, or one of the reason labels defined below (:data:`RATE_LIMITED`, ...)."""
    next_request: PollRequest | None = None
    delay_seconds: int | None = None
    transition: Transition | None = None
    time_to_terminal_seconds: float | None = None
    called_zego: bool = False


# The reasons a decision carries besides an OutcomeKind value (PollDecision.reason); MALFORMED is also the
# LastError.kind of a record rejected for its message.
MALFORMED = "MALFORMED"
"""``LastError.kind`` of a record rejected because its message could not be read."""
RATE_LIMITED = "RATE_LIMITED"
"""Reason label (and ``LastError``-free) for a poll our own limiter deferred before calling ZEGO."""
DEADLINE_PASSED = "DEADLINE_PASSED"
"""Reason label for a task that reached its deadline."""
NO_TASK_GRACE = "NO_TASK_GRACE"
"""Reason label for Huawei ``NO_TASK`` inside the grace period."""
POSTPONED = "POSTPONED"
"""Reason label for a hop of a poll postponed beyond SQS's longest delay (no ZEGO call, no limiter)."""
AWAITING_CALLBACK = "AWAITING_CALLBACK"
"""Reason label for a task DescribeMediaTask cannot answer, kept alive until its callback or deadline."""


def _normalized(text: str | None) -> str | None:
    return to_iso(from_iso(text)) if text else None


def open_record(
    stored: TaskRecord | None,
    task_id: str,
    vendor: Vendor,
    now: datetime,
    policy: PollingPolicy,
    *,
    first_seen_hint: str | None = None,
    deadline_hint: str | None = None,
    attempt_hint: int = 0,
    kind_hint: TaskKind | None = None,
    sent_at: datetime | None = None,
) -> TaskRecord:
    """The record a poll starts from: the stored one, or a new ``PENDING`` one at generation 0.

    First seen: the record's, else the message's ``FirstSeenAt``, else SQS's ``SentTimestamp``, else
    ``now``. Deadline: the record's, else the message's ``DeadlineAt``, else first seen plus the
    configured deadline. Attempt: the record's, else the message's ``Attempt``.
    """
    if stored is not None and stored.terminal:
        raise ValueError("a terminal record is never polled again")
    first_seen = (
        (stored.first_seen_at if stored else None)
        or _normalized(first_seen_hint)
        or to_iso(sent_at if sent_at is not None else now)
    )
    deadline = (
        (stored.deadline_at if stored else None)
        or _normalized(deadline_hint)
        or to_iso(from_iso(first_seen) + timedelta(seconds=policy.task_deadline_seconds))
    )
    if stored is not None:
        return replace(stored, first_seen_at=first_seen, deadline_at=deadline, kind=stored.kind or kind_hint)
    return pending_record(
        task_id, vendor, now=now, first_seen_at=first_seen, deadline_at=deadline, attempt=attempt_hint, kind=kind_hint
    )


@dataclass(frozen=True, slots=True)
class PollContext:
    """What every decision about one admitted poll message is made against."""

    stored: TaskRecord | None
    """The record as read (consistently) before deciding; None when there is none."""
    request: PollRequest
    now: datetime
    """The time of the decision (after the ZEGO call, when one was made)."""
    policy: PollingPolicy
    sent_at: datetime | None = None
    """SQS's ``SentTimestamp``: first seen when neither the record nor the message has one."""

    def opened(self) -> TaskRecord:
        """The record the poll starts from (:func:`open_record` with the message's hints)."""
        return open_record(
            self.stored,
            self.request.task_id,
            self.request.vendor,
            self.now,
            self.policy,
            first_seen_hint=self.request.first_seen_at,
            deadline_hint=self.request.deadline_at,
            attempt_hint=self.request.attempt,
            kind_hint=self.request.kind,
            sent_at=self.sent_at,
        )


def is_past_deadline(poll: PollContext) -> bool:
    """True when the task's deadline has passed: it is then ``TIMED_OUT`` without calling ZEGO."""
    return poll.now >= from_iso(poll.opened().deadline_at)


def with_status(record: TaskRecord, status: TaskStatus, now: datetime) -> TaskRecord:
    """``record`` in ``status``: a change stamps the time and moves the sequence on by one."""
    if status is record.status:
        return record
    return replace(record, status=status, status_changed_at=to_iso(now), sequence=record.sequence + 1)


def _with_snapshot(record: TaskRecord, snapshot: TaskSnapshot, outcome: CallOutcome) -> TaskRecord:
    # The latest answer is the truth: every vendor field is replaced, including fields it omitted,
    # so the record never mixes answers from different moments (``raw`` keeps the exact block).
    vendor_fields = {name: getattr(snapshot, name) for name in VENDOR_FIELDS}
    vendor_fields["zego_request_id"] = snapshot.zego_request_id or outcome.zego_request_id or record.zego_request_id
    return replace(record, **vendor_fields)


def _error(kind: str, outcome: CallOutcome, now: datetime) -> LastError:
    code = outcome.error.code if outcome.error else "UNKNOWN"
    message = outcome.error.message if outcome.error else ""
    return LastError(kind=kind, code=code, message=message, at=to_iso(now))


def transition_of(stored: TaskRecord | None, record: TaskRecord) -> Transition | None:
    if stored is not None and stored.status is record.status:
        return None
    return Transition(from_status=stored.status if stored else None, to_status=record.status)


def _expected(stored: TaskRecord | None) -> int | None:
    return stored.generation if stored is not None else None


def _decision(
    stored: TaskRecord | None, record: TaskRecord, step: Step, reason: str, *, called_zego: bool
) -> PollDecision:
    """The decision to write ``record`` over ``stored`` (fenced at its generation), with its transition; the
    fields of one step alone (the next message, the time to terminal) are set by that step's builder."""
    return PollDecision(
        step=step,
        record=record,
        expected_generation=_expected(stored),
        reason=reason,
        transition=transition_of(stored, record),
        called_zego=called_zego,
    )


def finish(
    stored: TaskRecord | None,
    record: TaskRecord,
    now: datetime,
    policy: PollingPolicy,
    reason: str,
    *,
    source: ChangeSource,
    called_zego: bool,
) -> PollDecision:
    """The terminal write of ``record``: the fence moves on by one (so the chain's queued message finds
    a terminal record and stops), nothing more is sent, and the record expires after the TTL."""
    completed = replace(
        record,
        generation=record.generation + 1,
        completed_at=to_iso(now),
        completed_by=source,
        next_poll_at=None,
        watch_at=None,  # out of the watchdog's index
        expires_at=math.floor(now.timestamp()) + policy.terminal_record_ttl_days * SECONDS_PER_DAY,
        updated_at=to_iso(now),
    )
    return replace(
        _decision(stored, completed, Step.FINISH, reason, called_zego=called_zego),
        time_to_terminal_seconds=max(0.0, (now - from_iso(completed.first_seen_at)).total_seconds()),
    )


def _clamp_to_deadline(delay: int, record: TaskRecord, now: datetime) -> int:
    # The next poll is due at the deadline at the latest; floor, so it lands at or just before it.
    remaining = (from_iso(record.deadline_at) - now).total_seconds()
    return max(MIN_DELAY_SECONDS, min(delay, math.floor(remaining)))


def _continue(
    stored: TaskRecord | None,
    record: TaskRecord,
    delay: int,
    now: datetime,
    reason: str,
    *,
    called_zego: bool,
    not_before: datetime | None = None,
) -> PollDecision:
    if not_before is not None:
        # Postponed by the fleet's call budget (domain.call_budget): no earlier than its place in the
        # queue; a place beyond SQS's longest delay is reached in hops (the message carries NotBefore).
        delay = max(delay, min(SQS_MAX_DELAY_SECONDS, math.ceil((not_before - now).total_seconds())))
    delay = _clamp_to_deadline(delay, record, now)
    next_poll = now + timedelta(seconds=delay)
    advanced = replace(
        record,
        generation=record.generation + 1,
        next_poll_at=to_iso(next_poll),
        watch_at=watch_at_after(record.watch_at, next_poll, now),
        updated_at=to_iso(now),
    )
    next_request = resume_request(advanced)
    if not_before is not None and not_before > next_poll:
        next_request = replace(next_request, not_before=to_iso(not_before))
    decision = _decision(stored, advanced, Step.CONTINUE, reason, called_zego=called_zego)
    return replace(decision, next_request=next_request, delay_seconds=delay)


def _defer(poll: PollContext, *, delay: int, reason: str, not_before: datetime | None = None) -> PollDecision:
    """The chain goes on after ``delay`` without a ZEGO call: the record changes only by its update time."""
    now = poll.now
    base = replace(poll.opened(), updated_at=to_iso(now))
    return _continue(poll.stored, base, delay, now, reason, called_zego=False, not_before=not_before)


def decide_outcome(
    poll: PollContext, outcome: CallOutcome, *, random: UniformSource, not_before: datetime | None = None
) -> PollDecision:
    """Decide what one DescribeMediaTask outcome means for the task (``poll.now``: after the call); a next
    poll is due no earlier than ``not_before`` (its place in the fleet's postponement queue) when given."""
    stored, now, policy = poll.stored, poll.now, poll.policy
    base = poll.opened()
    polled = replace(
        base,
        poll_count=base.poll_count + 1,
        last_polled_at=to_iso(now),
        zego_request_id=outcome.zego_request_id or base.zego_request_id,
        updated_at=to_iso(now),
    )
    counted = replace(polled, attempt=base.attempt + 1)

    if outcome.kind is OutcomeKind.SUCCESS:
        if outcome.snapshot is None:
            raise ValueError("a SUCCESS outcome carries a snapshot")
        snapshot = outcome.snapshot
        record = _with_snapshot(counted, snapshot, outcome)
        status, reason = snapshot.status, OutcomeKind.SUCCESS.value
        grace_ends = from_iso(base.first_seen_at) + timedelta(seconds=policy.not_found_grace_seconds)
        if status is TaskStatus.NOT_FOUND and now < grace_ends:
            # Huawei may not list a task created a moment ago: NO_TASK is final only after the grace
            # period. Until then the status stays what it was (PENDING for a new task) and
            # vendorStatus shows NO_TASK.
            status, reason = base.status, NO_TASK_GRACE
        record = with_status(record, status, now)
        if is_terminal(status):
            return finish(stored, record, now, policy, reason, source=ChangeSource.POLL, called_zego=True)
        return _continue(
            stored,
            record,
            policy.backoff.delay(base.attempt, random),
            now,
            reason,
            called_zego=True,
            not_before=not_before,
        )

    if outcome.kind in (OutcomeKind.THROTTLED, OutcomeKind.TRANSIENT):
        # Code 6 is ZEGO's pace, not the task's: a throttled poll keeps its attempt and retries soon.
        throttled = outcome.kind is OutcomeKind.THROTTLED
        record = replace(polled if throttled else counted, last_error=_error(outcome.kind.value, outcome, now))
        delay = policy.throttle.delay(random) if throttled else policy.backoff.delay(base.attempt, random)
        return _continue(stored, record, delay, now, outcome.kind.value, called_zego=True, not_before=not_before)

    if outcome.kind is OutcomeKind.REJECTED:
        record = with_status(
            replace(counted, last_error=_error(outcome.kind.value, outcome, now)), TaskStatus.REJECTED, now
        )
        return finish(stored, record, now, policy, outcome.kind.value, source=ChangeSource.POLL, called_zego=True)

    # CONFIGURATION: every task fails alike until an operator fixes it. Keep the fence where it is, so
    # that the retried (or, after maxReceiveCount, DLQ-redriven) message is still the live one.
    record = replace(polled, last_error=_error(outcome.kind.value, outcome, now))
    return _decision(stored, record, Step.HOLD, outcome.kind.value, called_zego=True)


def decide_rate_limited(
    poll: PollContext, *, random: UniformSource, not_before: datetime | None = None
) -> PollDecision:
    """Our shared limiter had no slot within its maximum wait: come back at the poll's place in the
    fleet's postponement queue (``not_before``), or without one shortly, as if throttled.

    No ZEGO call was made, so neither the poll count nor the attempt changes.
    """
    delay = MIN_DELAY_SECONDS if not_before is not None else poll.policy.throttle.delay(random)
    return _defer(poll, delay=delay, reason=RATE_LIMITED, not_before=not_before)


def is_postponed(request: PollRequest, now: datetime) -> bool:
    """True when the message arrived before its ``NotBefore``: it only hops on, without a ZEGO call."""
    return request.not_before is not None and from_iso(request.not_before) > now


def decide_postponed(poll: PollContext) -> PollDecision:
    """A poll postponed beyond SQS's longest delay hops on towards its ``NotBefore``, without a call."""
    if poll.request.not_before is None:
        raise ValueError("only a postponed message hops")
    until = from_iso(poll.request.not_before)
    return _defer(poll, delay=MIN_DELAY_SECONDS, reason=POSTPONED, not_before=until)


def awaits_callback(stored: TaskRecord | None, request: PollRequest) -> bool:
    """True when DescribeMediaTask cannot answer the task (a Huawei merge or transcode): the poller then
    never calls ZEGO for it and only keeps its chain alive until the deadline."""
    kind = (stored.kind if stored else None) or request.kind
    return not is_pollable(request.vendor, kind)


def decide_awaiting_callback(poll: PollContext) -> PollDecision:
    """A task only its completion callback can end: come back at the deadline (in hops of at most
    SQS's 900 s), without calling ZEGO, so that a lost callback still ends the task ``TIMED_OUT``."""
    return _defer(poll, delay=SQS_MAX_DELAY_SECONDS, reason=AWAITING_CALLBACK)


def decide_deadline_passed(poll: PollContext) -> PollDecision:
    """The deadline has passed: ``TIMED_OUT``, without calling ZEGO."""
    record = with_status(poll.opened(), TaskStatus.TIMED_OUT, poll.now)
    return finish(
        poll.stored, record, poll.now, poll.policy, DEADLINE_PASSED, source=ChangeSource.DEADLINE, called_zego=False
    )


def reject_malformed(
    stored: TaskRecord | None,
    task_id: str,
    vendor: Vendor,
    *,
    code: str,
    detail: str,
    now: datetime,
    policy: PollingPolicy,
    sent_at: datetime | None = None,
) -> PollDecision:
    """A message for this task could not be read: the record becomes ``REJECTED`` with the reason.

    Only called when no terminal record exists (a terminal record is never overwritten).
    """
    base = open_record(stored, task_id, vendor, now, policy, sent_at=sent_at)
    error = LastError(kind=MALFORMED, code=code, message=detail, at=to_iso(now))
    record = with_status(replace(base, last_error=error), TaskStatus.REJECTED, now)
    return finish(stored, record, now, policy, MALFORMED, source=ChangeSource.MALFORMED, called_zego=False)
