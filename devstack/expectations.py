"""What a scripted simulator task must come to, in our vocabulary: its Kind, its final status, and what
ends it (a poll, its callback, its deadline) where that is decided by the script rather than by a race.

Used by ``make run --exit-when-done``, the end-to-end tests and the chaos soak to check outcomes
against the scenario rather than against hard-coded answers.

Every task is assumed registered with its :func:`task_kind` (a Huawei merge registered without one is
polled, answers NO_TASK, and ends NOT_FOUND). ``callbacks`` says whether the simulator sends completion
callbacks to the stack. A task's scripted
``callback`` fate is taken into account; random callback fault rates are not (they can lose a Huawei
merge's only signal), so script the fate of every task whose outcome depends on its callback.
"""

from __future__ import annotations

from devstack.zego_simulator import CallbackFate, TaskSpec
from devstack.zego_simulator.scenario import SNAPSHOT_EVENTS
from zego_media_tasks.domain.status import (
    ChangeSource,
    TaskKind,
    TaskStatus,
    Vendor,
    is_pollable,
    normalize_vendor_status,
)

_REJECTING_CODES = frozenset({2, 4, 41003})
_UNDELIVERED = frozenset({CallbackFate.LOST, CallbackFate.NONE, CallbackFate.BAD_SIGNATURE})
"""Fates after which no valid callback reaches the receiver (a bad signature is refused, 401)."""
_KINDS = {"compose": TaskKind.MERGE, "transcode": TaskKind.TRANSCODE}


def task_kind(spec: TaskSpec) -> TaskKind | None:
    """The ``Kind`` a pipeline registers the task with (the ZEGO action that started it), if scripted."""
    if spec.event in _KINDS:
        return _KINDS[spec.event]
    if spec.event in SNAPSHOT_EVENTS or (Vendor(spec.vendor.value) is Vendor.HUAWEI and spec.final is not None):
        return TaskKind.SNAPSHOT  # a Huawei task with an ending and no event is a snapshot
    return None


def callback_arrives(spec: TaskSpec, *, callbacks: bool) -> bool:
    """Whether a valid completion callback for ``spec`` reaches the receiver (at least once)."""
    if not callbacks or spec.final is None:
        return False
    return spec.callback is None or spec.callback.fate not in _UNDELIVERED


def expected_status(spec: TaskSpec, *, callbacks: bool = False) -> TaskStatus | None:
    """The terminal status the pipeline must reach for ``spec``, or None if it never ends on its own."""
    vendor = Vendor(spec.vendor.value)
    if spec.code is not None:
        return TaskStatus.REJECTED if spec.code in _REJECTING_CODES else None
    if spec.stays is not None:
        status = normalize_vendor_status(vendor, spec.stays)
        # A task that stays NO_TASK becomes NOT_FOUND after the grace period; one that stays
        # PROCESSING ends only at its deadline.
        return status if status is TaskStatus.NOT_FOUND else TaskStatus.TIMED_OUT
    if spec.final is None:
        return None
    if not is_pollable(vendor, task_kind(spec)) and not callback_arrives(spec, callbacks=callbacks):
        return TaskStatus.TIMED_OUT  # nothing but its callback could have ended it
    return normalize_vendor_status(vendor, spec.final.status)


def expected_source(spec: TaskSpec, *, callbacks: bool = False) -> ChangeSource | None:
    """What must end ``spec`` (the record's ``completedBy``), or None when a poll and the callback race
    for it (a polled task whose callback arrives: usually the callback, sent the moment the task ends)."""
    status = expected_status(spec, callbacks=callbacks)
    if status is None:
        return None
    if status is TaskStatus.TIMED_OUT:
        return ChangeSource.DEADLINE
    if not is_pollable(Vendor(spec.vendor.value), task_kind(spec)):
        return ChangeSource.CALLBACK
    return None if callback_arrives(spec, callbacks=callbacks) else ChangeSource.POLL
