"""ZEGO completion callbacks: signature, body shapes, authentication, and what each callback means.

Every callback here is signed in the test with :data:`SECRET` and a timestamp near the injected
:data:`NOW`; the signatures are computed independently (``hashlib`` over the sorted strings), never with
the code under test.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import hmac
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote, quote_plus, urlencode

import pytest

from tests.support.fixture_files import ZEGO_CALLBACKS
from tests.support.zego_callbacks import zego_signature
from zego_media_tasks.domain.snapshot import AudioDetails, MediaDetails, TaskSnapshot, VideoDetails
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.zego import callbacks
from zego_media_tasks.zego.callbacks import (
    HTTP_STATUS_BY_REASON,
    MAX_REPLAY_URL_BYTES,
    CallbackKind,
    CallbackRejected,
    RejectionReason,
    SnapshotPicture,
    ZegoCallback,
    authenticate,
    callback_signature,
    decode_callback_body,
    parse_callback,
    read_callback,
    signature_matches,
)
from zego_media_tasks.zego.responses import MAX_MESSAGE_CHARS

SECRET = "test-callback-secret-5f4dcc3b5aa765d6"
APP_ID = 12345
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z, the injected clock
MAX_AGE = 300
MAX_BYTES = 64 * 1024
NONCE = "158243"
COMPOSE_TASK = "1400341231-ComposeMedia-6fdfc967d7eb12f5e9b27f52519f1afatt0"
COMPOSE_FILE_ID = "5285890813218549789"
COMPOSE_REPLAY_URL = "https://example-vod.zego.im/compose/5285890813218549789/output.mp4"
"""The output of the vendor's Tencent compose example (``compose-tencent-success.json``)."""
PROCEDURE_TASK = "1500030200-procedurev2-afc1fe7dfe51cd88a5d588cacba53393tt0"


def signed(
    fields: Mapping[str, Any], *, timestamp: int = NOW, nonce: str = NONCE, secret: str = SECRET
) -> dict[str, Any]:
    """``fields`` with a fresh timestamp, a nonce and a valid signature (the AppId left as given)."""
    result = {"appid": str(APP_ID), **fields, "timestamp": str(timestamp), "nonce": nonce}
    result["signature"] = zego_signature(secret, str(timestamp), nonce)
    return result


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ZEGO_CALLBACKS / name).read_text())
    return document


def signed_example(name: str, **overrides: Any) -> dict[str, Any]:
    """A vendor example re-signed for :data:`APP_ID` and :data:`NOW` (its own timestamp is years old)."""
    fields = {**example(name), "appid": str(APP_ID), **overrides}
    return signed({k: v for k, v in fields.items() if k not in ("timestamp", "nonce", "signature")})


def read(fields: Mapping[str, Any], *, now: float = NOW, content_type: str | None = "application/json") -> ZegoCallback:
    return read_body(json.dumps(fields).encode(), now=now, content_type=content_type)


RECEIVER = functools.partial(read_callback, secret=SECRET, app_id=APP_ID, max_age_seconds=MAX_AGE, max_bytes=MAX_BYTES)
"""``read_callback`` configured as this module's receiver: its secret, AppId, window and body limit."""


def read_body(body: bytes, *, now: float = NOW, content_type: str | None = "application/json") -> ZegoCallback:
    return RECEIVER(body, content_type, now_epoch_seconds=now)


def rejection(action: Callable[[], object]) -> CallbackRejected:
    with pytest.raises(CallbackRejected) as caught:
        action()
    return caught.value


def compose(**fields: Any) -> dict[str, Any]:
    return {"event": "compose", "task_id": COMPOSE_TASK, **fields}


def transcode_output(**fields: Any) -> dict[str, Any]:
    return {"code": "0", "message": "SUCCESS", "replay_url": "http://vod.example/a.m3u8", **fields}


