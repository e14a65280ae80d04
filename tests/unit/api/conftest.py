"""Read-API unit fixtures: moto's in-process ``mock_aws`` (no sockets) with the template's resources, a
fake clock, the service and the resolver built over them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from devstack.lambda_context import LocalLambdaContext
from devstack.resources import ProvisionedStack
from tests.support.clock import FakeClock
from zego_media_tasks.api.pagination import PageTokenCodec
from zego_media_tasks.api.routes import build_app
from zego_media_tasks.api.service import TaskService
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.queue.poll_queue import PollQueue
from zego_media_tasks.store.items import record_to_item
from zego_media_tasks.store.list_objects import ListObjects
from zego_media_tasks.store.task_store import TaskStore

PAGINATION_SECRET = "unit-test-pagination-secret-0123456789abcdef"
TASK_DEADLINE = timedelta(days=1)


@pytest.fixture
def queries(task_store: TaskStore) -> TaskStore:
    """The tasks table as the read API queries it."""
    return task_store


@pytest.fixture
def queue_url(moto_stack: ProvisionedStack) -> str:
    return moto_stack.queue_urls["PollQueue"]


@pytest.fixture
def lists(moto_stack: ProvisionedStack) -> ListObjects:
    return ListObjects(moto_stack.bucket_names["TaskListsBucket"])


@pytest.fixture
def service(queries: TaskStore, queue_url: str, clock: FakeClock, lists: ListObjects) -> TaskService:
    return TaskService(
        tasks=queries,
        queue=PollQueue(queue_url),
        tokens=PageTokenCodec(PAGINATION_SECRET.encode),
        clock=clock,
        task_deadline=TASK_DEADLINE,
        lists=lists,
    )


@pytest.fixture
def api(service: TaskService) -> APIGatewayRestResolver:
    return build_app(lambda: service)


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    return LocalLambdaContext(function_name="ApiFunction")


@pytest.fixture
def call(api: APIGatewayRestResolver, lambda_context: LocalLambdaContext) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Resolve one event through the resolver, as the Lambda handler does."""

    def resolve(event: dict[str, Any]) -> dict[str, Any]:
        return api.resolve(event, lambda_context)  # type: ignore[arg-type]

    return resolve


@pytest.fixture
def seed(moto_stack: ProvisionedStack) -> Callable[..., TaskRecord]:
    """Store records as the poller would have written them."""
    table = boto3.resource("dynamodb").Table(moto_stack.table_names["TasksTable"])

    def put(*records: TaskRecord) -> TaskRecord:
        for record in records:
            table.put_item(Item=record_to_item(record))
        return records[-1]

    return put


def queued_bodies(queue_url: str) -> list[str]:
    """Every message body currently on the queue (received once, then made visible again)."""
    sqs = boto3.client("sqs")
    bodies: list[str] = []
    while True:
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30)
        messages = received.get("Messages", [])
        if not messages:
            return bodies
        bodies.extend(message["Body"] for message in messages)
