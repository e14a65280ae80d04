"""A task snapshot: what ZEGO said about one task at one moment, normalized."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zego_media_tasks.domain.status import TaskStatus, Vendor


@dataclass(frozen=True, slots=True)
class TaskSnapshot:
    """One DescribeMediaTask answer for one task, in our own vocabulary.

    Every optional field is None when the vendor omitted it, sent ``null`` or sent an empty string;
    ``raw`` keeps the vendor block exactly as received, so nothing the vendor said is lost.
    """

    task_id: str
    vendor: Vendor
    status: TaskStatus
    vendor_status: str | None
    event: str | None = None
    file_id: str | None = None
    replay_url: str | None = None
    thumbnail_urls: tuple[str, ...] = ()
    file_names: tuple[str, ...] = ()
    message: str | None = None
    vendor_request_id: str | None = None
    zego_request_id: str | None = None
    vendor_created_at: str | None = None
    """Huawei ``CreateTime`` as ISO 8601 UTC."""
    vendor_ended_at: str | None = None
    """Huawei ``EndTime`` as ISO 8601 UTC."""
    raw: Mapping[str, Any] = field(default_factory=dict)
