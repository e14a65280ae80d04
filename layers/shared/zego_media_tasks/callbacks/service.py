"""What the receiver does with one callback, free of HTTP and Lambda: read, authenticate, reconcile, write.

On the request path there is one read (every record of the TaskId, consistently: one Query) and at most
one conditional write, no send, so ZEGO gets its answer well within its 2 s retry timer. The outcomes:

================================================  ======  ==============================================
what happened                                     status  why
================================================  ======  ==============================================
the callback ended a task, or created its record  200     done
the task had ended already (late, duplicate)      200     nothing to do; a 2xx stops ZEGO's retries
bad or missing signature, stale timestamp         401     not from ZEGO (or replayed); nothing changes
another AppId                                     403
unparseable body, unknown event, bad fields       400
body over the size cap                            413
the write lost to a concurrent poll, still open   503     ZEGO retries in 2 s; the retry is safe
the table or the CallbackSecret is unavailable    503     our failure; ZEGO retries
a snapshot callback without any picture           200     proves nothing: no write, polling decides
================================================  ======  ==============================================

Every answer is safe to repeat: a retried callback either finds the task ended (200, no change) or
applies the same evidence (the fence makes two concurrent copies write once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from zego_media_tasks.domain.polling import PollingPolicy, Transition
from zego_media_tasks.domain.ports import Clock, DependencyUnavailable, TaskRecords, WriteResult
from zego_media_tasks.domain.reconciliation import CallbackEffect, callback_vendor, decide_callback
from zego_media_tasks.domain.status import TaskKind, TaskStatus, Vendor
from zego_media_tasks.zego.callbacks import CallbackKind, CallbackRejected, ZegoCallback, read_callback
from zego_media_tasks.zego.client import SecretUnavailableError

_KINDS = {
    CallbackKind.COMPOSE: TaskKind.MERGE,
    CallbackKind.PROCEDURE: TaskKind.TRANSCODE,
    CallbackKind.SNAPSHOT: TaskKind.SNAPSHOT,
}


class Outcome(StrEnum):
    """How one callback request ended (the ``Outcome`` metric dimension)."""

    APPLIED = "APPLIED"
    CREATED = "CREATED"
    ALREADY_TERMINAL = "ALREADY_TERMINAL"
    INCONCLUSIVE = "INCONCLUSIVE"
    """A snapshot callback without a single picture: ZEGO documents no failure field for it, so it proves
    neither success nor failure; nothing is written and the poll chain decides."""
    REJECTED = "REJECTED"
    CONFLICT = "CONFLICT"
    """The fenced write lost to a concurrent poll and the task is still open: 503, ZEGO retries."""
    UNAVAILABLE = "UNAVAILABLE"


ACCEPTED = frozenset({Outcome.APPLIED, Outcome.CREATED, Outcome.ALREADY_TERMINAL, Outcome.INCONCLUSIVE})
"""The outcomes answered with a 2xx (ZEGO then stops retrying)."""


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """The answer to one callback and what the handler logs and counts about it."""

    outcome: Outcome
    status_code: int
    task_id: str | None = None
    vendor: Vendor | None = None
    event: str | None = None
    rejection: CallbackRejected | None = None
    status: TaskStatus | None = None
    transition: Transition | None = None
    time_to_terminal_seconds: float | None = None
    detail: str = ""
    """Why, in words (never a secret or a signature)."""


def _fallback_hint(callback: ZegoCallback) -> Vendor:
    # Without a record and without a Tencent-only file id: a non-zero merge result code is meaningful for
    # Tencent only, so it points there; otherwise a merge without a file id is a Huawei one.
    if callback.vendor_hint is not None:
        return callback.vendor_hint
    return Vendor.TENCENT if callback.result_code not in (None, "0") else Vendor.HUAWEI


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackService:
    """Applies ZEGO's completion callbacks to the tasks table. Built once per Lambda instance."""

    store: TaskRecords
    secret: Callable[[], str]
    """The CallbackSecret, read at each callback (its provider caches it)."""
    app_id: int
    clock: Clock
    policy: PollingPolicy
    max_age_seconds: float
    max_body_bytes: int

    def handle(self, body: bytes, content_type: str | None) -> CallbackResult:
        """Answer one callback (never raises for the caller's input; our own failures are a 503)."""
        try:
            callback = read_callback(
                body,
                content_type,
                secret=self.secret(),
                app_id=self.app_id,
                now_epoch_seconds=self.clock.now().timestamp(),
                max_age_seconds=self.max_age_seconds,
                max_bytes=self.max_body_bytes,
            )
        except CallbackRejected as rejected:
            return CallbackResult(Outcome.REJECTED, rejected.http_status, rejection=rejected, detail=str(rejected))
        except SecretUnavailableError as error:  # never holds the secret
            return CallbackResult(Outcome.UNAVAILABLE, 503, detail=str(error))
        try:
            return self._apply(callback)
        except DependencyUnavailable as error:
            return CallbackResult(
                Outcome.UNAVAILABLE, 503, callback.task_id, callback.vendor, callback.kind.value, detail=str(error)
            )

    def _apply(self, callback: ZegoCallback) -> CallbackResult:
        records = self.store.for_task(callback.task_id, consistent=True)
        vendor = callback_vendor(callback.vendor, _fallback_hint(callback), records)
        stored = next((record for record in records if record.vendor is vendor), None)

        def answer(outcome: Outcome, status_code: int, **details: Any) -> CallbackResult:
            return CallbackResult(
                outcome, status_code, task_id=callback.task_id, vendor=vendor, event=callback.kind.value, **details
            )

        if callback.kind is CallbackKind.SNAPSHOT and not callback.pictures:
            return answer(Outcome.INCONCLUSIVE, 200, detail="a snapshot callback without pictures proves nothing")
        try:
            evidence = callback.snapshot(vendor)
        except CallbackRejected as rejected:
            return answer(Outcome.REJECTED, rejected.http_status, rejection=rejected, detail=str(rejected))
        decided = decide_callback(
            stored, evidence, kind=_KINDS[callback.kind], now=self.clock.now(), policy=self.policy
        )
        if decided.decision is None:
            return answer(
                Outcome.ALREADY_TERMINAL, 200, status=stored.status if stored else None, detail="the task had ended"
            )
        decision = decided.decision
        if self.store.put(decision.record, decision.expected_generation) is WriteResult.WRITTEN:
            return answer(
                Outcome.CREATED if decided.effect is CallbackEffect.CREATED else Outcome.APPLIED,
                200,
                status=decision.record.status,
                transition=decision.transition,
                time_to_terminal_seconds=decision.time_to_terminal_seconds,
            )
        # A poll (or a twin of this callback) wrote first. Ended now: nothing more to do. Still open: a
        # second write would break the one-write budget, so ZEGO's retry applies it instead.
        current = self.store.get(callback.task_id, vendor, consistent=True)
        if current is not None and current.terminal:
            return answer(Outcome.ALREADY_TERMINAL, 200, status=current.status, detail="the task ended meanwhile")
        return answer(Outcome.CONFLICT, 503, detail="the task moved on meanwhile; retry")
