"""``make smoke`` against the local stack (part of ``make test``, so that the suite cannot rot), and its
``STACK`` mode against a CloudFormation stack in the local stack's moto server whose Outputs point at the
local stack: target resolution from Outputs and Parameters, SigV4 signing and the API key, the
CallbackSecret read from Secrets Manager, and what the suite does when a check fails.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
import requests
from smoke.__main__ import run
from smoke.checks import CheckError, Suite
from smoke.targets import ApiKey, SigV4, Target, local_options, of_local_stack

from devstack.stack import LOCAL_APP_ID, LocalStack

pytestmark = pytest.mark.e2e

CHECKS = [
    "events: temporary rule and queue",
    "api: register",
    "api: read back",
    "api: list by status",
    "events: registration",
    "callbacks: signed callback",
    "events: callback",
    "alarms",
    "api: refuses unsigned calls",
]


@pytest.fixture(scope="module")
def local() -> Iterator[tuple[LocalStack, Target]]:
    callback_secret = secrets.token_hex(16)
    with LocalStack(local_options(callback_secret)) as stack:
        yield stack, of_local_stack(stack, callback_secret)


def _leftovers(target: Target) -> tuple[list[str], list[str]]:
    """The suite's rules on the bus and its queues still there (both named ``smoke-...``)."""
    rules = target.session.client("events").list_rules(EventBusName=target.bus_name, NamePrefix="smoke-")["Rules"]
    queues = target.session.client("sqs").list_queues(QueueNamePrefix="smoke-").get("QueueUrls", [])
    return [rule["Name"] for rule in rules], queues


def test_the_suite_passes_against_the_local_stack_and_leaves_no_rule_or_queue(
    local: tuple[LocalStack, Target],
) -> None:
    _, target = local
    outcomes = Suite(target, event_timeout_seconds=30).run()

    assert [outcome.name for outcome in outcomes] == CHECKS
    assert all(outcome.passed for outcome in outcomes), outcomes
    assert [outcome.name for outcome in outcomes if not outcome.applicable] == ["api: refuses unsigned calls"]
    details = {outcome.name: outcome.detail for outcome in outcomes}
    assert "CallbacksRejectedAlarm" in target.expected_alarms["CallbackFunction"]
    wanted = set().union(*target.expected_alarms.values())
    assert details["alarms"].startswith(f"{len(wanted)} alarms in CloudWatch, every function watched: ")
    assert "not applicable" not in details["callbacks: signed callback"]
    assert details["events: callback"].endswith("PENDING -> SUCCEEDED (sequence 2)")
    assert _leftovers(target) == ([], [])


def test_a_failing_check_fails_the_run_and_still_deletes_the_rule_and_queue(local: tuple[LocalStack, Target]) -> None:
    _, target = local
    nowhere = replace(target, api_url=f"{target.api_url}/nowhere")
    with pytest.raises(CheckError, match=r"^api: register: POST .* answered 404, not 202"):
        Suite(nowhere).run()
    assert _leftovers(target) == ([], [])


def test_a_missing_alarm_fails_the_alarm_check(local: tuple[LocalStack, Target]) -> None:
    _, target = local
    without = dict(target.alarms)
    del without["PollerErrorsAlarm"]
    with pytest.raises(CheckError, match=r"^alarms: the stack has no PollerErrorsAlarm$"):
        Suite(replace(target, alarms=without), event_timeout_seconds=30).run()


def _cloudformation_stack(stack: LocalStack, target: Target, mode: str) -> str:
    """A stack in the emulator's CloudFormation with the Outputs and Parameters of a deployed one, pointing
    at the local stack (moto cannot deploy the SAM template itself)."""
    session = boto3.session.Session()
    secret = session.client("secretsmanager").create_secret(
        Name=f"smoke-callback-{secrets.token_hex(4)}",
        SecretString=json.dumps({"CallbackSecret": target.callbacks.secret if target.callbacks else ""}),
    )
    key = session.client("apigateway").create_api_key(name=f"smoke-{secrets.token_hex(4)}", enabled=True)
    values = {
        "ApiUrl": target.api_url,
        "EventBusName": target.bus_name,
        "EventSource": target.event_source,
        "CallbackUrl": stack.callback_url,
        "ApiKeyId": key["id"],
    }
    parameters = {"ApiAuthMode": mode, "ZegoAppId": str(LOCAL_APP_ID), "ZegoCallbackSecretArn": secret["ARN"]}
    body: dict[str, Any] = {
        "Parameters": {name: {"Type": "String"} for name in parameters},
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {name: {"Value": value} for name, value in values.items()},
    }
    name = f"deployed-{mode.lower().replace('_', '-')}-{secrets.token_hex(4)}"
    session.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
    )
    return name


@pytest.mark.parametrize("mode", ["IAM", "API_KEY"])
def test_stack_mode_reads_the_outputs_and_calls_with_credentials_and_the_callback_secret(
    local: tuple[LocalStack, Target], mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the stack's Outputs and Parameters alone: the API with SigV4 or the API key, the callback
    signed with the CallbackSecret read from Secrets Manager, the events from the Outputs' bus. moto's
    CloudFormation cannot hold alarms, so the run must then fail on them, with one line."""
    stack, target = local
    name = _cloudformation_stack(stack, target, mode)
    out = io.StringIO()

    assert run(name, target.session.region_name, out=out) == 1

    lines = out.getvalue().splitlines()
    assert lines[0] == f"smoke: checking stack {name} in {target.session.region_name} ({mode} auth)"
    assert [line[:4] for line in lines[1:]] == [*(["ok  "] * 7), "FAIL"]
    assert all(line[5:].startswith(f"{name}: ") for line, name in zip(lines[1:], CHECKS[:8], strict=True))
    assert "not applicable" not in out.getvalue()
    failure = capsys.readouterr().err.splitlines()
    assert len(failure) == 1
    assert failure[0].startswith("smoke: FAILED alarms: the stack has no Api5xxAlarm, ")
    assert _leftovers(target) == ([], [])


def test_an_api_that_answers_calls_without_credentials_fails_the_run(local: tuple[LocalStack, Target]) -> None:
    _, target = local
    keyed = replace(target, auth=ApiKey("a-key-the-local-gateway-does-not-need"), auth_mode="API_KEY")
    with pytest.raises(CheckError, match=r"^api: refuses unsigned calls: GET .* without credentials answered 200$"):
        Suite(keyed, event_timeout_seconds=30).run()
    assert _leftovers(target) == ([], [])


def test_sigv4_signs_for_execute_api_in_the_region_with_the_session_token() -> None:
    credentials = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", aws_session_token="token"
    ).get_credentials()
    assert credentials is not None
    prepared = requests.Request(
        "POST", "https://abc.execute-api.eu-west-1.amazonaws.com/v1/tasks?x=1", json={"TaskId": "t"}
    ).prepare()
    signed = SigV4(credentials.get_frozen_credentials(), "eu-west-1")(prepared)
    authorization = signed.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token" in authorization
    assert signed.headers["X-Amz-Security-Token"] == "token"
