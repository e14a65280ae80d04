"""Records of the local event source mapping have exactly the shape of Lambda's SQS event records."""

from __future__ import annotations

from devstack.event_source import sqs_event_record
from tests.support.clock import FakeClock

SENT_MS = str(int(FakeClock().now().timestamp() * 1000))

MESSAGE = {
    "MessageId": "m-1",
    "ReceiptHandle": "rh-1",
    "MD5OfBody": "0cc175b9c0f1b6a831c399e269772661",
    "Body": "a",
    "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": SENT_MS, "SenderId": "AIDA"},
    "MessageAttributes": {"Trace": {"StringValue": "x", "DataType": "String"}},
}


def test_record_has_lambdas_field_names_and_lower_camel_message_attributes() -> None:
    record = sqs_event_record(MESSAGE, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["eventSource"] == "aws:sqs"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["Trace"] == {
        "stringValue": "x",
        "binaryValue": None,
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
