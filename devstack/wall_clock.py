"""The wall clock of the devstack's child processes (the emulator, the ZEGO simulator run from its command
line): the test suite's ``--clock-offset-days`` (tests/conftest.py) moves the parent's clock ahead and sets
:data:`CLOCK_OFFSET_VARIABLE`, and a child must keep the same time, or SQS timestamps, message delays and
ZEGO's signed timestamps would disagree between the two."""

from __future__ import annotations

import os
import time
from typing import Final

CLOCK_OFFSET_VARIABLE: Final = "DEVSTACK_CLOCK_OFFSET_SECONDS"
"""Seconds the parent's wall clock runs ahead of the real one (unset or empty: none)."""


def follow_the_parents_clock() -> None:
    """Move this process's wall clock as far ahead as the parent's (monotonic time and sleeps stay real)."""
    offset = os.environ.get(CLOCK_OFFSET_VARIABLE)
    if not offset:
        return
    import time_machine  # a test dependency, present whenever the test suite sets the variable

    time_machine.travel(time.time() + float(offset), tick=True).start()
