"""Fixtures shared by the integration and end-to-end suites (unit tests never use these), and the
``--clock-offset-days`` option.

``pytest --clock-offset-days=400`` (``make test-future``) runs the whole suite with the wall clock moved
that far ahead: ``time.time``, ``datetime.now`` and everything built on them, in every thread of the test
process (moto's server included) and in the devstack's child processes (``devstack.wall_clock`` follows
``DEVSTACK_CLOCK_OFFSET_SECONDS``), while monotonic time and sleeps stay real. A test that passes today and
fails then depends on today's date, which is a defect: every test must take its times from an injected
clock or from the same wall clock the code under test reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from devstack.emulator import AwsEmulator
from devstack.resources import ProvisionedStack, provision
from devstack.wall_clock import CLOCK_OFFSET_VARIABLE


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-offset-days",
        type=float,
        default=0.0,
        help="run every test with the wall clock moved this many days ahead (time-machine, ticking)",
    )


def pytest_configure(config: pytest.Config) -> None:
    days = config.getoption("--clock-offset-days")
    if days:
        import time_machine

        destination = datetime.now(UTC) + timedelta(days=days)
        traveller = time_machine.travel(destination, tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)
        # Child processes (the emulator, the simulator run from its command line) keep the same time.
        os.environ[CLOCK_OFFSET_VARIABLE] = str(days * 86_400)


def pytest_report_header(config: pytest.Config) -> str | None:
    days = config.getoption("--clock-offset-days")
    return f"wall clock moved {days:g} days ahead: {datetime.now(UTC).isoformat()}" if days else None


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
