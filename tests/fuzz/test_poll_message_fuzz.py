"""Fuzzing the SQS poll-message parser (``domain/messages.py`` ``parse_poll_request``).

Whatever a pipeline (or anyone with SendMessage) puts on the queue, the parser must answer with a valid
:class:`PollRequest` or a :class:`MalformedMessageError` carrying a reason: any other exception fails the
record again and again until SQS dead-letters it without a reason, and marks nothing REJECTED. The unit
tests in ``tests/unit/domain/test_messages.py`` pin each documented shape; here the inputs are arbitrary
bytes, text with lone surrogates, JSON with wrong types, huge numbers and any Unicode.

The inputs that once escaped (deep nesting, offsets past the edge of time, years before 1000) are fixed and
pinned by the tests at the end; the generators above stay inside years 1000-9998, and those tests cover
what lies outside.
"""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.json_strategies import LONE_SURROGATES, json_values
from zego_media_tasks.domain.messages import (
    MAX_BODY_BYTES,
    MAX_TASK_ID_LENGTH,
    MalformedMessageError,
    MalformedReason,
    PollRequest,
    parse_poll_request,
    task_id_problem,
)
from zego_media_tasks.domain.status import Vendor
from zego_media_tasks.domain.timestamps import from_iso, to_iso

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TASK_ID_ALPHABET = "".join(sorted(set(string.printable) - set(string.whitespace) - {"/"}))
valid_task_ids = st.text(alphabet=TASK_ID_ALPHABET, min_size=1, max_size=MAX_TASK_ID_LENGTH)
any_text = st.text(max_size=60) | st.lists(st.text(max_size=4) | LONE_SURROGATES, max_size=12).map("".join)
numbers = (
    st.integers()
    | st.integers(min_value=2**53 - 2, max_value=2**70)
    | st.integers(min_value=-(2**70), max_value=-1)
    | st.floats()  # NaN and infinities too: Python's json writes and reads them
)
any_json = json_values(
    any_text | st.text(min_size=1000, max_size=3000),
    numbers=numbers,
    keys=st.text(max_size=10),
    max_size=4,
    max_leaves=12,
)
# Aware datetimes in years 1000-9998 with any offset: far from datetime's limits, and with four-digit years
# (the tests at the end cover what happens outside).
aware_moments = st.datetimes(
    min_value=datetime(1000, 1, 2),  # noqa: DTZ001 - bounds of a naive range, made aware by ``timezones``
    max_value=datetime(9998, 12, 31),  # noqa: DTZ001
    timezones=st.builds(
        timezone, st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: timedelta(minutes=m))
    ),
)
timestamps = aware_moments.map(lambda moment: moment.isoformat()) | aware_moments.map(to_iso) | any_text | any_json
vendors = st.sampled_from(["Tencent", "Huawei"]) | st.sampled_from(["tencent", "HUAWEI", " Tencent", ""]) | any_json
generations = st.integers(min_value=0, max_value=2**53) | st.integers() | any_json


def _outcome(body: str | bytes) -> PollRequest | MalformedMessageError:
    """The parser's answer; any exception other than MalformedMessageError propagates (the finding)."""
    try:
        return parse_poll_request(body)
    except MalformedMessageError as error:
        return error


def _check(result: PollRequest | MalformedMessageError) -> None:
    """A parsed request is valid in every field; a refusal carries a reason and only valid identifiers."""
    if isinstance(result, PollRequest):
        assert task_id_problem(result.task_id) is None
        assert isinstance(result.vendor, Vendor)
        assert 0 <= result.generation <= 2**53
        assert 0 <= result.attempt <= 2**53
        for moment in (result.first_seen_at, result.deadline_at):
            assert moment is None or from_iso(moment).tzinfo is not None
        assert parse_poll_request(result.to_body()) == result  # what the poller re-sends reads back the same
    else:
        assert isinstance(result.reason, MalformedReason)
        assert result.detail
        assert result.task_id is None or task_id_problem(result.task_id) is None
        assert result.vendor is None or result.task_id is not None
        str(result)  # the log line can always be built


