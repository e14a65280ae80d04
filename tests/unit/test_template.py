"""``template.yaml`` as a specification: platform, least privilege, authorization, queues, alarms, outputs.

The template is read as data with :func:`devstack.template.load_template`. The tests at the end also run
it through SAM's translator (from the SAM CLI's own venv, ``.tools/sam``, in a subprocess: its pydantic
pin differs from ours) and check what CloudFormation would receive, with either ``ApiAuthMode``. They are
skipped when that venv is missing (``make tools`` creates it; ``make test`` always does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.template import TEMPLATE_PATH, load_template, parameter_defaults
from zego_media_tasks.api.settings import ApiSettings
from zego_media_tasks.callbacks.settings import CallbackSettings
from zego_media_tasks.config.environment import SettingsModel, knobs
from zego_media_tasks.domain.backoff import (
    DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS,
    DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS,
    BackoffPolicy,
    ThrottleDelay,
)
from zego_media_tasks.domain.lists import OBJECT_PREFIX
from zego_media_tasks.domain.polling import PollingPolicy
from zego_media_tasks.domain.watch import DEFAULT_GRACE_SECONDS, minimum_grace_seconds
from zego_media_tasks.events.settings import PublisherSettings
from zego_media_tasks.poller.settings import (
    DEFAULT_RATE_LIMIT_MAX_WAIT_SECONDS,
    DEFAULT_RATE_LIMIT_PER_SECOND,
    PollerSettings,
)
from zego_media_tasks.store.items import WATCH_AT_ATTR, WATCH_INDEX, WATCH_SHARD_ATTR
from zego_media_tasks.watchdog.settings import WatchdogSettings
from zego_media_tasks.zego.settings import ZegoSettings

ROOT = TEMPLATE_PATH.parent
SAM_PYTHON = ROOT / ".tools" / "sam" / "bin" / "python"

Template = dict[str, Any]
Grant = tuple[str, str]  # (IAM action, resource as written in the template, see _resource_text)
_NO_VALUE = {"Ref": "AWS::NoValue"}


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


def _resources(template: Template, resource_type: str) -> dict[str, Any]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == resource_type}


def _properties(template: Template, logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return properties


def _function_setting(template: Template, function_id: str, name: str) -> Any:
    """A function property, falling back to ``Globals.Function`` as SAM does."""
    properties = _properties(template, function_id)
    return properties.get(name, template.get("Globals", {}).get("Function", {}).get(name))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resource_text(value: Any) -> str:
    """A policy resource as readable text: ``"*"``, ``"TasksTable.Arn"``, ``"Ref:X"``, or a ``Sub`` string."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        return ".".join(value["Fn::GetAtt"])
    if "Ref" in value:
        return f"Ref:{value['Ref']}"
    if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return str(value["Fn::Sub"])
    if "Fn::If" in value:  # one of two exact resources, chosen by a condition
        _, when_true, when_false = value["Fn::If"]
        return f"{_resource_text(when_true)} | {_resource_text(when_false)}"
    raise AssertionError(f"unexpected policy resource {value!r}")


def _statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    role = _properties(template, role_id)
    return [
        statement
        for policy in role.get("Policies", [])
        for statement in _as_list(policy["PolicyDocument"]["Statement"])
    ]


def _grants(template: Template, role_id: str) -> set[Grant]:
    return {
        (action, _resource_text(resource))
        for statement in _statements(template, role_id)
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }


def _all_policy_statements(document: Any) -> Iterator[dict[str, Any]]:
    """Every IAM statement anywhere in a (translated or source) template."""
    if isinstance(document, dict):
        if "Statement" in document and ("Version" in document or isinstance(document["Statement"], list)):
            yield from _as_list(document["Statement"])
        for value in document.values():
            yield from _all_policy_statements(value)
    elif isinstance(document, list):
        for item in document:
            yield from _all_policy_statements(item)


def _resolve_conditions(value: Any, conditions: dict[str, bool]) -> Any:
    """``Fn::If`` resolved the way CloudFormation would for the given condition values."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            return _resolve_conditions(when_true if conditions[name] else when_false, conditions)
        resolved = {key: _resolve_conditions(item, conditions) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item != _NO_VALUE}
    if isinstance(value, list):
        items = [_resolve_conditions(item, conditions) for item in value]
        return [item for item in items if item != _NO_VALUE]
    return value


def _references(value: Any, known_true: frozenset[str]) -> Iterator[tuple[str, frozenset[str]]]:
    """Every resource a value refers to, with the conditions known to hold where it is referred to."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            yield from _references(when_true, known_true | {name})
            yield from _references(when_false, known_true)
            return
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"], known_true
        if "Fn::GetAtt" in value:
            yield value["Fn::GetAtt"][0], known_true
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            for piece in text.split("${")[1:]:
                yield piece.split("}")[0].split(".")[0], known_true
        for item in value.values():
            yield from _references(item, known_true)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item, known_true)


def _camel(variable: str) -> str:
    """``ZEGO_RATE_LIMIT_PER_SECOND`` -> ``ZegoRateLimitPerSecond``: the parameter behind a variable."""
    return "".join(part.capitalize() for part in variable.split("_"))


# --------------------------------------------------------------------------------------------- platform


FUNCTIONS = ["PollerFunction", "ApiFunction", "CallbackFunction", "PublisherFunction", "WatchdogFunction"]


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_functions_run_python313_on_arm64_traced_when_tracing_is_enabled(template: Template, function_id: str) -> None:
    assert _function_setting(template, function_id, "Runtime") == "python3.13"
    assert _function_setting(template, function_id, "Architectures") == ["arm64"]
    assert _function_setting(template, function_id, "Tracing") == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
    # Powertools' tracer follows the same switch (SAM merges the global variables into every function's),
    # so an untraced cold start never loads the X-Ray SDK
    own = _properties(template, function_id)["Environment"]["Variables"]
    variables = {**template["Globals"]["Function"]["Environment"]["Variables"], **own}
    assert variables["POWERTOOLS_TRACE_DISABLED"] == {"Fn::If": ["TracingOn", "false", "true"]}


def test_tracing_is_off_by_default_and_switches_the_api_stage_too(template: Template) -> None:
    assert template["Parameters"]["TracingEnabled"]["Default"] == "false"
    assert template["Conditions"]["TracingOn"] == {"Fn::Equals": [{"Ref": "TracingEnabled"}, "true"]}
    assert _properties(template, "TasksApi")["TracingEnabled"] == {"Fn::If": ["TracingOn", True, False]}


