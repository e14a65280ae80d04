"""HTTP requests become API Gateway REST proxy events with the resource path API Gateway would send."""

from __future__ import annotations

import base64
import re

from devstack.api_gateway import Route, build_proxy_event

ROUTES = [
    Route("/tasks/{taskId}", "GET", re.compile(r"^/tasks/(?P<taskId>[^/]+)$")),
    Route("/tasks", "GET", re.compile(r"^/tasks$")),
    Route("/tasks", "POST", re.compile(r"^/tasks$")),
]


def test_a_path_parameter_route_carries_its_resource_and_decoded_parameter() -> None:
    event = build_proxy_event(
        ROUTES, "GET", "/tasks/abc%2Bdef?vendor=Tencent", headers=[("Accept", "*/*")], body=b"", source_ip="127.0.0.1"
    )
    assert event["resource"] == "/tasks/{taskId}"
    assert event["pathParameters"] == {"taskId": "abc+def"}
    assert event["path"] == "/tasks/abc%2Bdef"  # as API Gateway sends it: not decoded
    assert event["queryStringParameters"] == {"vendor": "Tencent"}
    assert event["multiValueQueryStringParameters"] == {"vendor": ["Tencent"]}
    assert event["requestContext"]["resourcePath"] == "/tasks/{taskId}"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_repeated_query_parameters_keep_every_value_and_the_last_wins_in_the_single_map() -> None:
    event = build_proxy_event(ROUTES, "GET", "/tasks?status=A&status=B", headers=[], body=b"", source_ip="::1")
    assert event["queryStringParameters"] == {"status": "B"}
    assert event["multiValueQueryStringParameters"] == {"status": ["A", "B"]}
    assert event["headers"] is None


def test_a_json_body_is_passed_as_text_and_binary_as_base64() -> None:
    text = build_proxy_event(ROUTES, "POST", "/tasks", headers=[], body=b'{"a":1}', source_ip="127.0.0.1")
    assert text["body"] == '{"a":1}'
    assert text["isBase64Encoded"] is False
    binary = build_proxy_event(ROUTES, "POST", "/tasks", headers=[], body=b"\xff\x00", source_ip="127.0.0.1")
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\x00"


def test_an_undeclared_method_on_a_known_resource_still_reaches_the_function() -> None:
    event = build_proxy_event(ROUTES, "DELETE", "/tasks/t1", headers=[], body=b"", source_ip="127.0.0.1")
    assert event["resource"] == "/tasks/{taskId}"
    assert event["httpMethod"] == "DELETE"


def test_an_unknown_path_is_passed_through_as_its_own_resource() -> None:
    event = build_proxy_event(ROUTES, "GET", "/nope", headers=[], body=b"", source_ip="127.0.0.1")
    assert event["resource"] == "/nope"
    assert event["pathParameters"] is None


def test_repeated_headers_appear_in_both_maps() -> None:
    event = build_proxy_event(
        ROUTES, "GET", "/tasks", headers=[("X-A", "1"), ("X-A", "2")], body=b"", source_ip="127.0.0.1"
    )
    assert event["headers"] == {"X-A": "2"}
    assert event["multiValueHeaders"] == {"X-A": ["1", "2"]}
