"""A local stand-in for an EventBridge schedule: invokes a real handler every so often, as deployed.

The interval is the template function's ``Schedule`` event (``rate(N minutes)``, its parameters resolved),
unless the caller gives a shorter one (the soak's lost chains must be found within its run). Each tick is
one invocation with a scheduled event and a Lambda-like context carrying the function's timeout, so the
handler's time budget is the deployed one. A failed invocation is logged and the next tick comes anyway,
as with a schedule that invokes asynchronously. :meth:`LocalSchedule.tick` runs one invocation now, for
tests that drive time themselves.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devstack.handlers import Handler
from devstack.lambda_context import LocalLambdaContext
from devstack.template import function_event, load_template, parameter_defaults

logger = logging.getLogger(__name__)
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}
_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)\}")
SCHEDULE_THREAD_PREFIX = "schedule-"
"""The name of each schedule's thread starts with this (the soak tells the watchdog's sends apart by it)."""


@dataclass(frozen=True)
class ScheduleSettings:
    """How often, and with how much time per invocation."""

    interval_seconds: float
    function_timeout_seconds: float

    @classmethod
    def from_template(
        cls, function_logical_id: str, parameter_overrides: dict[str, Any] | None = None
    ) -> ScheduleSettings:
        """The function's ``Schedule`` event and ``Timeout`` from ``template.yaml``."""
        function, event = function_event(function_logical_id, "Schedule", parameter_overrides)
        expression = event["Schedule"]
        if isinstance(expression, dict) and set(expression) == {"Fn::Sub"}:
            parameters = {**parameter_defaults(load_template()), **(parameter_overrides or {})}
            expression = _SUB_VARIABLE.sub(lambda match: str(parameters[match.group(1)]), expression["Fn::Sub"])
        return cls(rate_seconds(str(expression)), float(function.get("Timeout", 3)))


def rate_seconds(expression: str) -> float:
    """``rate(5 minutes)`` -> 300.0; other expressions (cron) are refused."""
    match = _RATE.match(expression.strip())
    if match is None:
        raise ValueError(f"only rate(N minutes|hours|days) schedules run locally, not {expression!r}")
    return float(int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")])


class LocalSchedule:
    """Invokes ``handler`` every ``settings.interval_seconds`` on a thread of its own (start/stop)."""

    def __init__(
        self,
        handler: Handler,
        settings: ScheduleSettings,
        *,
        function_name: str,
        on_result: Callable[[Any], None] | None = None,
    ) -> None:
        self.handler = handler
        self.settings = settings
        self.function_name = function_name
        self.invocations = 0
        self.failures = 0
        self._on_result = on_result
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> Any:
        """One scheduled invocation now; returns the handler's result."""
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "detail": {},
        }
        context = LocalLambdaContext(self.function_name, timeout_seconds=self.settings.function_timeout_seconds)
        self.invocations += 1
        result = self.handler(event, context)
        if self._on_result is not None:
            self._on_result(result)
        return result

    def start(self) -> LocalSchedule:
        """Tick every interval until :meth:`stop` (the first tick one interval from now, as deployed)."""
        self._thread = threading.Thread(
            target=self._loop, name=f"{SCHEDULE_THREAD_PREFIX}{self.function_name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop ticking; waits for a running invocation to end."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stopped.wait(self.settings.interval_seconds):
            try:
                self.tick()
            except Exception:
                self.failures += 1
                logger.exception("scheduled invocation of %s failed", self.function_name)