@FUZZ
@given(raw=st.binary(max_size=MAX_BODY_BYTES + 200))
def test_any_bytes_parse_or_are_refused_with_a_reason(raw: bytes) -> None:
    _check(_outcome(raw))


@FUZZ
@given(text=any_text | st.text(min_size=MAX_BODY_BYTES - 10, max_size=MAX_BODY_BYTES + 10))
def test_any_text_even_with_lone_surrogates_parses_or_is_refused(text: str) -> None:
    _check(_outcome(text))


@FUZZ
@given(
    document=st.fixed_dictionaries(
        {},
        optional={
            "TaskId": valid_task_ids | any_json,
            "Vendor": vendors,
            "Generation": generations,
            "Attempt": generations,
            "FirstSeenAt": timestamps,
            "DeadlineAt": timestamps,
            "Correlation": any_json,
        },
    ),
    ensure_ascii=st.booleans(),
    as_bytes=st.booleans(),
)
def test_any_json_object_parses_or_is_refused_with_a_reason(
    document: dict[str, object], ensure_ascii: bool, as_bytes: bool
) -> None:
    text = json.dumps(document, ensure_ascii=ensure_ascii)
    _check(_outcome(text.encode("utf-8", "surrogatepass") if as_bytes else text))


@FUZZ
@given(document=any_json)
def test_any_json_document_parses_or_is_refused_with_a_reason(document: object) -> None:
    _check(_outcome(json.dumps(document)))


@FUZZ
@given(
    task_id=valid_task_ids,
    vendor=st.sampled_from(list(Vendor)),
    generation=st.integers(min_value=0, max_value=2**53),
    attempt=st.integers(min_value=0, max_value=2**53),
    first_seen=st.none() | aware_moments.map(to_iso),
    deadline=st.none() | aware_moments.map(to_iso),
)
def test_every_request_the_poller_sends_reads_back_identically(  # noqa: PLR0917 - one argument per field
    task_id: str, vendor: Vendor, generation: int, attempt: int, first_seen: str | None, deadline: str | None
) -> None:
    request = PollRequest(task_id, vendor, generation, attempt, first_seen, deadline)
    assert parse_poll_request(request.to_body()) == request


def test_a_body_one_byte_over_the_limit_is_refused_before_parsing() -> None:
    body = json.dumps({"TaskId": "t", "Vendor": "Tencent", "Pad": ""})
    body = body.replace('""', '"' + "x" * (MAX_BODY_BYTES + 1 - len(body)) + '"')
    assert len(body.encode()) == MAX_BODY_BYTES + 1
    result = _outcome(body)
    assert isinstance(result, MalformedMessageError)
    assert result.reason is MalformedReason.OVERSIZE


# -- former escapes, fixed: deep nesting, offsets past the edge of time, years before 1000 -----------------


def test_a_deeply_nested_body_is_refused_as_not_json() -> None:
    result = _outcome("[" * 2000 + "]" * 2000)
    assert isinstance(result, MalformedMessageError)
    assert result.reason is MalformedReason.NOT_JSON


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_timestamp_at_the_edge_of_time_is_refused_as_an_invalid_field(moment: str) -> None:
    result = _outcome(json.dumps({"TaskId": "t", "Vendor": "Tencent", "FirstSeenAt": moment}))
    assert isinstance(result, MalformedMessageError)
    assert result.reason is MalformedReason.INVALID_FIELD


def test_a_request_first_seen_before_year_1000_reads_back_identically() -> None:
    request = PollRequest("t", Vendor.TENCENT, 1, 0, to_iso(datetime(999, 1, 1, tzinfo=UTC)), None)
    assert _outcome(request.to_body()) == request


def test_the_edge_of_time_in_utc_itself_still_parses() -> None:
    for moment in (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)):
        result = _outcome(json.dumps({"TaskId": "t", "Vendor": "Huawei", "DeadlineAt": moment.isoformat()}))
        assert isinstance(result, PollRequest)
