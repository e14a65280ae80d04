"""What ZEGO's answers mean, written once as test data (the outcome table of docs/architecture.md).

The response parser, the client over a canned transport and the client over real HTTP are held to the
same tables, and the status vocabulary's test to the same vendor statuses, so the suites cannot drift
apart on what an answer means.
"""

from __future__ import annotations

from typing import Final

from zego_media_tasks.domain.outcome import OutcomeKind
from zego_media_tasks.domain.status import TaskStatus, Vendor

DECISIVE_HTTP_STATUSES: Final[dict[int, OutcomeKind]] = {
    401: OutcomeKind.CONFIGURATION,
    403: OutcomeKind.CONFIGURATION,
    429: OutcomeKind.THROTTLED,
    500: OutcomeKind.TRANSIENT,
    502: OutcomeKind.TRANSIENT,
    503: OutcomeKind.TRANSIENT,
    504: OutcomeKind.TRANSIENT,
}
"""HTTP statuses whose outcome does not depend on the body (an error code ``HTTP_<status>``)."""

DOCUMENTED_VENDOR_STATUSES: Final[tuple[tuple[Vendor, str, TaskStatus], ...]] = (
    (Vendor.TENCENT, "WAITING", TaskStatus.WAITING),
    (Vendor.TENCENT, "PROCESSING", TaskStatus.PROCESSING),
    (Vendor.TENCENT, "FINISH", TaskStatus.SUCCEEDED),
    (Vendor.TENCENT, "FAIL", TaskStatus.FAILED),
    (Vendor.HUAWEI, "NO_TASK", TaskStatus.NOT_FOUND),
    (Vendor.HUAWEI, "WAITING", TaskStatus.WAITING),
    (Vendor.HUAWEI, "PROCESSING", TaskStatus.PROCESSING),
    (Vendor.HUAWEI, "SUCCEEDED", TaskStatus.SUCCEEDED),
    (Vendor.HUAWEI, "FAILED", TaskStatus.FAILED),
    (Vendor.HUAWEI, "CANCELED", TaskStatus.CANCELED),
)
"""Every status each vendor documents, with the normalized status it means."""

OTHER_VENDORS_WORDS: Final[tuple[tuple[Vendor, str], ...]] = (
    (Vendor.TENCENT, "SUCCEEDED"),  # Huawei's word, not Tencent's
    (Vendor.HUAWEI, "FINISH"),  # Tencent's word, not Huawei's
)
"""A status one vendor documents, answered by the other: not recognised (``UNKNOWN``)."""
