"""A task snapshot: what ZEGO said about one task at one moment, normalized."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from zego_media_tasks.domain.fields import about
from zego_media_tasks.domain.status import TaskStatus, Vendor

STATUS_DOC = (
    "The normalized status. SUCCEEDED, FAILED, CANCELED, NOT_FOUND, TIMED_OUT and REJECTED are terminal: "
    "a record in one of them never changes again."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoDetails:
    """The video stream of a transcoded file, as the transcode callback reports it."""

    codec: str | None = field(default=None, metadata=about())
    bitrate: int | None = field(default=None, metadata=about("Bits per second."))
    width: int | None = field(default=None, metadata=about("Pixels."))
    height: int | None = field(default=None, metadata=about("Pixels."))
    fps: float | None = field(default=None, metadata=about("Frames per second."))


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioDetails:
    """The audio stream of a transcoded file, as the transcode callback reports it."""

    codec: str | None = field(default=None, metadata=about())
    bitrate: int | None = field(default=None, metadata=about("Bits per second."))
    sampling_rate: int | None = field(default=None, metadata=about("Hz."))


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaDetails:
    """The output file of a finished transcode (Tencent VOD), from its completion callback."""

    size_bytes: int | None = field(default=None, metadata=about("File size in bytes."))
    duration_seconds: float | None = field(default=None, metadata=about("Duration in seconds."))
    video: VideoDetails | None = field(default=None, metadata=about())
    audio: AudioDetails | None = field(default=None, metadata=about())


def _entries(what: str, route: str) -> Any:
    """A list field: all its entries, or the first page of a long one (``domain.lists``)."""
    return field(
        default=(),
        metadata=about(
            f"Every one of the {what} in order, or only the first ones when the list is cut (GET "
            f"/tasks/{{taskId}}/{route} pages through all of them)."
        ),
    )


def _count(what: str) -> Any:
    return field(default=0, metadata=about(f"How many {what} the task has."))


def _cut(member: str, count: str) -> Any:
    return field(default=False, metadata=about(f"True when {member} holds only the first of {count} entries."))


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSnapshot:
    """One DescribeMediaTask answer for one task, in our own vocabulary.

    Every optional field is None when the vendor omitted it, sent ``null`` or sent an empty string;
    ``raw`` keeps the vendor block exactly as received, so nothing the vendor said is lost. The fields
    after ``status`` are the *vendor fields*: the task record holds the latest answer's values of all of
    them (``TaskRecord`` extends this class), replaced together by each answer.
    """

    task_id: str = field(metadata=about("ZEGO's TaskId."))
    vendor: Vendor = field(metadata=about())
    status: TaskStatus = field(metadata=about(STATUS_DOC))
    vendor_status: str | None = field(default=None, metadata=about("The vendor's own status, verbatim."))
    event: str | None = field(default=None, metadata=about())
    file_id: str | None = field(default=None, metadata=about())
    replay_url: str | None = field(default=None, metadata=about())
    thumbnail_urls: tuple[str, ...] = _entries("snapshot URLs", "thumbnails")
    thumbnail_count: int = _count("snapshot URLs")
    thumbnails_truncated: bool = _cut("thumbnailUrls", "thumbnailCount")
    thumbnails_object: str | None = field(default=None, metadata=about(internal=True))
    """The S3 key of the complete list when ``thumbnails_truncated`` (see :mod:`.lists`)."""
    file_names: tuple[str, ...] = _entries("snapshot object names (Huawei)", "file-names")
    file_name_count: int = _count("snapshot object names")
    file_names_truncated: bool = _cut("fileNames", "fileNameCount")
    file_names_object: str | None = field(default=None, metadata=about(internal=True))
    """The S3 key of the complete list when ``file_names_truncated``."""
    message: str | None = field(default=None, metadata=about())
    vendor_request_id: str | None = field(default=None, metadata=about())
    zego_request_id: str | None = field(default=None, metadata=about())
    vendor_created_at: str | None = field(default=None, metadata=about(timestamp=True))
    """Huawei ``CreateTime`` as ISO 8601 UTC."""
    vendor_ended_at: str | None = field(default=None, metadata=about(timestamp=True))
    """Huawei ``EndTime`` as ISO 8601 UTC."""
    result_code: str | None = field(
        default=None,
        metadata=about(
            "The vendor's result code from a completion callback: 0 on success; for a merge 40000 (bad input), "
            "60000 (bad source file) or 70000 (internal error, retry advised)."
        ),
    )
    media: MediaDetails | None = field(
        default=None, metadata=about("The transcoded file's size, duration and streams (transcode callback).")
    )
    raw: Mapping[str, Any] | None = field(
        default=None,
        metadata=about(
            "The vendor block exactly as ZEGO returned it (or the completion callback's body).", stored_as="rawJson"
        ),
    )

    def __post_init__(self) -> None:
        # A complete list is its own count, whichever way the snapshot was made (``replace`` included);
        # only a list cut to its first page (domain.lists) keeps the count it was given.
        if not self.thumbnails_truncated:
            object.__setattr__(self, "thumbnail_count", len(self.thumbnail_urls))
        if not self.file_names_truncated:
            object.__setattr__(self, "file_name_count", len(self.file_names))


IDENTITY_FIELDS = frozenset({"task_id", "vendor", "status"})
"""Snapshot fields that are not vendor fields: which task, and its status (decided with the record)."""
VENDOR_FIELDS = tuple(item.name for item in fields(TaskSnapshot) if item.name not in IDENTITY_FIELDS)
"""The vendor fields, in declaration order: what each answer or callback brings about the task."""
