"""The one status vocabulary of the project, and how each vendor's statuses map onto it."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

MemberT = TypeVar("MemberT", bound=StrEnum)


class Vendor(StrEnum):
    """The CDN vendor that runs a media task, spelled as ZEGO's ``Vendor`` parameter."""

    TENCENT = "Tencent"
    HUAWEI = "Huawei"


class TaskKind(StrEnum):
    """What a media task does, as a registration may say (``Kind``): the ZEGO action that started it."""

    MERGE = "merge"
    """MergeMedia: answered by the ``compose`` callback."""
    TRANSCODE = "transcode"
    """TranscodeMedia (Tencent VOD): answered by the ``procedure`` callback."""
    SNAPSHOT = "snapshot"
    """MediaThumbnails: answered by the ``snapshot`` callback."""


def is_pollable(vendor: Vendor, kind: TaskKind | None) -> bool:
    """False when DescribeMediaTask cannot answer the task: it describes Huawei snapshot tasks only, so a
    Huawei merge or transcode is finished by its completion callback alone (or by its deadline)."""
    return not (vendor is Vendor.HUAWEI and kind in (TaskKind.MERGE, TaskKind.TRANSCODE))


def parse_kind(value: object) -> TaskKind | None:
    """The TaskKind for an exact ``merge``/``transcode``/``snapshot`` string, else None."""
    return _exact_member(TaskKind, value)


def _exact_member(vocabulary: type[MemberT], value: object) -> MemberT | None:
    """The member of ``vocabulary`` spelled exactly ``value`` (no case folding, no trimming), else None."""
    if isinstance(value, str):
        for member in vocabulary:
            if member.value == value:
                return member
    return None


class ChangeSource(StrEnum):
    """What made a record change status: the evidence behind it."""

    REGISTRATION = "REGISTRATION"
    POLL = "POLL"
    """A DescribeMediaTask answer (a refusal included)."""
    CALLBACK = "CALLBACK"
    """A signed completion callback from ZEGO."""
    DEADLINE = "DEADLINE"
    """The task's deadline passed."""
    MALFORMED = "MALFORMED"
    """A poll message for the task could not be read."""


class TaskStatus(StrEnum):
    """Normalized task status, the same for every vendor and every part of the system."""

    PENDING = "PENDING"
    """Known to us (registered), not yet seen by ZEGO."""
    WAITING = "WAITING"
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    NOT_FOUND = "NOT_FOUND"
    """The vendor does not know the task (Huawei ``NO_TASK``); final only after a grace period."""
    TIMED_OUT = "TIMED_OUT"
    """We stopped polling: the task passed its deadline without reaching a vendor terminal state."""
    REJECTED = "REJECTED"
    """ZEGO refused to describe this task (bad TaskId/Vendor), or the request itself was malformed."""
    UNKNOWN = "UNKNOWN"
    """The vendor reported a status this version does not know; the raw value is kept. Not terminal."""


TERMINAL_STATUSES: frozenset[TaskStatus] = frozenset(
    {
        TaskStatus.SUCCEEDED,
        TaskStatus.FAILED,
        TaskStatus.CANCELED,
        TaskStatus.NOT_FOUND,
        TaskStatus.TIMED_OUT,
        TaskStatus.REJECTED,
    }
)

_TENCENT: dict[str, TaskStatus] = {
    "WAITING": TaskStatus.WAITING,
    "PROCESSING": TaskStatus.PROCESSING,
    "FINISH": TaskStatus.SUCCEEDED,
    "FAIL": TaskStatus.FAILED,
}

_HUAWEI: dict[str, TaskStatus] = {
    "NO_TASK": TaskStatus.NOT_FOUND,
    "WAITING": TaskStatus.WAITING,
    "PROCESSING": TaskStatus.PROCESSING,
    "SUCCEEDED": TaskStatus.SUCCEEDED,
    "FAILED": TaskStatus.FAILED,
    "CANCELED": TaskStatus.CANCELED,
}

VENDOR_STATUS_MAPS: dict[Vendor, dict[str, TaskStatus]] = {Vendor.TENCENT: _TENCENT, Vendor.HUAWEI: _HUAWEI}


def is_terminal(status: TaskStatus) -> bool:
    """True when no later poll may change a task in this status."""
    return status in TERMINAL_STATUSES


def normalize_vendor_status(vendor: Vendor, raw: str | None) -> TaskStatus:
    """Map a vendor's raw status onto the normalized vocabulary; anything unrecognised is UNKNOWN.

    Matching ignores case and surrounding white space, since nothing in the vendor's documentation
    promises an exact spelling; the raw value is always kept by the caller.
    """
    if not raw:
        return TaskStatus.UNKNOWN
    return VENDOR_STATUS_MAPS[vendor].get(raw.strip().upper(), TaskStatus.UNKNOWN)


def parse_vendor(value: object) -> Vendor | None:
    """The Vendor for an exact ``Tencent``/``Huawei`` string, else None."""
    return _exact_member(Vendor, value)
