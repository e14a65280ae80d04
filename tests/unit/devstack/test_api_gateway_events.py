"""HTTP requests become API Gateway REST proxy events with the resource path API Gateway would send, for the
function the template routes them to."""

from __future__ import annotations

import base64
import re

from devstack.api_gateway import (
    API_FUNCTION,
    CALLBACK_FUNCTION,
    Route,
    RouteMatch,
    build_proxy_event,
    match_route,
    route_path,
    routes_from_template,
)
from devstack.template import load_template

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


def test_each_template_route_is_served_by_the_function_whose_api_event_declares_it() -> None:
    template = load_template()
    routes = routes_from_template(template)
    declared = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"], function_id)
        for function_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    }
    assert {(route.method, route.resource, route.function) for route in routes} == declared
    assert ("POST", "/callbacks/zego", CALLBACK_FUNCTION) in declared
    assert {route.function for route in routes} == {API_FUNCTION, CALLBACK_FUNCTION}


def test_the_callback_route_reaches_the_callback_function_and_the_task_routes_the_api_function() -> None:
    routes = routes_from_template()
    assert match_route(routes, "/callbacks/zego", "POST") == RouteMatch("/callbacks/zego", None, CALLBACK_FUNCTION)
    assert match_route(routes, "/tasks/t1", "GET") == RouteMatch("/tasks/{taskId}", {"taskId": "t1"}, API_FUNCTION)
    assert route_path(routes, CALLBACK_FUNCTION) == "/callbacks/zego"


def test_an_undeclared_method_goes_to_the_function_of_its_path_and_an_unknown_path_to_the_default() -> None:
    routes = routes_from_template()
    assert match_route(routes, "/callbacks/zego", "GET").function == CALLBACK_FUNCTION
    assert match_route(routes, "/nope", "POST").function == API_FUNCTION
    assert match_route(routes, "/nope", "POST", default_function="Other").function == "Other"


def test_a_callback_arrives_as_a_rest_proxy_event_of_its_resource_with_no_caller_identity() -> None:
    body = b'{"event":"compose","task_id":"289665201"}'
    event = build_proxy_event(
        routes_from_template(),
        "POST",
        "/callbacks/zego",
        headers=[("Content-Type", "application/json")],
        body=body,
        source_ip="127.0.0.1",
    )
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/callbacks/zego"
    assert event["body"] == body.decode()
    assert event["headers"] == {"Content-Type": "application/json"}
    identity = event["requestContext"]["identity"]
    assert {name: identity[name] for name in ("userArn", "caller", "accessKey", "user")} == dict.fromkeys(
        ("userArn", "caller", "accessKey", "user")
    )
