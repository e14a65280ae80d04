"""Lambda entry point: SQS poll messages → DescribeMediaTask → DynamoDB → delayed re-enqueue.

Decorators, one call per record and the partial batch response. Each record goes to
``zego_media_tasks.poller.lambda_adapter.PollerInstance``: SQS record → ``PollerService`` → the log
line and metrics that ``zego_media_tasks.poller.telemetry`` decides. The service is built at the first
invocation of an instance, never at import time. Each record succeeds or fails on its own; a record
fails when the service raises, and SQS offers it again after the visibility timeout.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.observability.entry_point import EntryPoint
from zego_media_tasks.poller.lambda_adapter import PollerInstance
from zego_media_tasks.poller.wiring import build_runtime

entry = EntryPoint.create()
logger, tracer, metrics = entry.logger, entry.tracer, entry.metrics
# build_runtime is looked up here at the first invocation, not bound at import: tests replace it.
instance = PollerInstance(lambda: build_runtime(os.environ), logger=logger, tracer=tracer, metrics=metrics)


@tracer.capture_method
def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    """Process one SQS record; raising marks it failed in the partial batch response."""
    instance.process(record, lambda_context)


@entry.handler(clear_state=True, cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS batch → partial batch response (``{"batchItemFailures": [...]}``)."""
    instance.runtime()  # a configuration error fails the invocation here, once, with every problem listed
    # A processor per invocation: the local event source runs invocations concurrently in one process.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
