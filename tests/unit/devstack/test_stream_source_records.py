"""Records of the local stream event source have exactly the shape of Lambda's DynamoDB stream event
records, and its settings are the template's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from devstack.stream_source import StreamSourceSettings, stream_event_record
from devstack.template import load_template

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-12-01T00:00:00.000"
GET_RECORDS_RECORD: dict[str, Any] = {
    "eventID": "e-1",
    "eventName": "MODIFY",
    "eventVersion": "1.1",
    "eventSource": "aws:dynamodb",
    "awsRegion": "us-east-1",
    "dynamodb": {
        "ApproximateCreationDateTime": datetime(2026, 12, 1, 12, 0, 5, 250000, tzinfo=UTC),
        "Keys": {"taskId": {"S": "t"}, "vendor": {"S": "Tencent"}},
        "NewImage": {"taskId": {"S": "t"}, "status": {"S": "WAITING"}, "blob": {"B": b"\x00\x01"}},
        "OldImage": {"taskId": {"S": "t"}, "status": {"S": "PENDING"}, "blobs": {"BS": [b"ab"]}},
        "SequenceNumber": "1100000000017454423010",
        "SizeBytes": 272,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    },
}


def test_a_record_has_lambdas_field_names_and_the_stream_arn() -> None:
    record = stream_event_record(GET_RECORDS_RECORD, STREAM_ARN)
    assert set(record) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert record["eventSourceARN"] == STREAM_ARN
    assert set(record["dynamodb"]) == {
        "ApproximateCreationDateTime",
        "Keys",
        "NewImage",
        "OldImage",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    }


def test_the_creation_time_is_epoch_seconds_and_binary_values_are_base64_as_in_lambdas_json() -> None:
    data = stream_event_record(GET_RECORDS_RECORD, STREAM_ARN)["dynamodb"]
    assert data["ApproximateCreationDateTime"] == int(datetime(2026, 12, 1, 12, 0, 5, tzinfo=UTC).timestamp())
    assert data["NewImage"]["blob"] == {"B": "AAE="}
    assert data["OldImage"]["blobs"] == {"BS": ["YWI="]}
    assert data["NewImage"]["status"] == {"S": "WAITING"}


def test_an_insert_has_no_old_image() -> None:
    insert = {**GET_RECORDS_RECORD, "eventName": "INSERT"}
    insert["dynamodb"] = {k: v for k, v in GET_RECORDS_RECORD["dynamodb"].items() if k != "OldImage"}
    assert "OldImage" not in stream_event_record(insert, STREAM_ARN)["dynamodb"]


def test_the_settings_are_the_publishers_stream_event_in_the_template() -> None:
    template = load_template()
    event = template["Resources"]["PublisherFunction"]["Properties"]["Events"]["TaskWrites"]["Properties"]
    defaults = template["Parameters"]
    settings = StreamSourceSettings.from_template()
    assert settings == StreamSourceSettings(
        batch_size=event["BatchSize"],
        batching_window_seconds=event["MaximumBatchingWindowInSeconds"],
        starting_position=event["StartingPosition"],
        bisect_on_function_error=True,
        maximum_record_age_seconds=defaults["PublisherMaxRecordAgeSeconds"]["Default"],
        maximum_retry_attempts=defaults["PublisherMaxRetryAttempts"]["Default"],
        report_batch_item_failures=True,
        function_timeout_seconds=template["Resources"]["PublisherFunction"]["Properties"]["Timeout"],
        on_failure_queue="PublishFailureQueue",
        filter_patterns=tuple(json.loads(item["Pattern"]) for item in event["FilterCriteria"]["Filters"]),
    )


def test_parameter_overrides_reach_the_settings() -> None:
    settings = StreamSourceSettings.from_template(parameter_overrides={"PublisherMaxRetryAttempts": 3})
    assert settings.maximum_retry_attempts == 3