@pytest.mark.parametrize(
    ("function_id", "code_dir"),
    [
        ("PollerFunction", "functions/poller"),
        ("ApiFunction", "functions/api"),
        ("CallbackFunction", "functions/callbacks"),
        ("WatchdogFunction", "functions/watchdog"),
    ],
)
def test_functions_ship_only_their_entry_point_and_import_the_rest_from_the_shared_layer(
    template: Template, function_id: str, code_dir: str
) -> None:
    properties = _properties(template, function_id)
    assert properties["CodeUri"] == code_dir
    assert properties["Handler"] == "app.lambda_handler"
    assert _function_setting(template, function_id, "Layers") == [{"Ref": "SharedLayer"}]
    # A makefile build: SAM's python builder would demand a local python3.13.
    assert template["Resources"][function_id]["Metadata"]["BuildMethod"] == "makefile"
    makefile = (ROOT / code_dir / "Makefile").read_text(encoding="utf-8")
    assert f"build-{function_id}:" in makefile


def test_the_shared_layer_is_built_for_python313_on_arm64_not_for_the_build_machine(template: Template) -> None:
    layer = template["Resources"]["SharedLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"] == "layers/shared"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    makefile = (ROOT / "layers" / "shared" / "Makefile").read_text(encoding="utf-8")
    assert "build-SharedLayer:" in makefile
    for option in (
        '--target "$(ARTIFACTS_DIR)/python"',  # Lambda puts the layer's python/ on sys.path (/opt/python)
        "--platform manylinux2014_aarch64",
        "--implementation cp",
        "--python-version 3.13",
        "--only-binary=:all:",
        "-r requirements.txt",
    ):
        assert option in makefile


# ---------------------------------------------------------------------------------- least privilege

POLLER_GRANTS: set[Grant] = {
    ("logs:CreateLogStream", "PollerLogGroup.Arn"),
    ("logs:PutLogEvents", "PollerLogGroup.Arn"),
    ("xray:PutTraceSegments", "*"),
    ("xray:PutTelemetryRecords", "*"),
    ("dynamodb:GetItem", "TasksTable.Arn"),
    ("dynamodb:PutItem", "TasksTable.Arn"),
    ("dynamodb:UpdateItem", "TasksTable.Arn"),
    ("dynamodb:UpdateItem", "RateLimitTable.Arn"),
    ("sqs:ReceiveMessage", "PollQueue.Arn"),
    ("sqs:DeleteMessage", "PollQueue.Arn"),
    ("sqs:GetQueueAttributes", "PollQueue.Arn"),
    ("sqs:SendMessage", "PollQueue.Arn"),
    ("sqs:SendMessage", "PollDeadLetterQueue.Arn"),
    ("secretsmanager:GetSecretValue", "Ref:ZegoServerSecretArn"),
    ("s3:PutObject", "${TaskListsBucket.Arn}/lists/*"),
}

API_GRANTS: set[Grant] = {
    ("logs:CreateLogStream", "ApiFunctionLogGroup.Arn"),
    ("logs:PutLogEvents", "ApiFunctionLogGroup.Arn"),
    ("xray:PutTraceSegments", "*"),
    ("xray:PutTelemetryRecords", "*"),
    ("dynamodb:GetItem", "TasksTable.Arn"),
    ("dynamodb:Query", "TasksTable.Arn"),
    ("dynamodb:BatchGetItem", "TasksTable.Arn"),
    ("dynamodb:Query", "${TasksTable.Arn}/index/ByStatus"),  # the listing index only, not the watchdog's
    ("dynamodb:PutItem", "TasksTable.Arn"),
    ("sqs:SendMessage", "PollQueue.Arn"),
    ("secretsmanager:GetSecretValue", "Ref:PaginationTokenSecret"),
    ("s3:GetObject", "${TaskListsBucket.Arn}/lists/*"),
}


CALLBACK_GRANTS: set[Grant] = {
    ("logs:CreateLogStream", "CallbackLogGroup.Arn"),
    ("logs:PutLogEvents", "CallbackLogGroup.Arn"),
    ("xray:PutTraceSegments", "*"),
    ("xray:PutTelemetryRecords", "*"),
    ("dynamodb:GetItem", "TasksTable.Arn"),
    ("dynamodb:Query", "TasksTable.Arn"),
    ("dynamodb:PutItem", "TasksTable.Arn"),
    ("dynamodb:UpdateItem", "TasksTable.Arn"),
    ("secretsmanager:GetSecretValue", "Ref:ZegoCallbackSecretArn"),
    ("s3:PutObject", "${TaskListsBucket.Arn}/lists/*"),
}


PUBLISHER_GRANTS: set[Grant] = {
    ("logs:CreateLogStream", "PublisherLogGroup.Arn"),
    ("logs:PutLogEvents", "PublisherLogGroup.Arn"),
    ("xray:PutTraceSegments", "*"),
    ("xray:PutTelemetryRecords", "*"),
    ("dynamodb:DescribeStream", "TasksTable.StreamArn"),
    ("dynamodb:GetRecords", "TasksTable.StreamArn"),
    ("dynamodb:GetShardIterator", "TasksTable.StreamArn"),
    ("dynamodb:ListStreams", "TasksTable.StreamArn"),
    (
        "events:PutEvents",
        "TasksEventBus.Arn | arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}",
    ),
    ("sqs:SendMessage", "PublishFailureQueue.Arn"),
}


WATCHDOG_GRANTS: set[Grant] = {
    ("logs:CreateLogStream", "WatchdogLogGroup.Arn"),
    ("logs:PutLogEvents", "WatchdogLogGroup.Arn"),
    ("xray:PutTraceSegments", "*"),
    ("xray:PutTelemetryRecords", "*"),
    ("dynamodb:Query", "${TasksTable.Arn}/index/ByWatchAt"),
    ("dynamodb:GetItem", "TasksTable.Arn"),
    ("dynamodb:UpdateItem", "TasksTable.Arn"),
    ("sqs:SendMessage", "PollQueue.Arn"),
}


