"""What the read API does, free of HTTP: look tasks up, list them by status, page through a record's long
lists (snapshot URLs, file names), register new ones.

Registration follows the architecture's send-before-write rule (docs/architecture.md): the generation-0
poll message is sent first, then the PENDING record is put only if no record exists. A crash between
the two leaves a message and no record, which the poller handles (it creates the record); the reverse
order could leave a record that nothing ever polls. Two concurrent registrations both send, but only
one put succeeds; the loser answers with the winner's record, and its extra generation-0 message is
absorbed by the poller's generation fencing, so one record and one poll chain survive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from zego_media_tasks.api.errors import (
    ErrorCode,
    InvalidRequestError,
    ServiceUnavailableError,
    TaskNotFoundError,
)
from zego_media_tasks.api.pagination import InvalidNextTokenError, ListingQuery, PageTokenCodec, RecordListQuery
from zego_media_tasks.api.settings import ApiSettings
from zego_media_tasks.domain.clock import SystemClock
from zego_media_tasks.domain.lists import RecordList, content_digest, first_page
from zego_media_tasks.domain.messages import PollRequest, task_id_problem
from zego_media_tasks.domain.ports import Clock, ListObjectReads, PollSender, TaskTable
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.status import TaskKind, TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso


@dataclass(frozen=True, slots=True)
class Registration:
    """The outcome of a registration: the record, and whether this call created it."""

    record: TaskRecord
    created: bool


@dataclass(frozen=True, slots=True)
class TaskListing:
    """One page of a listing by status, with the token for the next page (None on the last)."""

    records: tuple[TaskRecord, ...]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a record's list, in order, with the token for the next page (None on the last)."""

    values: tuple[str, ...]
    next_token: str | None


MAX_LIST_PAGE_BYTES = 1024 * 1024
"""A list page stops before this many bytes of entries (but holds at least one): far below the 6 MB a
Lambda answer may have."""
_IN_RECORD = "record"
"""The token's ``source`` prefix for a list the record holds whole (else the list object's name)."""


def _require_valid_task_id(task_id: str) -> None:
    problem = task_id_problem(task_id)
    if problem is not None:
        raise InvalidRequestError(problem, ErrorCode.INVALID_TASK_ID)


@dataclass(frozen=True, slots=True)
class TaskService:
    """Reads and registration over the tasks table and the poll queue."""

    tasks: TaskTable
    queue: PollSender
    tokens: PageTokenCodec
    clock: Clock
    task_deadline: timedelta
    """How long after registration a task is polled before it ends ``TIMED_OUT``."""
    lists: ListObjectReads | None = None
    """The complete long lists (the lists bucket); None: a cut list cannot be read (503)."""

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> TaskService:
        """The service wired to AWS as configured (clients are created at first use)."""
        from zego_media_tasks.queue.poll_queue import PollQueue
        from zego_media_tasks.store.list_objects import ListObjects
        from zego_media_tasks.store.task_store import TaskStore

        return cls(
            tasks=TaskStore(settings.table_name),
            queue=PollQueue(settings.queue_url),
            tokens=PageTokenCodec(settings.pagination_key()),
            clock=SystemClock(),
            task_deadline=timedelta(seconds=settings.task_deadline_seconds),
            lists=ListObjects(settings.lists_bucket_name),
        )

    def get_task(self, task_id: str, vendor: Vendor | None = None) -> list[TaskRecord]:
        """The records of ``task_id`` (only ``vendor``'s if given); :class:`TaskNotFoundError` if none."""
        _require_valid_task_id(task_id)
        if vendor is None:
            records = self.tasks.for_task(task_id)
        else:
            record = self.tasks.get(task_id, vendor, consistent=False)  # shown, not written: the cheaper read
            records = [record] if record is not None else []
        if not records:
            scope = f" for vendor {vendor.value}" if vendor is not None else ""
            raise TaskNotFoundError(f"task {task_id} is not tracked{scope}")
        return records

    def list_page(
        self, task_id: str, vendor: Vendor, kind: RecordList, limit: int, next_token: str | None = None
    ) -> ListPage:
        """A page of the record's list ``kind`` (all its entries, in order, inline or not), continuing
        ``next_token``; :class:`TaskNotFoundError` without a record, :class:`InvalidNextTokenError` for a
        token of another walk, or of a copy of the list the record no longer names."""
        _require_valid_task_id(task_id)
        record = self.tasks.get(task_id, vendor, consistent=False)
        if record is None:
            raise TaskNotFoundError(f"task {task_id} is not tracked for vendor {vendor.value}")
        query = RecordListQuery(kind.name, task_id, vendor)
        key = kind.object_key(record) if kind.truncated(record) else None
        # Which copy of the list a token counts in: the object's name, or the digest of the list the
        # record holds whole (a newer answer with another list makes older tokens invalid, never mixed).
        source = key.rsplit("/", 1)[-1] if key else f"{_IN_RECORD}-{content_digest(kind, kind.values(record))[:32]}"
        start = 0
        if next_token is not None:
            position = self.tokens.decode(next_token, query)
            offset = position.get("offset", "")
            if position.get("source") != source or not offset.isdigit():
                raise InvalidNextTokenError()
            start = int(offset)
        values = self._list_values(kind, key) if key else kind.values(record)
        if start > len(values):
            raise InvalidNextTokenError()
        rest = values[start:]
        page = first_page(rest, MAX_LIST_PAGE_BYTES, limit) or rest[:1]
        end = start + len(page)
        token = self.tokens.encode({"offset": str(end), "source": source}, query) if end < len(values) else None
        return ListPage(values=page, next_token=token)

    def _list_values(self, kind: RecordList, key: str) -> tuple[str, ...]:
        if self.lists is None:
            raise ServiceUnavailableError(f"the {kind.name} of this task are kept in a bucket this API cannot read")
        return self.lists.get(kind, key)

    def list_tasks(
        self, status: TaskStatus, vendor: Vendor | None, limit: int, next_token: str | None = None
    ) -> TaskListing:
        """A page of tasks in ``status`` (and ``vendor``), newest change first, continuing ``next_token``."""
        query = ListingQuery(status=status, vendor=vendor)
        start_key = self.tokens.decode(next_token, query) if next_token is not None else None
        page = self.tasks.by_status(status, vendor, limit, start_key)
        token = self.tokens.encode(page.last_key, query) if page.last_key else None
        return TaskListing(records=page.records, next_token=token)

    def register(self, task_id: str, vendor: Vendor, kind: TaskKind | None = None) -> Registration:
        """Start tracking ``task_id`` for ``vendor``; idempotent (see the module docstring)."""
        _require_valid_task_id(task_id)
        existing = self.tasks.get(task_id, vendor, consistent=True)
        if existing is not None:
            return Registration(record=existing, created=False)

        now = self.clock.now()
        first_seen_at = to_iso(now)
        deadline_at = to_iso(now + self.task_deadline)
        self.queue.send(
            PollRequest(
                task_id=task_id,
                vendor=vendor,
                generation=0,
                first_seen_at=first_seen_at,
                deadline_at=deadline_at,
                kind=kind,
            )
        )
        record = pending_record(
            task_id, vendor, now=now, first_seen_at=first_seen_at, deadline_at=deadline_at, kind=kind
        )
        if self.tasks.put_new(record):
            return Registration(record=record, created=True)
        winner = self.tasks.get(task_id, vendor, consistent=True)
        if winner is None:  # created and deleted again in between: only TTL deletes, so practically never
            raise ServiceUnavailableError("the task changed during registration; try again")
        return Registration(record=winner, created=False)
