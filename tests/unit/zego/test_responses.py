"""Response parsing and the outcome taxonomy: what each ZEGO answer means for the poller."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.fixture_files import FIXTURES, ZEGO_RESPONSES
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


OUTCOMES = FIXTURES / "zego-outcomes.json"


def expected_outcomes() -> dict[str, dict[str, Any]]:
    """Fixture file -> what its body must become (``tests/fixtures/zego-outcomes.json``), lists as tuples."""
    outcomes: dict[str, dict[str, Any]] = json.loads(OUTCOMES.read_text(encoding="utf-8"))["outcomes"]
    for expect in outcomes.values():
        snapshot = expect.get("snapshot", {})
        expect["snapshot"] = {k: tuple(v) if isinstance(v, list) else v for k, v in snapshot.items()}
    return outcomes


EXPECTATIONS = expected_outcomes()


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
    vendor, kind, task_id = Vendor(expect["vendor"]), OutcomeKind(expect["kind"]), expect["task_id"]
    raw = (ZEGO_RESPONSES / name).read_bytes()

    outcome = interpret_response(200, raw, task_id=task_id, vendor=vendor)

    assert outcome.kind is kind
    assert outcome.zego_request_id == expect["zego_request_id"]
    if kind is OutcomeKind.SUCCESS:
        assert outcome.error is None
        assert outcome.snapshot is not None
        assert outcome.snapshot.task_id == task_id
        assert outcome.snapshot.vendor is vendor
        assert outcome.snapshot.zego_request_id == expect["zego_request_id"]
        actual = {attribute: getattr(outcome.snapshot, attribute) for attribute in expect["snapshot"]}
        assert actual == expect["snapshot"]
        assert outcome.snapshot.raw == json.loads(raw)["Data"][vendor.value]
    else:
        assert outcome.snapshot is None
        assert outcome.error is not None
        assert outcome.error.code == expect["code"]


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
