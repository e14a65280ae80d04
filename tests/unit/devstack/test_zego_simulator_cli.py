"""``python -m devstack.zego_simulator``: arguments and configuration (no server is started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.zego_simulator.__main__ import apps_from_args, build_parser, main, simulator_from_args
from devstack.zego_simulator.faults import FaultSettings
from devstack.zego_simulator.scenario import Scenario, TaskSpec, Vendor
from devstack.zego_simulator.server import ZegoSimulator

DEMO = Path(__file__).resolve().parents[3] / "devstack" / "scenarios" / "demo.json"
SECRET = "9193cc662a4c0ec135ec71fb57194b38"


def test_arguments_configure_the_simulator() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "0",
            "--scenario",
            str(DEMO),
            "--app-id",
            "12345",
            "--secret",
            SECRET,
            "--time-scale",
            "0.1",
            "--rate-limit",
            "5",
            "--http-5xx-rate",
            "0.1",
            "--latency-seconds",
            "0.2",
        ]
    )

    simulator = simulator_from_args(args, environ={})

    assert simulator.service.app_ids == [12345]
    assert simulator.service.limiter is not None
    assert simulator.service.limiter.limit == 5
    assert simulator.service.book.time_scale == 0.1
    assert len(simulator.service.book) == len(Scenario.from_file(DEMO).tasks)
    assert simulator.faults == FaultSettings(http_5xx_rate=0.1, latency_seconds=0.2)
    assert not simulator.running


def test_without_fault_arguments_every_fault_knob_keeps_its_default() -> None:
    args = build_parser().parse_args(["--app-id", "1", "--secret", "s"])

    assert simulator_from_args(args, environ={}).faults == FaultSettings()


def test_rate_limit_0_means_unlimited() -> None:
    args = build_parser().parse_args(["--app-id", "1", "--secret", "s", "--rate-limit", "0"])

    assert simulator_from_args(args, environ={}).service.limiter is None


def test_a_single_app_may_take_its_secret_from_the_environment() -> None:
    assert apps_from_args([12345], None, {"ZEGO_SIMULATOR_SECRET": SECRET}) == {12345: SECRET}


def test_several_apps_pair_ids_and_secrets_in_order() -> None:
    assert apps_from_args([1, 2], ["a", "b"], {}) == {1: "a", 2: "b"}


@pytest.mark.parametrize(
    ("app_ids", "secrets"),
    [([1, 2], ["a"]), ([1], None), ([1, 2], None)],
)
def test_unpaired_apps_and_secrets_are_refused(app_ids: list[int], secrets: list[str] | None) -> None:
    with pytest.raises(ValueError, match="--secret"):
        apps_from_args(app_ids, secrets, {})


def test_an_invalid_scenario_file_exits_with_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "bad.json"
    scenario.write_text('{"tasks": [{"task_id": "x", "vendor": "Aliyun"}]}')

    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--scenario", str(scenario), "--app-id", "1", "--secret", SECRET])

    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "bad.json: tasks[0]" in error
    assert SECRET not in error


def test_the_simulator_is_not_bound_before_start() -> None:
    simulator = ZegoSimulator(apps={12345: SECRET})

    with pytest.raises(RuntimeError, match="not started"):
        _ = simulator.port
    assert SECRET not in repr(simulator)


def test_tasks_can_be_added_in_the_file_format_or_as_specs() -> None:
    simulator = ZegoSimulator(apps={12345: SECRET})

    added = simulator.add_task({"task_id": "t-1", "vendor": "Huawei", "stays": "NO_TASK"})
    simulator.add_tasks(Scenario.generate(3, seed=1))
    simulator.add_task(TaskSpec(task_id="t-2", vendor=Vendor.TENCENT, event="compose", code=41003))

    assert added == TaskSpec(task_id="t-1", vendor=Vendor.HUAWEI, stays="NO_TASK")
    assert len(simulator.service.book) == 5


def test_runtime_fault_knobs_can_be_set_and_cleared() -> None:
    simulator = ZegoSimulator(apps={12345: SECRET}, faults=FaultSettings(latency_seconds=1.0))

    assert simulator.configure_faults(code_6_rate=0.5) == FaultSettings(latency_seconds=1.0, code_6_rate=0.5)
    simulator.clear_faults()
    assert simulator.faults == FaultSettings()
