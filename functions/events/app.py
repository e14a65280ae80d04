"""Lambda entry point: the tasks table's stream → one EventBridge event per task status change.

Decorators, one call per stream record into ``zego_media_tasks.events.service.PublisherService`` and the
partial batch response (Powertools' batch processor for DynamoDB streams). A record that cannot be
published raises; Lambda retries from it (bisecting the batch) and, past its retry budget, sends it to
the on-failure queue. The service is built at the first invocation of an instance, never at import.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.events.settings import PublisherSettings
from zego_media_tasks.events.telemetry import configured, for_failure, for_result
from zego_media_tasks.events.wiring import build_publisher
from zego_media_tasks.observability.entry_point import EntryPoint

entry = EntryPoint.create()
logger = entry.logger
# Settings validated at the first invocation; build_publisher looked up then (tests may replace it).
publisher = entry.built_once(PublisherSettings, configured, lambda settings: build_publisher(settings))  # noqa: PLW0108


def record_handler(record: DynamoDBRecord) -> None:
    """Publish one stream record's state change; raising marks it failed."""
    try:
        result = publisher().handle(record.raw_event)
    except Exception as error:
        entry.emit(for_failure(error))
        raise
    entry.emit(for_result(result))


@entry.handler(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """DynamoDB stream batch → partial batch response."""
    publisher()  # a configuration error fails the invocation here, once
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
