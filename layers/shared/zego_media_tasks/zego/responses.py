"""DescribeMediaTask answers → :class:`CallOutcome`: the code → outcome table and the response parser
(and the readers of ZEGO's JSON values, which the completion callbacks share).

Everything here is pure (no HTTP): :mod:`zego_media_tasks.zego.client` hands over the HTTP status and
body bytes, and this module decides, once, what they mean.

Decision order for one HTTP answer:

1. HTTP 401/403 → CONFIGURATION, 429 → THROTTLED, 5xx → TRANSIENT (``HTTP_<status>``), whatever the
   body says: a gateway in front of ZEGO may answer these, and a body that contradicts them is not
   trusted to make a task terminal.
2. HTTP 2xx: ZEGO answers errors with HTTP 200 and a ``Code`` in the body, so the body's ``Code``
   decides (:data:`OUTCOME_BY_CODE`; unknown codes are TRANSIENT). A body that is not a JSON object
   with an integer ``Code`` is TRANSIENT ``BAD_RESPONSE``.
3. Any other HTTP status (other 4xx, an unexpected 3xx, 1xx): if the body is ZEGO JSON with a ``Code``,
   that ``Code`` decides (ZEGO may use 400 for a bad parameter); a ``Code`` 0 outside 2xx is
   contradictory and is ``BAD_RESPONSE``. Without a ``Code`` it is TRANSIENT ``HTTP_<status>``: nothing
   proves the task itself is at fault, so the poller retries with backoff rather than giving up.

Code 0 is SUCCESS only with the requested vendor's block in ``Data``; otherwise TRANSIENT
``NO_VENDOR_BLOCK``. A block whose ``TaskId`` differs from the requested one is TRANSIENT
``BAD_RESPONSE``, so another task's data is never stored under this task's id.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.snapshot import TaskSnapshot
from zego_media_tasks.domain.status import Vendor, normalize_vendor_status
from zego_media_tasks.domain.timestamps import to_iso

MAX_MESSAGE_CHARS: Final = 500
"""Error messages are truncated to this length before they are stored or logged."""

# CallError.code values for failures that carry no ZEGO Code (see domain.outcome.CallError).
TIMEOUT: Final = "TIMEOUT"
CONNECTION: Final = "CONNECTION"
BAD_RESPONSE: Final = "BAD_RESPONSE"
NO_VENDOR_BLOCK: Final = "NO_VENDOR_BLOCK"
SECRET_UNAVAILABLE: Final = "SECRET_UNAVAILABLE"  # noqa: S105 -- an error code, not a secret


@dataclass(frozen=True, slots=True)
class CodeRule:
    """What one ZEGO return code means for us."""

    kind: OutcomeKind
    meaning: str
    """Our own description, used as the message when ZEGO sends none."""


ZEGO_CODES: Final[Mapping[int, CodeRule]] = MappingProxyType(
    {
        0: CodeRule(OutcomeKind.SUCCESS, "success"),
        2: CodeRule(OutcomeKind.REJECTED, "bad input parameter"),
        3: CodeRule(OutcomeKind.CONFIGURATION, "permission not enabled (contact ZEGO)"),
        4: CodeRule(OutcomeKind.REJECTED, "CDN vendor mismatch"),
        5: CodeRule(OutcomeKind.CONFIGURATION, "configuration error (contact ZEGO)"),
        6: CodeRule(OutcomeKind.THROTTLED, "too many requests"),
        7: CodeRule(OutcomeKind.CONFIGURATION, "authentication failed"),
        # "Request failed, contact ZEGO": nothing says the task is at fault, so retry with backoff.
        1000: CodeRule(OutcomeKind.TRANSIENT, "request failed"),
        41003: CodeRule(OutcomeKind.REJECTED, "file does not exist"),
        # Clock skew or a stale signature: the next call is signed afresh.
        100000004: CodeRule(OutcomeKind.TRANSIENT, "signature expired"),
        100000005: CodeRule(OutcomeKind.CONFIGURATION, "signature wrong (check AppId and ServerSecret)"),
    }
)
"""Every documented ZEGO return code; codes not listed are TRANSIENT (see :func:`rule_for_code`)."""

OUTCOME_BY_CODE: Final[Mapping[int, OutcomeKind]] = MappingProxyType(
    {code: rule.kind for code, rule in ZEGO_CODES.items()}
)
"""The code → outcome table (code 0 is SUCCESS only with a vendor block)."""

OUTCOME_BY_HTTP_STATUS: Final[Mapping[int, OutcomeKind]] = MappingProxyType(
    {
        401: OutcomeKind.CONFIGURATION,
        403: OutcomeKind.CONFIGURATION,
        429: OutcomeKind.THROTTLED,
    }
)
"""HTTP statuses that decide the outcome whatever the body says (5xx too: TRANSIENT)."""

_UNKNOWN_CODE = CodeRule(OutcomeKind.TRANSIENT, "unknown ZEGO return code")
_HUAWEI_TIME = re.compile(r"[0-9]{14}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""JSON joins escaped surrogate pairs into one character, so any surrogate left in a string is alone."""


