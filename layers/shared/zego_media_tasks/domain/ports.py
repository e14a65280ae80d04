"""What the domain needs from the outside world, as Protocols; adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from zego_media_tasks.domain.lists import RecordList
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.outcome import CallOutcome
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor


class TaskDescriber(Protocol):
    """Asks ZEGO about one task (implemented by ``zego_media_tasks.zego.client.ZegoClient``)."""

    def describe_media_task(self, task_id: str, vendor: Vendor) -> CallOutcome:
        """One DescribeMediaTask call, translated into a :class:`CallOutcome`; never raises for
        network or vendor failures."""
        ...


class WriteResult(StrEnum):
    """How a fenced write ended."""

    WRITTEN = "WRITTEN"
    SUPERSEDED = "SUPERSEDED"
    """The condition failed: the record moved on (another generation, or terminal) or already exists."""


@dataclass(frozen=True, slots=True)
class RecordPage:
    """One page of a listing; ``last_key`` is where the store stopped (DynamoDB's LastEvaluatedKey),
    None on the last page."""

    records: tuple[TaskRecord, ...]
    last_key: dict[str, str] | None


class RecordReads(Protocol):
    """Reads of the task records by key and by TaskId (implemented by
    ``zego_media_tasks.store.task_store.TaskStore``, as are the two ports below)."""

    def get(self, task_id: str, vendor: Vendor, *, consistent: bool = True) -> TaskRecord | None:
        """The record for (task_id, vendor), or None; consistent unless asked otherwise."""
        ...

    def for_task(self, task_id: str, *, consistent: bool = False) -> list[TaskRecord]:
        """Every record of a TaskId, ordered by vendor."""
        ...


class TaskRecords(RecordReads, Protocol):
    """The task records as the poller and the callback receiver use them: reads and the fenced write."""

    def put(self, record: TaskRecord, expected_generation: int | None) -> WriteResult:
        """Generation-fenced conditional write."""
        ...


class TaskTable(RecordReads, Protocol):
    """The task records as the read API uses them: reads, listings by status and registration."""

    def by_status(
        self, status: TaskStatus, vendor: Vendor | None, limit: int, start_key: Mapping[str, str] | None = None
    ) -> RecordPage:
        """One page of records in a status, newest change first."""
        ...

    def put_new(self, record: TaskRecord) -> bool:
        """Store a record unless one exists with its key; False if one does."""
        ...


class ListObjectReads(Protocol):
    """The complete long lists of records (implemented by ``zego_media_tasks.store.list_objects.ListObjects``)."""

    def get(self, kind: RecordList, key: str) -> tuple[str, ...]:
        """The entries of the list object ``key``."""
        ...


class PollSender(Protocol):
    """The poll queue (implemented by ``zego_media_tasks.queue.poll_queue.PollQueue``)."""

    def send(self, request: PollRequest, delay_seconds: int = 0) -> str:
        """Enqueue ``request`` to become visible after ``delay_seconds``; returns the SQS MessageId."""
        ...


class Clock(Protocol):
    """Injectable time, so that tests never sleep."""

    def now(self) -> datetime:
        """The current aware UTC datetime."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (a fake clock advances instead)."""
        ...


class DependencyUnavailable(RuntimeError):  # noqa: N818 - names the situation the caller must handle
    """A dependency (the task table, the poll queue) failed for a reason other than our own input.

    Adapters raise subclasses of it, once, at the edge; the poller retries the message, the read API
    answers 503. ``reason`` is the dependency's error code or the failure's type name, never a payload.
    """

    dependency: str = "a dependency"

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"{operation} failed: {reason}")
        self.operation = operation
        self.reason = reason
