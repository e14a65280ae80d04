"""Concurrent registrations against moto's server over loopback: one record, one creator, every caller
answered with the same record.

moto serves each request on its own thread but does not lock its conditional writes (DynamoDB makes
them atomic). A long thread switch interval keeps the interpreter from pre-empting moto between its
condition check and its write, so these tests exercise our code and not moto's race.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import boto3
import pytest

from devstack.resources import ProvisionedStack
from tests.support.clock import FakeClock
from zego_media_tasks.api.pagination import PageTokenCodec
from zego_media_tasks.api.service import Registration, TaskService
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.queue.poll_queue import PollQueue
from zego_media_tasks.store.task_store import TaskStore

pytestmark = pytest.mark.integration

CALLERS = 8


@pytest.fixture(autouse=True)
def _no_preemption_inside_moto() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    yield
    sys.setswitchinterval(previous)


class BarrierBeforePut(TaskStore):
    """Holds every caller at the conditional put until all have sent their message: the worst race."""

    def __init__(self, table_name: str, barrier: threading.Barrier) -> None:
        super().__init__(table_name, boto3.client("dynamodb"))
        self.barrier = barrier

    def put_new(self, record: TaskRecord) -> bool:
        self.barrier.wait(timeout=30)
        return super().put_new(record)


def _service(stack: ProvisionedStack, tasks: TaskStore) -> TaskService:
    return TaskService(
        tasks=tasks,
        queue=PollQueue(stack.queue_urls["PollQueue"], boto3.client("sqs")),
        tokens=PageTokenCodec(lambda: b"k" * 32),
        clock=FakeClock(),
        task_deadline=timedelta(days=1),
    )


def _all_at_once(register: Callable[[], Registration]) -> list[Registration]:
    start = threading.Barrier(CALLERS)

    def one() -> Registration:
        start.wait(timeout=30)
        return register()

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        return list(pool.map(lambda _: one(), range(CALLERS)))


def _queued(stack: ProvisionedStack) -> list[dict[str, object]]:
    sqs = boto3.client("sqs")
    bodies: list[dict[str, object]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=stack.queue_urls["PollQueue"], MaxNumberOfMessages=10, VisibilityTimeout=60
        ).get("Messages", [])
        if not messages:
            return bodies
        bodies.extend(json.loads(m["Body"]) for m in messages)


def _items(stack: ProvisionedStack) -> list[dict[str, Any]]:
    # A Scan is fine in a test: it proves there is no second item under any key.
    return list(boto3.resource("dynamodb").Table(stack.table_names["TasksTable"]).scan()["Items"])


def test_concurrent_registrations_make_one_record(stack: ProvisionedStack) -> None:
    # Given eight callers registering the same task at the same moment
    service = _service(stack, TaskStore(stack.table_names["TasksTable"], boto3.client("dynamodb")))
    results = _all_at_once(lambda: service.register("race-1", Vendor.TENCENT))
    # Then exactly one created it, and everybody got that record
    assert sum(r.created for r in results) == 1
    assert all(r.record == results[0].record for r in results)
    assert [(i["taskId"], i["vendor"], i["status"]) for i in _items(stack)] == [("race-1", "Tencent", "PENDING")]
    # And every message that went out is a generation-0 message for it (duplicates are fenced later)
    queued = _queued(stack)
    assert 1 <= len(queued) <= CALLERS
    assert all(m["TaskId"] == "race-1" and "Generation" not in m for m in queued)


def test_when_every_caller_reaches_the_write_together_one_wins_and_the_rest_return_its_record(
    stack: ProvisionedStack,
) -> None:
    # Given eight callers that all pass the existence check and send before any of them writes
    tasks = BarrierBeforePut(stack.table_names["TasksTable"], threading.Barrier(CALLERS))
    service = _service(stack, tasks)
    results = _all_at_once(lambda: service.register("race-2", Vendor.HUAWEI))
    # Then one write wins, seven lose, and the losers answer with the winner's record
    assert sum(r.created for r in results) == 1
    winner = next(r.record for r in results if r.created)
    assert all(r.record == winner for r in results)
    stored = TaskStore(stack.table_names["TasksTable"]).get("race-2", Vendor.HUAWEI, consistent=True)
    assert stored == winner
    assert stored.status is TaskStatus.PENDING
    assert stored.generation == 0
    # And all eight generation-0 messages are on the queue for the poller's fencing to collapse
    assert len(_queued(stack)) == CALLERS
