"""Poller unit fixtures: moto's in-process ``mock_aws`` (no sockets) with the template's resources,
a fake clock, a seeded RNG and a scripted ZEGO describer."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

import aws_xray_sdk.core  # noqa: F401 - see below
import boto3
import pytest

from devstack.lambda_context import LocalLambdaContext
from devstack.resources import ProvisionedStack
from tests.support.clock import FakeClock
from tests.support.poller import (
    PollingScene,
    QueuedMessage,
    ScriptedDescriber,
    load_poller_app,
    poller_environment,
    queued_messages,
    sqs_event,
    sqs_record,
)
from zego_media_tasks.poller.service import PollerService, PollResult, QueueMessage
from zego_media_tasks.poller.wiring import PollerRuntime, build_runtime
from zego_media_tasks.store.list_objects import SpillingRecords
from zego_media_tasks.store.task_store import TaskStore


@dataclass
class Poller(PollingScene):
    """A poller over moto resources, driven message by message."""

    runtime: PollerRuntime

    @property
    def service(self) -> PollerService:
        return self.runtime.service

    @property
    def table(self) -> TaskStore:
        """The tasks-table adapter the service writes through (under the lists bucket's wrapper): where a
        test makes the table fail."""
        store = self.service.store
        table = store.records if isinstance(store, SpillingRecords) else store
        assert isinstance(table, TaskStore)
        return table

    @property
    def queue_arn(self) -> str:
        return self.stack.queue_arns["PollQueue"]

    def dead_letters(self) -> list[QueuedMessage]:
        return queued_messages(self.stack.queue_urls["PollDeadLetterQueue"])

    def drop_queued(self) -> None:
        boto3.client("sqs").purge_queue(QueueUrl=self.queue_url)

    def handle(self, body: str, *, sent_at: datetime | None = None, message_id: str = "m-1") -> PollResult:
        sent = sent_at or self.clock.now()
        return self.service.handle(
            QueueMessage(message_id=message_id, body=body, sent_timestamp_ms=int(sent.timestamp() * 1000))
        )

    def event(self, *bodies: str) -> dict[str, Any]:
        return sqs_event(sqs_record(b, queue_arn=self.queue_arn, sent_at=self.clock.now()) for b in bodies)


@pytest.fixture
def describer() -> ScriptedDescriber:
    return ScriptedDescriber()


@pytest.fixture
def poller_env(moto_stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    environment = poller_environment(moto_stack)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


@pytest.fixture
def poller(
    moto_stack: ProvisionedStack, poller_env: dict[str, str], clock: FakeClock, describer: ScriptedDescriber
) -> Poller:
    runtime = build_runtime(poller_env, clock=clock, random_source=random.Random(7), describer=describer)
    return Poller(stack=moto_stack, clock=clock, describer=describer, runtime=runtime)


@pytest.fixture
def poller_app(poller: Poller, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``functions/poller/app.py`` loaded as Lambda loads it, with the test's runtime injected."""
    module: ModuleType = load_poller_app()
    monkeypatch.setattr(module, "build_runtime", lambda _environ: poller.runtime)
    return module


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    return LocalLambdaContext(function_name="PollerFunction")
