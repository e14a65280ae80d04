"""Response parsing and the outcome taxonomy: what each ZEGO answer means for the poller."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.fixture_files import ZEGO_RESPONSES
from tests.support.zego_contract import DECISIVE_HTTP_STATUSES, DOCUMENTED_VENDOR_STATUSES, OTHER_VENDORS_WORDS
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.zego.responses import (
    MAX_MESSAGE_CHARS,
    OUTCOME_BY_CODE,
    ZEGO_CODES,
    interpret_response,
    parse_vendor_block,
)

EDGE_CASES = ZEGO_RESPONSES / "edge-cases"


def body(document: object) -> bytes:
    return json.dumps(document).encode()


def interpret(document: object, *, http_status: int = 200, task_id: str = "task-1") -> CallOutcome:
    return interpret_response(http_status, body(document), task_id=task_id, vendor=Vendor.TENCENT)


def tencent_ok(task_id: str = "task-1", status: str = "PROCESSING") -> dict[str, Any]:
    return {
        "Code": 0,
        "Message": "success",
        "RequestId": "zego-req-1",
        "Data": {"Tencent": {"TaskId": task_id, "Status": status}},
    }


# --- every fixture file: what it must become -------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """The outcome one fixture body must produce for a request about (vendor, task_id)."""

    vendor: Vendor
    task_id: str
    kind: OutcomeKind
    code: str | None = None
    """The failure's CallError.code (None for SUCCESS)."""
    zego_request_id: str | None = None
    snapshot: Mapping[str, object] = field(default_factory=dict)
    """Expected TaskSnapshot attributes (SUCCESS only)."""


T = Vendor.TENCENT
H = Vendor.HUAWEI