def procedure(status: str = "SUCCESS", outputs: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    extra = "" if outputs is None else json.dumps({"media": {"transcode": outputs}})
    return {"event": "procedure", "task_id": PROCEDURE_TASK, "status": status, "extra_params": extra, **fields}


def snapshot_fields(pictures: object = "[]", **fields: Any) -> dict[str, Any]:
    return {"event": "snapshot", "task_id": "1253642700910365374", "vendor": "tencent", "snapshot_pic_list": pictures,
            **fields}  # fmt: skip


# --- signature -------------------------------------------------------------------------------------


def test_signature_reproduces_zegos_documented_example() -> None:
    # ZEGO's verification page (检验说明, https://doc-zh.zego.im/article/19700; not in REFERENCE.md):
    # nonce 123412, timestamp 1470820198, secret 'secret' sort to "1234121470820198secret", whose SHA-1
    # is the value below.
    assert callback_signature("secret", "1470820198", "123412") == "5bd59fd62953a8059fb7eaba95720f66d19e4517"


@pytest.mark.parametrize(
    ("secret", "timestamp", "nonce", "concatenated"),
    [
        # Digits sort before upper case, upper case before lower case.
        ("Zsecret", "1700000000", "abc", "1700000000Zsecretabc"),
        # String order, not numeric: "1700000000" < "99" because "1" < "9".
        ("secret", "1700000000", "99", "170000000099secret"),
        # The secret can sort first.
        ("0000", "1700000000", "x", "00001700000000x"),
    ],
)
def test_signature_is_sha1_of_the_three_strings_in_dictionary_order(
    secret: str, timestamp: str, nonce: str, concatenated: str
) -> None:
    assert (
        callback_signature(secret, timestamp, nonce)
        == hashlib.sha1(concatenated.encode(), usedforsecurity=False).hexdigest()
    )


def test_signature_is_40_lowercase_hex_characters() -> None:
    signature = callback_signature(SECRET, str(NOW), NONCE)
    assert len(signature) == 40
    assert set(signature) <= set("0123456789abcdef")


def test_signature_never_raises_on_non_ascii_or_surrogate_input() -> None:
    assert len(callback_signature("秘密", "\ud800", "nonce-é")) == 40


def test_the_right_signature_matches() -> None:
    assert signature_matches(SECRET, str(NOW), NONCE, zego_signature(SECRET, str(NOW), NONCE))


@pytest.mark.parametrize("position", [0, 1, 20, 39])
def test_a_signature_differing_in_one_character_is_refused(position: int) -> None:
    good = zego_signature(SECRET, str(NOW), NONCE)
    replacement = "0" if good[position] != "0" else "1"
    bad = good[:position] + replacement + good[position + 1 :]

    assert not signature_matches(SECRET, str(NOW), NONCE, bad)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "abc",
        "5bd59fd62953a8059fb7eaba95720f66d19e45170",
        "é" * 40,
        "\ud800" * 40,
        "5BD59FD62953A8059FB7EABA95720F66D19E4517",
    ],
    ids=["empty", "short", "long", "non-ascii", "surrogates", "upper-case"],
)
def test_odd_signatures_are_refused_without_raising(signature: str) -> None:
    assert not signature_matches("secret", "1470820198", "123412", signature)


def test_signature_matches_refuses_non_strings_without_raising() -> None:
    assert not signature_matches(SECRET, str(NOW), NONCE, None)  # type: ignore[arg-type]


def test_the_comparison_is_constant_time() -> None:
    good = zego_signature(SECRET, str(NOW), NONCE)
    with mock.patch.object(hmac, "compare_digest", wraps=hmac.compare_digest) as compare:
        assert signature_matches(SECRET, str(NOW), NONCE, good)

    compare.assert_called_once_with(good.encode(), good.encode())


# --- body shapes -----------------------------------------------------------------------------------


FIELDS = {"appid": "1", "event": "compose", "task_id": "t-1", "replay_url": "https://x.example/a b.mp4?q=1&r=2"}


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded"],
)
def test_a_json_object_body_is_read_whatever_the_content_type(content_type: str | None) -> None:
    assert decode_callback_body(json.dumps(FIELDS).encode(), content_type, max_bytes=MAX_BYTES) == FIELDS


@pytest.mark.parametrize("encode", [quote, quote_plus], ids=["percent-20", "plus"])
@pytest.mark.parametrize("content_type", [None, "application/json", "application/x-www-form-urlencoded"])
def test_a_percent_encoded_json_body_is_url_decoded_first(
    encode: Callable[[str], str], content_type: str | None
) -> None:
    body = encode(json.dumps(FIELDS)).encode()
    assert body.startswith(b"%7B")

    assert decode_callback_body(body, content_type, max_bytes=MAX_BYTES) == FIELDS


def test_percent_encoding_is_recognised_in_lower_case_too() -> None:
    body = quote(json.dumps(FIELDS)).replace("%7B", "%7b").encode()
    assert decode_callback_body(body, None, max_bytes=MAX_BYTES) == FIELDS


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", None, "text/plain"])
def test_form_encoded_fields_are_read_as_strings(content_type: str | None) -> None:
    body = urlencode({**FIELDS, "code": 0, "message": "a+b & c=d"}).encode()

    assert decode_callback_body(body, content_type, max_bytes=MAX_BYTES) == {
        **FIELDS,
        "code": "0",
        "message": "a+b & c=d",
    }


def test_form_fields_may_be_blank() -> None:
    assert decode_callback_body(b"message=&code=0", None, max_bytes=MAX_BYTES) == {"message": "", "code": "0"}


def test_values_inside_json_are_not_url_decoded() -> None:
    fields = {"replay_url": "https://x.example/a%20b.mp4"}
    assert decode_callback_body(json.dumps(fields).encode(), None, max_bytes=MAX_BYTES) == fields


def test_leading_white_space_and_a_byte_order_mark_are_ignored() -> None:
    body = "\ufeff \r\n".encode() + json.dumps(FIELDS).encode()
    assert decode_callback_body(body, None, max_bytes=MAX_BYTES) == FIELDS


def test_a_lone_surrogate_in_json_becomes_a_replacement_character() -> None:
    fields = decode_callback_body(b'{"message": "a\\ud800b", "\\udfff": 1}', None, max_bytes=MAX_BYTES)
    assert fields == {"message": "a\ufffdb", "\ufffd": 1}


