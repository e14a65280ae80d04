"""The emulator's resources are built from template.yaml itself, so they cannot drift from it."""

from __future__ import annotations

import json

import boto3
import pytest

from devstack.resources import ProvisionedStack
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
