"""The emulator's resources are built from template.yaml itself, so they cannot drift from it."""

from __future__ import annotations

import json

import boto3
import pytest

from devstack.resources import ProvisionedStack, provision
from devstack.template import load_template

pytestmark = pytest.mark.integration


def test_tasks_table_matches_the_template_keys_and_indexes(stack: ProvisionedStack) -> None:
    # Given the template's table definition
    props = load_template()["Resources"]["TasksTable"]["Properties"]
    # When the table is described in the emulator
    table = boto3.client("dynamodb").describe_table(TableName=stack.table_names["TasksTable"])["Table"]
    # Then keys and indexes are the template's
    assert table["KeySchema"] == props["KeySchema"]
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == sorted(
        i["IndexName"] for i in props["GlobalSecondaryIndexes"]
    )
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=stack.table_names["TasksTable"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]


def test_poll_queue_redrives_to_the_dead_letter_queue(stack: ProvisionedStack) -> None:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_urls["PollQueue"], AttributeNames=["All"]
    )["Attributes"]
    policy = json.loads(attributes["RedrivePolicy"])
    template = load_template()
    assert policy["deadLetterTargetArn"] == stack.queue_arns["PollDeadLetterQueue"]
    assert policy["maxReceiveCount"] == template["Parameters"]["PollMaxReceiveCount"]["Default"]
    assert attributes["VisibilityTimeout"] == str(template["Parameters"]["PollVisibilityTimeoutSeconds"]["Default"])


def test_tasks_table_streams_every_write_as_the_template_says(stack: ProvisionedStack) -> None:
    view = load_template()["Resources"]["TasksTable"]["Properties"]["StreamSpecification"]["StreamViewType"]
    table = boto3.client("dynamodb").describe_table(TableName=stack.table_names["TasksTable"])["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": view}
    assert stack.stream_arns["TasksTable"] == table["LatestStreamArn"]
    assert "RateLimitTable" not in stack.stream_arns  # only what the template streams


def test_without_a_bus_name_the_stack_creates_its_own_bus_and_the_publisher_uses_it(stack: ProvisionedStack) -> None:
    # Given the template's default EventBusName (empty): CreateEventBus holds
    bus = stack.event_bus_names["TasksEventBus"]
    assert bus == f"{stack.stack_name}-tasks"  # Name: !Sub "${AWS::StackName}-tasks"
    assert boto3.client("events").describe_event_bus(Name=bus)["Name"] == bus
    # Then the publisher's environment, resolved from the template, names that bus and the default source
    assert stack.environment_of("PublisherFunction", "EVENT_BUS_NAME", "EVENT_SOURCE") == {
        "EVENT_BUS_NAME": bus,
        "EVENT_SOURCE": "zego-media-tasks",
    }
    assert "PublishFailureQueue" in stack.queue_urls


def test_with_an_existing_bus_given_no_bus_is_created_and_the_publisher_uses_the_given_one(aws_env: object) -> None:
    stack = provision(prefix="given", parameter_overrides={"EventBusName": "default", "EventSource": "team-a.media"})
    assert stack.event_bus_names == {}
    assert stack.environment_of("PublisherFunction", "EVENT_BUS_NAME", "EVENT_SOURCE") == {
        "EVENT_BUS_NAME": "default",
        "EVENT_SOURCE": "team-a.media",
    }
