"""The stack's CloudWatch dashboard (``TasksDashboard`` in ``template.yaml``) shows metrics that exist.

Its body is JSON in an ``Fn::Sub``. Every metric it names in the functions' namespace
(``${PowertoolsMetricsNamespace}``), in a metric row or inside a ``SEARCH`` expression, must be one the code
emits: a member of :class:`~zego_media_tasks.observability.signals.MetricName`. That enum is the emitted set
because every ``Metric`` in the layer is named by a member and every member is used by the layer (checked
here from the source), so a renamed metric fails this test instead of leaving a silent, empty widget.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.template import load_template
from zego_media_tasks.observability import signals
from zego_media_tasks.observability.signals import MetricName

Template = dict[str, Any]
LAYER = Path(signals.__file__).resolve().parent.parent
CUSTOM = "<the functions' namespace>"
_PLACEHOLDER = re.compile(r"\$\{([^}!]+)\}")
_SEARCH_METRIC = re.compile(r'MetricName="([^"]+)"')
_SEARCH_NAMESPACE = re.compile(r'\{"([^"]+)"')
_PSEUDO = {"AWS::Region", "AWS::StackName", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix"}


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


def _body_template(template: Template) -> str:
    body = template["Resources"]["TasksDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str), "the body is one Fn::Sub string, without a variable map"
    return body


def _substituted(body: str) -> dict[str, Any]:
    """The body as CloudWatch would receive it, with the namespace marked and every other variable a
    number (the only unquoted variables are the annotations' thresholds)."""

    def value(match: re.Match[str]) -> str:
        return CUSTOM if match.group(1) == "PowertoolsMetricsNamespace" else "1"

    # Fn::Sub also turns the escaped ``${!...}`` (CloudWatch's dynamic labels) into ``${...}``.
    document: dict[str, Any] = json.loads(_PLACEHOLDER.sub(value, body).replace("${!", "${"))
    return document


def _rows(document: dict[str, Any]) -> Iterator[list[Any]]:
    for widget in document["widgets"]:
        yield from widget.get("properties", {}).get("metrics", [])


def dashboard_metrics(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(namespace, metric name) of every metric row and every ``SEARCH`` expression of the dashboard."""
    found: set[tuple[str, str]] = set()
    for row in _rows(document):
        if isinstance(row[0], str):
            found.add((row[0], row[1]))
            continue
        expression = row[0]["expression"]
        if "SEARCH(" in expression:
            namespaces = _SEARCH_NAMESPACE.findall(expression)
            names = _SEARCH_METRIC.findall(expression)
            assert len(namespaces) == len(names) == 1, expression
            found.add((namespaces[0], names[0]))
    return found


def unknown_custom_metrics(document: dict[str, Any]) -> set[str]:
    """The metrics of the functions' namespace on the dashboard that the code does not emit."""
    emitted = {member.value for member in MetricName}
    return {name for namespace, name in dashboard_metrics(document) if namespace == CUSTOM} - emitted


def test_every_custom_metric_on_the_dashboard_is_one_the_code_emits(template: Template) -> None:
    document = _substituted(_body_template(template))
    assert unknown_custom_metrics(document) == set()


def test_a_metric_the_code_does_not_emit_is_caught_in_a_row_and_in_a_search(template: Template) -> None:
    body = _body_template(template)
    renamed_row = body.replace('"EventsPublished"', '"EventsSent"')
    renamed_search = body.replace('MetricName=\\"CallbacksAccepted\\"', 'MetricName=\\"CallbacksTaken\\"')
    assert body not in (renamed_row, renamed_search)
    assert unknown_custom_metrics(_substituted(renamed_row)) == {"EventsSent"}
    assert unknown_custom_metrics(_substituted(renamed_search)) == {"CallbacksTaken"}


def test_the_dashboard_shows_what_an_operator_asks_for(template: Template) -> None:
    shown = dashboard_metrics(_substituted(_body_template(template)))
    custom = {name for namespace, name in shown if namespace == CUSTOM}
    assert {
        MetricName.POLLS,  # ZEGO calls per second against the ceiling
        MetricName.RATE_LIMITER_RATE,  # and the pace the limiter keeps below it
        MetricName.OUTCOMES,  # outcomes by kind, and the Code-6 (THROTTLED) share
        MetricName.TRANSITIONS,
        MetricName.TIME_TO_TERMINAL_SECONDS,
        MetricName.RESPONSES_4XX,
        MetricName.RESPONSES_5XX,
        MetricName.CALLBACKS_ACCEPTED,
        MetricName.CALLBACKS_REJECTED,
        MetricName.EVENTS_PUBLISHED,
        MetricName.PUBLISH_FAILURES,
        MetricName.CHAINS_REVIVED,
    } <= custom
    assert {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/ApiGateway", "Count"),
        ("AWS/ApiGateway", "4XXError"),
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "Latency"),
    } <= shown
    body = _body_template(template)
    assert '"value": ${ZegoRateLimitPerSecond}' in body, "the calls-per-second widget draws the ceiling"
    assert '"Kind", "THROTTLED"' in body, "the Code-6 share counts the THROTTLED outcomes"
    for queue in ("PollQueue", "PollDeadLetterQueue"):
        assert f"${{{queue}.QueueName}}" in body


def test_every_variable_of_the_body_is_a_parameter_a_pseudo_parameter_or_a_resource(template: Template) -> None:
    variables = _PLACEHOLDER.findall(_body_template(template))
    assert variables
    for variable in variables:
        name = variable.split(".", 1)[0]
        assert name in template["Parameters"] or name in template["Resources"] or variable in _PSEUDO, variable
        resource = template["Resources"].get(name, {})
        assert "Condition" not in resource, f"{variable}: the dashboard must not need a conditional resource"


def test_the_outputs_link_to_the_dashboard(template: Template) -> None:
    url = template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
    assert url.startswith("https://")
    assert "#dashboards:name=${TasksDashboard}" in url


def test_the_alarms_on_custom_metrics_watch_metrics_the_code_emits(template: Template) -> None:
    watched = [
        resource["Properties"]["MetricName"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"]["Namespace"] == {"Ref": "PowertoolsMetricsNamespace"}
    ]
    assert watched
    assert set(watched) <= {member.value for member in MetricName}


def _layer_modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(LAYER.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _metric_name_argument(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((keyword.value for keyword in call.keywords if keyword.arg == "name"), None)


def test_every_metric_of_the_layer_is_named_by_a_metric_name_member() -> None:
    literal = []
    for path, module in _layer_modules():
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Metric":
                argument = _metric_name_argument(node)
                if isinstance(argument, ast.Constant | ast.JoinedStr):
                    literal.append(f"{path.relative_to(LAYER)}:{node.lineno}")
    assert literal == [], "name these metrics by a MetricName member (observability/signals.py)"


def test_every_metric_name_member_is_emitted_somewhere_in_the_layer() -> None:
    used = {
        node.attr
        for path, module in _layer_modules()
        if path.name != "signals.py"
        for node in ast.walk(module)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "MetricName"
    }
    assert {member.name for member in MetricName} - used == set()


def test_the_alarm_widget_shows_every_alarm_that_always_exists(template: Template) -> None:
    body = _body_template(template)
    shown = set(re.findall(r'"\$\{([A-Za-z0-9]+)\.Arn\}"', body))
    unconditional = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm" and "Condition" not in resource
    }
    assert unconditional
    assert shown == unconditional
