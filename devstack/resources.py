"""Create the template's stateful resources (tables, queues, event buses) and its alarms in an AWS emulator,
from ``template.yaml``.

Used by ``make run`` and by the integration tests, so that the emulator and the deployed stack cannot
drift: the key schema, indexes, TTL, stream, queue settings, redrive policy and the event bus (when its
``Condition`` holds) are read from the template. Only the intrinsics these resources and their functions'
settings use are resolved: ``Ref`` to a parameter, a pseudo parameter or a created bus; ``Fn::GetAtt``
``X.Arn`` and ``X.QueueName`` of a queue and ``X.StreamArn`` of a table created earlier; ``Fn::Sub`` of those;
``Fn::If`` on a condition built from ``Fn::Equals``/``Fn::Not``/``Fn::And``/``Fn::Or``, and ``AWS::NoValue`` in
it. For the alarms' dimensions also ``Ref`` to a function (its local stand-in name, ``<stack>-<logical id>``:
no Lambda function exists locally) and ``Ref <Api>.Stage`` (the API's ``StageName``). Anything else is
refused with a clear error.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from devstack.template import load_template, parameter_defaults

LOCAL_ACCOUNT_ID = "123456789012"
"""moto's default account."""
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_NO_VALUE = object()
"""``Ref AWS::NoValue``: the property it is the value of is left out."""


@dataclass
class ProvisionedStack:
    """Physical names of what was created, by logical id, and what the template was resolved with."""

    table_names: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)
    stream_arns: dict[str, str] = field(default_factory=dict)
    """A table's stream (its ``StreamSpecification``), by the table's logical id."""
    event_bus_names: dict[str, str] = field(default_factory=dict)
    bucket_names: dict[str, str] = field(default_factory=dict)
    """The template's S3 buckets (the lists bucket), with their encryption, public access block and
    lifecycle as the template sets them (not the TLS-only bucket policy: see :func:`provision`)."""
    alarm_names: dict[str, str] = field(default_factory=dict)
    """The template's alarms (those whose ``Condition`` holds), created in the emulator's CloudWatch."""
    stack_name: str = ""
    """The local stand-in for ``AWS::StackName``: unique per provisioning, as moto's state is per process."""
    parameters: dict[str, Any] = field(default_factory=dict)
    region: str = "us-east-1"

    def environment_of(self, function_logical_id: str, *names: str) -> dict[str, str]:
        """The named environment variables of a template function, resolved against this stack (e.g. the
        publisher's ``EVENT_BUS_NAME``: the stack's own bus, or the parameter's existing one)."""
        template = load_template()
        variables = template["Resources"][function_logical_id]["Properties"]["Environment"]["Variables"]
        resolver = _Resolver(self.parameters, template.get("Conditions", {}), self)
        return {name: str(resolver.resolve(variables[name])) for name in names}


class TemplateResolutionError(ValueError):
    """The template uses an intrinsic this local provisioner cannot resolve."""


class _Resolver:
    """Resolves the intrinsics named in the module docstring against the parameters and what exists."""

    def __init__(
        self,
        parameters: Mapping[str, Any],
        conditions: Mapping[str, Any],
        stack: ProvisionedStack,
        resources: Mapping[str, Any] | None = None,
    ) -> None:
        self.parameters = parameters
        self.conditions = conditions
        self.stack = stack
        self.resources = resources or {}

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::StackName": self.stack.stack_name,
            "AWS::Region": self.stack.region,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
        }
        if name in self.parameters:
            return self.parameters[name]
        if name in pseudo:
            return pseudo[name]
        if name in self.stack.event_bus_names:
            return self.stack.event_bus_names[name]
        if name in self.stack.bucket_names:
            return self.stack.bucket_names[name]
        if name == "AWS::NoValue":
            return _NO_VALUE
        resource = self.resources.get(name.removesuffix(".Stage"), {})
        if name.endswith(".Stage") and resource.get("Type") == "AWS::Serverless::Api":
            return resource["Properties"]["StageName"]
        if resource.get("Type") == "AWS::Serverless::Function":
            return f"{self.stack.stack_name}-{name}"
        raise TemplateResolutionError(f"Ref to {name!r}: only parameters, pseudo parameters and buses resolve locally")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if attribute == "Arn" and logical_id in self.stack.queue_arns:
            return self.stack.queue_arns[logical_id]
        if attribute == "QueueName" and logical_id in self.stack.queue_urls:
            return self.stack.queue_urls[logical_id].rsplit("/", 1)[-1]
        if attribute == "StreamArn" and logical_id in self.stack.stream_arns:
            return self.stack.stream_arns[logical_id]
        if attribute == "Arn" and logical_id in self.stack.bucket_names:
            return f"arn:aws:s3:::{self.stack.bucket_names[logical_id]}"
        raise TemplateResolutionError(f"GetAtt {logical_id}.{attribute} cannot be resolved locally")

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateResolutionError(f"no condition {name!r} in the template")
        return self._truth(self.conditions[name])

    def _truth(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            [(function, arguments)] = value.items()
            if function == "Condition":
                return self.condition(arguments)
            if function == "Fn::Equals":
                left, right = (self.resolve(argument) for argument in arguments)
                return bool(str(left) == str(right))
            if function == "Fn::Not":
                return not self._truth(arguments[0])
            if function == "Fn::And":
                return all(self._truth(argument) for argument in arguments)
            if function == "Fn::Or":
                return any(self._truth(argument) for argument in arguments)
        raise TemplateResolutionError(f"condition {value!r} cannot be evaluated locally")

    def _sub(self, arguments: Any) -> str:
        text, variables = (arguments, {}) if isinstance(arguments, str) else arguments

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(value, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"}:
                return self.ref(value["Ref"])
            if set(value) == {"Fn::GetAtt"}:
                logical_id, attribute = value["Fn::GetAtt"]
                return self.get_att(logical_id, attribute)
            if set(value) == {"Fn::Sub"}:
                return self._sub(value["Fn::Sub"])
            if set(value) == {"Fn::If"}:
                condition, when_true, when_false = value["Fn::If"]
                return self.resolve(when_true if self.condition(condition) else when_false)
            if any(key.startswith("Fn::") for key in value):
                raise TemplateResolutionError(f"intrinsic {next(iter(value))} is not supported locally")
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not _NO_VALUE}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value


def _physical_name(prefix: str, logical_id: str) -> str:
    return f"{prefix}-{logical_id}-{uuid.uuid4().hex[:8]}"


def _create_table(client: Any, name: str, props: dict[str, Any]) -> str | None:
    """Create the table; returns its stream's ARN when it has one."""
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
    stream = props.get("StreamSpecification")
    if stream:
        # CloudFormation enables the stream by its view type alone; the API asks for both.
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    created = client.create_table(**kwargs)
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
    stream_arn: str | None = created["TableDescription"].get("LatestStreamArn")
    return stream_arn


def _create_bucket(client: Any, name: str, props: dict[str, Any]) -> None:
    """Create the bucket with the template's encryption, public access block and lifecycle rules."""
    client.create_bucket(Bucket=name)
    if "BucketEncryption" in props:
        client.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {  # CloudFormation's name for the default → the API's
                        "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                        **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {}),
                    }
                    for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    if "PublicAccessBlockConfiguration" in props:
        client.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    rules = props.get("LifecycleConfiguration", {}).get("Rules", [])
    if rules:
        # CloudFormation's rule shape → the API's.
        client.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": rule["Id"],
                        "Status": rule["Status"],
                        "Filter": {"Prefix": rule.get("Prefix", "")},
                        "Expiration": {"Days": int(rule["ExpirationInDays"])},
                        **(
                            {"AbortIncompleteMultipartUpload": rule["AbortIncompleteMultipartUpload"]}
                            if "AbortIncompleteMultipartUpload" in rule
                            else {}
                        ),
                    }
                    for rule in rules
                ]
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