@pytest.mark.parametrize(
    ("function_id", "role_id", "expected"),
    [
        ("PollerFunction", "PollerRole", POLLER_GRANTS),
        ("ApiFunction", "ApiRole", API_GRANTS),
        ("CallbackFunction", "CallbackRole", CALLBACK_GRANTS),
        ("PublisherFunction", "PublisherRole", PUBLISHER_GRANTS),
        ("WatchdogFunction", "WatchdogRole", WATCHDOG_GRANTS),
    ],
)
def test_each_function_is_granted_exactly_the_actions_it_uses_on_exactly_these_resources(
    template: Template, function_id: str, role_id: str, expected: set[Grant]
) -> None:
    assert _properties(template, function_id)["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert _grants(template, role_id) == expected


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_functions_bring_their_own_role_so_sam_attaches_no_managed_policy_with_resource_star(
    template: Template, function_id: str
) -> None:
    # With a generated role SAM would attach AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess and,
    # for the SQS event, AWSLambdaSQSQueueExecutionRole (sqs:ReceiveMessage/DeleteMessage on every queue).
    properties = _properties(template, function_id)
    assert "Role" in properties
    assert "Policies" not in properties
    role_id = properties["Role"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in _properties(template, role_id)


def test_no_policy_statement_anywhere_grants_a_wildcard_action(template: Template) -> None:
    statements = list(_all_policy_statements(template["Resources"]))
    assert statements
    for statement in statements:
        assert "NotAction" not in statement
        if statement["Effect"] == "Deny":
            continue  # a denial of everything (the lists bucket's non-TLS guard) grants nothing
        for action in _as_list(statement["Action"]):
            assert "*" not in action, statement
    denials = [statement for statement in statements if statement["Effect"] == "Deny"]
    assert [statement["Sid"] for statement in denials] == ["DenyInsecureTransport"]


def test_only_x_ray_trace_upload_which_has_no_resource_level_permissions_is_granted_on_every_resource(
    template: Template,
) -> None:
    for role_id in ("PollerRole", "ApiRole", "CallbackRole", "PublisherRole"):
        for statement in _statements(template, role_id):
            assert statement["Effect"] == "Allow"
            if "*" in _as_list(statement["Resource"]):
                assert set(_as_list(statement["Action"])) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


# --------------------------------------------------------------------------------------- authorization


def _routes_from_events(template: Template) -> set[tuple[str, str]]:
    events = _properties(template, "ApiFunction")["Events"].values()
    return {(e["Properties"]["Path"], e["Properties"]["Method"].lower()) for e in events if e["Type"] == "Api"}


def _routes_from_definition(definition: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, methods in definition["paths"].items() for method in methods}


def _definition(template: Template) -> dict[str, Any]:
    body: dict[str, Any] = _properties(template, "TasksApi")["DefinitionBody"]
    return body


def test_the_api_serves_exactly_the_five_task_routes_on_a_rest_api(template: Template) -> None:
    assert template["Resources"]["TasksApi"]["Type"] == "AWS::Serverless::Api"  # REST, not HTTP API
    expected = {
        ("/tasks/{taskId}", "get"),
        ("/tasks/{taskId}/thumbnails", "get"),
        ("/tasks/{taskId}/file-names", "get"),
        ("/tasks", "get"),
        ("/tasks", "post"),
    }
    assert _routes_from_events(template) == expected
    # The definition carries each route's security; SAM merges the events' integrations into it.
    assert _routes_from_definition(_definition(template)) == expected
    for event in _properties(template, "ApiFunction")["Events"].values():
        assert event["Properties"]["RestApiId"] == {"Ref": "TasksApi"}
        assert "Auth" not in event["Properties"]  # a per-route override could open a route


def test_the_callback_route_is_its_own_function_checked_by_the_signature_and_throttled_apart(
    template: Template,
) -> None:
    # ZEGO cannot sign SigV4: the route carries no IAM or API-key security (SAM gives an event route that
    # the definition does not list none), so the function checks the callback signature on every request.
    [event] = _properties(template, "CallbackFunction")["Events"].values()
    assert event["Type"] == "Api"
    assert (event["Properties"]["Path"], event["Properties"]["Method"]) == ("/callbacks/zego", "post")
    assert event["Properties"]["RestApiId"] == {"Ref": "TasksApi"}
    assert "Auth" not in event["Properties"]
    assert "/callbacks/zego" not in _definition(template)["paths"]
    environment = _properties(template, "CallbackFunction")["Environment"]["Variables"]
    assert environment["ZEGO_CALLBACK_SECRET_ARN"] == {"Ref": "ZegoCallbackSecretArn"}
    assert "ZEGO_CALLBACK_SECRET" not in environment  # the value never passes through CloudFormation
    # Only with a CallbackSecret: every callback resource is conditional
    for logical_id in ("CallbackFunction", "CallbackRole", "CallbackLogGroup", "CallbacksRejectedAlarm"):
        assert template["Resources"][logical_id]["Condition"] == "CallbacksEnabled"
    assert template["Conditions"]["CallbacksEnabled"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ZegoCallbackSecretArn"}, ""]}]
    }
    [_, route] = _properties(template, "TasksApi")["MethodSettings"]
    assert (route["ResourcePath"], route["HttpMethod"]) == ("/~1callbacks~1zego", "POST")
    assert route["ThrottlingRateLimit"] == {"Ref": "CallbackThrottlingRateLimit"}
    assert route["ThrottlingBurstLimit"] == {"Ref": "CallbackThrottlingBurstLimit"}


def test_an_alarm_fires_on_a_spike_of_rejected_callbacks(template: Template) -> None:
    alarm = _properties(template, "CallbacksRejectedAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ({"Ref": "PowertoolsMetricsNamespace"}, "CallbacksRejected")
    service = _properties(template, "CallbackFunction")["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": service}]
    assert alarm["Threshold"] == {"Ref": "CallbackRejectedAlarmThreshold"}


def test_state_changes_are_published_from_the_tables_stream_with_bounded_retries_and_a_failure_queue(
    template: Template,
) -> None:
    stream = _properties(template, "TasksTable")["StreamSpecification"]
    assert stream == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    [event] = _properties(template, "PublisherFunction")["Events"].values()
    assert event["Type"] == "DynamoDB"
    settings = event["Properties"]
    assert settings["Stream"] == {"Fn::GetAtt": ["TasksTable", "StreamArn"]}
    assert settings["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert settings["BisectBatchOnFunctionError"] is True
    assert settings["ParallelizationFactor"] == 1  # one invocation per shard: events in write order
    assert settings["MaximumRecordAgeInSeconds"] == {"Ref": "PublisherMaxRecordAgeSeconds"}
    assert settings["MaximumRetryAttempts"] == {"Ref": "PublisherMaxRetryAttempts"}
    assert settings["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["PublishFailureQueue", "Arn"]},
    }
    variables = _properties(template, "PublisherFunction")["Environment"]["Variables"]
    assert variables["EVENT_SOURCE"] == {"Ref": "EventSource"}
    assert template["Parameters"]["EventSource"]["Default"] == "zego-media-tasks"
    # The stack's own bus, or an existing one named by the operator
    assert template["Resources"]["TasksEventBus"]["Condition"] == "CreateEventBus"
    assert variables["EVENT_BUS_NAME"] == {
        "Fn::If": ["CreateEventBus", {"Ref": "TasksEventBus"}, {"Ref": "EventBusName"}]
    }


def test_alarms_watch_publish_failures_and_the_failure_queue(template: Template) -> None:
    failures = _properties(template, "PublishFailuresAlarm")
    assert (failures["MetricName"], failures["Namespace"]) == ("PublishFailures", {"Ref": "PowertoolsMetricsNamespace"})
    parked = _properties(template, "PublishFailureQueueNotEmptyAlarm")
    assert parked["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["PublishFailureQueue", "QueueName"]}}
    ]


def test_api_auth_mode_offers_no_unauthenticated_option_and_defaults_to_iam(template: Template) -> None:
    parameter = template["Parameters"]["ApiAuthMode"]
    assert parameter["AllowedValues"] == ["IAM", "API_KEY"]
    assert parameter["Default"] == "IAM"
    assert template["Conditions"]["UseApiKeyAuth"] == {"Fn::Equals": [{"Ref": "ApiAuthMode"}, "API_KEY"]}


def test_by_default_every_route_requires_a_sigv4_signature(template: Template) -> None:
    definition = _resolve_conditions(_definition(template), {"UseApiKeyAuth": False})
    assert definition["securityDefinitions"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    for methods in definition["paths"].values():
        for operation in methods.values():
            assert operation["security"] == [{"sigv4": []}]


def test_in_api_key_mode_every_route_requires_a_key_under_a_usage_plan(template: Template) -> None:
    definition = _resolve_conditions(_definition(template), {"UseApiKeyAuth": True})
    assert definition["securityDefinitions"]["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    for methods in definition["paths"].values():
        for operation in methods.values():
            assert operation["security"] == [{"api_key": []}]
    for logical_id in ("TasksApiKey", "TasksApiUsagePlan", "TasksApiUsagePlanKey"):
        assert template["Resources"][logical_id]["Condition"] == "UseApiKeyAuth"
    plan = _properties(template, "TasksApiUsagePlan")
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "TasksApi"}, "Stage": {"Ref": "TasksApi.Stage"}}]


def test_the_stage_is_throttled_and_access_logged_to_a_log_group_with_retention(template: Template) -> None:
    api = _properties(template, "TasksApi")
    settings = api["MethodSettings"][0]
    assert settings["ResourcePath"] == "/*"
    assert settings["HttpMethod"] == "*"
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    assert settings["DataTraceEnabled"] is False
    assert api["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert json.loads(api["AccessLogSetting"]["Format"])["requestId"] == "$context.requestId"
    assert _properties(template, "ApiAccessLogGroup")["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 30


@pytest.mark.parametrize(
    ("function_id", "log_group_id"),
    [
        ("PollerFunction", "PollerLogGroup"),
        ("ApiFunction", "ApiFunctionLogGroup"),
        ("CallbackFunction", "CallbackLogGroup"),
        ("PublisherFunction", "PublisherLogGroup"),
        ("WatchdogFunction", "WatchdogLogGroup"),
    ],
)
def test_each_function_logs_to_its_own_log_group_with_retention(
    template: Template, function_id: str, log_group_id: str
) -> None:
    assert _properties(template, function_id)["LoggingConfig"]["LogGroup"] == {"Ref": log_group_id}
    assert _properties(template, log_group_id)["RetentionInDays"] == {"Ref": "LogRetentionDays"}


# ------------------------------------------------------------------------------------- queue and poller


def _allowed(parameter: dict[str, Any]) -> list[int]:
    return [int(value) for value in parameter["AllowedValues"]]


def _rule_holds(expression: Any, values: dict[str, str]) -> bool:
    """Evaluate the rule functions this template uses (``Fn::Equals``, ``Fn::Contains``) like CloudFormation."""

    def operand(value: Any) -> Any:
        return values[value["Ref"]] if isinstance(value, dict) and "Ref" in value else value

    if "Fn::Equals" in expression:
        left, right = expression["Fn::Equals"]
        return str(operand(left)) == str(operand(right))
    if "Fn::Contains" in expression:
        candidates, value = expression["Fn::Contains"]
        return str(operand(value)) in [str(candidate) for candidate in candidates]
    raise AssertionError(f"rule function not handled here: {expression!r}")


def _rules_accept(template: Template, values: dict[str, str]) -> bool:
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not _rule_holds(rule["RuleCondition"], values):
            continue
        if not all(_rule_holds(assertion["Assert"], values) for assertion in rule["Assertions"]):
            return False
    return True


def test_the_poll_queue_visibility_timeout_and_the_poller_timeout_are_parameters(template: Template) -> None:
    assert _properties(template, "PollQueue")["VisibilityTimeout"] == {"Ref": "PollVisibilityTimeoutSeconds"}
    assert _properties(template, "PollerFunction")["Timeout"] == {"Ref": "PollerTimeoutSeconds"}
    defaults = parameter_defaults(template)
    assert defaults["PollerTimeoutSeconds"] == 30
    assert defaults["PollVisibilityTimeoutSeconds"] >= 6 * defaults["PollerTimeoutSeconds"]


def test_the_rules_accept_exactly_the_visibility_timeouts_of_at_least_six_poller_timeouts(
    template: Template,
) -> None:
    timeouts = _allowed(template["Parameters"]["PollerTimeoutSeconds"])
    visibilities = _allowed(template["Parameters"]["PollVisibilityTimeoutSeconds"])
    for timeout in timeouts:
        accepted = [
            visibility
            for visibility in visibilities
            if _rules_accept(
                template,
                {"PollerTimeoutSeconds": str(timeout), "PollVisibilityTimeoutSeconds": str(visibility)},
            )
        ]
        assert accepted == [v for v in visibilities if v >= 6 * timeout], timeout
        assert accepted, f"no allowed visibility timeout covers a {timeout} s poller timeout"


def test_the_dead_letter_queue_keeps_messages_14_days_and_receives_after_max_receive_count(
    template: Template,
) -> None:
    assert _properties(template, "PollDeadLetterQueue")["MessageRetentionPeriod"] == 1209600
    redrive = _properties(template, "PollQueue")["RedrivePolicy"]
    assert redrive == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["PollDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "PollMaxReceiveCount"},
    }


def test_queues_and_tables_are_encrypted_and_task_records_are_recoverable(template: Template) -> None:
    for queue_id in ("PollQueue", "PollDeadLetterQueue"):
        assert _properties(template, queue_id)["SqsManagedSseEnabled"] is True
    for table_id in ("TasksTable", "RateLimitTable"):
        assert _properties(template, table_id)["SSESpecification"] == {"SSEEnabled": True}
    tasks = _properties(template, "TasksTable")
    assert tasks["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_the_lists_bucket_is_encrypted_private_tls_only_and_expires_its_lists_after_their_records(
    template: Template,
) -> None:
    bucket = _properties(template, "TaskListsBucket")
    [encryption] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [rule] = bucket["LifecycleConfiguration"]["Rules"]
    assert (rule["Status"], rule["Prefix"]) == ("Enabled", OBJECT_PREFIX)
    assert rule["ExpirationInDays"] == {"Ref": "TaskListsExpirationDays"}
    # A list outlives its record: written at the task's last answer, the record deleted by TTL up to two
    # days after its TerminalRecordTtlDays.
    parameters = template["Parameters"]
    assert parameters["TaskListsExpirationDays"]["Default"] >= parameters["TerminalRecordTtlDays"]["Default"] + 2
    [statement] = _properties(template, "TaskListsBucketPolicy")["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Deny", "s3:*")
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [
        {"Fn::GetAtt": ["TaskListsBucket", "Arn"]},
        {"Fn::Sub": "${TaskListsBucket.Arn}/*"},
    ]


def test_the_locally_provisioned_resources_use_only_intrinsics_devstack_can_resolve(template: Template) -> None:
    def intrinsics(value: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "Ref" or key.startswith("Fn::"):
                    yield key, item
                else:
                    yield from intrinsics(item)
        elif isinstance(value, list):
            for item in value:
                yield from intrinsics(item)

    queues = set(_resources(template, "AWS::SQS::Queue"))
    for logical_id in ("TasksTable", "RateLimitTable", "PollDeadLetterQueue", "PollQueue"):
        for name, argument in intrinsics(_properties(template, logical_id)):
            if name == "Ref":
                assert argument in template["Parameters"], (logical_id, argument)
            else:
                assert name == "Fn::GetAtt", (logical_id, name)
                assert argument[0] in queues, (logical_id, argument)
                assert argument[1] == "Arn", (logical_id, argument)


def test_the_poller_consumes_the_poll_queue_with_partial_batch_responses_and_bounded_concurrency(
    template: Template,
) -> None:
    [event] = _properties(template, "PollerFunction")["Events"].values()
    assert event["Type"] == "SQS"
    properties = event["Properties"]
    assert properties["Queue"] == {"Fn::GetAtt": ["PollQueue", "Arn"]}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == {"Ref": "PollBatchSize"}
    assert properties["MaximumBatchingWindowInSeconds"] == {"Ref": "PollBatchingWindowSeconds"}
    assert properties["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "PollMaxConcurrency"}
    defaults = parameter_defaults(template)
    assert (defaults["PollBatchSize"], defaults["PollBatchingWindowSeconds"], defaults["PollMaxConcurrency"]) == (
        10,
        1,
        7,
    )
    assert template["Parameters"]["PollMaxConcurrency"]["MinValue"] == 2  # Lambda's minimum


def test_the_poller_may_re_enqueue_onto_the_queue_that_invokes_it(template: Template) -> None:
    # Lambda's recursive loop detection would otherwise stop a task's poll chain after about 16 polls.
    assert _properties(template, "PollerFunction")["RecursiveLoop"] == "Allow"


# ------------------------------------------------------------------------------------ settings as knobs

POLLER_RESOURCE_VARIABLES = {
    "TABLE_NAME": {"Ref": "TasksTable"},
    "RATE_LIMIT_TABLE_NAME": {"Ref": "RateLimitTable"},
    "QUEUE_URL": {"Ref": "PollQueue"},
    "DLQ_URL": {"Ref": "PollDeadLetterQueue"},
    "LISTS_BUCKET_NAME": {"Ref": "TaskListsBucket"},
    # Polling backs off further exactly when the stack receives callbacks
    "CALLBACKS_ENABLED": {"Fn::If": ["CallbacksEnabled", "true", "false"]},
}
POWERTOOLS_KNOBS = {"POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
"""The Powertools knobs every function takes (metrics namespace, log level)."""
POLLER_KNOBS = {
    "ZEGO_APP_ID",
    "ZEGO_SERVER_SECRET_ARN",
    "ZEGO_ENDPOINT",
    "ZEGO_IS_TEST",
    "ZEGO_CONNECT_TIMEOUT_SECONDS",
    "ZEGO_READ_TIMEOUT_SECONDS",
    "ZEGO_MAX_RESPONSE_BYTES",
    "SECRET_CACHE_SECONDS",
    "ZEGO_RATE_LIMIT_PER_SECOND",
    "RATE_LIMIT_MAX_WAIT_SECONDS",
    "RATE_LIMIT_ARRIVAL_SPREAD_SECONDS",
    "POLL_BACKOFF_BASE_SECONDS",
    "POLL_BACKOFF_FACTOR",
    "POLL_BACKOFF_CAP_SECONDS",
    "POLL_BACKOFF_JITTER",
    "POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS",
    "POLL_BACKOFF_BASE_WITH_CALLBACKS_SECONDS",
    "THROTTLE_RETRY_SECONDS",
    "NOT_FOUND_GRACE_SECONDS",
    "TASK_DEADLINE_SECONDS",
    "TERMINAL_RECORD_TTL_DAYS",
} | POWERTOOLS_KNOBS
API_RESOURCE_VARIABLES = {
    "TABLE_NAME": {"Ref": "TasksTable"},
    "QUEUE_URL": {"Ref": "PollQueue"},
    "PAGINATION_SECRET_ARN": {"Ref": "PaginationTokenSecret"},
    "LISTS_BUCKET_NAME": {"Ref": "TaskListsBucket"},
}
API_KNOBS = {"TASK_DEADLINE_SECONDS", "SECRET_CACHE_SECONDS"} | POWERTOOLS_KNOBS
CALLBACK_RESOURCE_VARIABLES = {"TABLE_NAME": {"Ref": "TasksTable"}, "LISTS_BUCKET_NAME": {"Ref": "TaskListsBucket"}}
CALLBACK_KNOBS = {
    "ZEGO_APP_ID",
    "ZEGO_CALLBACK_SECRET_ARN",
    "CALLBACK_MAX_AGE_SECONDS",
    "SECRET_CACHE_SECONDS",
    "TASK_DEADLINE_SECONDS",
    "TERMINAL_RECORD_TTL_DAYS",
} | POWERTOOLS_KNOBS
PUBLISHER_RESOURCE_VARIABLES = {
    "EVENT_BUS_NAME": {"Fn::If": ["CreateEventBus", {"Ref": "TasksEventBus"}, {"Ref": "EventBusName"}]}
}
PUBLISHER_KNOBS = {"EVENT_SOURCE"} | POWERTOOLS_KNOBS
WATCHDOG_RESOURCE_VARIABLES = {"TABLE_NAME": {"Ref": "TasksTable"}, "QUEUE_URL": {"Ref": "PollQueue"}}
WATCHDOG_KNOBS = {
    "WATCHDOG_GRACE_SECONDS",
    "POLL_VISIBILITY_TIMEOUT_SECONDS",
    "POLL_MAX_RECEIVE_COUNT",
} | POWERTOOLS_KNOBS


@pytest.mark.parametrize(
    ("function_id", "resources", "knobs"),
    [
        ("PollerFunction", POLLER_RESOURCE_VARIABLES, POLLER_KNOBS),
        ("ApiFunction", API_RESOURCE_VARIABLES, API_KNOBS),
        ("CallbackFunction", CALLBACK_RESOURCE_VARIABLES, CALLBACK_KNOBS),
        ("PublisherFunction", PUBLISHER_RESOURCE_VARIABLES, PUBLISHER_KNOBS),
        ("WatchdogFunction", WATCHDOG_RESOURCE_VARIABLES, WATCHDOG_KNOBS),
    ],
)
def test_every_setting_of_a_function_is_a_stack_resource_or_the_parameter_of_the_same_name(
    template: Template, function_id: str, resources: dict[str, Any], knobs: set[str]
) -> None:
    variables: dict[str, Any] = _properties(template, function_id)["Environment"]["Variables"]
    assert set(variables) == set(resources) | knobs | {"POWERTOOLS_SERVICE_NAME"}
    for name, value in resources.items():
        assert variables[name] == value
    for name in knobs:
        assert variables[name] == {"Ref": _camel(name)}, name
        assert _camel(name) in template["Parameters"], name


def test_every_parameter_is_described_constrained_and_used(template: Template) -> None:
    used = {
        target
        for section in ("Resources", "Outputs", "Conditions")
        for target, _ in _references(template[section], frozenset())
    }
    for name, spec in template["Parameters"].items():
        assert spec.get("Description"), name
        if spec["Type"] == "Number":
            assert "AllowedValues" in spec or {"MinValue", "MaxValue"} <= set(spec), name
        else:
            assert "AllowedValues" in spec or "AllowedPattern" in spec, name
        assert name in used, f"parameter {name} is never used"


def test_poll_schedule_and_rate_limit_defaults(template: Template) -> None:
    # The template's defaults are the code's one default of each knob, not a second copy of the numbers.
    defaults = parameter_defaults(template)
    assert defaults["ZegoRateLimitPerSecond"] == DEFAULT_RATE_LIMIT_PER_SECOND
    assert template["Parameters"]["ZegoRateLimitPerSecond"]["MaxValue"] == 20  # ZEGO's per-AppId limit
    assert defaults["RateLimitMaxWaitSeconds"] == DEFAULT_RATE_LIMIT_MAX_WAIT_SECONDS
    backoff = BackoffPolicy(
        defaults["PollBackoffBaseSeconds"],
        defaults["PollBackoffFactor"],
        defaults["PollBackoffCapSeconds"],
        defaults["PollBackoffJitter"],
    )
    assert backoff == BackoffPolicy()
    with_callbacks = (defaults["PollBackoffBaseWithCallbacksSeconds"], defaults["PollBackoffCapWithCallbacksSeconds"])
    assert with_callbacks == (DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS, DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS)
    assert ThrottleDelay(defaults["ThrottleRetrySeconds"]) == ThrottleDelay()
    policy = PollingPolicy()
    assert defaults["NotFoundGraceSeconds"] == policy.not_found_grace_seconds
    assert defaults["TaskDeadlineSeconds"] == policy.task_deadline_seconds
    assert defaults["TerminalRecordTtlDays"] == policy.terminal_record_ttl_days
    assert template["Parameters"]["PollBackoffCapSeconds"]["MaxValue"] == 900  # SQS's longest delay


_FUNCTION_SETTINGS: dict[str, tuple[type[SettingsModel], ...]] = {
    "PollerFunction": (PollerSettings, ZegoSettings),
    "ApiFunction": (ApiSettings,),
    "CallbackFunction": (CallbackSettings,),
    "PublisherFunction": (PublisherSettings,),
    "WatchdogFunction": (WatchdogSettings,),
}
# Values for the variables without a template default (stack resources, the operator's parameters).
_WITHOUT_DEFAULT = {
    "TABLE_NAME": "tasks",
    "RATE_LIMIT_TABLE_NAME": "rate",
    "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/poll",
    "DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/poll-dlq",
    "ZEGO_APP_ID": "1234567890",
    "ZEGO_SERVER_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:zego-AbCdEf",
    "PAGINATION_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:pagination-AbCdEf",
    "ZEGO_CALLBACK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:callback-AbCdEf",
    "EVENT_BUS_NAME": "tasks-bus",
}


@pytest.mark.parametrize("function_id", sorted(_FUNCTION_SETTINGS))
def test_every_variable_a_function_receives_is_one_its_settings_read(template: Template, function_id: str) -> None:
    variables = set(_properties(template, function_id)["Environment"]["Variables"])
    read = {knob.variable for model in _FUNCTION_SETTINGS[function_id] for knob in knobs(model).values()}
    assert {name for name in variables if not name.startswith("POWERTOOLS_")} <= read


@pytest.mark.parametrize("function_id", sorted(_FUNCTION_SETTINGS))
def test_the_template_defaults_are_the_code_defaults(template: Template, function_id: str) -> None:
    # Given the environment a deployment with every default gets, as the function's settings read it
    variables: dict[str, Any] = _properties(template, function_id)["Environment"]["Variables"]
    defaults = parameter_defaults(template)
    references = {name: value["Ref"] for name, value in variables.items() if isinstance(value, dict) and "Ref" in value}
    # An empty default is "unset" to every settings model (and for ZegoCallbackSecretArn it means the function
    # is not deployed at all), so only the non-empty ones are compared.
    from_template = {
        name: str(defaults[ref]) for name, ref in references.items() if defaults.get(ref) not in (None, "")
    }
    assert from_template, "the template passes no parameter defaults"
    for model in _FUNCTION_SETTINGS[function_id]:
        # Then each knob has the value the code takes when the variable is unset
        assert model.from_env({**_WITHOUT_DEFAULT, **from_template}) == model.from_env(_WITHOUT_DEFAULT), model


def test_the_zego_secret_is_an_operator_provided_secret_arn_and_never_a_value(template: Template) -> None:
    parameter = template["Parameters"]["ZegoServerSecretArn"]
    assert "Default" not in parameter
    assert parameter["AllowedPattern"].startswith("^arn:aws[a-z-]*:secretsmanager:")
    assert template["Parameters"]["ZegoAppId"]["Type"] == "Number"
    assert "ZegoServerSecret" not in template["Parameters"]  # the value itself never passes through CloudFormation


# ----------------------------------------------------------------------------------------------- names

_NAME_PROPERTIES = {
    "TableName",
    "QueueName",
    "FunctionName",
    "RoleName",
    "LogGroupName",
    "LayerName",
    "TopicName",
    "AlarmName",
    "Name",
    "UsagePlanName",
}


def test_no_resource_has_a_fixed_physical_name(template: Template) -> None:
    for logical_id, resource in template["Resources"].items():
        for key in _NAME_PROPERTIES & set(resource.get("Properties", {})):
            value = resource["Properties"][key]
            # A name derived from the stack name is unique per stack; a literal would collide.
            assert isinstance(value, dict), (logical_id, key)
            assert "AWS::StackName" in json.dumps(value), (logical_id, key)


# ---------------------------------------------------------------------------------------------- alarms


def _alarm(template: Template, namespace: str, metric: str) -> dict[str, Any]:
    alarms: list[dict[str, Any]] = [
        r["Properties"]
        for r in _resources(template, "AWS::CloudWatch::Alarm").values()
        if r["Properties"]["Namespace"] == namespace and r["Properties"]["MetricName"] == metric
    ]
    [alarm] = alarms
    return alarm


def test_alarms_watch_the_dead_letter_queue_queue_age_poller_errors_and_api_5xx(template: Template) -> None:
    dlq = _properties(template, "PollDeadLetterQueueNotEmptyAlarm")
    assert (dlq["Namespace"], dlq["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["PollDeadLetterQueue", "QueueName"]}}]
    assert (dlq["ComparisonOperator"], dlq["Threshold"]) == ("GreaterThanThreshold", 0)

    age = _alarm(template, "AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert age["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["PollQueue", "QueueName"]}}]
    assert age["Threshold"] == {"Ref": "PollOldestMessageAgeAlarmSeconds"}

    errors = _alarm(template, "AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "PollerFunction"}}]
    assert (errors["ComparisonOperator"], errors["Threshold"]) == ("GreaterThanThreshold", 0)

    api = _alarm(template, "AWS/ApiGateway", "5XXError")
    dimensions = {d["Name"]: d["Value"] for d in api["Dimensions"]}
    assert dimensions["ApiName"] == _properties(template, "TasksApi")["Name"]
    assert dimensions["Stage"] == {"Ref": "TasksApi.Stage"}


def test_an_alarm_fires_on_a_spike_of_rejected_poll_outcomes(template: Template) -> None:
    alarm = _properties(template, "RejectedOutcomesAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ({"Ref": "PowertoolsMetricsNamespace"}, "Outcomes")
    # The poller's Outcomes metric with its Kind dimension, as poller/telemetry.py emits it
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "service": _properties(template, "PollerFunction")["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"],
        "Kind": "REJECTED",
    }
    assert (alarm["Statistic"], alarm["ComparisonOperator"]) == ("Sum", "GreaterThanThreshold")
    assert alarm["Threshold"] == {"Ref": "RejectedOutcomesAlarmThreshold"}


def test_the_watchdog_runs_on_a_schedule_every_few_minutes_by_default(template: Template) -> None:
    [event] = _properties(template, "WatchdogFunction")["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == {"Fn::Sub": "rate(${WatchdogScheduleMinutes} minutes)"}
    assert parameter_defaults(template)["WatchdogScheduleMinutes"] == 5
    # "rate(1 minutes)" is no valid expression: the plural needs at least 2
    assert template["Parameters"]["WatchdogScheduleMinutes"]["MinValue"] >= 2


def test_the_watchdogs_default_grace_outlasts_every_failed_receive_of_a_live_message(template: Template) -> None:
    defaults = parameter_defaults(template)
    shortest = minimum_grace_seconds(
        int(defaults["PollVisibilityTimeoutSeconds"]), int(defaults["PollMaxReceiveCount"])
    )
    assert defaults["WatchdogGraceSeconds"] == DEFAULT_GRACE_SECONDS >= shortest


def test_the_watchdog_reads_a_sparse_keys_only_index_of_its_own(template: Template) -> None:
    table = _properties(template, "TasksTable")
    [index] = [entry for entry in table["GlobalSecondaryIndexes"] if entry["IndexName"] == WATCH_INDEX]
    assert index["KeySchema"] == [
        {"AttributeName": WATCH_SHARD_ATTR, "KeyType": "HASH"},
        {"AttributeName": WATCH_AT_ATTR, "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    assert (types[WATCH_SHARD_ATTR], types[WATCH_AT_ATTR]) == ("S", "N")


def test_an_alarm_fires_when_chains_keep_being_revived(template: Template) -> None:
    alarm = _properties(template, "ChainsRevivedAlarm")
    assert (alarm["MetricName"], alarm["Statistic"]) == ("ChainsRevived", "Sum")
    assert alarm["Dimensions"] == [
        {
            "Name": "service",
            "Value": _properties(template, "WatchdogFunction")["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"],
        }
    ]
    assert alarm["Threshold"] == {"Ref": "ChainsRevivedAlarmThreshold"}
    assert alarm["DatapointsToAlarm"] > 1  # "keep being revived": one burst alone does not fire it


def test_alarms_notify_the_optional_topic_and_have_no_actions_without_one(template: Template) -> None:
    for alarm in _resources(template, "AWS::CloudWatch::Alarm").values():
        for key in ("AlarmActions", "OKActions"):
            properties = alarm["Properties"]
            assert _resolve_conditions(properties, {"HasAlarmTopic": True})[key] == [{"Ref": "AlarmTopicArn"}]
            assert key not in _resolve_conditions(properties, {"HasAlarmTopic": False})
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""


# --------------------------------------------------------------------------------------------- outputs


def test_outputs_name_the_table_queues_api_and_functions(template: Template) -> None:
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}
    assert outputs["TasksTableName"] == {"Ref": "TasksTable"}
    assert outputs["PollQueueUrl"] == {"Ref": "PollQueue"}
    assert outputs["PollDeadLetterQueueUrl"] == {"Ref": "PollDeadLetterQueue"}
    assert outputs["PollerFunctionName"] == {"Ref": "PollerFunction"}
    assert outputs["ApiFunctionName"] == {"Ref": "ApiFunction"}
    assert outputs["ApiUrl"]["Fn::Sub"].startswith("https://${TasksApi}.execute-api.")
    assert outputs["CallbackUrl"]["Fn::Sub"].endswith("/${TasksApi.Stage}/callbacks/zego")
    assert template["Outputs"]["CallbackUrl"]["Condition"] == "CallbacksEnabled"


# ------------------------------------------------------------------ what CloudFormation receives (SAM)

_TRANSLATE = """
import json, sys
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

with open(sys.argv[1], encoding="utf-8") as handle:
    template = yaml_parse(handle.read())
for resource in template["Resources"].values():
    properties = resource.get("Properties", {})
    for key in ("CodeUri", "ContentUri"):  # as `sam validate` does: the translator wants S3 locations
        if isinstance(properties.get(key), str):
            properties[key] = "s3://bucket/key"
translated = Translator(None, Parser()).translate(
    template, parameter_values=json.loads(sys.argv[2]), get_managed_policy_map=dict
)
print(json.dumps(translated))
"""

MODES = {"IAM": {"UseApiKeyAuth": False}, "API_KEY": {"UseApiKeyAuth": True}}


@pytest.fixture(scope="module")
def translated() -> Template:
    """The template after the SAM transform (the same for both auth modes: CloudFormation picks the branch)."""
    if not SAM_PYTHON.exists():
        pytest.skip("the SAM CLI venv (.tools/sam) is not installed; `make tools` creates it")
    environment = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}  # fills pseudo parameters only
    completed = subprocess.run(  # noqa: S603 - fixed interpreter and script, no shell
        [str(SAM_PYTHON), "-c", _TRANSLATE, str(TEMPLATE_PATH), json.dumps({"ApiAuthMode": "IAM"})],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        timeout=120,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
    assert completed.returncode == 0, "SAM could not translate template.yaml"
    document: Template = json.loads(completed.stdout)
    return document


def _conditions(mode: str, translated: Template) -> dict[str, bool]:
    return dict.fromkeys(translated.get("Conditions", {}), False) | MODES[mode]


@pytest.mark.parametrize("callbacks", [False, True])
@pytest.mark.parametrize("mode", sorted(MODES))
def test_after_the_transform_every_method_has_an_integration_and_requires_authorization(
    translated: Template, mode: str, callbacks: bool
) -> None:
    [rest_api] = _resources(translated, "AWS::ApiGateway::RestApi").values()
    conditions = _conditions(mode, translated) | {"CallbacksEnabled": callbacks}
    body = _resolve_conditions(rest_api["Properties"]["Body"], conditions)
    expected_scheme = "api_key" if mode == "API_KEY" else "sigv4"
    operations = {(path, method): op for path, methods in body["paths"].items() for method, op in methods.items()}
    callback_route = ("/callbacks/zego", "post")
    assert len(operations) == (6 if callbacks else 5)
    assert (callback_route in operations) is callbacks
    for route, operation in operations.items():
        # The callback route alone has no IAM or API-key requirement: the signature is checked in code.
        if route != callback_route:
            assert operation["security"] == [{expected_scheme: []}]
        else:
            assert "security" not in operation
        assert operation["x-amazon-apigateway-integration"]["type"] == "aws_proxy"


def test_after_the_transform_the_only_stage_is_the_configured_one(translated: Template) -> None:
    # Without OpenApiVersion SAM's deployment would also create a stage called "Stage", unthrottled and
    # without access logs.
    [stage] = _resources(translated, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == "v1"
    for deployment in _resources(translated, "AWS::ApiGateway::Deployment").values():
        assert "StageName" not in deployment["Properties"]


def test_after_the_transform_no_role_carries_a_managed_policy_but_api_gateways_logging_role(
    translated: Template,
) -> None:
    roles = _resources(translated, "AWS::IAM::Role")
    assert set(roles) == {
        "PollerRole",
        "ApiRole",
        "CallbackRole",
        "PublisherRole",
        "WatchdogRole",
        "ApiGatewayLoggingRole",
    }
    for logical_id, role in roles.items():
        if logical_id != "ApiGatewayLoggingRole":
            assert "ManagedPolicyArns" not in role["Properties"], logical_id
    assert translated["Resources"]["ApiGatewayLoggingRole"]["Condition"] == "CreateApiGatewayLoggingRole"
    for statement in _all_policy_statements(translated["Resources"]):
        if statement["Effect"] == "Deny":
            continue  # grants nothing (the lists bucket's non-TLS guard)
        for action in _as_list(statement["Action"]):
            assert "*" not in action


def test_after_the_transform_conditional_resources_are_referred_to_only_under_their_condition(
    translated: Template,
) -> None:
    """So that the stack deploys with either auth mode and either logging-role choice."""
    resources = translated["Resources"]
    for logical_id, entry in (*resources.items(), *translated["Outputs"].items()):
        holding = frozenset(_as_list(entry.get("Condition", [])))
        body = {key: value for key, value in entry.items() if key not in ("Type", "Condition", "Metadata")}
        for target, known_true in _references(body, holding):
            condition = resources.get(target, {}).get("Condition")
            assert condition is None or condition in known_true, (logical_id, target)
