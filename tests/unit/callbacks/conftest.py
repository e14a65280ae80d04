"""Callback-receiver unit fixtures: the receiver as its wiring builds it, over moto's in-process tables
(no sockets), with a fake clock; beside it the read API's registration and the real poller (with a
scripted ZEGO describer) on the same table, queue and clock, so a test can follow a task from
registration through callback to the poll chain's next message."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from devstack.resources import ProvisionedStack
from tests.support.clock import FakeClock
from tests.support.poller import PollingScene, QueuedMessage, ScriptedDescriber, poller_environment
from tests.support.zego_callbacks import json_body, receiver_environment, signed
from zego_media_tasks.api.pagination import PageTokenCodec
from zego_media_tasks.api.service import TaskService
from zego_media_tasks.callbacks.service import CallbackResult, CallbackService
from zego_media_tasks.callbacks.settings import CallbackSettings
from zego_media_tasks.callbacks.wiring import build_receiver
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskKind, Vendor
from zego_media_tasks.poller.service import PollerService, PollResult, QueueMessage
from zego_media_tasks.poller.wiring import build_runtime
from zego_media_tasks.queue.poll_queue import PollQueue
from zego_media_tasks.store.task_store import TaskStore

PAGINATION_SECRET = "unit-test-pagination-secret-0123456789abcdef"


@dataclass
class Scene(PollingScene):
    """One tasks table and poll queue, with everything that writes to them sharing one fake clock."""

    receiver: CallbackService
    poller: PollerService
    registry: TaskService
    seen: set[str] = field(default_factory=set)

    def callback(self, fields: dict[str, Any], **signing: Any) -> CallbackResult:
        """Deliver ``fields`` signed now, as a JSON body, to the receiver."""
        body = json_body(signed(fields, at=self.clock.now(), **signing))
        return self.receiver.handle(body.encode(), "application/json")

    def register(self, task_id: str, vendor: Vendor, kind: TaskKind | None = None) -> TaskRecord:
        """``POST /tasks``: a PENDING record and the chain's first message."""
        return self.registry.register(task_id, vendor, kind).record

    def new_messages(self) -> list[QueuedMessage]:
        """The poll messages queued since the last look (delayed ones included)."""
        fresh = [message for message in self.queued() if message.message_id not in self.seen]
        self.seen.update(message.message_id for message in fresh)
        return fresh

    def poll(self, message: QueuedMessage, *, after_seconds: float = 0) -> PollResult:
        """Deliver one queued message to the poller once its delay (or ``after_seconds``) has passed."""
        self.clock.advance(max(after_seconds, message.delay_seconds))
        return self.poller.handle(
            QueueMessage(
                message_id=message.message_id,
                body=message.raw_body,
                sent_timestamp_ms=int((self.clock.now() - timedelta(seconds=message.delay_seconds)).timestamp() * 1000),
            )
        )


@pytest.fixture
def receiver_env(moto_stack: ProvisionedStack) -> dict[str, str]:
    return receiver_environment(moto_stack)


@pytest.fixture
def scene(moto_stack: ProvisionedStack, receiver_env: dict[str, str], clock: FakeClock) -> Scene:
    describer = ScriptedDescriber()
    store = TaskStore(moto_stack.table_names["TasksTable"])
    runtime = build_runtime(
        poller_environment(moto_stack), clock=clock, random_source=random.Random(7), describer=describer
    )
    registry = TaskService(
        tasks=store,
        queue=PollQueue(moto_stack.queue_urls["PollQueue"]),
        tokens=PageTokenCodec(PAGINATION_SECRET.encode),
        clock=clock,
        task_deadline=timedelta(days=1),
    )
    return Scene(
        stack=moto_stack,
        clock=clock,
        describer=describer,
        receiver=build_receiver(CallbackSettings.from_env(receiver_env), clock=clock),
        poller=runtime.service,
        registry=registry,
    )
