"""PollerSettings: defaults, validation, one error listing every problem (and the ZEGO adapter's)."""

from __future__ import annotations

import pytest

from tests.support.poller import POLLER_RESOURCES
from zego_media_tasks.domain import backoff
from zego_media_tasks.domain.backoff import DEFAULT_BACKOFF_CAP_SECONDS, BackoffPolicy, ThrottleDelay
from zego_media_tasks.poller.settings import PollerSettings, SettingsError
from zego_media_tasks.poller.wiring import load_settings


def test_defaults_are_the_documented_ones() -> None:
    settings = PollerSettings.from_env(POLLER_RESOURCES)
    assert settings == PollerSettings(
        table_name="tasks",
        queue_url=POLLER_RESOURCES["QUEUE_URL"],
        dlq_url=POLLER_RESOURCES["DLQ_URL"],
        rate_limit_table_name="rate",
        rate_limit_per_second=20,
        rate_limit_max_wait_seconds=1.0,
        rate_limit_arrival_spread_seconds=0.04,
        backoff_base_seconds=60,
        backoff_factor=1.3,
        backoff_cap_seconds=100,
        backoff_jitter=0.1,
        callbacks_enabled=False,
        backoff_cap_with_callbacks_seconds=900,
        backoff_base_with_callbacks_seconds=120,
        throttle_retry_seconds=2,
        not_found_grace_seconds=300,
        task_deadline_seconds=86_400,
        terminal_record_ttl_days=30,
    )
    policy = settings.polling_policy()
    assert policy.backoff == BackoffPolicy(60, 1.3, 100, 0.1)
    assert policy.throttle == ThrottleDelay(2)


KNOB_READINGS = (
    # (variable, its text, the attribute it sets, the value read)
    ("ZEGO_RATE_LIMIT_PER_SECOND", "10", "rate_limit_per_second", 10),
    ("RATE_LIMIT_MAX_WAIT_SECONDS", "0.5", "rate_limit_max_wait_seconds", 0.5),
    ("POLL_BACKOFF_BASE_SECONDS", "2", "backoff_base_seconds", 2),
    ("POLL_BACKOFF_FACTOR", "1.5", "backoff_factor", 1.5),
    ("POLL_BACKOFF_CAP_SECONDS", "900", "backoff_cap_seconds", 900),
    ("THROTTLE_RETRY_SECONDS", "5", "throttle_retry_seconds", 5),
    ("NOT_FOUND_GRACE_SECONDS", "0", "not_found_grace_seconds", 0),
    ("TASK_DEADLINE_SECONDS", "3600", "task_deadline_seconds", 3600),
    ("TERMINAL_RECORD_TTL_DAYS", "7", "terminal_record_ttl_days", 7),
)


def test_every_knob_is_read_from_its_variable() -> None:
    settings = PollerSettings.from_env({**POLLER_RESOURCES, **{name: text for name, text, _, _ in KNOB_READINGS}})
    read = {attribute: getattr(settings, attribute) for _, _, attribute, _ in KNOB_READINGS}
    assert read == {attribute: value for _, _, attribute, value in KNOB_READINGS}


def test_one_error_lists_every_problem() -> None:
    with pytest.raises(SettingsError) as caught:
        PollerSettings.from_env(
            {
                "TABLE_NAME": " ",
                "POLL_BACKOFF_CAP_SECONDS": "901",
                "POLL_BACKOFF_FACTOR": "fast",
                "TERMINAL_RECORD_TTL_DAYS": "1.5",
                "ZEGO_RATE_LIMIT_PER_SECOND": "0",
            }
        )
    problems = caught.value.problems
    assert "TABLE_NAME is required" in problems
    assert "QUEUE_URL is required" in problems
    assert "DLQ_URL is required" in problems
    assert "RATE_LIMIT_TABLE_NAME is required" in problems
    assert "POLL_BACKOFF_CAP_SECONDS must be a number of seconds from 1 to 900" in problems
    assert "POLL_BACKOFF_FACTOR must be a number from 1 to 100" in problems
    assert "TERMINAL_RECORD_TTL_DAYS must be a whole number from 1 to 3650" in problems
    assert "ZEGO_RATE_LIMIT_PER_SECOND must be a number more than 0 and at most 1000" in problems
    assert len(problems) == 8
    assert str(caught.value).startswith("invalid poller settings:\n- ")


def test_with_callbacks_enabled_polling_backs_off_to_the_larger_cap() -> None:
    # Given the default schedule with completion callbacks enabled
    settings = PollerSettings.from_env({**POLLER_RESOURCES, "CALLBACKS_ENABLED": "true"})
    # Then the poll chain is the callbacks' safety net: a later start and a cap of 900 s instead of 120 s
    assert settings.polling_policy().backoff == BackoffPolicy(
        backoff.DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS,
        backoff.DEFAULT_BACKOFF_FACTOR,
        backoff.DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS,
    )
    assert backoff.DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS > backoff.DEFAULT_BACKOFF_CAP_SECONDS


