"""The lifetime of the records a function creates or ends: its deadline and, once terminal, its TTL.

Declared once for the two functions that end tasks (the poller and the callback receiver: a record a
callback creates gets the same deadline and TTL as one the poller opens). The defaults are the domain's
(:mod:`zego_media_tasks.domain.polling`), so this module imports it; the functions that need neither
(the watchdog, the publisher) do not import this.
"""

from __future__ import annotations

from zego_media_tasks.config.environment import setting, settings_model
from zego_media_tasks.config.knobs import TASK_DEADLINE_SECONDS, TERMINAL_RECORD_TTL_DAYS, RecordStoreSettings
from zego_media_tasks.domain.polling import (
    DEFAULT_TASK_DEADLINE_SECONDS,
    DEFAULT_TERMINAL_RECORD_TTL_DAYS,
    PollingPolicy,
)


@settings_model
class RecordLifetimeSettings(RecordStoreSettings):
    """The record store, and how long the records there are polled and then kept."""

    task_deadline_seconds: int = setting(TASK_DEADLINE_SECONDS, default=DEFAULT_TASK_DEADLINE_SECONDS)
    terminal_record_ttl_days: int = setting(TERMINAL_RECORD_TTL_DAYS, default=DEFAULT_TERMINAL_RECORD_TTL_DAYS)

    def polling_policy(self) -> PollingPolicy:
        """The deadline and TTL as the domain's :class:`PollingPolicy` (the schedule: its defaults)."""
        return PollingPolicy(
            task_deadline_seconds=self.task_deadline_seconds, terminal_record_ttl_days=self.terminal_record_ttl_days
        )