def test_a_body_of_exactly_max_bytes_is_read() -> None:
    body = b'{"pad": "' + b"x" * 89 + b'"}'
    assert len(body) == 100

    assert decode_callback_body(body, None, max_bytes=100) == {"pad": "x" * 89}


def test_a_body_over_max_bytes_is_413() -> None:
    refused = rejection(lambda: decode_callback_body(b"{" + b" " * 100 + b"}", None, max_bytes=100))
    assert (refused.reason, refused.http_status) == (RejectionReason.OVERSIZE, 413)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b" \r\n",
        b"\xff\xfe{}",
        b'{"a": "\xe9"}',
        b"%7B%22a%22%3A%22%FF%22%7D",
        b"a=%FF",
        b"{not json",
        b'{"a": NaN}',
        b'{"a": -Infinity}',
        b"[1, 2]",
        b'"a string"',
        b"12",
        b"null",
        b'{"a": 1, "a": 2}',
        b'{"a": {"b": 1, "b": 2}}',
        b"a=1&a=2",
        b"just text",
        b"a=1&&b=2",
        b"%7Bnot json%7D",
        b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"a": ' + b"9" * 5_000 + b"}",
    ],
    ids=[
        "empty", "blank", "not-utf8", "not-utf8-in-json", "percent-not-utf8", "form-not-utf8", "bad-json", "nan",
        "infinity", "array", "string", "number", "null", "duplicate", "nested-duplicate", "form-duplicate",
        "text", "form-empty-pair", "percent-bad-json", "deep", "huge-int",
    ],
)  # fmt: skip
def test_an_unreadable_body_is_400(body: bytes) -> None:
    refused = rejection(lambda: decode_callback_body(body, "application/json", max_bytes=1_000_000))
    assert (refused.reason, refused.http_status) == (RejectionReason.NOT_PARSEABLE, 400)


def test_a_rejection_detail_never_quotes_the_content_type_header() -> None:
    refused = rejection(lambda: decode_callback_body(b"[]", "application/evil-secret-text", max_bytes=MAX_BYTES))
    assert "evil" not in refused.detail


# --- authentication --------------------------------------------------------------------------------


def auth(fields: Mapping[str, Any], *, now: float = NOW, max_age: float = MAX_AGE) -> int:
    return authenticate(fields, secret=SECRET, app_id=APP_ID, now_epoch_seconds=now, max_age_seconds=max_age)


def test_a_signed_fresh_callback_for_our_app_is_authentic_and_its_timestamp_returned() -> None:
    assert auth(signed(compose(), timestamp=NOW - 10)) == NOW - 10


def test_signed_values_and_appid_may_arrive_as_numbers() -> None:
    fields = {**signed(compose(), nonce="158243"), "timestamp": NOW, "nonce": 158243, "appid": APP_ID}
    assert auth(fields) == NOW


@pytest.mark.parametrize(
    "change",
    [
        {"signature": None},
        {"signature": ""},
        {"signature": ["x"]},
        {"nonce": None},
        {"nonce": 1.5},
    ],
    ids=["no-signature", "empty-signature", "signature-list", "no-nonce", "nonce-float"],
)
def test_a_callback_without_signature_or_nonce_is_401(change: dict[str, Any]) -> None:
    fields = {k: v for k, v in {**signed(compose()), **change}.items() if v is not None}
    refused = rejection(lambda: auth(fields))
    assert (refused.reason, refused.http_status) == (RejectionReason.MISSING_SIGNATURE, 401)


def signed_with(**fields: object) -> dict[str, Any]:
    """A validly signed compose, then ``fields`` put in as given (a ``None`` one left out altogether)."""
    document = {**signed(compose()), **fields}
    return {name: value for name, value in document.items() if value is not None}


def test_a_signature_made_with_another_secret_is_401() -> None:
    refused = rejection(lambda: auth(signed(compose(), secret="not-our-secret")))
    assert (refused.reason, refused.http_status) == (RejectionReason.BAD_SIGNATURE, 401)


def test_a_signature_for_another_nonce_is_401() -> None:
    fields = {**signed(compose()), "nonce": "other"}
    assert rejection(lambda: auth(fields)).reason is RejectionReason.BAD_SIGNATURE


def test_a_signature_for_another_timestamp_is_401() -> None:
    fields = {**signed(compose()), "timestamp": str(NOW + 1)}
    assert rejection(lambda: auth(fields)).reason is RejectionReason.BAD_SIGNATURE


@pytest.mark.parametrize("timestamp", [None, "", "abc", "1.5", 1.7e9, "-5", " 1767225600", True, "1" * 13])
def test_a_timestamp_that_is_not_whole_seconds_is_401(timestamp: object) -> None:
    refused = rejection(lambda: auth(signed_with(timestamp=timestamp)))
    assert (refused.reason, refused.http_status) == (RejectionReason.BAD_TIMESTAMP, 401)


@pytest.mark.parametrize("offset", [-MAX_AGE, 0, MAX_AGE])
def test_a_timestamp_within_the_window_either_way_is_fresh(offset: int) -> None:
    assert auth(signed(compose(), timestamp=NOW + offset)) == NOW + offset


