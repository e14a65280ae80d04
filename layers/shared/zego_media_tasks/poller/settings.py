"""The poller's configuration, read from the environment once per Lambda instance (cold start).

Declared with :mod:`zego_media_tasks.config.environment`: every variable once, with its kind, bounds and
default; every problem reported in one :class:`SettingsError`. The schedule's defaults are the domain's
(:mod:`zego_media_tasks.domain.backoff`, :mod:`zego_media_tasks.domain.polling`). With
``CALLBACKS_ENABLED`` the backoff cap is ``POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS`` (or
``POLL_BACKOFF_CAP_SECONDS`` if that is larger) and the base ``POLL_BACKOFF_BASE_WITH_CALLBACKS_SECONDS``
(or ``POLL_BACKOFF_BASE_SECONDS`` if larger, never above that cap): the callbacks report most ends, and
polling is their safety net (docs/benchmarks.md, polling efficiency, measures both schedules). ``ZEGO_*`` variables
belong to :mod:`zego_media_tasks.zego.settings`; :func:`zego_media_tasks.poller.wiring.load_settings`
reads both and reports their problems together.
"""

from __future__ import annotations

from typing import Final

from zego_media_tasks.config.environment import (
    Flag,
    Knob,
    Number,
    Relation,
    SettingsError,
    Text,
    setting,
    settings_model,
)
from zego_media_tasks.config.knobs import QUEUE_URL, SQS_QUEUE_URL
from zego_media_tasks.config.lifetime import RecordLifetimeSettings
from zego_media_tasks.domain.backoff import (
    DEFAULT_BACKOFF_BASE_SECONDS,
    DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS,
    DEFAULT_BACKOFF_CAP_SECONDS,
    DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS,
    DEFAULT_BACKOFF_FACTOR,
    DEFAULT_BACKOFF_JITTER,
    DEFAULT_CALLBACKS_ENABLED,
    DEFAULT_THROTTLE_RETRY_SECONDS,
    SQS_MAX_DELAY_SECONDS,
    BackoffPolicy,
    ThrottleDelay,
    policy_problems,
)
from zego_media_tasks.domain.call_budget import (
    DEFAULT_ARRIVAL_SPREAD_SECONDS,
    DEFAULT_MAX_WAIT_SECONDS,
    BudgetPolicy,
)
from zego_media_tasks.domain.polling import DEFAULT_NOT_FOUND_GRACE_SECONDS, PollingPolicy

__all__ = ["PollerSettings", "SettingsError"]

DEFAULT_RATE_LIMIT_PER_SECOND: Final = 20.0
"""ZEGO allows 20 DescribeMediaTask calls per second per AppId."""
DEFAULT_RATE_LIMIT_MAX_WAIT_SECONDS: Final = DEFAULT_MAX_WAIT_SECONDS
"""The domain's default (domain.call_budget), under the name the template test knows."""

DLQ_URL: Final = Knob("DLQ_URL", SQS_QUEUE_URL, "the poll queue's dead-letter queue")
RATE_LIMIT_TABLE_NAME: Final = Knob("RATE_LIMIT_TABLE_NAME", Text(), "the rate limiter's table")
ZEGO_RATE_LIMIT_PER_SECOND: Final = Knob(
    "ZEGO_RATE_LIMIT_PER_SECOND",
    Number(0, 1000, low_inclusive=False),
    "ceiling of ZEGO calls per second, shared by every poller instance",
)
RATE_LIMIT_MAX_WAIT_SECONDS: Final = Knob(
    "RATE_LIMIT_MAX_WAIT_SECONDS",
    Number(0, 60, unit="seconds"),
    "longest wait for a rate-limiter slot inside the invocation; beyond it the poll is postponed",
)
RATE_LIMIT_ARRIVAL_SPREAD_SECONDS: Final = Knob(
    "RATE_LIMIT_ARRIVAL_SPREAD_SECONDS",
    Number(0, 0.5, unit="seconds"),
    "spread of slot-to-arrival delays the pacing allows for (half of it: the longest a call may leave late)",
)
BACKOFF_CEILING: Final = Number(1, SQS_MAX_DELAY_SECONDS, unit="seconds")
"""What a backoff ceiling with a floor of a second may be: the caps, and the base with callbacks."""
POLL_BACKOFF_BASE_SECONDS: Final = Knob(
    "POLL_BACKOFF_BASE_SECONDS",
    Number(0, SQS_MAX_DELAY_SECONDS, low_inclusive=False, unit="seconds"),
    "first backoff ceiling between polls of a task",
)
POLL_BACKOFF_FACTOR: Final = Knob(
    "POLL_BACKOFF_FACTOR", Number(1, 100), "growth of the backoff ceiling per counted attempt"
)
POLL_BACKOFF_CAP_SECONDS: Final = Knob(
    "POLL_BACKOFF_CAP_SECONDS",
    BACKOFF_CEILING,
    "largest backoff ceiling between polls",
)
POLL_BACKOFF_JITTER: Final = Knob(
    "POLL_BACKOFF_JITTER",
    Number(0, 1),
    "share of each backoff ceiling the delay is drawn from (0.1: 0.9-1 times it; 1: full jitter)",
)
CALLBACKS_ENABLED: Final = Knob(
    "CALLBACKS_ENABLED",
    Flag(),
    "whether ZEGO's completion callbacks reach this stack (POST /callbacks/zego); polling then backs off further",
)
POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS: Final = Knob(
    "POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS",
    BACKOFF_CEILING,
    "largest backoff ceiling between polls when callbacks are enabled (never below POLL_BACKOFF_CAP_SECONDS)",
)
POLL_BACKOFF_BASE_WITH_CALLBACKS_SECONDS: Final = Knob(
    "POLL_BACKOFF_BASE_WITH_CALLBACKS_SECONDS",
    BACKOFF_CEILING,
    "first backoff ceiling between polls when callbacks are enabled (never below POLL_BACKOFF_BASE_SECONDS, "
    "never above the cap in force)",
)
THROTTLE_RETRY_SECONDS: Final = Knob(
    "THROTTLE_RETRY_SECONDS",
    Number(0, SQS_MAX_DELAY_SECONDS / 1.5, low_inclusive=False, unit="seconds"),
    "delay before retrying a throttled call (jittered to 0.5-1.5 times this)",
)
NOT_FOUND_GRACE_SECONDS: Final = Knob(
    "NOT_FOUND_GRACE_SECONDS",
    Number(0, 7 * 86_400, unit="seconds"),
    "how long after first seen a Huawei NO_TASK answer still means 'not visible yet'",
)


