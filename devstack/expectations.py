"""What final status a scripted simulator task must end in, in our vocabulary.

Used by ``make run --exit-when-done``, the end-to-end tests and the chaos soak to check outcomes
against the scenario rather than against hard-coded answers.
"""

from __future__ import annotations

from devstack.zego_simulator import TaskSpec
from zego_media_tasks.domain.status import TaskStatus, Vendor, normalize_vendor_status

_REJECTING_CODES = frozenset({2, 4, 41003})


def expected_status(spec: TaskSpec) -> TaskStatus | None:
    """The terminal status the pipeline must reach for ``spec``, or None if it never ends on its own."""
    vendor = Vendor(spec.vendor.value)
    if spec.code is not None:
        return TaskStatus.REJECTED if spec.code in _REJECTING_CODES else None
    if spec.stays is not None:
        status = normalize_vendor_status(vendor, spec.stays)
        # A task that stays NO_TASK becomes NOT_FOUND after the grace period; one that stays
        # PROCESSING ends only at its deadline.
        return status if status is TaskStatus.NOT_FOUND else TaskStatus.TIMED_OUT
    if spec.final is not None:
        return normalize_vendor_status(vendor, spec.final.status)
    return None