@pytest.mark.parametrize("offset", [-MAX_AGE - 1, MAX_AGE + 1, -(10**9)], ids=["stale", "future", "ancient"])
def test_a_timestamp_outside_the_window_is_401(offset: int) -> None:
    refused = rejection(lambda: auth(signed(compose(), timestamp=NOW + offset)))
    assert (refused.reason, refused.http_status) == (RejectionReason.STALE_TIMESTAMP, 401)


def test_the_window_follows_the_injected_clock() -> None:
    fields = signed(compose(), timestamp=NOW)
    assert auth(fields, now=NOW + 299.5) == NOW
    assert rejection(lambda: auth(fields, now=NOW + 300.5)).reason is RejectionReason.STALE_TIMESTAMP


@pytest.mark.parametrize("app_id", ["1", "123456", "", "abc", None, ["12345"]])
def test_a_callback_for_another_app_is_403(app_id: object) -> None:
    refused = rejection(lambda: auth(signed_with(appid=app_id)))
    assert (refused.reason, refused.http_status) == (RejectionReason.WRONG_APP_ID, 403)


def test_the_signature_is_checked_before_the_appid() -> None:
    fields = {**signed(compose(), secret="forged"), "appid": "1"}
    assert rejection(lambda: auth(fields)).http_status == 401


def test_authentication_comes_before_any_look_at_the_content() -> None:
    forged = signed({"event": "unknown-event", "task_id": "bad id"}, secret="forged")
    refused = rejection(lambda: read(forged))
    assert (refused.reason, refused.http_status) == (RejectionReason.BAD_SIGNATURE, 401)


def test_a_genuine_callback_with_an_unknown_event_is_400() -> None:
    refused = rejection(lambda: read(signed({"event": "stream_create", "task_id": "t"})))
    assert (refused.reason, refused.http_status) == (RejectionReason.UNKNOWN_EVENT, 400)


def test_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        authenticate(signed(compose()), secret="", app_id=APP_ID, now_epoch_seconds=NOW, max_age_seconds=MAX_AGE)


def test_a_negative_window_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        auth(signed(compose()), max_age=-1)


# --- the vendor's examples -------------------------------------------------------------------------


def assert_a_success(callback: ZegoCallback, *, file_id: str) -> None:
    """What each of the vendor's success examples says: ZEGO's ``SUCCESS``, and the output's file id."""
    assert callback.status is TaskStatus.SUCCEEDED
    assert callback.vendor_status == "SUCCESS"
    assert callback.file_id == file_id


def test_the_tencent_compose_example() -> None:
    callback = read(signed_example("compose-tencent-success.json"))

    assert callback.kind is CallbackKind.COMPOSE
    assert callback.task_id == COMPOSE_TASK
    assert callback.vendor is None
    assert callback.vendor_hint is Vendor.TENCENT
    assert_a_success(callback, file_id=COMPOSE_FILE_ID)
    assert callback.replay_url == COMPOSE_REPLAY_URL
    assert callback.result_code == "0"
    assert callback.message is None
    assert callback.timestamp == NOW


def test_the_procedure_example() -> None:
    callback = read(signed_example("procedure-success.json"))

    assert callback.kind is CallbackKind.PROCEDURE
    assert callback.task_id == PROCEDURE_TASK
    assert callback.vendor is Vendor.TENCENT
    assert_a_success(callback, file_id="3270835010897125368")
    assert callback.replay_url == "http://vod-tencent-example.zego.im/playlist.m3u8"
    assert callback.result_code == "0"
    assert callback.message is None
    assert callback.media == MediaDetails(
        size_bytes=6833612,
        duration_seconds=170.612,
        video=VideoDetails(codec="hevc", bitrate=205290, width=960, height=540, fps=15.0),
        audio=AudioDetails(codec="aac", bitrate=49040, sampling_rate=44100),
    )


def test_the_tencent_snapshot_example() -> None:
    callback = read(signed_example("snapshot-tencent.json"))

    assert callback.kind is CallbackKind.SNAPSHOT
    assert callback.task_id == "1253642700910365374"
    assert callback.vendor is Vendor.TENCENT
    assert_a_success(callback, file_id="abcwurywbhsfwi")
    assert callback.pictures == (
        SnapshotPicture(url="http://abc.com/1.jpg", offset_ms=0),
        SnapshotPicture(url="http://abc.com/2.jpg", offset_ms=1000),
    )


EXAMPLE_TESTS = {
    "compose-tencent-success.json": test_the_tencent_compose_example,
    "procedure-success.json": test_the_procedure_example,
    "snapshot-tencent.json": test_the_tencent_snapshot_example,
}


def test_every_example_has_an_expectation() -> None:
    assert {path.name for path in ZEGO_CALLBACKS.glob("*.json")} == set(EXAMPLE_TESTS)


@pytest.mark.parametrize("name", sorted(EXAMPLE_TESTS))
def test_every_example_reads_the_same_form_encoded_and_percent_encoded(name: str) -> None:
    fields = signed_example(name)
    as_json = read(fields)

    assert read_body(urlencode(fields).encode(), content_type="application/x-www-form-urlencoded") == as_json
    assert read_body(quote_plus(json.dumps(fields)).encode(), content_type="application/json") == as_json