EXPECTATIONS: dict[str, Expect] = {
    # The vendor's examples.
    "tencent-compose-finish.json": Expect(
        T,
        "1400341231-ComposeMedia-6fdfc967d7eb12f5e9b27f52519f1afatt0",
        OutcomeKind.SUCCESS,
        zego_request_id="2237080460466033406",
        snapshot={
            "status": TaskStatus.SUCCEEDED,
            "vendor_status": "FINISH",
            "event": "compose",
            "file_id": "5285890813218549789",
            "replay_url": "https://example-vod.zego.im/compose/6fdfc967/output.mp4",
            "vendor_request_id": "6aac31f4-0000-4000-8000-5cc10ce11a49",
            "message": None,
            "thumbnail_urls": (),
        },
    ),
    "tencent-snapshot-finish.json": Expect(
        T,
        "1500030200-procedurev2-afc1fe7dfe51cd88a5d588cacba53393tt0",
        OutcomeKind.SUCCESS,
        zego_request_id="3574501647605445341",
        snapshot={
            "status": TaskStatus.SUCCEEDED,
            "event": "SampleSnapshot",
            "file_id": "1397757897438985100",
            "replay_url": None,
            "vendor_request_id": "474284b3-d722-490a-ba2c-de0b472eab83",
            "thumbnail_urls": (
                "http://vod-tc-restorefile.zego.im/43b7b075vodtranscq1500030200/93172bfa1397757897438985100/sampleSnapshot/sampleSnapshot_10_0.jpg",
                "http://vod-tc-restorefile.zego.im/43b7b075vodtranscq1500030200/93172bfa1397757897438985100/sampleSnapshot/sampleSnapshot_10_2.jpg",
            ),
        },
    ),
    "tencent-transcode-fail.json": Expect(
        T,
        "1500020831-procedurev2-0bf15cabd8ae471358ed61fcdbb0f78att0",
        OutcomeKind.SUCCESS,
        zego_request_id="3574501647605445343",
        snapshot={
            "status": TaskStatus.FAILED,
            "vendor_status": "FAIL",
            "event": "transcode",
            "file_id": None,
            "message": "source file is corrupted",
            "vendor_request_id": "9b1d2c3e-0000-4000-8000-1a2b3c4d5e6f",
        },
    ),
    "tencent-transcode-processing.json": Expect(
        T,
        "1500020831-procedurev2-58ed61fcdbb0f78a0bf15cabd8ae4713tt0",
        OutcomeKind.SUCCESS,
        zego_request_id="3574501647605445342",
        snapshot={"status": TaskStatus.PROCESSING, "vendor_status": "PROCESSING", "event": "transcode"},
    ),
    "huawei-snapshot-succeeded.json": Expect(
        H,
        "289665200",
        OutcomeKind.SUCCESS,
        zego_request_id=None,  # "" in the body
        snapshot={
            "status": TaskStatus.SUCCEEDED,
            "vendor_status": "SUCCEEDED",
            "vendor_created_at": "2024-11-18T06:54:29.000Z",
            "vendor_ended_at": "2024-11-18T06:54:30.000Z",
            "file_names": (
                "record/pickrecord/command_record/clarechen_test/0.jpg",
                "record/pickrecord/command_record/clarechen_test/10.jpg",
            ),
            "event": None,
            "thumbnail_urls": (),
        },
    ),
    "huawei-no-task.json": Expect(
        H,
        "289665299",
        OutcomeKind.SUCCESS,
        snapshot={
            "status": TaskStatus.NOT_FOUND,
            "vendor_status": "NO_TASK",
            "vendor_created_at": None,
            "vendor_ended_at": None,
            "file_names": (),
        },
    ),
    "error-auth-failed.json": Expect(
        T, "any", OutcomeKind.CONFIGURATION, code="7", zego_request_id="2237080460466033500"
    ),
    "error-too-frequent.json": Expect(T, "any", OutcomeKind.THROTTLED, code="6", zego_request_id="2237080460466033499"),
    # Shapes the vendor's examples do not cover.
    "edge-cases/tencent-null-fields.json": Expect(
        T,
        "1500020831-procedurev2-null0000000000000000000000000000tt0",
        OutcomeKind.SUCCESS,
        zego_request_id=None,
        snapshot={
            "status": TaskStatus.PROCESSING,
            "event": None,
            "file_id": None,
            "replay_url": None,
            "vendor_request_id": None,
            "message": None,
            "thumbnail_urls": (),
        },
    ),
    "edge-cases/tencent-missing-fields.json": Expect(
        T,
        "requested-task-without-taskid-in-answer",
        OutcomeKind.SUCCESS,
        snapshot={
            "task_id": "requested-task-without-taskid-in-answer",
            "status": TaskStatus.WAITING,
            "event": None,
            "vendor_request_id": None,
        },
    ),
    "edge-cases/tencent-extra-fields.json": Expect(
        T,
        "1400341231-ComposeMedia-extra00000000000000000000000000tt0",
        OutcomeKind.SUCCESS,
        zego_request_id="3574501647605445350",
        snapshot={
            "status": TaskStatus.SUCCEEDED,
            "file_id": "5285890813218549790",
            "replay_url": "https://example-vod.zego.im/compose/extra/output.mp4",
        },
    ),
    "edge-cases/tencent-unknown-status.json": Expect(
        T,
        "1500020831-procedurev2-unknownstatus000000000000000000tt0",
        OutcomeKind.SUCCESS,
        zego_request_id="3574501647605445351",
        snapshot={"status": TaskStatus.UNKNOWN, "vendor_status": "PAUSED_FOR_REVIEW"},
    ),
    "edge-cases/tencent-wrong-types.json": Expect(
        T,
        "1500030200-procedurev2-wrongtypes0000000000000000000tt0",
        OutcomeKind.SUCCESS,
        zego_request_id="3574501647605445352",
        snapshot={
            "status": TaskStatus.SUCCEEDED,
            "event": None,
            "file_id": "1397757897438985101",
            "replay_url": None,
            "vendor_request_id": None,
            "message": "0",
            "thumbnail_urls": (),
        },
    ),
    "edge-cases/tencent-thumbnails-mixed-items.json": Expect(
        T,
        "1500030200-procedurev2-mixeditems0000000000000000000tt0",
        OutcomeKind.SUCCESS,
        zego_request_id="3574501647605445353",
        snapshot={
            "event": "SnapshotByTimeOffset",
            "replay_url": None,
            "thumbnail_urls": (
                "http://vod-tc-restorefile.zego.im/snapshot/0.jpg",
                "http://vod-tc-restorefile.zego.im/snapshot/10.jpg",
            ),
        },
    ),
    "edge-cases/tencent-mismatched-task-id.json": Expect(
        T,
        "1500020831-procedurev2-REQUESTEDTASK0000000000000000000tt0",
        OutcomeKind.TRANSIENT,
        code="BAD_RESPONSE",
        zego_request_id="3574501647605445354",
    ),
    "edge-cases/huawei-bad-timestamps.json": Expect(
        H,
        "289665201",
        OutcomeKind.SUCCESS,
        snapshot={
            "status": TaskStatus.FAILED,
            "vendor_created_at": None,
            "vendor_ended_at": None,
            "file_names": (),
        },
    ),
    "edge-cases/huawei-numeric-fields.json": Expect(
        H,
        "289665202",
        OutcomeKind.SUCCESS,
        snapshot={
            "task_id": "289665202",
            "status": TaskStatus.PROCESSING,
            "vendor_status": "processing",
            "vendor_created_at": "2024-11-18T06:54:29.000Z",
            "vendor_ended_at": None,
            "file_names": (),
        },
    ),
    "edge-cases/success-missing-data.json": Expect(
        T, "task-1", OutcomeKind.TRANSIENT, code="NO_VENDOR_BLOCK", zego_request_id="3574501647605445360"
    ),
    "edge-cases/success-data-not-object.json": Expect(
        T, "task-1", OutcomeKind.TRANSIENT, code="NO_VENDOR_BLOCK", zego_request_id="3574501647605445361"
    ),
    "edge-cases/success-empty-vendor-block.json": Expect(
        T, "task-1", OutcomeKind.TRANSIENT, code="NO_VENDOR_BLOCK", zego_request_id="3574501647605445362"
    ),
    "edge-cases/success-other-vendor-block.json": Expect(
        T, "289665200", OutcomeKind.TRANSIENT, code="NO_VENDOR_BLOCK", zego_request_id="3574501647605445363"
    ),
    "edge-cases/code-as-string.json": Expect(
        T,
        "1500020831-procedurev2-codeasstring000000000000000000tt0",
        OutcomeKind.SUCCESS,
        zego_request_id="3574501647605445364",
        snapshot={"status": TaskStatus.WAITING},
    ),
    "edge-cases/missing-code.json": Expect(
        T,
        "1500020831-procedurev2-missingcode0000000000000000000tt0",
        OutcomeKind.TRANSIENT,
        code="BAD_RESPONSE",
        zego_request_id="3574501647605445365",
    ),
    "edge-cases/not-an-object.json": Expect(T, "task-1", OutcomeKind.TRANSIENT, code="BAD_RESPONSE"),
    "edge-cases/error-signature-expired.json": Expect(
        T, "task-1", OutcomeKind.TRANSIENT, code="100000004", zego_request_id="2237080460466033501"
    ),
    "edge-cases/error-unknown-code.json": Expect(
        T, "task-1", OutcomeKind.TRANSIENT, code="424242", zego_request_id="2237080460466033502"
    ),
    "edge-cases/gateway-error.html": Expect(T, "task-1", OutcomeKind.TRANSIENT, code="BAD_RESPONSE"),
}