def _backoff_problems(base: float, factor: float, cap: float) -> list[str]:
    return [f"POLL_BACKOFF_*: {problem}" for problem in policy_problems(base, factor, cap)]


@settings_model
class PollerSettings(RecordLifetimeSettings):
    """Everything the poller needs from its environment (each field's variable is its knob's)."""

    SUBJECT = "poller settings"
    RELATIONS = (
        Relation(
            (POLL_BACKOFF_BASE_SECONDS.variable, POLL_BACKOFF_FACTOR.variable, POLL_BACKOFF_CAP_SECONDS.variable),
            _backoff_problems,
        ),
    )

    queue_url: str = setting(QUEUE_URL)
    dlq_url: str = setting(DLQ_URL)
    rate_limit_table_name: str = setting(RATE_LIMIT_TABLE_NAME)
    rate_limit_per_second: float = setting(ZEGO_RATE_LIMIT_PER_SECOND, default=DEFAULT_RATE_LIMIT_PER_SECOND)
    rate_limit_max_wait_seconds: float = setting(RATE_LIMIT_MAX_WAIT_SECONDS, default=DEFAULT_MAX_WAIT_SECONDS)
    rate_limit_arrival_spread_seconds: float = setting(
        RATE_LIMIT_ARRIVAL_SPREAD_SECONDS, default=DEFAULT_ARRIVAL_SPREAD_SECONDS
    )
    backoff_base_seconds: float = setting(POLL_BACKOFF_BASE_SECONDS, default=DEFAULT_BACKOFF_BASE_SECONDS)
    backoff_factor: float = setting(POLL_BACKOFF_FACTOR, default=DEFAULT_BACKOFF_FACTOR)
    backoff_cap_seconds: float = setting(POLL_BACKOFF_CAP_SECONDS, default=DEFAULT_BACKOFF_CAP_SECONDS)
    backoff_jitter: float = setting(POLL_BACKOFF_JITTER, default=DEFAULT_BACKOFF_JITTER)
    callbacks_enabled: bool = setting(CALLBACKS_ENABLED, default=DEFAULT_CALLBACKS_ENABLED)
    backoff_cap_with_callbacks_seconds: float = setting(
        POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS, default=DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS
    )
    backoff_base_with_callbacks_seconds: float = setting(
        POLL_BACKOFF_BASE_WITH_CALLBACKS_SECONDS, default=DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS
    )
    throttle_retry_seconds: float = setting(THROTTLE_RETRY_SECONDS, default=DEFAULT_THROTTLE_RETRY_SECONDS)
    not_found_grace_seconds: float = setting(NOT_FOUND_GRACE_SECONDS, default=DEFAULT_NOT_FOUND_GRACE_SECONDS)

    @property
    def effective_backoff_cap_seconds(self) -> float:
        """The cap in force: with callbacks enabled polling is only their safety net and backs off further
        (the larger of the two caps, so enabling callbacks never makes polling busier)."""
        if self.callbacks_enabled:
            return max(self.backoff_cap_seconds, self.backoff_cap_with_callbacks_seconds)
        return self.backoff_cap_seconds

    @property
    def effective_backoff_base_seconds(self) -> float:
        """The base in force: with callbacks enabled the larger of the two bases, but never above the cap
        in force (a deployment that shortens the cap shortens the first window with it)."""
        if self.callbacks_enabled:
            larger = max(self.backoff_base_seconds, self.backoff_base_with_callbacks_seconds)
            return max(self.backoff_base_seconds, min(larger, self.effective_backoff_cap_seconds))
        return self.backoff_base_seconds

    def budget_policy(self) -> BudgetPolicy:
        """The rate-limit knobs as the domain's :class:`BudgetPolicy` (adaptation: the domain's defaults)."""
        return BudgetPolicy(
            ceiling_per_second=self.rate_limit_per_second,
            arrival_spread_seconds=self.rate_limit_arrival_spread_seconds,
            max_wait_seconds=self.rate_limit_max_wait_seconds,
        )

    def polling_policy(self) -> PollingPolicy:
        """The schedule knobs as the domain's :class:`PollingPolicy`."""
        return PollingPolicy(
            backoff=BackoffPolicy(
                self.effective_backoff_base_seconds,
                self.backoff_factor,
                self.effective_backoff_cap_seconds,
                self.backoff_jitter,
            ),
            throttle=ThrottleDelay(self.throttle_retry_seconds),
            not_found_grace_seconds=self.not_found_grace_seconds,
            task_deadline_seconds=self.task_deadline_seconds,
            terminal_record_ttl_days=self.terminal_record_ttl_days,
        )
