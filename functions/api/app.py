"""Lambda entry point: the read API behind API Gateway (REST proxy events).

Thin on purpose: Powertools decorators and one call into the resolver of
``zego_media_tasks.api.routes``, built from the environment at the first invocation of an instance
(never at import time) and reused after.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.api.routes import build_app
from zego_media_tasks.api.service import TaskService
from zego_media_tasks.api.settings import ApiSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def api() -> APIGatewayRestResolver:
    """The instance's resolver; the settings are validated here, at the first invocation (cold start)."""
    settings = ApiSettings.from_env(os.environ)
    service = TaskService.from_settings(settings)
    logger.info("api configured", extra={"settings": repr(settings)})
    return build_app(lambda: service, cors_allow_origin=settings.cors_allow_origin)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Route one API Gateway REST proxy event."""
    response = api().resolve(event, context)
    # One count per response class (Responses2xx/3xx/4xx/5xx): error rates without parsing logs.
    status = int(response.get("statusCode", 500))
    metrics.add_metric(name=f"Responses{status // 100}xx", unit=MetricUnit.Count, value=1)
    return response