@pytest.mark.parametrize("name", sorted(EXAMPLE_TESTS))
def test_every_example_with_its_placeholder_signature_is_401(name: str) -> None:
    fields = {**example(name), "appid": str(APP_ID), "timestamp": str(NOW)}
    assert rejection(lambda: read(fields)).reason is RejectionReason.BAD_SIGNATURE


# --- compose ---------------------------------------------------------------------------------------


def parse(fields: Mapping[str, Any]) -> ZegoCallback:
    return parse_callback(signed(fields))


@pytest.mark.parametrize("code", ["0", 0, 0.0, " 0 ", "-0"])
def test_compose_code_zero_as_text_or_number_succeeds(code: object) -> None:
    callback = parse(compose(code=code, replay_url="https://x.example/o.mp4"))
    assert (callback.status, callback.vendor_status, callback.result_code) == (TaskStatus.SUCCEEDED, "SUCCESS", "0")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("40000", "bad input parameter"),
        (60000, "bad source file"),
        ("70000", "internal error (retry advised)"),
        ("12345", "merge failed with code 12345"),
    ],
)
def test_compose_with_another_code_fails_with_the_meaning_of_the_code(code: object, message: str) -> None:
    callback = parse(compose(code=code, message=""))

    assert callback.status is TaskStatus.FAILED
    assert callback.vendor_status == "FAILED"
    assert callback.result_code == str(code)
    assert callback.message == message


def test_compose_failure_keeps_the_vendors_message_cut_to_the_limit() -> None:
    callback = parse(compose(code="60000", message="x" * 2_000))
    assert callback.message == "x" * MAX_MESSAGE_CHARS


def test_compose_success_has_no_message_even_when_the_vendor_sends_one() -> None:
    callback = parse(compose(code="0", message="ok", replay_url="https://x.example/o.mp4"))
    assert callback.message is None
    assert callback.raw["message"] == "ok"


def test_a_huawei_compose_without_code_succeeds_with_a_replay_url() -> None:
    callback = parse(compose(replay_url="https://obs.example/o.mp4"))

    assert callback.status is TaskStatus.SUCCEEDED
    assert callback.result_code is None
    assert callback.vendor is None
    assert callback.vendor_hint is None


@pytest.mark.parametrize("fields", [{}, {"replay_url": ""}, {"code": "", "replay_url": None}])
def test_a_compose_without_code_or_replay_url_fails(fields: dict[str, Any]) -> None:
    callback = parse(compose(**fields))
    assert (callback.status, callback.vendor_status) == (TaskStatus.FAILED, "FAILED")
    assert callback.message == "merge callback without code or replay_url"


@pytest.mark.parametrize("file_id", ["5285890813218549789", 5285890813218549789])
def test_a_compose_file_id_hints_tencent(file_id: object) -> None:
    callback = parse(compose(code="0", file_id=file_id))
    assert callback.vendor is None
    assert callback.vendor_hint is Vendor.TENCENT
    assert callback.file_id == "5285890813218549789"


@pytest.mark.parametrize("code", ["abc", "1.5", 1.5, True, {"a": 1}, [0]])
def test_a_compose_code_that_is_no_integer_is_400(code: object) -> None:
    refused = rejection(lambda: parse(compose(code=code)))
    assert (refused.reason, refused.http_status) == (RejectionReason.BAD_FIELD, 400)


