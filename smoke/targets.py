"""Where the smoke checks run: a deployed stack (from its CloudFormation Outputs) or the local stack.

A :class:`Target` is everything the checks need and nothing about how it was found. Resolving a deployed
stack fails with one :class:`TargetError` line when there are no credentials, no region, or no such stack.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from devstack.resources import present_resources
from devstack.stack import LOCAL_APP_ID, LocalStack, StackOptions
from devstack.template import load_template
from smoke.alarms import ALARM_TYPE, function_alarms
from zego_media_tasks.callbacks.settings import CALLBACK_SECRET_JSON_KEY
from zego_media_tasks.config.secrets import SecretShapeError, secret_text_from

LOCAL_CALLBACK_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:smoke-local-callback-AbCdEf"  # noqa: S105 - an ARN, not a secret
"""Stands for an operator's CallbackSecret locally: the local stack then has what a stack with callbacks has
(the route, ``CallbacksRejectedAlarm``); the receiver reads the secret itself from its environment."""


class TargetError(Exception):
    """The target cannot be checked at all (no credentials, no region, no such stack); one line."""


@dataclass(frozen=True)
class CallbackRoute:
    """Where ZEGO's callbacks go, and what signs them."""

    url: str
    app_id: int
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Target:
    """What the checks need to know about one stack."""

    description: str
    api_url: str
    """Base URL of the read API (``.../v1`` deployed); the checks append ``/tasks``."""
    session: boto3.session.Session
    """For CloudWatch, EventBridge and SQS (the emulator's endpoint locally)."""
    auth: requests.auth.AuthBase | None
    """How the API is called: SigV4, an API key, or nothing (the local gateway enforces no auth)."""
    auth_mode: str
    """``IAM``, ``API_KEY`` or ``NONE`` (local)."""
    alarms: Mapping[str, str]
    """The stack's alarms, logical id -> alarm name."""
    expected_alarms: Mapping[str, frozenset[str]]
    """The template's alarms that a stack with these parameters has, by the function each watches."""
    bus_name: str
    event_source: str
    callbacks: CallbackRoute | None
    """None: the stack has no callback route (``ZegoCallbackSecretArn`` empty)."""


class SigV4(requests.auth.AuthBase):
    """Signs each request for API Gateway (``execute-api``) with botocore's SigV4, as IAM mode requires."""

    def __init__(self, credentials: ReadOnlyCredentials, region: str) -> None:
        self._signer = SigV4Auth(credentials, "execute-api", region)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        headers = {"Content-Type": request.headers["Content-Type"]} if "Content-Type" in request.headers else {}
        signed = AWSRequest(method=request.method, url=request.url, data=request.body or b"", headers=headers)
        self._signer.add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


class ApiKey(requests.auth.AuthBase):
    """Sends the stack's API key (API_KEY mode)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["x-api-key"] = self._value
        return request


def expected_alarms(parameters: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """The alarms of ``template.yaml`` that a stack with ``parameters`` has (their conditions hold), by the
    function each watches (:func:`smoke.alarms.function_alarms`)."""
    return function_alarms(present_resources(load_template(), parameters))


def deployed(stack_name: str, session: boto3.session.Session | None = None) -> Target:
    """The deployed stack ``stack_name``, from its Outputs, Parameters and resources."""
    session = session or boto3.session.Session()
    region = session.region_name
    if not region:
        raise TargetError("no AWS region: set AWS_DEFAULT_REGION or AWS_REGION (or the profile's region)")
    credentials = session.get_credentials()
    if credentials is None:
        raise TargetError("no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    where = f"stack {stack_name} in {region}"
    try:
        cloudformation = session.client("cloudformation")
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        resources = [summary for page in pages for summary in page["StackResourceSummaries"]]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        if "does not exist" in message:
            raise TargetError(f"{where} does not exist (check STACK and AWS_REGION)") from None
        raise TargetError(f"{where} cannot be read: {message}") from None
    except (BotoCoreError, NoRegionError) as error:
        raise TargetError(f"{where} cannot be read: {error}") from None
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    parameters = {item["ParameterKey"]: item.get("ParameterValue", "") for item in stack.get("Parameters", [])}
    missing = {"ApiUrl", "EventBusName", "EventSource"} - set(outputs)
    if missing:
        raise TargetError(f"{where} has no output {', '.join(sorted(missing))}: is it a zego-media-tasks stack?")
    mode = parameters.get("ApiAuthMode", "IAM")
    auth: requests.auth.AuthBase
    if mode == "API_KEY":
        key = session.client("apigateway").get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)
        auth = ApiKey(key["value"])
    else:
        auth = SigV4(credentials.get_frozen_credentials(), region)
    return Target(
        description=where,
        api_url=outputs["ApiUrl"].rstrip("/"),
        session=session,
        auth=auth,
        auth_mode=mode,
        alarms={r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if r["ResourceType"] == ALARM_TYPE},
        expected_alarms=expected_alarms(parameters),
        bus_name=outputs["EventBusName"],
        event_source=outputs["EventSource"],
        callbacks=_callback_route(session, outputs, parameters),
    )


def _callback_route(
    session: boto3.session.Session, outputs: Mapping[str, str], parameters: Mapping[str, str]
) -> CallbackRoute | None:
    if "CallbackUrl" not in outputs:
        return None
    arn = parameters["ZegoCallbackSecretArn"]
    try:
        value = session.client("secretsmanager").get_secret_value(SecretId=arn)
        secret = secret_text_from(value.get("SecretString", value.get("SecretBinary")), CALLBACK_SECRET_JSON_KEY)
    except ClientError as error:
        raise TargetError(f"the CallbackSecret {arn} cannot be read: {error.response['Error']['Code']}") from None
    except SecretShapeError as error:
        raise TargetError(f"the CallbackSecret {arn} {error}") from None
    return CallbackRoute(url=outputs["CallbackUrl"], app_id=int(parameters["ZegoAppId"]), secret=secret)


def local_options(callback_secret: str) -> StackOptions:
    """The local stack as the suite checks it: with callbacks, signed with ``callback_secret``."""
    return StackOptions(
        parameter_overrides={"ZegoCallbackSecretArn": LOCAL_CALLBACK_SECRET_ARN}, callback_secret=callback_secret
    )


def of_local_stack(stack: LocalStack, callback_secret: str) -> Target:
    """A started local stack (:func:`local_options`) as a target."""
    resources = stack.provisioned()
    return Target(
        description=f"the local stack at {stack.api_url}",
        api_url=stack.api_url,
        session=boto3.session.Session(),
        auth=None,
        auth_mode="NONE",
        alarms=resources.alarm_names,
        expected_alarms=expected_alarms(resources.parameters),
        bus_name=stack.environment["EVENT_BUS_NAME"],
        event_source=stack.environment["EVENT_SOURCE"],
        callbacks=CallbackRoute(url=stack.callback_url, app_id=LOCAL_APP_ID, secret=callback_secret),
    )


@contextmanager
def local() -> Iterator[Target]:
    """The local stack (``make run``'s, with callbacks), started here and stopped afterwards."""
    callback_secret = secrets.token_hex(16)
    with LocalStack(local_options(callback_secret)) as stack:
        yield of_local_stack(stack, callback_secret)
