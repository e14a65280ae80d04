"""A record's long lists (snapshot URLs, Huawei file names): what stays in the item, what goes elsewhere. Pure.

A DynamoDB item holds at most 400 KB, and a snapshot of a long video has thousands of URLs (10,000 URLs
of about 130 bytes are 1.3 MB). So a list whose entries exceed :data:`INLINE_LIST_BYTES` is *cut*: the
record keeps its first page inline (``thumbnail_urls``), its full count (``thumbnail_count``), a flag
(``thumbnails_truncated``) and the key of an object holding the complete list (``thumbnails_object``),
which :func:`split_lists` returns alongside for the caller to store *before* the record is written.

The key is derived from the task and the list's content (SHA-256), so writing the same list again is
the same object, byte for byte (idempotent), and a write that loses the generation fence leaves behind
an object no record names, which the bucket's lifecycle expires; the record that won names its own.
A record whose list is already cut (read back from the table) passes through unchanged.

Sizes: 64 KiB per list inline (about 450 URLs) keeps an item under 300 KB whatever else it holds (the
raw vendor block is capped at 64 KiB too, each vendor text at :data:`MAX_TEXT_CHARS`; see docs/architecture.md,
"Answers and records of any size").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final
from urllib.parse import quote

from zego_media_tasks.domain.fields import declared_fields
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.snapshot import VENDOR_FIELDS, TaskSnapshot

INLINE_LIST_BYTES: Final = 64 * 1024
"""The most list entries one record item holds inline, per list (UTF-8 bytes plus 3 per entry)."""
MAX_TEXT_CHARS: Final = 4096
"""The longest vendor text field kept (16 KiB of UTF-8 at most; eight of them stay far under an item)."""
OBJECT_PREFIX: Final = "lists/"
"""Every list object's key starts so; the functions' permissions name this prefix only."""
_ENTRY_OVERHEAD: Final = 3
"""Bytes counted per entry besides its text: a list element's type and length in DynamoDB's accounting."""


@dataclass(frozen=True, slots=True)
class RecordList:
    """One list of the record and the fields that describe it."""

    name: str
    """The list's name in the API (``thumbnails``: ``GET /tasks/{taskId}/thumbnails``) and object keys."""
    member: str
    """Its JSON member in the API representation and in the object (``thumbnailUrls``)."""
    values_field: str
    count_field: str
    truncated_field: str
    object_field: str

    @property
    def companions(self) -> tuple[str, str, str]:
        """The fields that change together with the list, never on their own."""
        return (self.count_field, self.truncated_field, self.object_field)

    def values(self, record: TaskRecord) -> tuple[str, ...]:
        """The entries the record holds inline (all of them unless :meth:`truncated`)."""
        values: tuple[str, ...] = getattr(record, self.values_field)
        return values

    def count(self, record: TaskRecord) -> int:
        """How many entries the list has, inline or not."""
        count: int = getattr(record, self.count_field)
        return count

    def truncated(self, record: TaskRecord) -> bool:
        """True when the record holds only the first page of the list."""
        return bool(getattr(record, self.truncated_field))

    def object_key(self, record: TaskRecord) -> str | None:
        """The key of the complete list's object, when the list is cut."""
        key: str | None = getattr(record, self.object_field)
        return key


THUMBNAILS: Final = RecordList(
    "thumbnails", "thumbnailUrls", "thumbnail_urls", "thumbnail_count", "thumbnails_truncated", "thumbnails_object"
)
FILE_NAMES: Final = RecordList(
    "file-names", "fileNames", "file_names", "file_name_count", "file_names_truncated", "file_names_object"
)
RECORD_LISTS: Final = (THUMBNAILS, FILE_NAMES)


@dataclass(frozen=True, slots=True)
class ListObject:
    """A complete list to store under ``key`` before the record that names it is written."""

    key: str
    kind: RecordList
    values: tuple[str, ...]

    def body(self) -> bytes:
        """The object's bytes: ``{"<member>": [...]}``, UTF-8 JSON."""
        return encode_list(self.kind, self.values)