def rule_for_code(code: int) -> CodeRule:
    """The rule for a ZEGO return code; an undocumented code is TRANSIENT, since retrying is safe."""
    return ZEGO_CODES.get(code, _UNKNOWN_CODE)


def http_code(status: int) -> str:
    """The ``CallError.code`` for an HTTP status that decided an outcome: ``HTTP_502``."""
    return f"HTTP_{status}"


def truncate_message(text: str) -> str:
    """``text`` cut to :data:`MAX_MESSAGE_CHARS` characters."""
    return text[:MAX_MESSAGE_CHARS]


def interpret_response(http_status: int, body: bytes, *, task_id: str, vendor: Vendor) -> CallOutcome:
    """Turn one HTTP answer to ``DescribeMediaTask(task_id, vendor)`` into a :class:`CallOutcome`.

    Total: never raises, whatever the body holds.
    """
    document = _json_object(body)
    zego_request_id = text_value(document.get("RequestId")) if document is not None else None
    zego_message = text_value(document.get("Message")) if document is not None else None
    code = _code(document.get("Code")) if document is not None else None

    status_kind = OUTCOME_BY_HTTP_STATUS.get(http_status)
    if status_kind is None and 500 <= http_status <= 599:
        status_kind = OutcomeKind.TRANSIENT
    if status_kind is not None:
        return CallOutcome.failure(
            status_kind,
            http_code(http_status),
            truncate_message(zego_message or f"HTTP {http_status}"),
            zego_request_id,
        )

    is_2xx = 200 <= http_status <= 299
    if document is None or code is None:
        if is_2xx:
            what = "not a JSON object" if document is None else "a JSON object without an integer Code"
            return CallOutcome.failure(
                OutcomeKind.TRANSIENT, BAD_RESPONSE, f"HTTP {http_status}: body is {what}", zego_request_id
            )
        return CallOutcome.failure(
            OutcomeKind.TRANSIENT,
            http_code(http_status),
            truncate_message(zego_message or f"HTTP {http_status}"),
            zego_request_id,
        )

    rule = rule_for_code(code)
    if rule.kind is not OutcomeKind.SUCCESS:
        return CallOutcome.failure(
            rule.kind, str(code), truncate_message(zego_message or rule.meaning), zego_request_id
        )
    if not is_2xx:
        return CallOutcome.failure(
            OutcomeKind.TRANSIENT,
            BAD_RESPONSE,
            f"HTTP {http_status} with Code 0: contradictory answer",
            zego_request_id,
        )
    return _success(document, task_id=task_id, vendor=vendor, zego_request_id=zego_request_id)


def _success(document: Mapping[str, Any], *, task_id: str, vendor: Vendor, zego_request_id: str | None) -> CallOutcome:
    data = document.get("Data")
    block = data.get(vendor.value) if isinstance(data, dict) else None
    # An empty block says nothing about the task: the same as no block.
    if not isinstance(block, dict) or not block:
        return CallOutcome.failure(
            OutcomeKind.TRANSIENT,
            NO_VENDOR_BLOCK,
            f"Code 0 without a Data.{vendor.value} object",
            zego_request_id,
        )
    answered_task_id = text_value(block.get("TaskId"))
    if answered_task_id is not None and answered_task_id.strip() != task_id:
        # Never let another task's data be stored under this task's id. The other id is left out of
        # the message: it is the vendor's data, and the raw block is not kept for this outcome.
        return CallOutcome.failure(
            OutcomeKind.TRANSIENT,
            BAD_RESPONSE,
            "the vendor block describes a different TaskId than the one requested",
            zego_request_id,
        )
    return CallOutcome.success(
        parse_vendor_block(block, requested_task_id=task_id, vendor=vendor, zego_request_id=zego_request_id)
    )


