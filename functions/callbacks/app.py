"""Lambda entry point: ZEGO's completion callbacks (``POST /callbacks/zego``, API Gateway REST proxy).

Decorators, one call into ``zego_media_tasks.callbacks.service.CallbackService`` and the response; what
is logged and counted is decided by ``zego_media_tasks.callbacks.telemetry``. The route has no IAM or
API-key auth (ZEGO cannot sign SigV4): the callback signature is checked on every request. The
receiver is built at the first invocation of an instance, never at import time.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.callbacks.http import method_not_allowed, request_body, response
from zego_media_tasks.callbacks.settings import CallbackSettings
from zego_media_tasks.callbacks.telemetry import configured, for_result
from zego_media_tasks.callbacks.wiring import build_receiver
from zego_media_tasks.observability.entry_point import EntryPoint

entry = EntryPoint.create()
logger = entry.logger
# Settings validated at the first invocation; build_receiver looked up then (tests replace it).
receiver = entry.built_once(CallbackSettings, configured, lambda settings: build_receiver(settings))  # noqa: PLW0108


# Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: its body carries the callback's signature.
@entry.handler(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer one callback: 200 when applied (or already applied), 4xx for bad input, 503 for our failure."""
    refused = method_not_allowed(event)
    if refused is not None:
        return refused
    result = receiver().handle(*request_body(event))
    entry.emit(for_result(result))
    return response(result)