def test_a_replay_url_of_the_documented_length_is_kept() -> None:
    url = "https://x.example/" + "é" * ((MAX_REPLAY_URL_BYTES - 18) // 2)
    assert len(url.encode()) <= MAX_REPLAY_URL_BYTES
    assert parse(compose(code="0", replay_url=url)).replay_url == url


def test_a_replay_url_over_1024_bytes_is_400() -> None:
    # 512 characters, but 1025 UTF-8 bytes: the bound is in bytes.
    url = "h" + "é" * 512
    refused = rejection(lambda: parse(compose(code="0", replay_url=url)))
    assert (refused.reason, refused.http_status) == (RejectionReason.BAD_FIELD, 400)


# --- procedure -------------------------------------------------------------------------------------


def test_procedure_outputs_may_carry_numbers_as_text() -> None:
    output = transcode_output(size="6833612", duration="170.612", video={"bitrate": "205290", "fps": "15"})
    media = parse(procedure(outputs=[output])).media

    assert media is not None
    assert (media.size_bytes, media.duration_seconds) == (6833612, 170.612)
    assert media.video == VideoDetails(bitrate=205290, fps=15.0)
    assert media.audio is None


def test_procedure_media_details_that_are_unusable_become_none() -> None:
    output = transcode_output(size=-1, duration="NaN", video={"width": 1.5, "height": True, "codec": ["x"]})
    media = parse(procedure(outputs=[output])).media

    assert media == MediaDetails(video=VideoDetails())


def test_procedure_extra_params_may_arrive_already_decoded() -> None:
    fields = {**procedure(), "extra_params": {"media": {"transcode": [transcode_output(code=0)]}}}
    callback = parse(fields)
    assert (callback.status, callback.replay_url) == (TaskStatus.SUCCEEDED, "http://vod.example/a.m3u8")


@pytest.mark.parametrize("spelling", ["fileId", "file_id"])
def test_procedure_source_file_id_is_read_in_both_spellings(spelling: str) -> None:
    callback = parse({**procedure(outputs=[transcode_output()]), spelling: 3270835010897125368})
    assert callback.file_id == "3270835010897125368"


def test_procedure_success_with_a_failing_output_fails_and_says_which() -> None:
    outputs = [transcode_output(), transcode_output(code="70000", message="encode error", replay_url="")]
    callback = parse(procedure(outputs=outputs))

    assert callback.status is TaskStatus.FAILED
    assert callback.vendor_status == "SUCCESS"  # ZEGO's word, kept
    assert callback.result_code == "70000"
    assert callback.message == "encode error"
    assert callback.replay_url == "http://vod.example/a.m3u8"  # the first output's
    assert len(callback.outputs) == 2


def test_procedure_failing_output_without_message_is_described() -> None:
    callback = parse(procedure(outputs=[transcode_output(), transcode_output(code=5, message="")]))
    assert callback.message == "transcode output 2 has code 5"


def test_procedure_with_several_successful_outputs_reports_the_first() -> None:
    outputs = [transcode_output(replay_url="http://vod.example/1.m3u8", size=1), transcode_output(size=2)]
    callback = parse(procedure(outputs=outputs))

    assert callback.status is TaskStatus.SUCCEEDED
    assert callback.replay_url == "http://vod.example/1.m3u8"
    assert callback.media == MediaDetails(size_bytes=1)


@pytest.mark.parametrize("extra_params", ["", None, "not json", "{}"])
def test_procedure_failed_fails_whatever_extra_params_holds(extra_params: object) -> None:
    callback = parse({**procedure(status="FAILED"), "extra_params": extra_params})

    assert (callback.status, callback.vendor_status) == (TaskStatus.FAILED, "FAILED")
    assert (callback.result_code, callback.replay_url) == (None, None)
    assert callback.message == "transcode status FAILED"


@pytest.mark.parametrize("status", ["success", " Success "])
def test_procedure_status_is_read_in_any_case(status: str) -> None:
    callback = parse(procedure(status=status, outputs=[transcode_output()]))
    assert (callback.status, callback.vendor_status) == (TaskStatus.SUCCEEDED, "SUCCESS")


@pytest.mark.parametrize("status", ["PROCESSING", "FINISH", "", None, 0, ["SUCCESS"]])
def test_an_unknown_procedure_status_is_400(status: object) -> None:
    refused = rejection(lambda: parse({**procedure(outputs=[transcode_output()]), "status": status}))
    assert (refused.reason, refused.http_status) == (RejectionReason.UNKNOWN_STATUS, 400)


@pytest.mark.parametrize(
    "extra_params",
    [
        "",
        "not json",
        "[]",
        '{"media": {}}',
        '{"media": {"transcode": []}}',
        '{"media": {"transcode": ["x"]}}',
        '{"media": {"transcode": [{"message": "no code"}]}}',
        '{"media": {"transcode": [{"code": "zero"}]}}',
        json.dumps({"media": {"transcode": [transcode_output(replay_url="h" * 1025)]}}),
    ],
    ids=["empty", "not-json", "array", "no-list", "no-outputs", "not-object", "no-code", "bad-code", "long-url"],
)
def test_a_procedure_success_that_cannot_be_read_is_400(extra_params: str) -> None:
    refused = rejection(lambda: parse({**procedure(), "extra_params": extra_params}))
    assert (refused.reason, refused.http_status) == (RejectionReason.BAD_FIELD, 400)


# --- snapshot --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vendor", "expected"),
    [
        ("tencent", Vendor.TENCENT),
        ("Tencent", Vendor.TENCENT),
        ("TENCENT", Vendor.TENCENT),
        ("hw", Vendor.HUAWEI),
        ("HW", Vendor.HUAWEI),
        ("Huawei", Vendor.HUAWEI),
        (" huawei ", Vendor.HUAWEI),
    ],
)
def test_snapshot_vendor_is_read_in_any_case(vendor: str, expected: Vendor) -> None:
    callback = parse(snapshot_fields(vendor=vendor))
    assert (callback.vendor, callback.vendor_hint) == (expected, expected)


@pytest.mark.parametrize("vendor", ["aliyun", 1, ["hw"]])
def test_an_unknown_snapshot_vendor_is_400(vendor: object) -> None:
    refused = rejection(lambda: parse(snapshot_fields(vendor=vendor)))
    assert (refused.reason, refused.http_status) == (RejectionReason.BAD_FIELD, 400)


def test_a_snapshot_without_vendor_hints_tencent_only_from_a_source_file_id() -> None:
    without = {k: v for k, v in snapshot_fields().items() if k != "vendor"}

    assert (parse(without).vendor, parse(without).vendor_hint) == (None, None)
    assert parse({**without, "field_id": "abc"}).vendor_hint is Vendor.TENCENT


