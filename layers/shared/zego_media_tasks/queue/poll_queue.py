"""SQS adapter: send poll requests (optionally delayed) and dead-letter unreadable messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zego_media_tasks.aws import AwsAdapter, LazyClient, call_aws
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.ports import DependencyUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900
"""SQS's ceiling for DelaySeconds."""


class QueueSendError(DependencyUnavailable):
    """Sending to SQS failed; the caller must not acknowledge the message it is processing."""

    dependency = "poll queue"


class _Queue(AwsAdapter["SQSClient"]):
    """One SQS queue; the boto3 client is created at first use (never at import or cold start)."""

    def __init__(self, queue_url: str, client: SQSClient | LazyClient[SQSClient] | None = None) -> None:
        super().__init__("sqs", client)
        self.queue_url = queue_url


class PollQueue(_Queue):
    """The poll queue. Constructed once per Lambda instance."""

    def send(self, request: PollRequest, delay_seconds: int = 0) -> str:
        """Enqueue ``request`` to become visible after ``delay_seconds`` (clamped to 0..900).

        Returns the SQS MessageId. Raises :class:`QueueSendError` on any SQS failure.
        """
        delay = max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))
        response = call_aws(
            "SendMessage",
            lambda: self.client.send_message(
                QueueUrl=self.queue_url, MessageBody=request.to_body(), DelaySeconds=delay
            ),
            QueueSendError,
        )
        return response["MessageId"]


class DeadLetterQueue(_Queue):
    """Where unreadable messages go directly, with the reason in message attributes."""

    def send(self, body: str, reason: str, detail: str, source_message_id: str) -> str:
        """Park ``body`` unchanged, with ErrorReason, ErrorDetail and SourceMessageId attributes."""
        attributes: dict[str, Any] = {
            "ErrorReason": {"DataType": "String", "StringValue": reason},
            "ErrorDetail": {"DataType": "String", "StringValue": detail[:1000] or "-"},
            "SourceMessageId": {"DataType": "String", "StringValue": source_message_id or "-"},
        }
        response = call_aws(
            "SendMessage to DLQ",
            lambda: self.client.send_message(
                QueueUrl=self.queue_url, MessageBody=body or "<empty>", MessageAttributes=attributes
            ),
            QueueSendError,
        )
        return response["MessageId"]
