"""ZEGO's completion callbacks (compose, procedure, snapshot): decode, authenticate, parse. Pure.

No AWS, no HTTP library: the receiver hands over the body bytes (base64 already undone), the
Content-Type header, the CallbackSecret and the current time, and gets back a :class:`ZegoCallback`
or one :class:`CallbackRejected` carrying a reason and the HTTP status to answer with. Nothing else
escapes, whatever the body holds (a Hypothesis test holds the module to that).

The steps, in this order (:func:`read_callback` runs all three):

1. :func:`decode_callback_body`: a JSON object, a percent-encoded JSON object, or
   ``application/x-www-form-urlencoded`` fields → a dict. Oversize → 413; anything unreadable → 400.
2. :func:`authenticate`: signature, then timestamp freshness, then AppId. 401 or 403, and always
   before any look at the content, so a forged body learns nothing about what we would accept.
3. :func:`parse_callback`: the event's fields → a :class:`ZegoCallback`; anything we cannot read with
   certainty → 400, and the poll chain (DescribeMediaTask) stays the backstop.

What the signature does *not* cover: ZEGO signs only CallbackSecret, ``timestamp`` and ``nonce``,
not the body. Anyone who saw one genuine callback can replay its three values with any body until the
timestamp leaves the freshness window, so keep the window short and the endpoint on HTTPS. A receiver
that remembers nonces for the window closes the replay (not done here: it needs storage).

**Status rules** (``vendor_status`` is one vocabulary for all callbacks, ``SUCCESS`` / ``FAILED``, which
is deliberately not DescribeMediaTask's ``FINISH``/``FAIL``, so a record says which source spoke last):

==========  =====================================================  ==========  ==============
event       condition                                              status      vendor_status
==========  =====================================================  ==========  ==============
compose     ``code`` present and 0                                 SUCCEEDED   SUCCESS
compose     ``code`` present, any other integer                    FAILED      FAILED
compose     no ``code`` (Huawei), ``replay_url`` present           SUCCEEDED   SUCCESS
compose     no ``code``, no ``replay_url``                         FAILED      FAILED
procedure   ``status`` SUCCESS, every ``transcode[].code`` is 0    SUCCEEDED   SUCCESS
procedure   ``status`` SUCCESS, some ``transcode[].code`` is not   FAILED      SUCCESS
procedure   ``status`` FAILED                                      FAILED      FAILED
procedure   any other ``status``                                   refused     400 UNKNOWN_STATUS
snapshot    (always: the callback only reports finished work)      SUCCEEDED   SUCCESS
==========  =====================================================  ==========  ==============

For procedure, ``vendor_status`` is ZEGO's own word (in upper case); a SUCCESS whose outputs failed
keeps it, and ``result_code``/``message`` say which output failed. A procedure SUCCESS without a
readable ``extra_params.media.transcode`` list, or with an output whose ``code`` is missing, is 400
BAD_FIELD: a terminal status is never concluded from a field we could not read.

``message`` is set only for FAILED (the vendor's text, else our reading of the code); the vendor's texts
on success (``"SUCCESS"``, ``""``) stay in ``raw``. Messages are cut to
:data:`~zego_media_tasks.zego.responses.MAX_MESSAGE_CHARS`.

**Sizes**: ``replay_url`` (compose, and every transcode output) longer than
:data:`MAX_REPLAY_URL_BYTES` UTF-8 bytes is refused with 400 BAD_FIELD rather than truncated: a cut URL
does not play, and a longer one breaks ZEGO's documented bound, so something is wrong upstream. The
body as a whole is bounded by the caller's ``max_bytes`` (:data:`DEFAULT_MAX_BODY_BYTES` suggested, at most
:data:`MAX_BODY_BYTES_LIMIT`), checked before anything is decoded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, unquote_plus

from zego_media_tasks.domain.messages import task_id_problem
from zego_media_tasks.domain.snapshot import AudioDetails, MediaDetails, TaskSnapshot, VideoDetails
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.zego.responses import text_value, truncate_message, well_formed, well_formed_value

DEFAULT_MAX_BODY_BYTES: Final = 2 * 1024 * 1024
"""A suggested ``max_bytes``, sized for a snapshot of 10,000 pictures (every other callback is under 4 KiB).

