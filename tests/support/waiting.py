"""Waiting for what threads or other processes do, where a test cannot step a clock instead."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout: float, *, what: str = "condition", every: float = 0.05) -> None:
    """Return once ``condition()`` is true, checking every ``every`` s; fail after ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(every)
