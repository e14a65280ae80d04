"""The poller's configuration, read from the environment once per Lambda instance (cold start).

Every variable is checked and every problem is reported in one error, so a misconfigured deployment
is fixed in one round trip. ``ZEGO_*`` variables belong to ``zego_media_tasks.zego.settings``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from zego_media_tasks.domain.backoff import SQS_MAX_DELAY_SECONDS, BackoffPolicy, ThrottleDelay, policy_problems
from zego_media_tasks.domain.polling import PollingPolicy

T = TypeVar("T")


class SettingsError(ValueError):
    """The environment does not describe a usable poller; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid poller configuration: " + "; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class PollerSettings:
    """Everything the poller needs from its environment (names in :meth:`from_env`)."""

    table_name: str
    queue_url: str
    dlq_url: str
    rate_limit_table_name: str
    rate_limit_per_second: float = 20.0
    rate_limit_max_wait_seconds: float = 2.0
    backoff_base_seconds: float = 4.0
    backoff_factor: float = 2.0
    backoff_cap_seconds: float = 120.0
    throttle_retry_seconds: float = 2.0
    not_found_grace_seconds: float = 300.0
    task_deadline_seconds: float = 86_400.0
    terminal_record_ttl_days: int = 30

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> PollerSettings:
        """Read and validate the environment; raise :class:`SettingsError` listing every problem.

        Required: ``TABLE_NAME``, ``QUEUE_URL``, ``DLQ_URL``, ``RATE_LIMIT_TABLE_NAME``. Optional, with
        defaults: ``ZEGO_RATE_LIMIT_PER_SECOND`` (20), ``RATE_LIMIT_MAX_WAIT_SECONDS`` (2),
        ``POLL_BACKOFF_BASE_SECONDS`` (4), ``POLL_BACKOFF_FACTOR`` (2), ``POLL_BACKOFF_CAP_SECONDS`` (120),
        ``THROTTLE_RETRY_SECONDS`` (2), ``NOT_FOUND_GRACE_SECONDS`` (300), ``TASK_DEADLINE_SECONDS``
        (86400), ``TERMINAL_RECORD_TTL_DAYS`` (30).
        """
        problems: list[str] = []

        def required(name: str) -> str:
            value = environ.get(name, "").strip()
            if not value:
                problems.append(f"{name} is required")
            return value

        def number(name: str, default: T, parse: Callable[[str], T], check: Callable[[T], bool], rule: str) -> T:
            text = environ.get(name, "").strip()
            if not text:
                return default
            try:
                value = parse(text)
            except ValueError:
                problems.append(f"{name}={text!r} is not a number ({rule})")
                return default
            if not check(value):
                problems.append(f"{name}={text!r} is out of range ({rule})")
                return default
            return value

        def seconds(name: str, default: float, low: float, high: float, *, low_inclusive: bool) -> float:
            rule = f"{'at least' if low_inclusive else 'more than'} {low:g} and at most {high:g}"
            return number(
                name,
                default,
                float,
                lambda v: math.isfinite(v) and (v >= low if low_inclusive else v > low) and v <= high,
                rule,
            )

        table_name = required("TABLE_NAME")
        queue_url = required("QUEUE_URL")
        dlq_url = required("DLQ_URL")
        rate_limit_table_name = required("RATE_LIMIT_TABLE_NAME")
        per_second = seconds("ZEGO_RATE_LIMIT_PER_SECOND", 20.0, 0, 1000, low_inclusive=False)
        max_wait = seconds("RATE_LIMIT_MAX_WAIT_SECONDS", 2.0, 0, 60, low_inclusive=True)
        base = seconds("POLL_BACKOFF_BASE_SECONDS", 4.0, 0, SQS_MAX_DELAY_SECONDS, low_inclusive=False)
        factor = seconds("POLL_BACKOFF_FACTOR", 2.0, 1, 100, low_inclusive=True)
        cap = seconds("POLL_BACKOFF_CAP_SECONDS", 120.0, 1, SQS_MAX_DELAY_SECONDS, low_inclusive=True)
        throttle = seconds("THROTTLE_RETRY_SECONDS", 2.0, 0, SQS_MAX_DELAY_SECONDS / 1.5, low_inclusive=False)
        grace = seconds("NOT_FOUND_GRACE_SECONDS", 300.0, 0, 7 * 86_400, low_inclusive=True)
        deadline = seconds("TASK_DEADLINE_SECONDS", 86_400.0, 60, 30 * 86_400, low_inclusive=True)
        ttl_days = number(
            "TERMINAL_RECORD_TTL_DAYS", 30, int, lambda v: 1 <= v <= 3650, "a whole number of days, 1-3650"
        )
        problems.extend(f"POLL_BACKOFF_*: {problem}" for problem in policy_problems(base, factor, cap))
        if problems:
            raise SettingsError(problems)
        return cls(
            table_name=table_name,
            queue_url=queue_url,
            dlq_url=dlq_url,
            rate_limit_table_name=rate_limit_table_name,
            rate_limit_per_second=per_second,
            rate_limit_max_wait_seconds=max_wait,
            backoff_base_seconds=base,
            backoff_factor=factor,
            backoff_cap_seconds=cap,
            throttle_retry_seconds=throttle,
            not_found_grace_seconds=grace,
            task_deadline_seconds=deadline,
            terminal_record_ttl_days=ttl_days,
        )

    def polling_policy(self) -> PollingPolicy:
        """The schedule knobs as the domain's :class:`PollingPolicy`."""
        return PollingPolicy(
            backoff=BackoffPolicy(self.backoff_base_seconds, self.backoff_factor, self.backoff_cap_seconds),
            throttle=ThrottleDelay(self.throttle_retry_seconds),
            not_found_grace_seconds=self.not_found_grace_seconds,
            task_deadline_seconds=self.task_deadline_seconds,
            terminal_record_ttl_days=self.terminal_record_ttl_days,
        )
