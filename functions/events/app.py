"""Lambda entry point: the tasks table's stream → one EventBridge event per task status change.

Decorators, one call per stream record into ``zego_media_tasks.events.service.PublisherService`` and the
partial batch response (Powertools' batch processor for DynamoDB streams). A record that cannot be
published raises; Lambda retries from it (bisecting the batch) and, past its retry budget, sends it to
the on-failure queue. The service is built at the first invocation of an instance, never at import.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.events.service import PublisherService
from zego_media_tasks.events.settings import PublisherSettings
from zego_media_tasks.events.telemetry import configured, for_failure, for_result
from zego_media_tasks.events.wiring import build_publisher
from zego_media_tasks.observability.powertools import emit
from zego_media_tasks.observability.tracing import function_tracer

logger = Logger()
tracer = function_tracer()  # X-Ray only when the stack's TracingEnabled is on
metrics = EphemeralMetrics()  # its own metric set: the local twin runs every function in one process


@cache
def publisher() -> PublisherService:
    """The instance's publisher; the settings are validated here, at the first invocation."""
    settings = PublisherSettings.from_env(os.environ)
    emit(configured(settings), logger=logger, metrics=metrics)
    return build_publisher(settings)


def record_handler(record: DynamoDBRecord) -> None:
    """Publish one stream record's state change; raising marks it failed."""
    try:
        result = publisher().handle(record.raw_event)
    except Exception as error:
        emit(for_failure(error), logger=logger, metrics=metrics)
        raise
    emit(for_result(result), logger=logger, metrics=metrics)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """DynamoDB stream batch → partial batch response."""
    publisher()  # a configuration error fails the invocation here, once
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
