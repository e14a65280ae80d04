"""SQS adapter: send poll requests (optionally delayed) and dead-letter unreadable messages."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from zego_media_tasks.domain.messages import PollRequest

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900
"""SQS's ceiling for DelaySeconds."""


class QueueSendError(RuntimeError):
    """Sending to SQS failed; the caller must not acknowledge the message it is processing."""


_CLIENT_LOCK = threading.Lock()


def _client(client: SQSClient | None) -> SQSClient:
    if client is not None:
        return client
    import boto3  # built lazily: unit tests and cold start of unrelated code never pay for it

    # boto3's default session is not safe to build clients from concurrently; a private session is.
    with _CLIENT_LOCK:
        return boto3.session.Session().client("sqs")


class _Queue:
    """One SQS queue; the boto3 client is created at first use (never at import or cold start)."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> SQSClient:
        """The SQS client (created at first use)."""
        if self._client is None:
            self._client = _client(None)
        return self._client


class PollQueue(_Queue):
    """The poll queue. Constructed once per Lambda instance."""

    def send(self, request: PollRequest, delay_seconds: int = 0) -> str:
        """Enqueue ``request`` to become visible after ``delay_seconds`` (clamped to 0..900).

        Returns the SQS MessageId. Raises :class:`QueueSendError` on any SQS failure.
        """
        delay = max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))
        try:
            response = self.client.send_message(
                QueueUrl=self.queue_url, MessageBody=request.to_body(), DelaySeconds=delay
            )
        except Exception as error:  # botocore errors of every kind end here, once
            raise QueueSendError(f"SendMessage failed: {type(error).__name__}") from error
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
        try:
            response = self.client.send_message(
                QueueUrl=self.queue_url, MessageBody=body or "<empty>", MessageAttributes=attributes
            )
        except Exception as error:
            raise QueueSendError(f"SendMessage to DLQ failed: {type(error).__name__}") from error
        return response["MessageId"]
