"""Property-based: whatever the path segment, query string or body, the API never answers 5xx, and every
error is the one JSON shape."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api_events import make_record, post_task_event, rest_event
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor

Call = Callable[[dict[str, Any]], dict[str, Any]]
Seed = Callable[..., TaskRecord]

EXAMPLES = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PARAMETER_NAMES = ["status", "vendor", "limit", "nextToken", "taskId", "x", ""]
KNOWN_VALUES = [s.value for s in TaskStatus] + [v.value for v in Vendor] + ["0", "1", "50", "100", "101", "-1"]
segment_text = st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=300) | st.text(
    alphabet=string.printable, min_size=1, max_size=300
)
query_values = st.sampled_from(KNOWN_VALUES) | st.text(max_size=80)
queries = st.dictionaries(st.sampled_from(PARAMETER_NAMES) | st.text(max_size=10), query_values, max_size=5)


def _assert_sane(response: dict[str, Any]) -> None:
    assert response["statusCode"] < 500, response["body"]
    if response["statusCode"] >= 400:
        body = json.loads(response["body"])
        assert set(body) == {"error"}
        assert isinstance(body["error"]["code"], str)
        assert isinstance(body["error"]["message"], str)


@EXAMPLES
@given(segment=segment_text, query=queries, if_none_match=st.none() | st.just("*") | st.text(max_size=80))
def test_get_task_never_fails_on_any_task_id_or_query(
    call: Call, seed: Seed, segment: str, query: dict[str, str], if_none_match: str | None
) -> None:
    seed(make_record("known-task", status=TaskStatus.SUCCEEDED))
    # As a client would send it: the segment percent-encoded, API Gateway's pathParameters decoded.
    _assert_sane(
        call(
            rest_event(
                "GET",
                f"/tasks/{quote(segment, safe='')}",
                resource="/tasks/{taskId}",
                query=query,
                headers={"If-None-Match": if_none_match} if if_none_match is not None else None,
                path_parameters={"taskId": segment} if segment else None,
            )
        )
    )


@EXAMPLES
@given(raw_path=st.text(max_size=120), method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"]))
def test_any_raw_path_and_method_never_fails(call: Call, raw_path: str, method: str) -> None:
    # Hand-made events may carry unencoded, odd paths; they still get a 4xx or a 2xx.
    _assert_sane(call(rest_event(method, "/" + raw_path.lstrip("/"))))


@EXAMPLES
@given(query=queries)
def test_list_tasks_never_fails_on_any_query(call: Call, seed: Seed, query: dict[str, str]) -> None:
    seed(make_record("p-1", status=TaskStatus.PROCESSING), make_record("p-2", status=TaskStatus.PROCESSING))
    _assert_sane(call(rest_event("GET", "/tasks", query=query)))


@EXAMPLES
@given(
    query=st.dictionaries(
        st.sampled_from(["status", "vendor", "limit", "nextToken"]),
        st.lists(query_values, min_size=1, max_size=3),
        max_size=4,
    )
)
def test_list_tasks_never_fails_on_repeated_parameters(call: Call, query: dict[str, list[str]]) -> None:
    _assert_sane(call(rest_event("GET", "/tasks", query=dict(query))))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@EXAMPLES
@given(
    body=st.one_of(
        st.none(),
        st.text(max_size=200),
        st.fixed_dictionaries({"TaskId": json_values, "Vendor": json_values}).map(json.dumps),
        st.fixed_dictionaries({"TaskId": segment_text, "Vendor": st.sampled_from(["Tencent", "Huawei", "x"])}).map(
            json.dumps
        ),
        json_values.map(json.dumps),
    ),
    content_type=st.none()
    | st.sampled_from(["application/json", "text/plain", "multipart/form-data"])
    | st.text(max_size=30),
    base64_flag=st.booleans(),
)
def test_register_never_fails_on_any_body(
    call: Call, body: str | None, content_type: str | None, base64_flag: bool
) -> None:
    _assert_sane(call(post_task_event(body, content_type=content_type, is_base64_encoded=base64_flag)))
