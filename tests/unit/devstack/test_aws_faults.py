"""The AWS fault injector's decisions: windows, seeded shares, marked callers only (no network)."""

from __future__ import annotations

import pytest

from devstack.aws_faults import FAULT_KINDS, AwsFaultInjector, AwsFaultSettings
from devstack.emulator import MotoFixes

WINDOW = (100.0, 110.0)


class Clock:
    """Unix seconds that move only when the test moves them."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def decisions(injector: AwsFaultInjector, count: int, service: str = "dynamodb") -> list[str | None]:
    operation = "UpdateItem" if service == "dynamodb" else "SendMessage"
    return [
        (decision.kind if decision else None)
        for decision in (injector.decide(service, operation, marked=True) for _ in range(count))
    ]


def test_nothing_is_refused_outside_the_windows_and_every_request_is_counted() -> None:
    # Given an injector that refuses every request within 100-110 s
    clock = Clock(99.0)
    injector = AwsFaultInjector(AwsFaultSettings(windows=(WINDOW,), dynamodb_rate=1.0, sqs_rate=1.0), clock=clock)

    # When requests come before, within and after the window
    before = decisions(injector, 5)
    clock.now = 100.0
    within = decisions(injector, 5)
    clock.now = 110.0
    after = decisions(injector, 5)

    # Then only those within it are refused, and the counts say so
    assert before == after == [None] * 5
    assert all(kind in FAULT_KINDS for kind in within)
    stats = injector.stats()
    assert stats["requests"] == {"dynamodb": 15}
    assert stats["in_window"] == {"dynamodb": 5}
    assert sum(stats["faults"].values()) == 5


def test_the_same_seed_draws_the_same_faults_at_the_configured_shares() -> None:
    # Given two injectors with the same settings and seed, and one with another seed
    settings = AwsFaultSettings(windows=(WINDOW,), dynamodb_rate=0.3, sqs_rate=0.2, throttle_share=0.5, seed=11)
    first, second = (AwsFaultInjector(settings, clock=Clock(105.0)) for _ in range(2))
    other = AwsFaultInjector(AwsFaultSettings(**{**settings.__dict__, "seed": 12}), clock=Clock(105.0))

    # When each decides 4,000 requests of each service within the window
    drawn = [
        decisions(injector, 4000, service) for injector in (first, second, other) for service in ("dynamodb", "sqs")
    ]

    # Then the same seed gives the same sequence, another seed another one
    assert drawn[0:2] == drawn[2:4]
    assert drawn[0] != drawn[4]
    # and each kind's share is its target within binomial noise (4 standard deviations)
    faults = first.stats()["faults"]
    for kind, target in settings.targets().items():
        slack = 4 * (4000 * target * (1 - target)) ** 0.5
        assert abs(faults.get(kind, 0) - 4000 * target) <= slack, (kind, faults)
    # and both DynamoDB throttling answers occur
    codes = {key.split()[-1] for key in first.stats()["codes"]}
    assert {"ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"} <= codes


def test_unmarked_callers_and_the_control_plane_are_never_refused() -> None:
    # Given an injector that refuses every request within its window, now
    injector = AwsFaultInjector(
        AwsFaultSettings(windows=(WINDOW,), dynamodb_rate=1.0, sqs_rate=1.0), clock=Clock(105.0)
    )

    # When an unmarked caller reads the queue, and a marked one creates a queue and describes a table
    spared = injector.decide("sqs", "ReceiveMessage", marked=False)
    control = [
        injector.decide("sqs", "CreateQueue", marked=True),
        injector.decide("dynamodb", "DescribeTable", marked=True),
    ]

    # Then none is refused; the unmarked one is counted as spared
    assert spared is None
    assert control == [None, None]
    assert injector.stats()["spared_in_window"] == {"sqs": 1}
    assert injector.stats()["faults"] == {}


@pytest.mark.parametrize(
    "settings",
    [AwsFaultSettings(), AwsFaultSettings(windows=((1.5, 2.5), (10.0, 20.0)), dynamodb_rate=0.2, sqs_rate=0.1, seed=3)],
)
def test_the_settings_reach_the_emulator_process_unchanged(settings: AwsFaultSettings) -> None:
    # Given fixes with fault settings
    fixes = MotoFixes(atomic_writes=True, aws_faults=settings)

    # When they become the child's flags and are read back
    (flag,) = [argument for argument in fixes.arguments() if argument.startswith("--aws-faults=")]

    # Then the child gets the same settings
    assert AwsFaultSettings.from_json(flag.split("=", 1)[1]) == settings
