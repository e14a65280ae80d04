"""What the domain needs from the outside world, as Protocols; adapters implement them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from zego_media_tasks.domain.outcome import CallOutcome
from zego_media_tasks.domain.status import Vendor


class TaskDescriber(Protocol):
    """Asks ZEGO about one task (implemented by ``zego_media_tasks.zego.client.ZegoClient``)."""

    def describe_media_task(self, task_id: str, vendor: Vendor) -> CallOutcome:
        """One DescribeMediaTask call, translated into a :class:`CallOutcome`; never raises for
        network or vendor failures."""
        ...


class Clock(Protocol):
    """Injectable time, so that tests never sleep."""

    def now(self) -> datetime:
        """The current aware UTC datetime."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (a fake clock advances instead)."""
        ...


class DependencyUnavailable(RuntimeError):  # noqa: N818 - names the situation the caller must handle
    """A dependency (the task table, the poll queue) failed for a reason other than our own input.

    Adapters raise subclasses of it, once, at the edge; the poller retries the message, the read API
    answers 503. ``reason`` is the dependency's error code or the failure's type name, never a payload.
    """

    dependency: str = "a dependency"

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"{operation} failed: {reason}")
        self.operation = operation
        self.reason = reason
