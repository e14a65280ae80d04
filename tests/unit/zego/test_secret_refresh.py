"""Forced reads of a Secrets Manager secret after an authentication failure, with a fake clock: at most one
per minute per instance, True only when the read brought another secret (no AWS: Powertools' read is
replaced by a scripted one)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.clock import FakeClock
from zego_media_tasks.zego.client import SecretUnavailableError
from zego_media_tasks.zego.settings import MIN_SECRET_REFRESH_SECONDS, SecretsManagerSecret

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:zego-AbCdEf"


class ScriptedSecrets:
    """What Secrets Manager holds, and every read Powertools was asked for."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.reads: list[bool] = []

    def get_secret(self, name: str, **options: Any) -> str:
        assert name == ARN
        self.reads.append(bool(options.get("force_fetch")))
        if self.value == "":
            raise RuntimeError("unreachable")
        return f'{{"ServerSecret": "{self.value}"}}'


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> ScriptedSecrets:
    from aws_lambda_powertools.utilities import parameters

    scripted = ScriptedSecrets("first")
    monkeypatch.setattr(parameters, "get_secret", scripted.get_secret)
    return scripted


def test_a_refresh_that_brings_another_secret_says_so(held: ScriptedSecrets, clock: FakeClock) -> None:
    secret = SecretsManagerSecret(ARN, 300, monotonic=clock.monotonic)
    assert secret() == "first"
    held.value = "second"
    assert secret.refresh() is True
    assert held.reads == [False, True]


def test_a_refresh_that_brings_the_same_secret_says_so(held: ScriptedSecrets, clock: FakeClock) -> None:
    secret = SecretsManagerSecret(ARN, 300, monotonic=clock.monotonic)
    assert secret() == "first"
    assert secret.refresh() is False
    assert held.reads == [False, True]


def test_refreshes_are_at_most_one_a_minute(held: ScriptedSecrets, clock: FakeClock) -> None:
    secret = SecretsManagerSecret(ARN, 300, monotonic=clock.monotonic)
    secret()
    assert secret.refresh() is False
    clock.advance(MIN_SECRET_REFRESH_SECONDS - 1)
    held.value = "second"
    assert secret.refresh() is False  # too soon: not even read
    assert held.reads == [False, True]
    clock.advance(1)
    assert secret.refresh() is True
    assert held.reads == [False, True, True]


def test_a_refresh_that_cannot_read_the_secret_leaves_the_failure_standing(
    held: ScriptedSecrets, clock: FakeClock
) -> None:
    secret = SecretsManagerSecret(ARN, 300, monotonic=clock.monotonic)
    secret()
    held.value = ""
    assert secret.refresh() is False
    with pytest.raises(SecretUnavailableError):
        secret()


def test_its_repr_never_shows_the_secret(held: ScriptedSecrets, clock: FakeClock) -> None:
    secret = SecretsManagerSecret(ARN, 300, monotonic=clock.monotonic)
    assert secret() == "first"
    assert "first" not in repr(secret)