def fixture_files() -> set[str]:
    return {
        path.relative_to(ZEGO_RESPONSES).as_posix()
        for path in ZEGO_RESPONSES.rglob("*")
        if path.is_file() and path.name != "README.md"
    }


def test_every_fixture_file_has_an_expectation() -> None:
    assert fixture_files() == set(EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_fixture_body_becomes_the_expected_outcome(name: str) -> None:
    expect = EXPECTATIONS[name]
    raw = (ZEGO_RESPONSES / name).read_bytes()

    outcome = interpret_response(200, raw, task_id=expect.task_id, vendor=expect.vendor)

    assert outcome.kind is expect.kind
    assert outcome.zego_request_id == expect.zego_request_id
    if expect.kind is OutcomeKind.SUCCESS:
        assert outcome.error is None
        assert outcome.snapshot is not None
        assert outcome.snapshot.task_id == expect.task_id
        assert outcome.snapshot.vendor is expect.vendor
        assert outcome.snapshot.zego_request_id == expect.zego_request_id
        actual = {attribute: getattr(outcome.snapshot, attribute) for attribute in expect.snapshot}
        assert actual == dict(expect.snapshot)
        assert outcome.snapshot.raw == json.loads(raw)["Data"][expect.vendor.value]
    else:
        assert outcome.snapshot is None
        assert outcome.error is not None
        assert outcome.error.code == expect.code


# --- the code → outcome table, as documented in REFERENCE.md ------------------------------------------

DOCUMENTED_FAILURE_CODES: dict[int, OutcomeKind] = {
    2: OutcomeKind.REJECTED,
    3: OutcomeKind.CONFIGURATION,
    4: OutcomeKind.REJECTED,
    5: OutcomeKind.CONFIGURATION,
    6: OutcomeKind.THROTTLED,
    7: OutcomeKind.CONFIGURATION,
    1000: OutcomeKind.TRANSIENT,
    41003: OutcomeKind.REJECTED,
    100000004: OutcomeKind.TRANSIENT,
    100000005: OutcomeKind.CONFIGURATION,
}


def test_table_covers_exactly_the_documented_codes() -> None:
    assert set(OUTCOME_BY_CODE) == {0, *DOCUMENTED_FAILURE_CODES}
    assert OUTCOME_BY_CODE[0] is OutcomeKind.SUCCESS


@pytest.mark.parametrize(("code", "kind"), sorted(DOCUMENTED_FAILURE_CODES.items()))
def test_documented_code_in_an_http_200_answer_decides_the_outcome(code: int, kind: OutcomeKind) -> None:
    outcome = interpret({"Code": code, "Message": f"zego says {code}", "RequestId": "req-9", "Data": {}})

    assert outcome.kind is kind
    assert outcome.error is not None
    assert outcome.error.code == str(code)
    assert outcome.error.message == f"zego says {code}"
    assert outcome.zego_request_id == "req-9"
    assert outcome.snapshot is None


@pytest.mark.parametrize("code", [1, 8, 999, 1001, 41004, 100000006, -1])
def test_unknown_code_is_transient(code: int) -> None:
    outcome = interpret({"Code": code, "Message": "new"})

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == str(code)


@pytest.mark.parametrize("code", sorted(DOCUMENTED_FAILURE_CODES))
def test_code_without_message_falls_back_to_our_description(code: int) -> None:
    outcome = interpret({"Code": code})

    assert outcome.error is not None
    assert outcome.error.message == ZEGO_CODES[code].meaning


def test_code_with_vendor_block_is_still_a_failure() -> None:
    document = tencent_ok()
    document["Code"] = 6

    assert interpret(document).kind is OutcomeKind.THROTTLED


def test_long_zego_message_is_truncated() -> None:
    outcome = interpret({"Code": 2, "Message": "x" * 5000})

    assert outcome.error is not None
    assert outcome.error.message == "x" * MAX_MESSAGE_CHARS


def test_code_zero_with_vendor_block_is_success() -> None:
    outcome = interpret(tencent_ok(status="FINISH"))

    assert outcome.kind is OutcomeKind.SUCCESS
    assert outcome.snapshot is not None
    assert outcome.snapshot.status is TaskStatus.SUCCEEDED
    assert outcome.zego_request_id == "zego-req-1"


@pytest.mark.parametrize("code", [0.0, "0", " 0 "])
def test_code_zero_spelled_differently_is_still_zero(code: object) -> None:
    document = tencent_ok()
    document["Code"] = code

    assert interpret(document).kind is OutcomeKind.SUCCESS


@pytest.mark.parametrize("code", [None, True, False, "abc", "", 1.5, [0], {"v": 0}])
def test_code_that_is_not_an_integer_is_a_bad_response(code: object) -> None:
    document = tencent_ok()
    document["Code"] = code

    outcome = interpret(document)

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == "BAD_RESPONSE"


@pytest.mark.parametrize("data", [None, "", [], 7, {"Huawei": {"TaskId": "task-1", "Status": "SUCCEEDED"}}])
def test_code_zero_without_the_requested_vendor_block_is_transient(data: object) -> None:
    outcome = interpret({"Code": 0, "RequestId": "req-2", "Data": data})

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == "NO_VENDOR_BLOCK"
    assert outcome.zego_request_id == "req-2"


@pytest.mark.parametrize("block", [None, "", "text", [], 0])
def test_vendor_block_that_is_not_an_object_is_no_vendor_block(block: object) -> None:
    outcome = interpret({"Code": 0, "Data": {"Tencent": block}})

    assert outcome.error is not None
    assert outcome.error.code == "NO_VENDOR_BLOCK"


def test_block_for_another_task_is_never_a_success() -> None:
    outcome = interpret(tencent_ok(task_id="someone-else", status="FINISH"), task_id="task-1")

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.snapshot is None
    assert outcome.error is not None
    assert outcome.error.code == "BAD_RESPONSE"
    assert "someone-else" not in outcome.error.message


def test_block_task_id_with_surrounding_white_space_is_the_same_task() -> None:
    outcome = interpret(tencent_ok(task_id=" task-1 "), task_id="task-1")

    assert outcome.snapshot is not None
    assert outcome.snapshot.task_id == "task-1"


# --- HTTP statuses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("http_status", "kind"), sorted(DECISIVE_HTTP_STATUSES.items()))
@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"<html><body>gateway says no</body></html>",
        json.dumps({"Code": 0, "Data": {"Tencent": {"TaskId": "task-1", "Status": "FINISH"}}}).encode(),
        json.dumps({"Code": 2, "Message": "bad input"}).encode(),
    ],
    ids=["empty", "html", "zego-success-json", "zego-rejection-json"],
)
def test_decisive_http_status_wins_over_any_body(http_status: int, kind: OutcomeKind, raw: bytes) -> None:
    outcome = interpret_response(http_status, raw, task_id="task-1", vendor=Vendor.TENCENT)

    assert outcome.kind is kind
    assert outcome.error is not None
    assert outcome.error.code == f"HTTP_{http_status}"
    assert outcome.snapshot is None


