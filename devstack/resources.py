"""Create the template's stateful resources (tables, queues) in an AWS emulator, from ``template.yaml``.

Used by ``make run`` and by the integration tests, so that the emulator and the deployed stack cannot
drift: the key schema, indexes, TTL, queue settings and redrive policy are read from the template.
Only the intrinsics these resources use are resolved: ``Ref`` to a parameter, ``Fn::GetAtt X.Arn`` of a
queue created earlier, and ``Fn::If``/``Fn::Sub`` are refused with a clear error.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3

from devstack.template import load_template, parameter_defaults


@dataclass
class ProvisionedStack:
    """Physical names of what was created, by logical id."""

    table_names: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)


class TemplateResolutionError(ValueError):
    """The template uses an intrinsic this local provisioner cannot resolve."""


def _resolve(value: Any, parameters: dict[str, Any], stack: ProvisionedStack) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            name = value["Ref"]
            if name not in parameters:
                raise TemplateResolutionError(f"Ref to {name!r}: only parameters can be resolved locally")
            return parameters[name]
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            if attribute == "Arn" and logical_id in stack.queue_arns:
                return stack.queue_arns[logical_id]
            raise TemplateResolutionError(f"GetAtt {logical_id}.{attribute} cannot be resolved locally")
        if any(key.startswith("Fn::") for key in value):
            raise TemplateResolutionError(f"intrinsic {next(iter(value))} is not supported locally")
        return {key: _resolve(item, parameters, stack) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, parameters, stack) for item in value]
    return value


def _physical_name(prefix: str, logical_id: str) -> str:
    return f"{prefix}-{logical_id}-{uuid.uuid4().hex[:8]}"


def _create_table(client: Any, name: str, props: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    sse = props.get("SSESpecification")
    if sse:
        kwargs["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled"))}
    client.create_table(**kwargs)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl["Enabled"])},
        )
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr:
        client.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": bool(pitr.get("PointInTimeRecoveryEnabled"))
            },
        )


_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "SqsManagedSseEnabled",
)


def _queue_attributes(props: dict[str, Any]) -> dict[Any, str]:
    attributes: dict[Any, str] = {
        name: str(props[name]).lower() if isinstance(props[name], bool) else str(props[name])
        for name in _QUEUE_ATTRIBUTES
        if name in props
    }
    if "RedrivePolicy" in props:
        policy = props["RedrivePolicy"]
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": policy["deadLetterTargetArn"],
                "maxReceiveCount": int(policy["maxReceiveCount"]),
            }
        )
    return attributes


def provision(
    prefix: str = "zego-local",
    parameter_overrides: dict[str, Any] | None = None,
    session: boto3.session.Session | None = None,
) -> ProvisionedStack:
    """Create every DynamoDB table and SQS queue of the template; queues in dependency order.

    boto3 reaches the emulator through ``AWS_ENDPOINT_URL`` (or the session's configuration).
    """
    template = load_template()
    parameters = {**parameter_defaults(template), **(parameter_overrides or {})}
    session = session or boto3.session.Session()
    dynamodb = session.client("dynamodb")
    sqs = session.client("sqs")
    stack = ProvisionedStack()
    resources: dict[str, Any] = template["Resources"]

    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::DynamoDB::Table":
            name = _physical_name(prefix, logical_id)
            _create_table(dynamodb, name, _resolve(resource.get("Properties", {}), parameters, stack))
            stack.table_names[logical_id] = name

    pending = {lid: r for lid, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"}
    while pending:
        progressed = False
        for logical_id, resource in list(pending.items()):
            try:
                props = _resolve(resource.get("Properties", {}), parameters, stack)
            except TemplateResolutionError:
                continue  # depends on a queue not created yet
            name = _physical_name(prefix, logical_id)
            url = sqs.create_queue(QueueName=name, Attributes=_queue_attributes(props))["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            stack.queue_urls[logical_id] = url
            stack.queue_arns[logical_id] = arn
            del pending[logical_id]
            progressed = True
        if not progressed:
            # Resolve once more to raise the real error for the first unresolvable queue.
            first = next(iter(pending.values()))
            _resolve(first.get("Properties", {}), parameters, stack)
            raise TemplateResolutionError(f"cannot order queues: {sorted(pending)}")
    return stack
