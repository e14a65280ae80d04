"""The real clock; tests use ``tests.support.FakeClock`` (same Protocol) instead."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    """Wall and monotonic time of this process."""

    def now(self) -> datetime:
        """The current aware UTC datetime."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going backwards."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` (no-op when not positive)."""
        if seconds > 0:
            time.sleep(seconds)