def present_resources(template: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The template's resources that a stack with ``parameters`` (over the defaults) has: those without a
    ``Condition`` and those whose condition holds."""
    values = {**parameter_defaults(dict(template)), **parameters}
    resolver = _Resolver(values, template.get("Conditions", {}), ProvisionedStack(parameters=values))
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or resolver.condition(resource["Condition"])
    }


_ALARM_PROPERTIES = (
    "AlarmDescription",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "AlarmActions",
    "OKActions",
)


def _create_alarm(client: Any, name: str, props: dict[str, Any]) -> None:
    kwargs = {key: props[key] for key in _ALARM_PROPERTIES if key in props}
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in kwargs:
            kwargs[key] = int(kwargs[key])
    kwargs["Threshold"] = float(kwargs["Threshold"])
    client.put_metric_alarm(AlarmName=name, **kwargs)


def provision(
    prefix: str = "zego-local",
    parameter_overrides: dict[str, Any] | None = None,
    session: boto3.session.Session | None = None,
) -> ProvisionedStack:
    """Create every DynamoDB table, SQS queue, EventBridge bus and CloudWatch alarm of the template whose
    ``Condition`` holds; queues in dependency order, alarms last (named ``<stack>-<logical id>-<suffix>``, as
    CloudFormation names them).

    boto3 reaches the emulator through ``AWS_ENDPOINT_URL`` (or the session's configuration).
    """
    template = load_template()
    parameters = {**parameter_defaults(template), **(parameter_overrides or {})}
    session = session or boto3.session.Session()
    dynamodb = session.client("dynamodb")
    sqs = session.client("sqs")
    stack = ProvisionedStack(
        stack_name=f"{prefix}-{uuid.uuid4().hex[:8]}", parameters=parameters, region=session.region_name or "us-east-1"
    )
    resources = present_resources(template, parameters)
    resolver = _Resolver(parameters, template.get("Conditions", {}), stack, resources)

    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::DynamoDB::Table":
            name = _physical_name(prefix, logical_id)
            stream_arn = _create_table(dynamodb, name, resolver.resolve(resource.get("Properties", {})))
            stack.table_names[logical_id] = name
            if stream_arn:
                stack.stream_arns[logical_id] = stream_arn

    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::S3::Bucket":
            name = _physical_name(prefix, logical_id).lower()  # bucket names are lower case
            _create_bucket(session.client("s3"), name, resolver.resolve(resource.get("Properties", {})))
            stack.bucket_names[logical_id] = name
    # The bucket policy (deny anything but TLS) is not applied: moto evaluates a Deny without its
    # Condition, so it would refuse every call, and the emulator is reached over loopback http anyway.

    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::Events::EventBus":
            name = resolver.resolve(resource.get("Properties", {}))["Name"]
            session.client("events").create_event_bus(Name=name)
            stack.event_bus_names[logical_id] = name

    pending = {lid: r for lid, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"}
    while pending:
        progressed = False
        for logical_id, resource in list(pending.items()):
            try:
                props = resolver.resolve(resource.get("Properties", {}))
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
            resolver.resolve(first.get("Properties", {}))
            raise TemplateResolutionError(f"cannot order queues: {sorted(pending)}")

    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::CloudWatch::Alarm":
            name = _physical_name(stack.stack_name, logical_id)
            _create_alarm(session.client("cloudwatch"), name, resolver.resolve(resource["Properties"]))
            stack.alarm_names[logical_id] = name
    return stack