def test_snapshot_pictures_keep_the_vendors_order() -> None:
    pictures = json.dumps([{"url": f"http://p.example/{n}.jpg", "offset": n * 1000} for n in (3, 1, 2)])
    callback = parse(snapshot_fields(pictures))
    assert [p.url for p in callback.pictures] == [f"http://p.example/{n}.jpg" for n in (3, 1, 2)]


def test_snapshot_pictures_may_arrive_already_decoded_without_offsets() -> None:
    callback = parse(
        snapshot_fields([{"url": "http://p.example/a.jpg"}, {"url": "http://p.example/b.jpg", "offset": "5"}])
    )
    assert callback.pictures == (
        SnapshotPicture(url="http://p.example/a.jpg"),
        SnapshotPicture(url="http://p.example/b.jpg", offset_ms=5),
    )


def test_snapshot_entries_without_a_url_are_skipped() -> None:
    pictures = json.dumps([{"offset": 0}, "x", {"url": ""}, {"url": "http://p.example/ok.jpg"}])
    assert parse(snapshot_fields(pictures)).pictures == (SnapshotPicture(url="http://p.example/ok.jpg"),)


@pytest.mark.parametrize("pictures", ["", None])
def test_a_snapshot_without_pictures_has_none(pictures: object) -> None:
    callback = parse(snapshot_fields(pictures))
    assert (callback.status, callback.pictures) == (TaskStatus.SUCCEEDED, ())


@pytest.mark.parametrize("pictures", ["not json", '{"url": "x"}', "5", 5])
def test_a_snapshot_pic_list_that_is_no_json_array_is_400(pictures: object) -> None:
    refused = rejection(lambda: parse(snapshot_fields(pictures)))
    assert (refused.reason, refused.http_status) == (RejectionReason.BAD_FIELD, 400)


# --- common fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["stream_create", "", None, 1, "transcode"])
def test_an_unknown_event_is_400(event: object) -> None:
    refused = rejection(lambda: parse({"event": event, "task_id": "t"}))
    assert (refused.reason, refused.http_status) == (RejectionReason.UNKNOWN_EVENT, 400)


def test_the_event_is_read_in_any_case() -> None:
    assert parse(compose(event="Compose", code="0")).kind is CallbackKind.COMPOSE


@pytest.mark.parametrize("task_id", [None, ""])
def test_a_callback_without_task_id_is_400(task_id: object) -> None:
    fields = {k: v for k, v in compose(task_id=task_id).items() if v is not None}
    refused = rejection(lambda: parse(fields))
    assert (refused.reason, refused.http_status) == (RejectionReason.MISSING_TASK_ID, 400)


@pytest.mark.parametrize("task_id", ["has space", "a/b", "x" * 257, "é", 1.5, ["t"], True])
def test_an_invalid_task_id_is_400(task_id: object) -> None:
    refused = rejection(lambda: parse(compose(task_id=task_id)))
    assert (refused.reason, refused.http_status) == (RejectionReason.INVALID_TASK_ID, 400)


def test_a_numeric_task_id_may_arrive_as_a_number() -> None:
    assert parse(snapshot_fields(task_id=1253642700910365374)).task_id == "1253642700910365374"


def test_raw_keeps_every_field_as_received_except_signature_and_nonce() -> None:
    fields = signed_example("procedure-success.json", unknown={"new": 1})
    callback = read(fields)

    assert "signature" not in callback.raw
    assert "nonce" not in callback.raw
    assert callback.raw == {k: v for k, v in fields.items() if k not in ("signature", "nonce")}
    assert isinstance(callback.raw["extra_params"], str)


def test_raw_drops_any_spelling_of_signature_and_nonce() -> None:
    raw = parse(compose(code="0", Signature="x", NONCE="y")).raw
    assert {"Signature", "NONCE", "signature", "nonce"}.isdisjoint(raw)


# --- to the domain snapshot -------------------------------------------------------------------------


def test_a_compose_becomes_a_snapshot_under_the_records_vendor() -> None:
    callback = read(signed_example("compose-tencent-success.json"))

    assert callback.snapshot(Vendor.TENCENT) == TaskSnapshot(
        task_id=COMPOSE_TASK,
        vendor=Vendor.TENCENT,
        status=TaskStatus.SUCCEEDED,
        vendor_status="SUCCESS",
        event="compose",
        file_id=COMPOSE_FILE_ID,
        replay_url=COMPOSE_REPLAY_URL,
        result_code="0",
        raw=dict(callback.raw),
    )


def test_a_compose_without_vendor_may_become_a_huawei_snapshot() -> None:
    snapshot = parse(compose(replay_url="https://obs.example/o.mp4")).snapshot(Vendor.HUAWEI)
    assert (snapshot.vendor, snapshot.status, snapshot.event) == (Vendor.HUAWEI, TaskStatus.SUCCEEDED, "compose")


def test_a_procedure_becomes_a_transcode_snapshot_with_the_first_outputs_media() -> None:
    callback = read(signed_example("procedure-success.json"))
    snapshot = callback.snapshot(Vendor.TENCENT)

    assert snapshot.event == "transcode"
    assert snapshot.media == callback.media
    assert snapshot.replay_url == "http://vod-tencent-example.zego.im/playlist.m3u8"
    assert snapshot.file_id == "3270835010897125368"
    assert snapshot.result_code == "0"
    assert snapshot.raw == callback.raw


