"""Builds the poller's service and adapters from the environment: the composition root.

Called once per Lambda instance, at the first invocation (never at import time, so tests import the
handler without any environment). Every configuration problem, the poller's and the ZEGO adapter's,
is reported in one :class:`~zego_media_tasks.config.environment.SettingsError`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zego_media_tasks.aws import LazyClient
from zego_media_tasks.config.environment import SettingsError
from zego_media_tasks.domain.backoff import UniformSource
from zego_media_tasks.domain.clock import SystemClock
from zego_media_tasks.domain.ports import Clock, TaskDescriber
from zego_media_tasks.poller.service import PollerService
from zego_media_tasks.poller.settings import PollerSettings
from zego_media_tasks.queue.poll_queue import DeadLetterQueue, PollQueue
from zego_media_tasks.store.list_objects import ListObjects, SpillingRecords
from zego_media_tasks.store.rate_limiter import RateLimiter, bucket_for_app
from zego_media_tasks.store.task_store import TaskStore
from zego_media_tasks.zego.settings import ZegoSettings, build_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True, slots=True)
class PollerRuntime:
    """The service and the settings it was built from (the handler logs the latter at cold start)."""

    service: PollerService
    settings: PollerSettings
    app_id: int
    record_budget_seconds: float
    """The longest one record can take: the limiter's maximum wait plus ZEGO's connect and read
    timeouts, plus a second for DynamoDB and SQS. A record is not started with less time left."""


def load_settings(environ: Mapping[str, str]) -> tuple[PollerSettings, ZegoSettings]:
    """Both settings objects, or one :class:`SettingsError` listing every problem of both."""
    problems: list[str] = []
    poller: PollerSettings | None = None
    zego: ZegoSettings | None = None
    try:
        poller = PollerSettings.from_env(environ)
    except SettingsError as error:
        problems.extend(error.problems)
    try:
        zego = ZegoSettings.from_env(environ)
    except SettingsError as error:
        problems.extend(error.problems)
    if poller is None or zego is None:
        raise SettingsError(problems, PollerSettings.SUBJECT)
    return poller, zego


def build_runtime(
    environ: Mapping[str, str],
    *,
    clock: Clock | None = None,
    random_source: UniformSource | None = None,
    describer: TaskDescriber | None = None,
) -> PollerRuntime:
    """The poller service wired to DynamoDB, SQS and ZEGO as the environment describes.

    ``describer`` replaces the ZEGO client (tests only); boto3 clients are created at first use.
    """
    settings, zego = load_settings(environ)
    clock = clock or SystemClock()
    # One client per service, shared by the adapters and built at their first call.
    dynamodb: LazyClient[DynamoDBClient] = LazyClient("dynamodb")
    sqs: LazyClient[SQSClient] = LazyClient("sqs")
    service = PollerService(
        # Long lists go to the lists bucket before the record that names them (store.list_objects).
        store=SpillingRecords(TaskStore(settings.table_name, client=dynamodb), ListObjects(settings.lists_bucket_name)),
        queue=PollQueue(settings.queue_url, client=sqs),
        dead_letters=DeadLetterQueue(settings.dlq_url, client=sqs),
        limiter=RateLimiter(
            settings.rate_limit_table_name,
            bucket_for_app(zego.app_id),
            policy=settings.budget_policy(),
            clock=clock,
            client=dynamodb,
        ),
        describer=describer or build_client(zego),
        clock=clock,
        policy=settings.polling_policy(),
        # Jitter only spreads load; it needs no cryptographic strength.
        random=random_source or random.Random(),  # noqa: S311
    )
    budget = settings.rate_limit_max_wait_seconds + zego.connect_timeout + zego.read_timeout + 1.0
    return PollerRuntime(service=service, settings=settings, app_id=zego.app_id, record_budget_seconds=budget)
