"""The service without HTTP: lookups, listings, and registration's send-before-write order."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.support.api_events import make_record
from tests.support.clock import FakeClock
from tests.unit.api.conftest import PAGINATION_SECRET, TASK_DEADLINE, queued_bodies
from zego_media_tasks.api.errors import InvalidRequestError, TaskNotFoundError
from zego_media_tasks.api.pagination import PageTokenCodec
from zego_media_tasks.api.service import TaskService
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.queue.poll_queue import PollQueue, QueueSendError
from zego_media_tasks.store.task_store import TaskStore

Seed = Callable[..., TaskRecord]


class RecordingQueue:
    """A poll sender that records what was sent, and what the table held at that moment."""

    def __init__(self, queries: TaskStore, fail: bool = False) -> None:
        self.queries = queries
        self.fail = fail
        self.sent: list[tuple[PollRequest, TaskRecord | None]] = []

    def send(self, request: PollRequest, delay_seconds: int = 0) -> str:
        if self.fail:
            raise QueueSendError("SendMessage", "EndpointConnectionError")
        self.sent.append((request, self.queries.get(request.task_id, request.vendor, consistent=True)))
        return f"m-{len(self.sent)}"


class RacingQueries(TaskStore):
    """Another registration's record lands between our send and our put (the race we lose)."""

    def __init__(self, table_name: str, winner: TaskRecord) -> None:
        super().__init__(table_name)
        self.winner = winner

    def put_new(self, record: TaskRecord) -> bool:
        assert super().put_new(self.winner)
        return super().put_new(record)


def _service(queries: TaskStore, queue: object, clock: FakeClock) -> TaskService:
    return TaskService(
        tasks=queries,
        queue=queue,  # type: ignore[arg-type]
        tokens=PageTokenCodec(PAGINATION_SECRET.encode),
        clock=clock,
        task_deadline=TASK_DEADLINE,
    )


def test_registration_sends_the_first_poll_before_writing_the_record(queries: TaskStore, clock: FakeClock) -> None:
    queue = RecordingQueue(queries)
    registration = _service(queries, queue, clock).register("t-1", Vendor.HUAWEI)
    assert registration.created
    ((request, record_at_send_time),) = queue.sent
    assert record_at_send_time is None  # sent first
    assert request == PollRequest(
        task_id="t-1",
        vendor=Vendor.HUAWEI,
        generation=0,
        first_seen_at="2026-11-23T12:00:00.000Z",
        deadline_at="2026-11-24T12:00:00.000Z",
    )
    assert queries.get("t-1", Vendor.HUAWEI, consistent=True) == registration.record
    assert registration.record.status is TaskStatus.PENDING
    assert registration.record.generation == 0
    assert registration.record.next_poll_at == "2026-11-23T12:00:00.000Z"


def test_a_failed_send_writes_no_record(queries: TaskStore, clock: FakeClock) -> None:
    with pytest.raises(QueueSendError):
        _service(queries, RecordingQueue(queries, fail=True), clock).register("t-1", Vendor.TENCENT)
    assert queries.get("t-1", Vendor.TENCENT, consistent=True) is None


def test_a_lost_race_returns_the_winners_record(
    moto_stack: object, queries: TaskStore, queue_url: str, clock: FakeClock
) -> None:
    # Given another registration that stores its record while ours is between send and put
    winner = make_record("t-1", status=TaskStatus.PENDING, generation=0, first_seen_at="2026-11-23T11:59:59.000Z")
    racing = RacingQueries(queries.table_name, winner)
    # When we register
    registration = _service(racing, PollQueue(queue_url), clock).register("t-1", Vendor.TENCENT)
    # Then we answer with the winner's record, not ours, and did not overwrite it
    assert not registration.created
    assert registration.record == winner
    assert queries.get("t-1", Vendor.TENCENT, consistent=True) == winner
    # And our generation-0 message went out anyway (the poller's fencing absorbs it)
    assert [json.loads(b)["TaskId"] for b in queued_bodies(queue_url)] == ["t-1"]


def test_an_existing_record_is_returned_without_sending(queries: TaskStore, seed: Seed, clock: FakeClock) -> None:
    existing = seed(make_record("t-1", status=TaskStatus.PROCESSING))
    queue = RecordingQueue(queries)
    registration = _service(queries, queue, clock).register("t-1", Vendor.TENCENT)
    assert (registration.record, registration.created) == (existing, False)
    assert queue.sent == []


def test_the_deadline_is_configurable(queries: TaskStore, clock: FakeClock) -> None:
    service = TaskService(
        tasks=queries,
        queue=RecordingQueue(queries),
        tokens=PageTokenCodec(PAGINATION_SECRET.encode),
        clock=clock,
        task_deadline=TASK_DEADLINE / 24,
    )
    assert service.register("t-1", Vendor.TENCENT).record.deadline_at == "2026-11-23T13:00:00.000Z"


@pytest.mark.parametrize("task_id", ["", "a b", "a/b", "x" * 257])
def test_invalid_task_ids_are_refused_before_any_call(service: TaskService, task_id: str) -> None:
    with pytest.raises(InvalidRequestError):
        service.register(task_id, Vendor.TENCENT)
    with pytest.raises(InvalidRequestError):
        service.get_task(task_id)


def test_get_task_raises_not_found(service: TaskService) -> None:
    with pytest.raises(TaskNotFoundError):
        service.get_task("t-1")


def test_list_tasks_returns_a_token_only_when_more_may_follow(service: TaskService, seed: Seed) -> None:
    seed(make_record("t-1"), make_record("t-2", changed_at="2026-11-23T10:01:00.000Z"))
    first = service.list_tasks(TaskStatus.PROCESSING, None, 1)
    assert [r.task_id for r in first.records] == ["t-2"]
    assert first.next_token
    second = service.list_tasks(TaskStatus.PROCESSING, None, 1, first.next_token)
    assert [r.task_id for r in second.records] == ["t-1"]
    everything = service.list_tasks(TaskStatus.PROCESSING, None, 5)
    assert everything.next_token is None
