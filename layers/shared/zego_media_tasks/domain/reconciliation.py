"""Completion callbacks reconciled with the poll chain: what a signed callback does to a record.

Pure functions, no I/O: ``zego_media_tasks.callbacks.service`` reads, decides with this module and
writes. The rules (also in docs/architecture.md, next to the generation fencing):

==========================================  ==========================================  ================
stored record                               effect                                      answer
==========================================  ==========================================  ================
none (nobody registered the task)           created, already terminal, at generation 1  200
non-terminal (any generation g)             terminal write at g + 1, fenced on g        200
terminal (a late, duplicate or contrary     nothing changes                             200
callback)
the fenced write lost to a concurrent poll  re-read: terminal now → 200; else 503, and  200 / 503
                                            ZEGO's retry (2 s later) applies it
==========================================  ==========================================  ================

A callback is evidence about the task, applied like a poll's terminal answer: the first terminal write
wins and terminal states never regress. It moves the generation on by one, exactly as a terminal poll
does, so the chain's queued message (which carries g) finds a terminal record and is acknowledged
without calling ZEGO: there is still at most one live chain, and it ends at its next message. No
confirming DescribeMediaTask is made: the callback is signed, it is the only signal for a Huawei merge,
and a confirmation would spend the AppId's shared 20 calls/s on an answer we already have.

The fields a callback brings replace the record's (replay URL, file id, result code, message, media
details, thumbnails); fields it does not bring keep what polling found. ``raw`` becomes the callback's
body (without its signature), and ``completedBy`` says ``CALLBACK``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from zego_media_tasks.domain.lists import RECORD_LISTS
from zego_media_tasks.domain.polling import PollDecision, PollingPolicy, finish, with_status
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.snapshot import VENDOR_FIELDS, TaskSnapshot
from zego_media_tasks.domain.status import ChangeSource, TaskKind, Vendor, is_terminal
from zego_media_tasks.domain.timestamps import to_iso

CALLBACK = "CALLBACK"
"""Decision reason of a terminal write made by a callback."""


class CallbackEffect(StrEnum):
    """What a valid callback did."""

    APPLIED = "APPLIED"
    """It ended a tracked task."""
    CREATED = "CREATED"
    """It named a task nobody registered: the task's record was created, already terminal."""
    ALREADY_TERMINAL = "ALREADY_TERMINAL"
    """The task had ended already (a late, duplicate or contradicting callback): nothing changed."""


@dataclass(frozen=True, slots=True)
class CallbackDecision:
    """The outcome of deciding one callback: the write to make, if any."""

    effect: CallbackEffect
    decision: PollDecision | None = None
    """The terminal write (record, fence, transition); None when nothing changes."""


def callback_vendor(stated: Vendor | None, hint: Vendor, records: Sequence[TaskRecord]) -> Vendor:
    """The vendor a callback is about.

    The snapshot callback states it, and the transcode callback is Tencent's (TranscodeMedia is Tencent
    only); the merge callback has no vendor field. For it, the records of the TaskId decide: the one
    still in progress, else the only one. Otherwise ``hint`` (inferred from the body by the ZEGO adapter:
    ``file_id`` or a non-zero result code is Tencent only) decides. Limits: a task registered for both
    vendors and in progress for both is attributed by the hint; an unregistered Tencent merge whose
    callback carries neither a file id nor an error code is taken for a Huawei one.
    """
    if stated is not None:
        return stated
    in_progress = [record for record in records if not record.terminal]
    for candidates in (in_progress, list(records)):
        if len(candidates) == 1:
            return candidates[0].vendor
        if any(record.vendor is hint for record in candidates):
            return hint
    return hint


def decide_callback(
    stored: TaskRecord | None,
    snapshot: TaskSnapshot,
    *,
    kind: TaskKind | None,
    now: datetime,
    policy: PollingPolicy,
) -> CallbackDecision:
    """Decide what a signed completion callback (``snapshot``, terminal) does to the stored record."""
    if not is_terminal(snapshot.status):
        raise ValueError("a completion callback carries a terminal status")
    if stored is not None and stored.terminal:
        return CallbackDecision(CallbackEffect.ALREADY_TERMINAL)
    if stored is None:
        base = pending_record(
            snapshot.task_id,
            snapshot.vendor,
            now=now,
            first_seen_at=to_iso(now),
            deadline_at=to_iso(now + timedelta(seconds=policy.task_deadline_seconds)),
            kind=kind,
        )
    else:
        base = replace(stored, kind=stored.kind or kind)
    companions = {name for described in RECORD_LISTS for name in described.companions}
    brought = {name: getattr(snapshot, name) for name in VENDOR_FIELDS if name not in companions}
    brought = {name: value for name, value in brought.items() if value not in (None, "", ())}
    for described in RECORD_LISTS:
        if described.values_field in brought:  # a list brought replaces its count and overflow, never they alone
            brought.update({name: getattr(snapshot, name) for name in described.companions})
    record = replace(base, **brought)
    record = with_status(record, snapshot.status, now)
    decision = finish(stored, record, now, policy, CALLBACK, source=ChangeSource.CALLBACK, called_zego=False)
    return CallbackDecision(CallbackEffect.CREATED if stored is None else CallbackEffect.APPLIED, decision)
