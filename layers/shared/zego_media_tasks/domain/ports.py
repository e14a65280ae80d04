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
