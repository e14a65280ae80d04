"""ZEGO simulator fault injection: knobs, seeded draws, bodies that are not what a client expects."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields

import pytest

from devstack.zego_simulator.faults import (
    HTTP_5XX_STATUSES,
    Fault,
    FaultChanges,
    FaultInjector,
    FaultSettings,
    error_page,
    truncate_json,
)


def test_no_knobs_means_no_faults_and_no_delay() -> None:
    injector = FaultInjector()

    decisions = {injector.decide() for _ in range(100)}

    assert {(d.fault, d.delay_seconds) for d in decisions} == {(None, 0.0)}


def test_latency_is_added_to_every_call_faulty_or_not() -> None:
    injector = FaultInjector(FaultSettings(latency_seconds=0.25, code_6_rate=0.5), seed=1)

    decisions = [injector.decide() for _ in range(50)]

    assert {d.delay_seconds for d in decisions} == {0.25}
    assert {d.fault for d in decisions} == {None, Fault.CODE_6}


@pytest.mark.parametrize("fault", list(Fault))
def test_a_rate_of_one_injects_that_fault_into_every_call(fault: Fault) -> None:
    # Given every fault's rate knob, named after it (``hang`` -> ``hang_rate``)
    injector = FaultInjector()
    injector.configure(**{f"{fault}_rate": 1.0})

    assert {injector.decide().fault for _ in range(20)} == {fault}


def test_http_errors_are_500_502_or_503() -> None:
    injector = FaultInjector(FaultSettings(http_5xx_rate=1.0), seed=4)

    statuses = {injector.decide().http_status for _ in range(200)}

    assert statuses == set(HTTP_5XX_STATUSES)


def test_a_hang_carries_the_configured_hold_time() -> None:
    decision = FaultInjector(FaultSettings(hang_rate=1.0, hang_seconds=7.5)).decide()

    assert (decision.fault, decision.hang_seconds) == (Fault.HANG, 7.5)


def test_the_same_seed_reproduces_the_same_faults() -> None:
    settings = FaultSettings(http_5xx_rate=0.2, hang_rate=0.1, malformed_json_rate=0.1, code_6_rate=0.1)

    def draws(seed: int) -> list[tuple[Fault | None, int | None]]:
        injector = FaultInjector(settings, seed=seed)
        return [(d.fault, d.http_status) for d in (injector.decide() for _ in range(300))]

    assert draws(42) == draws(42)
    assert draws(42) != draws(43)


def test_rates_are_honoured_over_many_calls() -> None:
    injector = FaultInjector(FaultSettings(http_5xx_rate=0.2, code_1000_rate=0.1), seed=9)

    counts = Counter(injector.decide().fault for _ in range(10_000))

    assert 1800 < counts[Fault.HTTP_5XX] < 2200
    assert 850 < counts[Fault.CODE_1000] < 1150
    assert set(counts) == {None, Fault.HTTP_5XX, Fault.CODE_1000}


def test_configure_changes_only_the_given_knobs() -> None:
    injector = FaultInjector(FaultSettings(latency_seconds=0.5, code_6_rate=0.1))

    settings = injector.configure(http_5xx_rate=0.3)

    assert settings == FaultSettings(latency_seconds=0.5, code_6_rate=0.1, http_5xx_rate=0.3)
    assert injector.settings == settings


def test_configure_takes_exactly_the_settings_knobs() -> None:
    assert set(FaultChanges.__annotations__) == {knob.name for knob in fields(FaultSettings)}


def test_invalid_knobs_are_refused_and_change_nothing() -> None:
    injector = FaultInjector(FaultSettings(code_6_rate=0.5))

    with pytest.raises(ValueError, match=r"add up to 1\.100"):
        injector.configure(http_5xx_rate=0.6)

    assert injector.settings == FaultSettings(code_6_rate=0.5)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"hang_rate": -0.1}, "must not be negative"),
        ({"code_1000_rate": 1.5}, "must be at most 1"),
        ({"latency_seconds": float("nan")}, "finite number"),
        ({"hang_seconds": True}, "finite number"),
    ],
)
def test_fault_settings_are_validated(settings: dict[str, float], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        FaultSettings(**settings)


def test_replace_settings_switches_every_fault_off() -> None:
    injector = FaultInjector(FaultSettings(hang_rate=1.0, latency_seconds=2.0))

    injector.replace_settings(FaultSettings())

    assert injector.decide().fault is None
    assert injector.decide().delay_seconds == 0.0


@pytest.mark.parametrize("status", HTTP_5XX_STATUSES)
def test_error_pages_are_not_json(status: int) -> None:
    body, content_type = error_page(status)

    assert str(status).encode() in body
    assert content_type.startswith(("text/html", "text/plain"))
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def test_truncated_json_starts_like_the_answer_and_never_parses() -> None:
    body = json.dumps({"Code": 0, "Message": "success", "RequestId": "1", "Data": {"Tencent": {}}}).encode()

    truncated = truncate_json(body)

    assert body.startswith(truncated)
    assert 0 < len(truncated) < len(body)
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated)