@dataclass(frozen=True, slots=True)
class SplitRecord:
    """A record ready for the table, and the list objects to store first (none for a small record)."""

    record: TaskRecord
    objects: tuple[ListObject, ...]


def entry_bytes(value: str) -> int:
    """What one entry counts against a budget."""
    return len(value.encode("utf-8")) + _ENTRY_OVERHEAD


def first_page(values: Sequence[str], max_bytes: int, max_entries: int | None = None) -> tuple[str, ...]:
    """The longest prefix of ``values`` within ``max_bytes`` (and ``max_entries``); may be empty."""
    size = 0
    end = 0
    limit = len(values) if max_entries is None else min(len(values), max_entries)
    while end < limit:
        size += entry_bytes(values[end])
        if size > max_bytes:
            break
        end += 1
    return tuple(values[:end])


def encode_list(kind: RecordList, values: Sequence[str]) -> bytes:
    """A list object's bytes."""
    return json.dumps({kind.member: list(values)}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_list(kind: RecordList, body: bytes) -> tuple[str, ...]:
    """The entries of a list object; ``ValueError`` when the bytes are not such an object."""
    document = json.loads(body)
    values = document.get(kind.member) if isinstance(document, dict) else None
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ValueError(f"not a {kind.name} list object")
    return tuple(values)


def content_digest(kind: RecordList, values: Sequence[str]) -> str:
    """The SHA-256 (hex) of a list's object bytes: the same list, the same digest."""
    return hashlib.sha256(encode_list(kind, values)).hexdigest()


def list_object_key(record: TaskRecord, kind: RecordList, values: Sequence[str]) -> str:
    """``lists/<Vendor>/<TaskId, percent-encoded>/<list>-<SHA-256 of the content>.json``."""
    digest = content_digest(kind, values)
    return f"{OBJECT_PREFIX}{record.vendor.value}/{quote(record.task_id, safe='')}/{kind.name}-{digest}.json"


def _vendor_texts() -> tuple[str, ...]:
    return tuple(
        item.name
        for item in declared_fields(TaskSnapshot)
        if item.name in VENDOR_FIELDS and item.hint == (str | None) and not (item.info.timestamp or item.info.internal)
    )


_VENDOR_TEXTS: Final = _vendor_texts()
"""The vendor's free text fields (ids, URLs, event, message): each is cut to :data:`MAX_TEXT_CHARS`."""


def split_lists(record: TaskRecord, *, inline_bytes: int = INLINE_LIST_BYTES) -> SplitRecord:
    """``record`` with each list over ``inline_bytes`` cut to its first page, and the objects to store.

    Each vendor text field is also cut to :data:`MAX_TEXT_CHARS` characters: no documented field comes
    near it (``ReplayUrl`` is at most 1024 bytes), and an answer of up to the client's bound could
    otherwise carry one text larger than an item."""
    changes: dict[str, object] = {
        name: value[:MAX_TEXT_CHARS]
        for name in _VENDOR_TEXTS
        if isinstance(value := getattr(record, name), str) and len(value) > MAX_TEXT_CHARS
    }
    objects: list[ListObject] = []
    for kind in RECORD_LISTS:
        values = kind.values(record)
        if kind.truncated(record):
            continue  # already cut: the object it names holds the complete list
        page = first_page(values, inline_bytes)
        if len(page) == len(values):
            if kind.object_key(record) is not None:
                changes[kind.object_field] = None  # a complete list inline needs no object
            continue
        key = list_object_key(record, kind, values)
        objects.append(ListObject(key, kind, values))
        changes.update(
            {
                kind.values_field: page,
                kind.count_field: len(values),
                kind.truncated_field: True,
                kind.object_field: key,
            }
        )
    return SplitRecord(replace(record, **changes) if changes else record, tuple(objects))  # type: ignore[arg-type]
