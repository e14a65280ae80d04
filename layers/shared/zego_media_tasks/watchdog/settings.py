"""The watchdog's configuration, read from the environment once per Lambda instance.

- ``TABLE_NAME``, ``QUEUE_URL`` (required): the tasks table and the poll queue.
- ``WATCHDOG_GRACE_SECONDS`` (default 3600): how long past its ``nextPollAt`` a record's chain is
  taken for lost.
- ``POLL_VISIBILITY_TIMEOUT_SECONDS`` and ``POLL_MAX_RECEIVE_COUNT`` (the poll queue's, default 180 and
  5): the grace must be at least their product, the longest a live message can spend in failed receives
  before the dead-letter queue takes it (:func:`~zego_media_tasks.domain.watch.minimum_grace_seconds`),
  so that no live chain is taken for a lost one.
"""

from __future__ import annotations

from typing import Final

from zego_media_tasks.config.environment import Knob, Relation, SettingsModel, WholeNumber, setting, settings_model
from zego_media_tasks.config.knobs import QUEUE_URL, TABLE_NAME
from zego_media_tasks.domain.watch import DEFAULT_GRACE_SECONDS, minimum_grace_seconds

DEFAULT_VISIBILITY_TIMEOUT_SECONDS: Final = 180
DEFAULT_MAX_RECEIVE_COUNT: Final = 5

WATCHDOG_GRACE_SECONDS: Final = Knob(
    "WATCHDOG_GRACE_SECONDS",
    WholeNumber(1, 7 * 86_400),
    "how long past its next poll a task's chain is taken for lost and re-enqueued, seconds",
)
POLL_VISIBILITY_TIMEOUT_SECONDS: Final = Knob(
    "POLL_VISIBILITY_TIMEOUT_SECONDS", WholeNumber(0, 43_200), "the poll queue's visibility timeout, seconds"
)
POLL_MAX_RECEIVE_COUNT: Final = Knob(
    "POLL_MAX_RECEIVE_COUNT", WholeNumber(1, 1000), "receives of a poll message before the dead-letter queue"
)


def _grace_problems(grace: int, visibility_timeout: int, max_receive_count: int) -> list[str]:
    shortest = minimum_grace_seconds(visibility_timeout, max_receive_count)
    if grace >= shortest:
        return []
    return [
        f"{WATCHDOG_GRACE_SECONDS.variable} must be at least {POLL_VISIBILITY_TIMEOUT_SECONDS.variable} x "
        f"{POLL_MAX_RECEIVE_COUNT.variable} ({shortest} s): a live message may be that late"
    ]


@settings_model
class WatchdogSettings(SettingsModel):
    """Everything the watchdog needs from its environment."""

    SUBJECT = "watchdog settings"
    RELATIONS = (
        Relation(
            (
                WATCHDOG_GRACE_SECONDS.variable,
                POLL_VISIBILITY_TIMEOUT_SECONDS.variable,
                POLL_MAX_RECEIVE_COUNT.variable,
            ),
            _grace_problems,
        ),
    )

    table_name: str = setting(TABLE_NAME)
    queue_url: str = setting(QUEUE_URL)
    grace_seconds: int = setting(WATCHDOG_GRACE_SECONDS, default=DEFAULT_GRACE_SECONDS)
    visibility_timeout_seconds: int = setting(
        POLL_VISIBILITY_TIMEOUT_SECONDS, default=DEFAULT_VISIBILITY_TIMEOUT_SECONDS
    )
    max_receive_count: int = setting(POLL_MAX_RECEIVE_COUNT, default=DEFAULT_MAX_RECEIVE_COUNT)
