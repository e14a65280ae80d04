"""Fixtures shared by the integration and end-to-end suites (unit tests never use these)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.emulator import AwsEmulator
from devstack.resources import ProvisionedStack, provision


@pytest.fixture(scope="session")
def aws_emulator() -> Iterator[AwsEmulator]:
    """One moto server on loopback for the whole session."""
    emulator = AwsEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def aws_env(aws_emulator: AwsEmulator, monkeypatch: pytest.MonkeyPatch) -> AwsEmulator:
    """A clean emulator, with boto3 pointed at it through the environment."""
    aws_emulator.reset()
    for name, value in aws_emulator.environment().items():
        monkeypatch.setenv(name, value)
    return aws_emulator


@pytest.fixture
def stack(aws_env: AwsEmulator) -> ProvisionedStack:
    """The template's tables and queues, freshly created in the emulator."""
    return provision(prefix="test")
