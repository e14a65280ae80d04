"""Builds the callback receiver from the environment: the composition root of the callbacks function.

Called once per Lambda instance, at the first invocation (never at import time). The CallbackSecret is
read at the first callback (Secrets Manager, cached for ``SECRET_CACHE_SECONDS``), never logged.
"""

from __future__ import annotations

from zego_media_tasks.callbacks.service import CallbackService
from zego_media_tasks.callbacks.settings import CALLBACK_SECRET_JSON_KEY, CallbackSettings
from zego_media_tasks.domain.clock import SystemClock
from zego_media_tasks.domain.ports import Clock
from zego_media_tasks.store.list_objects import ListObjects, SpillingRecords
from zego_media_tasks.store.task_store import TaskStore
from zego_media_tasks.zego.settings import secret_provider


def build_receiver(settings: CallbackSettings, *, clock: Clock | None = None) -> CallbackService:
    """The receiver wired to the tasks table and the configured CallbackSecret."""
    return CallbackService(
        store=SpillingRecords(TaskStore(settings.table_name), ListObjects(settings.lists_bucket_name)),
        secret=secret_provider(
            settings.callback_secret_arn,
            settings.callback_secret,
            settings.secret_cache_seconds,
            json_key=CALLBACK_SECRET_JSON_KEY,
        ),
        app_id=settings.app_id,
        clock=clock or SystemClock(),
        policy=settings.polling_policy(),
        max_age_seconds=settings.max_age_seconds,
        max_body_bytes=settings.max_body_bytes,
    )
