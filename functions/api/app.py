"""Lambda entry point: the read API behind API Gateway (REST proxy events).

Thin on purpose: Powertools decorators, one call into the resolver of ``zego_media_tasks.api.routes``,
built from the environment at the first invocation of an instance (never at import time) and reused
after, and what ``zego_media_tasks.api.telemetry`` decides to report (cold start, response class).
"""

from __future__ import annotations

# ruff: noqa: E402 - the collector is paused before the imports below
import gc

# A cold start only allocates what lives as long as the instance (modules, classes, pydantic's
# schemas): the cyclic collector would scan it all for nothing (about 55 ms for the API's imports).
gc.disable()

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from zego_media_tasks.api.routes import build_app
from zego_media_tasks.api.service import TaskService
from zego_media_tasks.api.settings import ApiSettings
from zego_media_tasks.api.telemetry import configured, for_response
from zego_media_tasks.observability.entry_point import EntryPoint

gc.freeze()  # what the imports built is permanent: later collections skip it
gc.enable()
entry = EntryPoint.create()
logger = entry.logger


def resolver(settings: ApiSettings) -> APIGatewayRestResolver:
    """The resolver over the service the settings configure."""
    service = TaskService.from_settings(settings)
    return build_app(lambda: service, cors_allow_origin=settings.cors_allow_origin)


api = entry.built_once(ApiSettings, configured, resolver)  # settings validated at the first invocation


@entry.handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Route one API Gateway REST proxy event."""
    response = api().resolve(event, context)
    entry.emit(for_response(response))
    return response
