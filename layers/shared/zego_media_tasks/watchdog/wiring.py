"""Builds the watchdog from its settings: the composition root of the watchdog function."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zego_media_tasks.aws import LazyClient
from zego_media_tasks.domain.clock import SystemClock
from zego_media_tasks.domain.ports import Clock
from zego_media_tasks.queue.poll_queue import PollQueue
from zego_media_tasks.store.task_store import TaskStore
from zego_media_tasks.store.watch_index import WatchIndex
from zego_media_tasks.watchdog.service import WatchdogService
from zego_media_tasks.watchdog.settings import WatchdogSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def build_watchdog(settings: WatchdogSettings, *, clock: Clock | None = None) -> WatchdogService:
    """The service wired to the tasks table and the poll queue (clients built at first use)."""
    dynamodb: LazyClient[DynamoDBClient] = LazyClient("dynamodb")
    return WatchdogService(
        index=WatchIndex(settings.table_name, client=dynamodb),
        records=TaskStore(settings.table_name, client=dynamodb),
        queue=PollQueue(settings.queue_url),
        clock=clock or SystemClock(),
        grace_seconds=settings.grace_seconds,
    )
