"""How a DescribeMediaTask call can end, decided once at the ZEGO adapter's edge.

The poller acts on the kind alone; it never sees HTTP status codes or ZEGO return codes directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from zego_media_tasks.domain.snapshot import TaskSnapshot


class OutcomeKind(StrEnum):
    """The small set of outcomes every call is translated into."""

    SUCCESS = "SUCCESS"
    """ZEGO answered Code 0 with a vendor block: ``snapshot`` is set."""
    THROTTLED = "THROTTLED"
    """Rate limited (Code 6, HTTP 429): try again shortly; not the task's fault."""
    TRANSIENT = "TRANSIENT"
    """Timeout, connection error, HTTP 5xx, unparseable body, Code 1000/100000004: back off and retry."""
    REJECTED = "REJECTED"
    """ZEGO refuses this task (Codes 2, 4, 41003): no retry of this task can succeed."""
    CONFIGURATION = "CONFIGURATION"
    """Our configuration is wrong (Codes 3, 5, 7, 100000005, HTTP 401/403): every task fails alike
    until an operator fixes it."""


@dataclass(frozen=True, slots=True)
class CallError:
    """Why a call did not succeed, safe to store and log (never contains the secret or signature)."""

    code: str
    """ZEGO's Code as a string (``"6"``), ``HTTP_<status>``, ``TIMEOUT``, ``CONNECTION``,
    ``BAD_RESPONSE``, ``NO_VENDOR_BLOCK`` or ``SECRET_UNAVAILABLE`` (the server secret could not be read)."""
    message: str


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """The result of one DescribeMediaTask call."""

    kind: OutcomeKind
    snapshot: TaskSnapshot | None = None
    error: CallError | None = None
    zego_request_id: str | None = None

    @classmethod
    def success(cls, snapshot: TaskSnapshot) -> CallOutcome:
        """A successful answer carrying the task snapshot."""
        return cls(OutcomeKind.SUCCESS, snapshot=snapshot, zego_request_id=snapshot.zego_request_id)

    @classmethod
    def failure(cls, kind: OutcomeKind, code: str, message: str, zego_request_id: str | None = None) -> CallOutcome:
        """A call that did not produce a snapshot."""
        if kind is OutcomeKind.SUCCESS:
            raise ValueError("a failure cannot have kind SUCCESS")
        return cls(kind, error=CallError(code=code, message=message), zego_request_id=zego_request_id)