def parse_vendor_block(
    block: Mapping[str, Any], *, requested_task_id: str, vendor: Vendor, zego_request_id: str | None
) -> TaskSnapshot:
    """Normalize one ``Data.<Vendor>`` block into a :class:`TaskSnapshot`.

    Tolerant by design: missing fields, ``null``, empty strings (→ None), unknown extra fields and wrong
    types (a number where a string is expected becomes its text; a non-list where a list is expected is
    ignored) never raise. ``raw`` is the block as received. The caller has already checked that the
    block's ``TaskId``, when present, is the requested one.
    """
    vendor_status = text_value(block.get("Status"))
    common: dict[str, Any] = {
        # Equal to the block's TaskId when it has one (checked by the caller); the store key stays ours.
        "task_id": requested_task_id,
        "vendor": vendor,
        "status": normalize_vendor_status(vendor, vendor_status),
        "vendor_status": vendor_status,
        "zego_request_id": zego_request_id,
        "raw": block,
    }
    if vendor is Vendor.TENCENT:
        return TaskSnapshot(
            **common,
            event=text_value(block.get("Event")),
            file_id=text_value(block.get("FileId")),
            replay_url=text_value(block.get("ReplayUrl")),
            message=text_value(block.get("Message")),
            vendor_request_id=text_value(block.get("RequestId")),
            thumbnail_urls=_text_list(block.get("ThumbnailsUrl")),
        )
    return TaskSnapshot(
        **common,
        file_names=_text_list(block.get("FileName")),
        vendor_created_at=_huawei_time(block.get("CreateTime")),
        vendor_ended_at=_huawei_time(block.get("EndTime")),
    )


# --- ZEGO's JSON values, read as both of its JSON sources need them: these answers and the completion
# callbacks (zego.callbacks). ZEGO does not always keep to a field's documented type, and JSON allows
# strings that UTF-8 cannot encode.


def well_formed(text: str) -> str:
    """``text`` with each lone surrogate (legal as a JSON escape, unencodable as UTF-8) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def well_formed_value(value: Any) -> Any:
    """A decoded JSON value with every string in it, and in its lists, :func:`well_formed` (a decoder's
    ``object_pairs_hook`` calls this for each member, so objects come out clean too)."""
    if isinstance(value, str):
        return well_formed(value)
    if isinstance(value, list):
        return [well_formed_value(item) for item in value]
    return value


def text_value(value: object) -> str | None:
    """A text field: None for missing, ``null``, blank or non-scalar values; numbers become text."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        # ``True`` is no meaningful id, URL or message.
        return None
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    return None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        # Sanitised while parsing: a lone surrogate would otherwise make every write of the record fail.
        document = json.loads(
            body, object_pairs_hook=lambda pairs: {well_formed(k): well_formed_value(v) for k, v in pairs}
        )
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError, UnicodeDecodeError and over-long integers.
        return None
    return document if isinstance(document, dict) else None


def _code(value: object) -> int | None:
    """ZEGO's ``Code`` as an int; documented as a number, tolerated as an integral float or digit string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,12}", value.strip()):
        return int(value.strip())
    return None


def _text_list(value: object) -> tuple[str, ...]:
    """An array-of-strings field: items kept in order, unusable items dropped, non-lists ignored."""
    if not isinstance(value, list):
        return ()
    return tuple(text for text in map(text_value, value) if text is not None)


def _huawei_time(value: object) -> str | None:
    """Huawei's ``YYYYMMDDhhmmss`` (UTC) as ISO 8601; None when missing or not a valid time."""
    text = text_value(value)
    if text is None or not _HUAWEI_TIME.fullmatch(text.strip()):
        return None
    try:
        moment = datetime.strptime(text.strip(), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return to_iso(moment)
