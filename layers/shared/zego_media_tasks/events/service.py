"""One stream record of the tasks table → at most one state-change event on the bus.

The old and new images are read with the table's own item mapping; the comparison and the event come
from :mod:`zego_media_tasks.domain.state_change`. A write that changed no status publishes nothing.
An image this version cannot read (another table's item, a future or foreign shape) is
:class:`UnreadableRecordError`: the record fails, Lambda's bisection isolates it and, past the retry budget,
the on-failure destination receives it with its reason; it never blocks the stream forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.state_change import StateChange, state_change
from zego_media_tasks.store.items import PARTITION_KEY, SORT_KEY, STATUS_ATTR, record_from_item
from zego_media_tasks.store.task_store import from_wire


class UnreadableRecordError(ValueError):
    """A stream record whose images are not task records this version understands."""


class Publisher(Protocol):
    """Where events go (implemented by :class:`zego_media_tasks.events.publisher.EventPublisher`)."""

    def publish(self, changes: list[StateChange]) -> int:
        """Publish; raises when some could not be published."""
        ...


class Published(StrEnum):
    """What one stream record led to."""

    PUBLISHED = "PUBLISHED"
    UNCHANGED = "UNCHANGED"
    """The write changed no status (or removed an expired record): nothing to publish."""


@dataclass(frozen=True, slots=True)
class PublishResult:
    """The report of one stream record: the state change published, or None when there was none."""

    change: StateChange | None = None

    @property
    def outcome(self) -> Published:
        """What the record led to, which the change alone decides."""
        return Published.UNCHANGED if self.change is None else Published.PUBLISHED


def _image(data: Mapping[str, Any], name: str) -> TaskRecord | None:
    image = data.get(name)
    if image is None:
        return None
    if not isinstance(image, Mapping):
        raise UnreadableRecordError(f"{name} is not a DynamoDB item")
    try:
        item = from_wire(image)
    except (TypeError, ValueError, KeyError) as error:
        reason = type(error).__name__
        raise UnreadableRecordError(f"{name} holds values this version cannot decode ({reason})") from None
    missing = [key for key in (PARTITION_KEY, SORT_KEY, STATUS_ATTR) if not isinstance(item.get(key), str)]
    if missing:
        raise UnreadableRecordError(f"{name} lacks {', '.join(missing)}: not a task record")
    try:
        return record_from_item(item)
    except (TypeError, ValueError) as error:
        raise UnreadableRecordError(f"{name} is not a task record this version reads ({error})") from None


class PublisherService:
    """Publishes the state change of each stream record. Built once per Lambda instance."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    def handle(self, record: Mapping[str, Any]) -> PublishResult:
        """Handle one DynamoDB stream record (Lambda's shape); raise when it must be retried."""
        data = record.get("dynamodb")
        if not isinstance(data, Mapping):
            raise UnreadableRecordError("the record has no dynamodb section")
        change = state_change(_image(data, "OldImage"), _image(data, "NewImage"))
        if change is None:
            return PublishResult()
        self._publisher.publish([change])
        return PublishResult(change)