def test_with_callbacks_enabled_the_first_window_is_the_larger_base() -> None:
    # Given the defaults with callbacks enabled
    settings = PollerSettings.from_env({**POLLER_RESOURCES, "CALLBACKS_ENABLED": "true"})
    # Then the windows start at the base with callbacks, and pull-only keeps its own base
    assert settings.polling_policy().backoff.base_seconds == backoff.DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS
    assert backoff.DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS > backoff.DEFAULT_BACKOFF_BASE_SECONDS
    pull_only = PollerSettings.from_env({**POLLER_RESOURCES, "CALLBACKS_ENABLED": "false"})
    assert pull_only.polling_policy().backoff.base_seconds == backoff.DEFAULT_BACKOFF_BASE_SECONDS


@pytest.mark.parametrize(
    ("base", "base_with_callbacks", "cap_with_callbacks", "expected"),
    [
        ("16", "300", "200", 200),  # a shorter cap with callbacks shortens the first window with it
        ("16", "300", "60", DEFAULT_BACKOFF_CAP_SECONDS),  # ... down to the pull-only cap, the cap then in force
        ("30", "10", "900", 30),  # never below the pull-only base
    ],
)
def test_the_base_with_callbacks_stays_between_the_pull_only_base_and_the_cap_in_force(
    base: str, base_with_callbacks: str, cap_with_callbacks: str, expected: float
) -> None:
    settings = PollerSettings.from_env(
        {
            **POLLER_RESOURCES,
            "CALLBACKS_ENABLED": "true",
            "POLL_BACKOFF_BASE_SECONDS": base,
            "POLL_BACKOFF_BASE_WITH_CALLBACKS_SECONDS": base_with_callbacks,
            "POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS": cap_with_callbacks,
        }
    )
    assert settings.polling_policy().backoff.base_seconds == expected


def test_the_cap_with_callbacks_is_its_own_knob() -> None:
    settings = PollerSettings.from_env(
        {**POLLER_RESOURCES, "CALLBACKS_ENABLED": "TRUE", "POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS": "900"}
    )
    assert settings.polling_policy().backoff.cap_seconds == 900


def test_the_cap_with_callbacks_applies_only_when_callbacks_are_enabled() -> None:
    settings = PollerSettings.from_env(
        {**POLLER_RESOURCES, "CALLBACKS_ENABLED": "false", "POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS": "900"}
    )
    assert settings.polling_policy().backoff.cap_seconds == backoff.DEFAULT_BACKOFF_CAP_SECONDS


def test_enabling_callbacks_never_makes_polling_busier() -> None:
    # Given a pull-only cap above the cap with callbacks
    settings = PollerSettings.from_env(
        {
            **POLLER_RESOURCES,
            "CALLBACKS_ENABLED": "true",
            "POLL_BACKOFF_CAP_SECONDS": "900",
            "POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS": "300",
        }
    )
    # Then the larger one is in force
    assert settings.polling_policy().backoff.cap_seconds == 900


def test_the_callback_knobs_are_checked_like_the_others() -> None:
    with pytest.raises(SettingsError) as caught:
        PollerSettings.from_env(
            {**POLLER_RESOURCES, "CALLBACKS_ENABLED": "yes", "POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS": "901"}
        )
    assert caught.value.problems == (
        "CALLBACKS_ENABLED must be 'true' or 'false'",
        "POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS must be a number of seconds from 1 to 900",
    )


def test_a_base_above_the_cap_is_refused() -> None:
    with pytest.raises(SettingsError, match="base must not exceed the cap"):
        PollerSettings.from_env({**POLLER_RESOURCES, "POLL_BACKOFF_BASE_SECONDS": "200"})


def test_the_poller_and_zego_problems_are_reported_together() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"TABLE_NAME": "tasks"})
    problems = caught.value.problems
    assert "QUEUE_URL is required" in problems
    assert "ZEGO_APP_ID is required" in problems
    assert any("ZEGO_SERVER_SECRET" in p for p in problems)


def test_a_secret_never_appears_in_the_configuration_error() -> None:
    secret = "0123456789abcdef0123456789abcdef"
    with pytest.raises(SettingsError) as caught:
        load_settings({"ZEGO_APP_ID": "12345", "ZEGO_SERVER_SECRET": secret, "ZEGO_ENDPOINT": "ftp://x"})
    assert secret not in str(caught.value)