def test_http_failure_keeps_zego_message_and_request_id_when_the_body_has_them() -> None:
    outcome = interpret({"Code": 1000, "Message": "upstream down", "RequestId": "req-5"}, http_status=503)

    assert outcome.error is not None
    assert outcome.error.message == "upstream down"
    assert outcome.zego_request_id == "req-5"


@pytest.mark.parametrize("http_status", [400, 404, 405, 408, 413, 302, 301])
def test_other_http_status_without_a_zego_code_is_transient(http_status: int) -> None:
    outcome = interpret_response(http_status, b"Not Found", task_id="task-1", vendor=Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == f"HTTP_{http_status}"


@pytest.mark.parametrize(("code", "kind"), sorted(DOCUMENTED_FAILURE_CODES.items()))
def test_other_4xx_with_a_zego_code_is_decided_by_the_code(code: int, kind: OutcomeKind) -> None:
    outcome = interpret({"Code": code, "Message": "m"}, http_status=400)

    assert outcome.kind is kind
    assert outcome.error is not None
    assert outcome.error.code == str(code)


def test_code_zero_outside_2xx_is_a_bad_response() -> None:
    outcome = interpret(tencent_ok(status="FINISH"), http_status=404)

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == "BAD_RESPONSE"


def test_other_2xx_statuses_are_read_like_200() -> None:
    assert interpret(tencent_ok(), http_status=203).kind is OutcomeKind.SUCCESS


# --- bodies that are not ZEGO JSON ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"<html>502</html>",
        b"\xff\xfe\x00garbage",
        b"null",
        b'"a string"',
        b"42",
        b"[]",
        b'{"Code": 0, "Data": ',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"Code": ' + b"9" * 10_000 + b"}",
    ],
    ids=["empty", "html", "binary", "null", "string", "number", "array", "truncated", "deep", "huge-int"],
)
def test_body_that_is_not_a_json_object_is_a_bad_response(raw: bytes) -> None:
    outcome = interpret_response(200, raw, task_id="task-1", vendor=Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == "BAD_RESPONSE"
    assert outcome.zego_request_id is None


def test_bad_response_message_does_not_repeat_the_body() -> None:
    outcome = interpret_response(200, b"<html>internal detail</html>", task_id="t", vendor=Vendor.TENCENT)

    assert outcome.error is not None
    assert "internal detail" not in outcome.error.message


# --- the vendor block parser ----------------------------------------------------------------------------


def parse_huawei(block: dict[str, Any]) -> Any:
    return parse_vendor_block(block, requested_task_id="289665200", vendor=Vendor.HUAWEI, zego_request_id=None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20241118065429", "2024-11-18T06:54:29.000Z"),
        (20241118065429, "2024-11-18T06:54:29.000Z"),
        ("20240229235959", "2024-02-29T23:59:59.000Z"),
        ("", None),
        (None, None),
        ("   ", None),
        ("2024111806542", None),
        ("202411180654299", None),
        ("20241341065430", None),
        ("20230229000000", None),
        ("20241118256000", None),
        ("00000000000000", None),
        ("2024-11-18T06:54:29Z", None),
        ("abcdefghijklmn", None),
        ("٢٠٢٤١١١٨٠٦٥٤٢٩", None),
        ([], None),
        (True, None),
    ],
)
def test_huawei_time_becomes_iso_8601_utc_or_none(value: object, expected: str | None) -> None:
    snapshot = parse_huawei({"TaskId": "289665200", "Status": "SUCCEEDED", "CreateTime": value, "EndTime": value})

    assert snapshot.vendor_created_at == expected
    assert snapshot.vendor_ended_at == expected


