"""The poll message: the body pipelines put on the queue, plus the fields the poller adds.

A pipeline sends ``{"TaskId": "...", "Vendor": "Tencent" | "Huawei"}``, optionally with ``"Kind":
"merge" | "transcode" | "snapshot"`` (a Huawei merge or transcode is then never polled). Messages the poller
re-enqueues also carry ``Generation``, ``Attempt``, ``FirstSeenAt`` and ``DeadlineAt`` (and ``NotBefore``
when the poll is postponed beyond SQS's longest delay); a pipeline never
has to know them. Unknown extra fields are ignored (pipelines may add their own correlation data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from zego_media_tasks.domain.status import TaskKind, Vendor, parse_kind, parse_vendor
from zego_media_tasks.domain.timestamps import from_iso

MAX_BODY_BYTES = 4096
"""A valid body is well under 1 KiB; anything larger is refused before parsing."""
MAX_TASK_ID_LENGTH = 256
TASK_ID_RULE = f"1-{MAX_TASK_ID_LENGTH} printable ASCII characters, no white space, no '/'"
"""The TaskId rule in words: the one rule for queue messages, registrations and API paths."""
TASK_ID_PATTERN = r"^[!-.0-~]+$"
"""The TaskId characters as a regular expression (``!`` to ``~`` without ``/``), for API documents;
the length is :data:`MAX_TASK_ID_LENGTH`."""
_TASK_ID_CHARS = frozenset(chr(code) for code in range(ord("!"), ord("~") + 1)) - {"/"}


class MalformedReason(StrEnum):
    """Why a message body could not be turned into a poll request."""

    OVERSIZE = "OVERSIZE"
    NOT_JSON = "NOT_JSON"
    NOT_OBJECT = "NOT_OBJECT"
    MISSING_TASK_ID = "MISSING_TASK_ID"
    INVALID_TASK_ID = "INVALID_TASK_ID"
    MISSING_VENDOR = "MISSING_VENDOR"
    UNKNOWN_VENDOR = "UNKNOWN_VENDOR"
    INVALID_FIELD = "INVALID_FIELD"


class MalformedMessageError(ValueError):
    """A message that can never be processed; carries what could still be read of it."""

    def __init__(
        self, reason: MalformedReason, detail: str, task_id: str | None = None, vendor: Vendor | None = None
    ) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.task_id = task_id
        self.vendor = vendor


def task_id_problem(value: object) -> str | None:
    """None when ``value`` is a valid TaskId, else a human-readable reason.

    Valid: :data:`TASK_ID_RULE`.
    """
    if not isinstance(value, str):
        return "TaskId must be a string"
    if not 1 <= len(value) <= MAX_TASK_ID_LENGTH:
        return f"TaskId must be 1-{MAX_TASK_ID_LENGTH} characters long"
    if any(ch not in _TASK_ID_CHARS for ch in value):
        return "TaskId may contain printable ASCII only, without white space or '/'"
    return None


@dataclass(frozen=True, slots=True)
class PollRequest:
    """One request to poll one task, as carried by one SQS message."""

    task_id: str
    vendor: Vendor
    generation: int = 0
    attempt: int = 0
    first_seen_at: str | None = None
    deadline_at: str | None = None
    kind: TaskKind | None = None
    """``Kind``: merge, transcode or snapshot, when the sender knows it (optional)."""
    not_before: str | None = None
    """``NotBefore``: the poll was postponed beyond SQS's longest delay; until then the message only
    hops on (set by the poller, never by a pipeline)."""

    def to_body(self) -> str:
        """The JSON message body; pipeline-style (two fields) when nothing else is set."""
        body: dict[str, Any] = {"TaskId": self.task_id, "Vendor": self.vendor.value}
        if self.generation:
            body["Generation"] = self.generation
        if self.attempt:
            body["Attempt"] = self.attempt
        if self.first_seen_at:
            body["FirstSeenAt"] = self.first_seen_at
        if self.deadline_at:
            body["DeadlineAt"] = self.deadline_at
        if self.kind:
            body["Kind"] = self.kind.value
        if self.not_before:
            body["NotBefore"] = self.not_before
        return json.dumps(body, separators=(",", ":"))


def _optional_int(body: dict[str, Any], name: str, task_id: str, vendor: Vendor) -> int:
    value = body.get(name, 0)
    # bool is an int subclass; True is not a generation.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 2**53:
        raise MalformedMessageError(
            MalformedReason.INVALID_FIELD, f"{name} must be a non-negative integer", task_id, vendor
        )
    return value


def _optional_time(body: dict[str, Any], name: str, task_id: str, vendor: Vendor) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise TypeError(name)
        from_iso(value)
    except (TypeError, ValueError, OverflowError):  # e.g. year 1 with a positive offset
        raise MalformedMessageError(
            MalformedReason.INVALID_FIELD,
            f"{name} must be an ISO 8601 timestamp with offset",
            task_id,
            vendor,
        ) from None
    return value


def parse_poll_request(body: str | bytes) -> PollRequest:
    """Parse and validate a message body; raise :class:`MalformedMessageError` with the reason."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        raise MalformedMessageError(MalformedReason.OVERSIZE, f"body is {len(raw)} bytes, limit {MAX_BODY_BYTES}")
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting fits in 4 KiB
        raise MalformedMessageError(MalformedReason.NOT_JSON, "body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise MalformedMessageError(MalformedReason.NOT_OBJECT, "body must be a JSON object")
    if "TaskId" not in parsed or parsed["TaskId"] in (None, ""):
        raise MalformedMessageError(MalformedReason.MISSING_TASK_ID, "TaskId is required")
    task_id_value = parsed["TaskId"]
    problem = task_id_problem(task_id_value)
    if problem is not None:
        raise MalformedMessageError(MalformedReason.INVALID_TASK_ID, problem)
    task_id: str = task_id_value
    if "Vendor" not in parsed or parsed["Vendor"] in (None, ""):
        raise MalformedMessageError(MalformedReason.MISSING_VENDOR, "Vendor is required", task_id)
    vendor = parse_vendor(parsed["Vendor"])
    if vendor is None:
        raise MalformedMessageError(MalformedReason.UNKNOWN_VENDOR, "Vendor must be 'Tencent' or 'Huawei'", task_id)
    return PollRequest(
        task_id=task_id,
        vendor=vendor,
        generation=_optional_int(parsed, "Generation", task_id, vendor),
        attempt=_optional_int(parsed, "Attempt", task_id, vendor),
        first_seen_at=_optional_time(parsed, "FirstSeenAt", task_id, vendor),
        deadline_at=_optional_time(parsed, "DeadlineAt", task_id, vendor),
        kind=_optional_kind(parsed, task_id, vendor),
        not_before=_optional_time(parsed, "NotBefore", task_id, vendor),
    )


def _optional_kind(body: dict[str, Any], task_id: str, vendor: Vendor) -> TaskKind | None:
    value = body.get("Kind")
    if value is None:
        return None
    kind = parse_kind(value)
    if kind is None:
        raise MalformedMessageError(
            MalformedReason.INVALID_FIELD, "Kind must be 'merge', 'transcode' or 'snapshot'", task_id, vendor
        )
    return kind