Each ``snapshot_pic_list`` entry is ``{"url": "...", "offset": ...}`` around a URL of about 130 bytes
(Tencent's example shape): about 165 bytes in the array, plus a backslash before each of its four quotes
once the array is a string inside the JSON body, so 171 bytes a picture and 1.71 MB for 10,000 (measured).
As form fields, percent-encoding (``"``, ``:``, ``/``, ``,`` → ``%XX``) makes it 203 bytes a picture, 2.03 MB.
2 MiB = 2,097,152 bytes holds about 12,200 pictures as JSON and 10,300 as form fields. The record keeps
the first page of the list, the lists bucket all of it (``store.list_objects``); the raw copy of such a
callback is replaced by its size (``store.items``)."""
MAX_BODY_BYTES_LIMIT: Final = 4 * 1024 * 1024
"""The largest ``max_bytes`` the receiver's settings accept (``CALLBACK_MAX_BODY_BYTES``).

API Gateway hands the body to Lambda inside the event, and a synchronous invocation takes at most 6 MB.
Our API declares no binary media types, so a callback (JSON or form fields, both text) arrives as a JSON
string, ``isBase64Encoded`` false: 4 MiB of callback makes an event of about 4.5 MB (escaped quotes add
7 %), and even base64 (4/3, were a binary media type ever declared) 5.6 MB, with the headers and request
context (a few KB) still under 6 MB. A larger event never reaches the function: API Gateway answers it
(its own payload limit is 10 MB). The bound is checked before any parsing. The signature check hashes
three short fields whatever the body's size, but the outer JSON must be read to find them, so a forged
body costs one parse of at most this many bytes; the route's throttling (``CallbackThrottlingRateLimit``)
bounds how many."""
DEFAULT_MAX_AGE_SECONDS: Final = 300
"""A suggested freshness window. ZEGO documents none; its retries come 2+4+8+16+32 = 62 s after the first
try (plus each try's timeout) and may carry the first try's timestamp, and clocks drift."""
MAX_REPLAY_URL_BYTES: Final = 1024
"""ZEGO's documented bound for ``replay_url``."""
CALLBACK_SUCCESS: Final = "SUCCESS"
CALLBACK_FAILED: Final = "FAILED"

_SIGNATURE_FIELD: Final = "signature"
_NONCE_FIELD: Final = "nonce"
_UNSTORED_FIELDS: Final = frozenset({_SIGNATURE_FIELD, _NONCE_FIELD})
"""Never stored or logged: the signature (replayable with its nonce inside the window) and the nonce."""
_INTEGER_TEXT = re.compile(r"[0-9]{1,12}")
_CODE_TEXT = re.compile(r"[+-]?[0-9]{1,12}")
_MAX_EXACT_INT = 2**53
_FORM_URLENCODED: Final = "application/x-www-form-urlencoded"

StreamT = TypeVar("StreamT", VideoDetails, AudioDetails)
Reader = Callable[[object], object]
"""Reads one JSON member leniently: a value, or None when it is unusable."""


# --- rejections ------------------------------------------------------------------------------------


class RejectionReason(StrEnum):
    """Why a callback was refused; each maps to one HTTP status (:data:`HTTP_STATUS_BY_REASON`)."""

    OVERSIZE = "OVERSIZE"
    NOT_PARSEABLE = "NOT_PARSEABLE"
    MISSING_SIGNATURE = "MISSING_SIGNATURE"
    """``signature`` or ``nonce`` absent (without both there is nothing to verify)."""
    BAD_SIGNATURE = "BAD_SIGNATURE"
    BAD_TIMESTAMP = "BAD_TIMESTAMP"
    """``timestamp`` absent or not a whole number of seconds."""
    STALE_TIMESTAMP = "STALE_TIMESTAMP"
    """``timestamp`` too far from now, in either direction."""
    WRONG_APP_ID = "WRONG_APP_ID"
    UNKNOWN_EVENT = "UNKNOWN_EVENT"
    MISSING_TASK_ID = "MISSING_TASK_ID"
    INVALID_TASK_ID = "INVALID_TASK_ID"
    UNKNOWN_STATUS = "UNKNOWN_STATUS"
    BAD_FIELD = "BAD_FIELD"
    VENDOR_MISMATCH = "VENDOR_MISMATCH"
    """:meth:`ZegoCallback.snapshot` was asked for another vendor than the one the callback names."""


HTTP_STATUS_BY_REASON: Final[Mapping[RejectionReason, int]] = MappingProxyType(
    {
        RejectionReason.OVERSIZE: 413,
        RejectionReason.NOT_PARSEABLE: 400,
        RejectionReason.MISSING_SIGNATURE: 401,
        RejectionReason.BAD_SIGNATURE: 401,
        RejectionReason.BAD_TIMESTAMP: 401,
        RejectionReason.STALE_TIMESTAMP: 401,
        RejectionReason.WRONG_APP_ID: 403,
        RejectionReason.UNKNOWN_EVENT: 400,
        RejectionReason.MISSING_TASK_ID: 400,
        RejectionReason.INVALID_TASK_ID: 400,
        RejectionReason.UNKNOWN_STATUS: 400,
        RejectionReason.BAD_FIELD: 400,
        RejectionReason.VENDOR_MISMATCH: 409,
    }
)
"""The HTTP status to answer each rejection with. ZEGO retries anything but 2xx five times, then drops."""


class CallbackRejected(Exception):  # noqa: N818 -- the name says what happened to the callback
    """The one error of this module: a callback refused, why, and the HTTP status to answer with.

    ``detail`` names fields and rules, never a value from the body, so it can be logged as is: it never
    holds the secret, the signature or the nonce.
    """

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.http_status = HTTP_STATUS_BY_REASON[reason]
        self.detail = detail


# --- signature -------------------------------------------------------------------------------------


def callback_signature(secret: str, timestamp: str, nonce: str) -> str:
    """ZEGO's callback signature: SHA-1 of the three strings sorted and concatenated, lowercase hex.

    "Dictionary order" is string order (ZEGO's samples sort strings: PHP ``SORT_STRING``, Java
    ``Arrays.sort``), so ``"1234"`` sorts before ``"99"``. Never raises for any ``str`` input: text is
    UTF-8 encoded, lone surrogates included.
    """
    material = "".join(sorted((secret, timestamp, nonce))).encode("utf-8", "surrogatepass")
    # SHA-1 is ZEGO's choice; here it authenticates a request, it does not protect stored data.
    return hashlib.sha1(material, usedforsecurity=False).hexdigest()


def signature_matches(expected_secret: str, timestamp: str, nonce: str, signature: str) -> bool:
    """True when ``signature`` is the one ZEGO computes for these values; constant-time, never raises.

    The comparison is over bytes, so a non-ASCII or wrong-length ``signature`` is simply unequal.
    """
    if not all(isinstance(value, str) for value in (expected_secret, timestamp, nonce, signature)):
        return False
    expected = callback_signature(expected_secret, timestamp, nonce).encode("ascii")
    return hmac.compare_digest(expected, signature.encode("utf-8", "surrogatepass"))


# --- body ------------------------------------------------------------------------------------------


def decode_callback_body(body: bytes, content_type: str | None, *, max_bytes: int) -> dict[str, Any]:
    """The callback's fields, from any of the three shapes ZEGO's pages leave open.

    The shape is told from the body itself, not from ``Content-Type`` (which ZEGO does not document and
    which is only named in the rejection detail): after leading white space, ``{`` is a JSON object,
    ``%7B`` a percent-encoded JSON object (decoded once; ``+`` is a space, as form encoders write it),
    anything else ``application/x-www-form-urlencoded`` fields, whose values are all strings. Inside
    JSON nothing is percent-decoded: the values are taken as they are (a URL may hold a literal ``%``).

    Refused: more than ``max_bytes`` bytes (OVERSIZE, 413); bytes that are not UTF-8, JSON that is not
    an object, ``NaN``/``Infinity``, a field named twice, form text without ``=``, an empty body
    (NOT_PARSEABLE, 400). Lone surrogates in JSON strings become U+FFFD, so every value can be stored.
    """
    if len(body) > max_bytes:
        raise CallbackRejected(RejectionReason.OVERSIZE, f"body is {len(body)} bytes, limit {max_bytes}")
    media_type = _media_type(content_type)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackRejected(RejectionReason.NOT_PARSEABLE, f"{media_type} body is not UTF-8") from None
    start = text.lstrip(" \t\r\n\ufeff")  # a byte-order mark is no content
    if start.startswith("{"):
        return _json_fields(start, media_type)
    if start[:3].upper() == "%7B":
        try:
            decoded = unquote_plus(start, errors="strict")
        except UnicodeDecodeError:
            raise CallbackRejected(
                RejectionReason.NOT_PARSEABLE, f"percent-encoded {media_type} body is not UTF-8"
            ) from None
        return _json_fields(decoded, media_type)
    return _form_fields(start, media_type)


_NAMED_MEDIA_TYPES: Final = frozenset({"application/json", _FORM_URLENCODED, "text/plain"})


def _media_type(content_type: str | None) -> str:
    """The Content-Type as named in a detail: a known media type, ``untyped`` or ``other``, never the header."""
    if not content_type or not content_type.strip():
        return "untyped"
    token = content_type.split(";", 1)[0].strip().lower()
    return token if token in _NAMED_MEDIA_TYPES else "other"


class _DuplicateKeyError(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        name = well_formed(key)
        if name in document:
            # Two values for one name (two signatures, two task ids) are ambiguous: refuse, never pick.
            raise _DuplicateKeyError(name)
        document[name] = well_formed_value(value)
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity and -Infinity are not JSON


def _load_json(text: str) -> Any:
    """Strict JSON: raises ValueError (also for duplicate keys, non-finite numbers, deep nesting)."""
    try:
        return json.loads(text, object_pairs_hook=_unique_object, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _json_fields(text: str, media_type: str) -> dict[str, Any]:
    try:
        document = _load_json(text)
    except _DuplicateKeyError:
        raise CallbackRejected(RejectionReason.NOT_PARSEABLE, f"{media_type} body names a field twice") from None
    except ValueError:
        # ValueError covers JSONDecodeError and integers too long to convert.
        raise CallbackRejected(RejectionReason.NOT_PARSEABLE, f"{media_type} body is not valid JSON") from None
    if not isinstance(document, dict):
        raise CallbackRejected(RejectionReason.NOT_PARSEABLE, f"{media_type} body is not a JSON object")
    return document


def _form_fields(text: str, media_type: str) -> dict[str, Any]:
    stripped = text.strip(" \t\r\n")
    if not stripped:
        raise CallbackRejected(RejectionReason.NOT_PARSEABLE, f"{media_type} body is empty")
    try:
        pairs = parse_qsl(stripped, keep_blank_values=True, strict_parsing=True, errors="strict")
    except ValueError:  # also UnicodeDecodeError from a percent-encoded byte that is not UTF-8
        raise CallbackRejected(
            RejectionReason.NOT_PARSEABLE,
            f"{media_type} body is neither JSON nor {_FORM_URLENCODED} fields",
        ) from None
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if name in fields:
            raise CallbackRejected(RejectionReason.NOT_PARSEABLE, f"{media_type} body names a field twice")
        fields[name] = value
    return fields


# --- authentication --------------------------------------------------------------------------------


def authenticate(
    fields: Mapping[str, Any],
    *,
    secret: str,
    app_id: int,
    now_epoch_seconds: float,
    max_age_seconds: float,
) -> int:
    """Check that ``fields`` come from ZEGO, for our AppId, recently; return the callback's timestamp.

    In order: ``signature`` and ``nonce`` present (MISSING_SIGNATURE), ``timestamp`` a whole number of
    seconds (BAD_TIMESTAMP), the signature right (BAD_SIGNATURE), all 401; the timestamp within
    ``max_age_seconds`` of ``now_epoch_seconds`` either way (STALE_TIMESTAMP, 401); ``appid`` ours
    (WRONG_APP_ID, 403; checked after the signature, since an unsigned caller should learn nothing).
    Signed values are taken as text: a string as is, an integer as its decimal digits (what a JSON
    number means on the wire); anything else cannot have been signed.

    Raises ValueError for an empty ``secret`` (anyone could sign with it) or a negative window: those
    are configuration errors, not a property of the callback.
    """
    if not secret:
        raise ValueError("the CallbackSecret is empty")
    if max_age_seconds < 0:
        raise ValueError("max_age_seconds must not be negative")
    signature = _signed_text(fields.get(_SIGNATURE_FIELD))
    nonce = _signed_text(fields.get(_NONCE_FIELD))
    if not signature or nonce is None:
        raise CallbackRejected(RejectionReason.MISSING_SIGNATURE, "signature and nonce are required")
    timestamp_text = _signed_text(fields.get("timestamp"))
    if timestamp_text is None or not _INTEGER_TEXT.fullmatch(timestamp_text):
        raise CallbackRejected(RejectionReason.BAD_TIMESTAMP, "timestamp must be whole Unix seconds")
    if not signature_matches(secret, timestamp_text, nonce, signature):
        raise CallbackRejected(RejectionReason.BAD_SIGNATURE, "signature does not match")
    timestamp = int(timestamp_text)
    if not abs(now_epoch_seconds - timestamp) <= max_age_seconds:  # `not <=` also refuses a NaN clock
        raise CallbackRejected(
            RejectionReason.STALE_TIMESTAMP, f"timestamp is more than {max_age_seconds:g} s away from now"
        )
    app_id_text = _signed_text(fields.get("appid"))
    if app_id_text is None or not _INTEGER_TEXT.fullmatch(app_id_text.strip()) or int(app_id_text) != app_id:
        raise CallbackRejected(RejectionReason.WRONG_APP_ID, "appid is not this project's AppId")
    return timestamp


def _signed_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# --- parsing ---------------------------------------------------------------------------------------


class CallbackKind(StrEnum):
    """Which completion a callback reports, spelled as ZEGO's ``event``."""

    COMPOSE = "compose"
    """MergeMedia finished (Tencent or Huawei)."""
    PROCEDURE = "procedure"
    """TranscodeMedia finished (Tencent VOD only)."""
    SNAPSHOT = "snapshot"
    """MediaThumbnails finished."""

    @property
    def record_event(self) -> str:
        """The record's ``event``: ``compose``, ``transcode`` (Tencent's own word) or ``snapshot``."""
        return "transcode" if self is CallbackKind.PROCEDURE else self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscodeOutput:
    """One ``extra_params.media.transcode[]`` entry of a procedure callback."""

    code: int
    message: str | None = None
    replay_url: str | None = None
    media: MediaDetails = field(default_factory=MediaDetails)


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotPicture:
    """One ``snapshot_pic_list`` entry: a picture URL and, for time-point snapshots, its offset."""

    url: str
    offset_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ZegoCallback:
    """One completion callback, normalized. Build it with :func:`parse_callback`.

    ``vendor`` is what the callback *says*: snapshot's ``vendor`` field (``tencent``/``hw``, any case,
    also ``Tencent``/``Huawei``), Tencent for procedure (TranscodeMedia is Tencent only), None for compose
    (no vendor field) and for a snapshot without one. ``vendor_hint`` is a best guess for when no record
    exists: ``vendor`` when known, else Tencent when a file id ZEGO documents as Tencent-only is present
    (compose ``file_id``, snapshot ``field_id``), else None. Its limit: a *failed* Tencent merge may well
    carry no ``file_id``, so None does not mean Huawei. ``code`` and ``message`` are not used as hints:
    ZEGO calls them meaningful for Tencent, it does not promise that Huawei leaves them out.
    """

    kind: CallbackKind
    task_id: str
    vendor: Vendor | None
    vendor_hint: Vendor | None
    status: TaskStatus
    """SUCCEEDED or FAILED: every callback reports a finished task."""
    vendor_status: str
    """``SUCCESS`` or ``FAILED`` (see the module's status rules)."""
    timestamp: int | None = None
    """When ZEGO signed the callback (Unix seconds), for ordering callbacks that arrive out of order."""
    file_id: str | None = None
    """compose ``file_id`` (the output), procedure ``fileId``/``file_id`` (the source), snapshot ``field_id``
    (the source)."""
    replay_url: str | None = None
    result_code: str | None = None
    message: str | None = None
    outputs: tuple[TranscodeOutput, ...] = ()
    pictures: tuple[SnapshotPicture, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The fields as received, without ``signature`` and ``nonce``."""

    @property
    def media(self) -> MediaDetails | None:
        """The first transcode output's media details (procedure only)."""
        return self.outputs[0].media if self.outputs else None

    def snapshot(self, vendor: Vendor) -> TaskSnapshot:
        """This callback as a :class:`TaskSnapshot` of the task on ``vendor`` (the record's vendor).

        For procedure, ``replay_url`` and ``media`` are the first output's; every output stays in
        ``raw`` (``extra_params``). Raises :class:`CallbackRejected` VENDOR_MISMATCH (409) when the
        callback names another vendor: storing it under ``vendor`` would be a lie.
        """
        pictures = tuple(picture.url for picture in self.pictures)
        if self.vendor is not None and self.vendor is not vendor:
            raise CallbackRejected(
                RejectionReason.VENDOR_MISMATCH, f"the callback is for {self.vendor.value}, not {vendor.value}"
            )
        return TaskSnapshot(
            task_id=self.task_id,
            vendor=vendor,
            status=self.status,
            vendor_status=self.vendor_status,
            event=self.kind.record_event,
            file_id=self.file_id,
            replay_url=self.replay_url,
            # As DescribeMediaTask's answers are normalized: Tencent gives thumbnail URLs, Huawei object names.
            thumbnail_urls=pictures if vendor is Vendor.TENCENT else (),
            file_names=pictures if vendor is Vendor.HUAWEI else (),
            message=self.message,
            result_code=self.result_code,
            media=self.media,
            raw=dict(self.raw),
        )


COMPOSE_CODE_MEANINGS: Final[Mapping[int, str]] = MappingProxyType(
    {
        40000: "bad input parameter",
        60000: "bad source file",
        70000: "internal error (retry advised)",
    }
)
"""ZEGO's documented merge result codes besides 0: the message when the callback brings none."""


def parse_callback(fields: Mapping[str, Any]) -> ZegoCallback:
    """Normalize authenticated callback fields (see the module docstring for the rules).

    Every value may be a string or a number. Raises :class:`CallbackRejected`: UNKNOWN_EVENT,
    MISSING_TASK_ID, INVALID_TASK_ID (checked in that order, first), then UNKNOWN_STATUS or BAD_FIELD,
    all 400. Run :func:`authenticate` first: this function trusts what it reads.
    """
    kind = _kind(fields.get("event"))
    task_id = _task_id(fields.get("task_id"))
    timestamp_text = _signed_text(fields.get("timestamp"))
    common: dict[str, Any] = {
        "kind": kind,
        "task_id": task_id,
        "timestamp": int(timestamp_text) if timestamp_text and _INTEGER_TEXT.fullmatch(timestamp_text) else None,
        "raw": {name: value for name, value in fields.items() if name.lower() not in _UNSTORED_FIELDS},
    }
    if kind is CallbackKind.COMPOSE:
        return _compose(fields, common)
    if kind is CallbackKind.PROCEDURE:
        return _procedure(fields, common)
    return _snapshot(fields, common)


def read_callback(
    body: bytes,
    content_type: str | None,
    *,
    secret: str,
    app_id: int,
    now_epoch_seconds: float,
    max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> ZegoCallback:
    """:func:`decode_callback_body`, :func:`authenticate` and :func:`parse_callback`, in that order."""
    fields = decode_callback_body(body, content_type, max_bytes=max_bytes)
    authenticate(
        fields, secret=secret, app_id=app_id, now_epoch_seconds=now_epoch_seconds, max_age_seconds=max_age_seconds
    )
    return parse_callback(fields)


def _kind(value: object) -> CallbackKind:
    text = text_value(value)
    for kind in CallbackKind:
        if text is not None and text.strip().lower() == kind.value:
            return kind
    raise CallbackRejected(RejectionReason.UNKNOWN_EVENT, "event is not compose, procedure or snapshot")


def _task_id(value: object) -> str:
    if value is None or value == "":
        raise CallbackRejected(RejectionReason.MISSING_TASK_ID, "task_id is required")
    # A numeric id (snapshot task ids are digits) may arrive as a JSON number.
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    problem = task_id_problem(text)
    if problem is not None or not isinstance(text, str):
        reason = problem or "TaskId must be a string"
        raise CallbackRejected(RejectionReason.INVALID_TASK_ID, reason.replace("TaskId", "task_id"))
    return text


def _compose(fields: Mapping[str, Any], common: dict[str, Any]) -> ZegoCallback:
    file_id = text_value(fields.get("file_id"))
    replay_url = _replay_url(fields.get("replay_url"), "replay_url")
    code = _code(fields.get("code"), "code")
    vendor_message = text_value(fields.get("message"))
    if code is not None:
        succeeded = code == 0
        failure = vendor_message or COMPOSE_CODE_MEANINGS.get(code, f"merge failed with code {code}")
    else:
        # Huawei sends no meaningful code: the output's URL is the only sign of success.
        succeeded = replay_url is not None
        failure = vendor_message or "merge callback without code or replay_url"
    return ZegoCallback(
        **common,
        vendor=None,
        vendor_hint=Vendor.TENCENT if file_id is not None else None,
        status=TaskStatus.SUCCEEDED if succeeded else TaskStatus.FAILED,
        vendor_status=CALLBACK_SUCCESS if succeeded else CALLBACK_FAILED,
        file_id=file_id,
        replay_url=replay_url,
        result_code=None if code is None else str(code),
        message=None if succeeded else truncate_message(failure),
    )


def _procedure(fields: Mapping[str, Any], common: dict[str, Any]) -> ZegoCallback:
    status_text = text_value(fields.get("status"))
    word = status_text.strip().upper() if status_text is not None else None
    if word not in (CALLBACK_SUCCESS, CALLBACK_FAILED):
        raise CallbackRejected(RejectionReason.UNKNOWN_STATUS, "status is not SUCCESS or FAILED")
    file_id = text_value(fields.get("fileId")) or text_value(fields.get("file_id"))
    if word == CALLBACK_SUCCESS:
        outputs = _transcode_outputs(fields.get("extra_params"))
        if not outputs:
            raise CallbackRejected(RejectionReason.BAD_FIELD, "status SUCCESS without transcode outputs")
    else:
        # extra_params is documented empty on FAILED; read it if it happens to say more, never insist.
        try:
            outputs = _transcode_outputs(fields.get("extra_params"))
        except CallbackRejected:
            outputs = ()
    failing = next((output for output in outputs if output.code != 0), None)
    succeeded = word == CALLBACK_SUCCESS and failing is None
    if succeeded:
        message = None
    elif failing is not None:
        message = failing.message or f"transcode output {outputs.index(failing) + 1} has code {failing.code}"
    else:
        message = "transcode status FAILED"
    reported = failing or (outputs[0] if outputs else None)
    return ZegoCallback(
        **common,
        vendor=Vendor.TENCENT,
        vendor_hint=Vendor.TENCENT,
        status=TaskStatus.SUCCEEDED if succeeded else TaskStatus.FAILED,
        vendor_status=word,
        file_id=file_id,
        replay_url=outputs[0].replay_url if outputs else None,
        result_code=None if reported is None else str(reported.code),
        message=None if message is None else truncate_message(message),
        outputs=outputs,
    )


def _snapshot(fields: Mapping[str, Any], common: dict[str, Any]) -> ZegoCallback:
    vendor = _snapshot_vendor(fields.get("vendor"))
    file_id = text_value(fields.get("field_id"))
    return ZegoCallback(
        **common,
        vendor=vendor,
        vendor_hint=vendor or (Vendor.TENCENT if file_id is not None else None),
        status=TaskStatus.SUCCEEDED,
        vendor_status=CALLBACK_SUCCESS,
        file_id=file_id,
        pictures=_pictures(fields.get("snapshot_pic_list")),
    )


_SNAPSHOT_VENDORS: Final[Mapping[str, Vendor]] = MappingProxyType(
    {"tencent": Vendor.TENCENT, "hw": Vendor.HUAWEI, "huawei": Vendor.HUAWEI}
)


def _snapshot_vendor(value: object) -> Vendor | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    vendor = _SNAPSHOT_VENDORS.get(value.strip().lower()) if isinstance(value, str) else None
    if vendor is None:
        raise CallbackRejected(RejectionReason.BAD_FIELD, "vendor is not tencent or hw")
    return vendor


def _embedded_json(value: object, name: str) -> Any:
    """A field holding JSON as a string (or, tolerated, already decoded); None when absent or empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        return value
    try:
        return _load_json(value)
    except ValueError:
        raise CallbackRejected(RejectionReason.BAD_FIELD, f"{name} is not valid JSON") from None


def _transcode_outputs(value: object) -> tuple[TranscodeOutput, ...]:
    document = _embedded_json(value, "extra_params")
    if document is None:
        return ()
    media = document.get("media") if isinstance(document, dict) else None
    entries = media.get("transcode") if isinstance(media, dict) else None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise CallbackRejected(RejectionReason.BAD_FIELD, "extra_params has no media.transcode list of objects")
    outputs = []
    for entry in entries:
        code = _code(entry.get("code"), "transcode[].code")
        if code is None:
            raise CallbackRejected(RejectionReason.BAD_FIELD, "a transcode output has no code")
        outputs.append(
            TranscodeOutput(
                code=code,
                message=text_value(entry.get("message")),
                replay_url=_replay_url(entry.get("replay_url"), "transcode[].replay_url"),
                media=MediaDetails(
                    size_bytes=_count(entry.get("size")),
                    duration_seconds=_quantity(entry.get("duration")),
                    video=_stream(entry.get("video"), VideoDetails, _VIDEO_READERS),
                    audio=_stream(entry.get("audio"), AudioDetails, _AUDIO_READERS),
                ),
            )
        )
    return tuple(outputs)


def _stream(value: object, details: Callable[..., StreamT], readers: Mapping[str, Reader]) -> StreamT | None:
    """A transcode output's ``video`` or ``audio`` object: each field of ``details`` read by its reader
    from the member of the same name; None when it is not an object."""
    if not isinstance(value, dict):
        return None
    return details(**{name: read(value.get(name)) for name, read in readers.items()})


def _pictures(value: object) -> tuple[SnapshotPicture, ...]:
    document = _embedded_json(value, "snapshot_pic_list")
    if document is None:
        return ()
    if not isinstance(document, list):
        raise CallbackRejected(RejectionReason.BAD_FIELD, "snapshot_pic_list is not a JSON array")
    pictures = []
    for entry in document:
        # An entry without a usable URL shows nothing; it is skipped here and kept in raw.
        url = text_value(entry.get("url")) if isinstance(entry, dict) else None
        if url is not None:
            pictures.append(SnapshotPicture(url=url, offset_ms=_count(entry.get("offset"))))
    return tuple(pictures)


# --- values: strings or numbers, as ZEGO sends them -------------------------------------------------


def _replay_url(value: object, name: str) -> str | None:
    url = text_value(value)
    if url is not None and len(url.encode("utf-8")) > MAX_REPLAY_URL_BYTES:
        raise CallbackRejected(RejectionReason.BAD_FIELD, f"{name} is longer than {MAX_REPLAY_URL_BYTES} bytes")
    return url


def _code(value: object, name: str) -> int | None:
    """A result code: an integer, an integral float or integer text; None when absent or empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _MAX_EXACT_INT:
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX_EXACT_INT:
        return int(value)
    if isinstance(value, str) and _CODE_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    raise CallbackRejected(RejectionReason.BAD_FIELD, f"{name} is not an integer")


def _count(value: object) -> int | None:
    """A non-negative whole number (bytes, pixels, bits per second, ms); None when unusable."""
    number = _quantity(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def _quantity(value: object) -> float | None:
    """A non-negative finite number, given as a number or as text; None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = float(value) if abs(value) <= _MAX_EXACT_INT else math.inf
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and 0 <= number <= _MAX_EXACT_INT else None


_VIDEO_READERS: Final[Mapping[str, Reader]] = MappingProxyType(
    {"codec": text_value, "bitrate": _count, "width": _count, "height": _count, "fps": _quantity}
)
_AUDIO_READERS: Final[Mapping[str, Reader]] = MappingProxyType(
    {"codec": text_value, "bitrate": _count, "sampling_rate": _count}
)