@pytest.mark.parametrize(
    ("vendor", "raw_status", "status"),
    [
        *DOCUMENTED_VENDOR_STATUSES,
        *((vendor, raw_status, TaskStatus.UNKNOWN) for vendor, raw_status in OTHER_VENDORS_WORDS),
    ],
)
def test_vendor_status_is_normalized_and_the_raw_value_kept(
    vendor: Vendor, raw_status: str, status: TaskStatus
) -> None:
    snapshot = parse_vendor_block({"Status": raw_status}, requested_task_id="t", vendor=vendor, zego_request_id=None)

    assert snapshot.status is status
    assert snapshot.vendor_status == raw_status


@pytest.mark.parametrize("raw_status", [None, "", 3, [], {"State": "FINISH"}])
def test_missing_or_unusable_status_is_unknown(raw_status: object) -> None:
    snapshot = parse_vendor_block(
        {"Status": raw_status}, requested_task_id="t", vendor=Vendor.TENCENT, zego_request_id=None
    )

    assert snapshot.status is TaskStatus.UNKNOWN


def test_raw_is_the_vendor_block_as_received() -> None:
    block = {"TaskId": "t", "Status": "FINISH", "Unknown": {"nested": [1, None]}, "FileId": None}

    snapshot = parse_vendor_block(block, requested_task_id="t", vendor=Vendor.TENCENT, zego_request_id="r")

    assert snapshot.raw == block
    assert snapshot.zego_request_id == "r"


