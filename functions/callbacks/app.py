"""Lambda entry point: ZEGO's completion callbacks (``POST /callbacks/zego``, API Gateway REST proxy).

Decorators, one call into ``zego_media_tasks.callbacks.service.CallbackService`` and the response; what
is logged and counted is decided by ``zego_media_tasks.callbacks.telemetry``. The route has no IAM or
API-key auth (ZEGO cannot sign SigV4): the callback signature is checked on every request. The
receiver is built at the first invocation of an instance, never at import time.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import EphemeralMetrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.callbacks.http import method_not_allowed, request_body, response
from zego_media_tasks.callbacks.service import CallbackService
from zego_media_tasks.callbacks.settings import CallbackSettings
from zego_media_tasks.callbacks.telemetry import configured, for_result
from zego_media_tasks.callbacks.wiring import build_receiver
from zego_media_tasks.observability.powertools import emit
from zego_media_tasks.observability.tracing import function_tracer

logger = Logger()
tracer = function_tracer()  # X-Ray only when the stack's TracingEnabled is on
metrics = EphemeralMetrics()  # its own metric set: the local twin runs every function in one process


@cache
def receiver() -> CallbackService:
    """The instance's receiver; the settings are validated here, at the first invocation (cold start)."""
    settings = CallbackSettings.from_env(os.environ)
    emit(configured(settings), logger=logger, metrics=metrics)
    return build_receiver(settings)


# Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: its body carries the callback's signature.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer one callback: 200 when applied (or already applied), 4xx for bad input, 503 for our failure."""
    refused = method_not_allowed(event)
    if refused is not None:
        return refused
    result = receiver().handle(*request_body(event))
    emit(for_result(result), logger=logger, metrics=metrics)
    return response(result)
