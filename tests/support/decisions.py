"""The fixed inputs of the pure poll decision (``domain.polling``) for its tests and for the telemetry
tests built on its results: one moment, the default policy, one Tencent task first seen ten minutes
earlier, and jitter sources that always answer one end of their window, so delays are exact."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.polling import PollingPolicy
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import Vendor

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
POLICY = PollingPolicy()
TASK = "task-0001"
TENCENT = Vendor.TENCENT
FIRST_SEEN = NOW - timedelta(minutes=10)


class TopOfWindow:
    """Always the top of the jitter window."""

    def uniform(self, a: float, b: float) -> float:
        return b


class BottomOfWindow:
    """Always the bottom of the jitter window."""

    def uniform(self, a: float, b: float) -> float:
        return a


def request_for(record: TaskRecord | None, **changes: object) -> PollRequest:
    """The poll message of :data:`TASK` that the stored ``record`` (or none) admits: its generation."""
    request = PollRequest(task_id=TASK, vendor=TENCENT, generation=record.generation if record else 0)
    return replace(request, **changes)  # type: ignore[arg-type]