def test_huawei_block_ignores_tencent_only_fields() -> None:
    snapshot = parse_huawei({"Status": "SUCCEEDED", "ReplayUrl": "https://x", "ThumbnailsUrl": ["a"]})

    assert snapshot.replay_url is None
    assert snapshot.thumbnail_urls == ()


# --- totality: no body can make the parser raise -----------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
block_fields = st.sampled_from(
    ["TaskId", "Event", "Status", "FileId", "ReplayUrl", "RequestId", "Message", "ThumbnailsUrl", "CreateTime",
     "EndTime", "FileName"]
)  # fmt: skip
blocks = st.dictionaries(block_fields | st.text(max_size=8), json_values, max_size=8)


@settings(max_examples=300, deadline=None)
@given(
    code=st.sampled_from([0, 0, 0, 2, 6, 7, 1000, 100000004, None, "0", 1.0]) | json_values,
    vendor=st.sampled_from(list(Vendor)),
    block=blocks,
    http_status=st.sampled_from([200, 200, 200, 400, 404, 429, 500, 302]),
)
def test_any_json_answer_becomes_an_outcome(
    code: object, vendor: Vendor, block: dict[str, Any], http_status: int
) -> None:
    document = {"Code": code, "Message": "m", "RequestId": "r", "Data": {vendor.value: block}}

    outcome = interpret_response(http_status, body(document), task_id="task-1", vendor=vendor)

    assert isinstance(outcome, CallOutcome)
    if outcome.kind is OutcomeKind.SUCCESS:
        assert outcome.snapshot is not None
        assert outcome.snapshot.task_id == "task-1"
        assert outcome.snapshot.vendor is vendor
    else:
        assert outcome.error is not None
        assert len(outcome.error.message) <= MAX_MESSAGE_CHARS


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200), http_status=st.integers(min_value=100, max_value=599))
def test_any_bytes_become_an_outcome(raw: bytes, http_status: int) -> None:
    outcome = interpret_response(http_status, raw, task_id="task-1", vendor=Vendor.HUAWEI)

    assert isinstance(outcome, CallOutcome)
