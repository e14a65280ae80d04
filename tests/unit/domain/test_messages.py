"""Poll message parsing: every malformed shape has its own reason; valid ones round-trip."""

from __future__ import annotations

import json

import pytest

from zego_media_tasks.domain.messages import (
    MAX_BODY_BYTES,
    MalformedMessageError,
    MalformedReason,
    PollRequest,
    parse_poll_request,
    task_id_problem,
)
from zego_media_tasks.domain.status import Vendor


def test_a_pipeline_body_parses_with_generation_zero() -> None:
    request = parse_poll_request('{"TaskId": "1400341231-ComposeMedia-6fdf", "Vendor": "Tencent"}')
    assert request == PollRequest(task_id="1400341231-ComposeMedia-6fdf", vendor=Vendor.TENCENT)


def test_poller_fields_round_trip_through_the_body() -> None:
    request = PollRequest(
        task_id="289665200",
        vendor=Vendor.HUAWEI,
        generation=7,
        attempt=3,
        first_seen_at="2026-11-23T12:00:00.000Z",
        deadline_at="2026-11-24T12:00:00.000Z",
    )
    assert parse_poll_request(request.to_body()) == request


def test_a_pipeline_style_request_serialises_to_the_two_public_fields_only() -> None:
    body = json.loads(PollRequest(task_id="t1", vendor=Vendor.TENCENT).to_body())
    assert body == {"TaskId": "t1", "Vendor": "Tencent"}


def test_unknown_extra_fields_are_ignored() -> None:
    request = parse_poll_request('{"TaskId": "t1", "Vendor": "Huawei", "PipelineRunId": "abc"}')
    assert request.task_id == "t1"


@pytest.mark.parametrize(
    ("body", "reason", "readable_task_id"),
    [
        ("not json", MalformedReason.NOT_JSON, None),
        (b"\xff\xfe", MalformedReason.NOT_JSON, None),
        ("[1, 2]", MalformedReason.NOT_OBJECT, None),
        ('"TaskId"', MalformedReason.NOT_OBJECT, None),
        ("{}", MalformedReason.MISSING_TASK_ID, None),
        ('{"TaskId": null, "Vendor": "Tencent"}', MalformedReason.MISSING_TASK_ID, None),
        ('{"TaskId": 42, "Vendor": "Tencent"}', MalformedReason.INVALID_TASK_ID, None),
        ('{"TaskId": "a b", "Vendor": "Tencent"}', MalformedReason.INVALID_TASK_ID, None),
        ('{"TaskId": "a/b", "Vendor": "Tencent"}', MalformedReason.INVALID_TASK_ID, None),
        ('{"TaskId": "t1"}', MalformedReason.MISSING_VENDOR, "t1"),
        ('{"TaskId": "t1", "Vendor": "Aliyun"}', MalformedReason.UNKNOWN_VENDOR, "t1"),
        ('{"TaskId": "t1", "Vendor": "tencent"}', MalformedReason.UNKNOWN_VENDOR, "t1"),
        ('{"TaskId": "t1", "Vendor": "Tencent", "Generation": -1}', MalformedReason.INVALID_FIELD, "t1"),
        ('{"TaskId": "t1", "Vendor": "Tencent", "Generation": "3"}', MalformedReason.INVALID_FIELD, "t1"),
        ('{"TaskId": "t1", "Vendor": "Tencent", "Generation": true}', MalformedReason.INVALID_FIELD, "t1"),
        ('{"TaskId": "t1", "Vendor": "Tencent", "Attempt": 1.5}', MalformedReason.INVALID_FIELD, "t1"),
        ('{"TaskId": "t1", "Vendor": "Tencent", "FirstSeenAt": "yesterday"}', MalformedReason.INVALID_FIELD, "t1"),
        ('{"TaskId": "t1", "Vendor": "Tencent", "DeadlineAt": 5}', MalformedReason.INVALID_FIELD, "t1"),
    ],
)
def test_each_malformed_shape_is_refused_with_its_reason(
    body: str | bytes, reason: MalformedReason, readable_task_id: str | None
) -> None:
    with pytest.raises(MalformedMessageError) as caught:
        parse_poll_request(body)
    assert caught.value.reason is reason
    assert caught.value.task_id == readable_task_id


def test_an_oversize_body_is_refused_before_it_is_parsed() -> None:
    body = json.dumps({"TaskId": "t1", "Vendor": "Tencent", "Pad": "x" * MAX_BODY_BYTES})
    with pytest.raises(MalformedMessageError) as caught:
        parse_poll_request(body)
    assert caught.value.reason is MalformedReason.OVERSIZE


@pytest.mark.parametrize("task_id", ["a", "x" * 256, "1400341231-ComposeMedia-6fdfc967d7eb12f5tt0", "A~!@#$%^&*()"])
def test_valid_task_ids(task_id: str) -> None:
    assert task_id_problem(task_id) is None


@pytest.mark.parametrize("task_id", ["", "x" * 257, "tab\there", "new\nline", "é", "a/b", None, 7])
def test_invalid_task_ids(task_id: object) -> None:
    assert task_id_problem(task_id) is not None
