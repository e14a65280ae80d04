"""Fuzzing the completion-callback reader (``zego/callbacks.py``): nothing but :class:`CallbackRejected`.

Whatever the body (any bytes, any Content-Type, JSON, percent-encoded JSON or form fields, signed or
not, with any value in any field), :func:`read_callback` either returns a :class:`ZegoCallback` or
raises :class:`CallbackRejected` with a documented HTTP status and a detail free of the secret, the
signature and the nonce. A callback it accepts must also become a storable snapshot: raw JSON that
encodes as UTF-8, and a status that is terminal.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.json_strategies import LONE_SURROGATES, json_values
from tests.support.zego_callbacks import zego_signature
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.zego.callbacks import (
    HTTP_STATUS_BY_REASON,
    CallbackRejected,
    RejectionReason,
    ZegoCallback,
    read_callback,
    signature_matches,
)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = "fuzz-callback-secret-1c0ffee"
APP_ID = 4294967295
NOW = 1_767_225_600
MAX_BYTES = 16 * 1024

# Lone surrogates too, which the reader must clean.
unicode_text = (
    st.text(max_size=30)
    | st.text(min_size=200, max_size=1_200)
    | st.text(LONE_SURROGATES | st.characters(), max_size=10)
)
any_json = json_values(unicode_text, max_size=4, max_leaves=8)


def mostly(likely: st.SearchStrategy[Any], anything: st.SearchStrategy[Any] = any_json) -> st.SearchStrategy[Any]:
    """``likely`` three times in four, else ``anything``: deep enough into the parser to matter."""
    return st.integers(min_value=0, max_value=3).flatmap(lambda n: anything if n == 3 else likely)


content_types = st.none() | st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "",
    ]
) | st.text(max_size=40)  # fmt: skip
numbers_as_text = st.integers(min_value=-(10**6), max_value=10**12).map(str) | st.floats().map(str)
transcode_outputs = st.fixed_dictionaries(
    {"code": mostly(st.sampled_from(["0", 0, "0", 0.0, "70000", 1, "", None, "x", 0.5]))},
    optional={
        "message": any_json,
        "replay_url": mostly(st.text(max_size=40), st.text(min_size=1020, max_size=1030)),
        "size": mostly(numbers_as_text | st.integers()),
        "duration": mostly(numbers_as_text | st.floats()),
        "video": mostly(
            st.dictionaries(st.sampled_from(["bitrate", "codec", "fps", "height", "width"]), numbers_as_text | any_json)
        ),
        "audio": mostly(
            st.dictionaries(st.sampled_from(["bitrate", "codec", "sampling_rate"]), numbers_as_text | any_json)
        ),
    },
)
extra_params = st.builds(
    lambda outputs: {"media": {"transcode": outputs}},
    mostly(st.lists(transcode_outputs, min_size=1, max_size=3), st.just([])),
)
pictures = st.lists(
    st.fixed_dictionaries({}, optional={"url": any_json, "offset": any_json | numbers_as_text}) | any_json,
    max_size=4,
)


common_fields = {
    "task_id": mostly(st.sampled_from(["t-1", "1253642700910365374", 1253642700910365374, "a b", ""])),
}
optional_fields = {"message": any_json, "unknown": any_json}
urls = st.text(max_size=40) | st.text(min_size=1020, max_size=1030)
callback_fields = st.one_of(
    st.fixed_dictionaries(
        {"event": mostly(st.just("compose")), **common_fields},
        optional={
            "code": mostly(st.sampled_from(["0", 0, "40000", 60000, "70000", "", "1"])),
            "replay_url": mostly(urls),
            "file_id": any_json,
            **optional_fields,
        },
    ),
    st.fixed_dictionaries(
        {
            "event": mostly(st.just("procedure")),
            **common_fields,
            "status": mostly(st.sampled_from(["SUCCESS", "FAILED", "success", "PROCESSING"])),
            "extra_params": mostly(extra_params.map(json.dumps) | extra_params),
        },
        optional={"fileId": any_json, "file_id": any_json, **optional_fields},
    ),
    st.fixed_dictionaries(
        {
            "event": mostly(st.just("snapshot")),
            **common_fields,
            "snapshot_pic_list": mostly(pictures.map(json.dumps) | pictures),
        },
        optional={
            "vendor": mostly(st.sampled_from(["tencent", "hw", "Huawei", "TENCENT", "aws"])),
            "field_id": any_json,
            **optional_fields,
        },
    ),
)
encodings = st.sampled_from(["json", "percent", "percent-plus", "form"])


def _encode(fields: dict[str, Any], encoding: str) -> bytes:
    if encoding == "form":
        # Form fields are text: what a form encoder would send for each value.
        return urlencode(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}, errors="surrogatepass"
        ).encode()
    text = json.dumps(fields)
    if encoding == "percent":
        return quote(text).encode()
    if encoding == "percent-plus":
        return quote_plus(text).encode()
    return text.encode()


_RECEIVER = functools.partial(read_callback, secret=SECRET, app_id=APP_ID, max_age_seconds=300)
"""``read_callback`` configured as the fuzzed receiver: its secret, AppId and window."""


def _read(
    body: bytes, content_type: str | None, now: float = NOW, max_bytes: int = MAX_BYTES
) -> ZegoCallback | CallbackRejected:
    try:
        return _RECEIVER(body, content_type, now_epoch_seconds=now, max_bytes=max_bytes)
    except CallbackRejected as rejected:
        return rejected


def _check(result: ZegoCallback | CallbackRejected, *hidden: str) -> None:
    if isinstance(result, CallbackRejected):
        assert result.http_status == HTTP_STATUS_BY_REASON[result.reason]
        assert result.detail
        for value in (SECRET, *hidden):
            assert value not in result.detail
        return
    assert result.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)
    assert result.vendor_status in ("SUCCESS", "FAILED")
    assert {"signature", "nonce"}.isdisjoint(name.lower() for name in result.raw)
    try:
        snapshot = result.snapshot(result.vendor or result.vendor_hint or Vendor.TENCENT)
    except CallbackRejected as rejected:  # pragma: no cover - the vendor asked for is the callback's own
        raise AssertionError(rejected) from None
    # What the store does with raw: JSON text, then UTF-8.
    json.dumps(snapshot.raw, ensure_ascii=False, sort_keys=True).encode("utf-8")
    assert snapshot.replay_url is None or len(snapshot.replay_url.encode()) <= 1024


@FUZZ
@given(body=st.binary(max_size=2_000), content_type=content_types)
def test_any_bytes_with_any_content_type_are_read_or_rejected(body: bytes, content_type: str | None) -> None:
    _check(_read(body, content_type))


@FUZZ
@given(document=any_json, encoding=encodings, content_type=content_types)
def test_any_json_document_in_any_encoding_is_read_or_rejected(
    document: Any, encoding: str, content_type: str | None
) -> None:
    fields = document if isinstance(document, dict) else {"value": document}
    _check(_read(_encode(fields, encoding), content_type))


@FUZZ
@given(
    fields=callback_fields,
    encoding=encodings,
    content_type=content_types,
    nonce=st.binary(min_size=8, max_size=8).map(bytes.hex) | st.text(min_size=1, max_size=20),
    skew=mostly(st.integers(min_value=-300, max_value=300), st.integers(min_value=-400, max_value=400)),
    numbers_as_numbers=st.booleans(),
)
def test_any_signed_callback_is_read_or_rejected_and_an_accepted_one_is_storable(
    *, fields: dict[str, Any], encoding: str, content_type: str | None, nonce: str, skew: int, numbers_as_numbers: bool
) -> None:
    timestamp = str(NOW + skew)
    signature = zego_signature(SECRET, timestamp, nonce)
    signed: dict[str, Any] = {
        **fields,
        "appid": APP_ID if numbers_as_numbers else str(APP_ID),
        "timestamp": int(timestamp) if numbers_as_numbers else timestamp,
        "nonce": nonce,
        "signature": signature,
    }
    body = _encode(signed, encoding)
    if len(body) > MAX_BYTES:
        return
    result = _read(body, content_type)
    event(result.reason.value if isinstance(result, CallbackRejected) else f"accepted {result.kind.value}")
    # A short text nonce ("a", "1") can occur in a detail by chance; a ZEGO-like token cannot.
    _check(result, signature, *([nonce] if len(nonce) == 16 and set(nonce) <= set("0123456789abcdef") else []))
    if abs(skew) > 300:
        assert isinstance(result, CallbackRejected)
        assert result.reason is RejectionReason.STALE_TIMESTAMP


@FUZZ
@given(
    fields=callback_fields,
    now=st.floats() | st.integers(min_value=-(2**70), max_value=2**70),
)
def test_any_clock_reading_authenticates_or_rejects(fields: dict[str, Any], now: float) -> None:
    timestamp = str(NOW)
    signed = {
        **fields,
        "appid": str(APP_ID),
        "timestamp": timestamp,
        "nonce": "n",
        "signature": zego_signature(SECRET, timestamp, "n"),
    }
    result = _read(json.dumps(signed).encode(), "application/json", now=now, max_bytes=2**30)
    if not (isinstance(now, int) or math.isfinite(now)):
        assert isinstance(result, CallbackRejected)
        assert result.reason is RejectionReason.STALE_TIMESTAMP
    _check(result)


@FUZZ
@given(secret=st.text(), timestamp=st.text(), nonce=st.text(), signature=st.text())
def test_signature_matches_never_raises(secret: str, timestamp: str, nonce: str, signature: str) -> None:
    assert signature_matches(secret, timestamp, nonce, signature) in (True, False)