def test_a_snapshot_callback_becomes_thumbnail_urls_in_order() -> None:
    snapshot = read(signed_example("snapshot-tencent.json")).snapshot(Vendor.TENCENT)

    assert snapshot.event == "snapshot"
    assert snapshot.thumbnail_urls == ("http://abc.com/1.jpg", "http://abc.com/2.jpg")
    assert snapshot.file_id == "abcwurywbhsfwi"
    assert snapshot.media is None


def test_the_snapshot_raw_is_a_plain_json_serialisable_copy() -> None:
    snapshot = read(signed_example("snapshot-tencent.json")).snapshot(Vendor.TENCENT)
    assert type(snapshot.raw) is dict
    assert json.loads(json.dumps(snapshot.raw)) == snapshot.raw


@pytest.mark.parametrize(
    ("name", "vendor"),
    [("procedure-success.json", Vendor.HUAWEI), ("snapshot-tencent.json", Vendor.HUAWEI)],
)
def test_a_snapshot_for_another_vendor_than_the_callback_names_is_409(name: str, vendor: Vendor) -> None:
    callback = read(signed_example(name))
    refused = rejection(lambda: callback.snapshot(vendor))
    assert (refused.reason, refused.http_status) == (RejectionReason.VENDOR_MISMATCH, 409)


# --- every rejection, its status, and what it says -------------------------------------------------


def _oversize() -> object:
    return read_body(b"{" + b" " * MAX_BYTES + b"}")


def _vendor_mismatch() -> object:
    return read(signed_example("snapshot-tencent.json")).snapshot(Vendor.HUAWEI)


CATALOGUE: dict[RejectionReason, tuple[int, Callable[[], object]]] = {
    RejectionReason.OVERSIZE: (413, _oversize),
    RejectionReason.NOT_PARSEABLE: (400, lambda: read_body(b"[]")),
    RejectionReason.MISSING_SIGNATURE: (401, lambda: read({**signed(compose()), "signature": ""})),
    RejectionReason.BAD_SIGNATURE: (401, lambda: read(signed(compose(), secret="forged"))),
    RejectionReason.BAD_TIMESTAMP: (401, lambda: read({**signed(compose()), "timestamp": "soon"})),
    RejectionReason.STALE_TIMESTAMP: (401, lambda: read(signed(compose()), now=NOW + 3_600)),
    RejectionReason.WRONG_APP_ID: (403, lambda: read({**signed(compose()), "appid": "1"})),
    RejectionReason.UNKNOWN_EVENT: (400, lambda: read(signed({"event": "x", "task_id": "t"}))),
    RejectionReason.MISSING_TASK_ID: (400, lambda: read(signed({"event": "compose"}))),
    RejectionReason.INVALID_TASK_ID: (400, lambda: read(signed(compose(task_id="a b")))),
    RejectionReason.UNKNOWN_STATUS: (400, lambda: read(signed(procedure(status="RUNNING")))),
    RejectionReason.BAD_FIELD: (400, lambda: read(signed(compose(code="zero")))),
    RejectionReason.VENDOR_MISMATCH: (409, _vendor_mismatch),
}  # fmt: skip


def test_every_reason_is_in_the_catalogue_and_has_a_status() -> None:
    assert set(CATALOGUE) == set(RejectionReason) == set(HTTP_STATUS_BY_REASON)


@pytest.mark.parametrize("reason", list(RejectionReason))
def test_each_rejection_has_its_reason_and_http_status(reason: RejectionReason) -> None:
    status, action = CATALOGUE[reason]
    refused = rejection(action)

    assert (refused.reason, refused.http_status) == (reason, status)
    assert HTTP_STATUS_BY_REASON[reason] == status
    assert str(refused).startswith(f"{reason.value}: ")


@pytest.mark.parametrize("reason", list(RejectionReason))
def test_no_rejection_detail_holds_the_secret_the_signature_or_the_nonce(reason: RejectionReason) -> None:
    refused = rejection(CATALOGUE[reason][1])
    signature = zego_signature(SECRET, str(NOW), NONCE)
    forged = zego_signature("forged", str(NOW), NONCE)

    assert refused.detail  # it says something
    for text in (refused.detail, str(refused), repr(refused)):
        for value in (SECRET, signature, forged, NONCE):
            assert value not in text


# --- purity ----------------------------------------------------------------------------------------


def test_the_module_imports_only_the_standard_library_and_our_pure_modules() -> None:
    tree = ast.parse(Path(callbacks.__file__).read_text())
    imported = {
        name
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names] if isinstance(node, ast.Import)
            else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        )
    }  # fmt: skip
    assert imported  # the walk found the imports

    ours = {name for name in imported if name.split(".")[0] == "zego_media_tasks"}
    assert ours <= {
        "zego_media_tasks.domain.messages",
        "zego_media_tasks.domain.snapshot",
        "zego_media_tasks.domain.status",
        "zego_media_tasks.zego.responses",
    }
    assert {name.split(".")[0] for name in imported - ours} <= set(sys.stdlib_module_names) - {"time", "socket", "http"}
