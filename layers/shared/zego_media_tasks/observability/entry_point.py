"""What every Lambda entry point (``functions/*/app.py``) is made of, written once.

- :class:`EntryPoint` holds a function's Powertools ``Logger``, tracer (:func:`function_tracer`: X-Ray only
  when the stack traces) and ``EphemeralMetrics`` (its own metric set: the local twin runs every function
  in one process);
- :meth:`EntryPoint.handler` is the decorator stack of every ``lambda_handler``, outermost first: the
  logger's Lambda context (correlation id, event logging, state clearing), the tracer's handler segment,
  then the metrics flush (with the cold-start metric where asked);
- :meth:`EntryPoint.built_once` builds what an instance serves at its first invocation (never at import
  time): the settings read from the environment, the cold-start telemetry emitted, the service built.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics

from zego_media_tasks.config.environment import SettingsModel
from zego_media_tasks.observability.powertools import emit
from zego_media_tasks.observability.signals import Telemetry
from zego_media_tasks.observability.tracing import function_tracer

H = TypeVar("H", bound=Callable[..., Any])
S = TypeVar("S", bound=SettingsModel)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """One function's logger, tracer and metrics, and what its entry point does with them."""

    logger: Logger
    tracer: Tracer
    metrics: EphemeralMetrics

    @classmethod
    def create(cls) -> EntryPoint:
        """A function's set, made at import time of its ``app.py`` (as Powertools expects)."""
        return cls(Logger(), function_tracer(), EphemeralMetrics())

    def emit(self, telemetry: Telemetry) -> None:
        """Emit ``telemetry`` through this function's logger and metrics."""
        emit(telemetry, logger=self.logger, metrics=self.metrics)

    def handler(
        self,
        *,
        correlation_id_path: str | None = None,
        log_event: bool | None = None,
        clear_state: bool = False,
        cold_start_metric: bool = False,
    ) -> Callable[[H], H]:
        """The decorators of a ``lambda_handler``; ``log_event=None`` leaves it to Powertools' variable."""

        def decorate(lambda_handler: H) -> H:
            flushed = self.metrics.log_metrics(lambda_handler, capture_cold_start_metric=cold_start_metric)
            traced = self.tracer.capture_lambda_handler(flushed)
            return cast(
                H,
                self.logger.inject_lambda_context(
                    traced, log_event=log_event, correlation_id_path=correlation_id_path, clear_state=clear_state
                ),
            )

        return decorate

    def built_once(
        self, model: type[S], configured: Callable[[S], Telemetry], build: Callable[[S], T]
    ) -> Callable[[], T]:
        """What the instance serves, built at the first call and reused after: ``model`` read from the
        environment (a configuration error raises there, listing every problem), ``configured``'s
        cold-start telemetry emitted, then ``build`` of the settings."""

        @cache
        def built() -> T:
            settings = model.from_env(os.environ)
            self.emit(configured(settings))
            return build(settings)

        return built
