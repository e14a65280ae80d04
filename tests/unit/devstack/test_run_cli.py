"""make run refuses the usual mistakes with one clear line instead of a traceback."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from devstack.__main__ import (
    TaskRef,
    UsageError,
    build_parser,
    choose_tasks,
    parse_task_list,
    run,
    unexpected_endings,
    zego_target,
)
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus


def test_a_task_list_is_vendor_colon_id_items_with_comments() -> None:
    tasks = parse_task_list("Tencent:abc Huawei:123  # trailing comment\n\nHuawei:456", "TASKS")
    assert [(t.vendor, t.task_id) for t in tasks] == [("Tencent", "abc"), ("Huawei", "123"), ("Huawei", "456")]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("abc", "not Vendor:TaskId"), ("Aliyun:abc", "not Vendor:TaskId"), ("Tencent:", "TaskId"), ("# only", "no tasks")],
)
def test_a_bad_task_list_names_the_item(text: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        parse_task_list(text, "TASKS")


def test_half_set_zego_variables_are_refused_naming_the_missing_ones() -> None:
    with pytest.raises(UsageError, match="ZEGO_SERVER_SECRET not"):
        zego_target({"ZEGO_ENDPOINT": "https://rtc-api.zego.im", "ZEGO_APP_ID": "1"})


def test_no_zego_variables_means_the_simulator_and_all_three_mean_a_real_endpoint() -> None:
    assert zego_target({}) is None
    target = zego_target({"ZEGO_ENDPOINT": "https://x", "ZEGO_APP_ID": "1", "ZEGO_SERVER_SECRET": "s3cr3t-value"})
    assert target is not None
    assert target.server_secret == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(target)


def test_an_unreadable_task_file_is_a_usage_error(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--tasks-file", str(tmp_path / "missing.txt")])
    with pytest.raises(UsageError, match="cannot read task file"):
        choose_tasks(args, {}, using_simulator=True)


def test_the_demo_tasks_come_with_their_expected_final_statuses() -> None:
    tasks = choose_tasks(build_parser().parse_args([]), {}, using_simulator=True)
    assert {t.expected for t in tasks} >= {"SUCCEEDED", "FAILED", "NOT_FOUND"}
    assert all(t.expected is not None for t in tasks)


def test_a_real_endpoint_without_tasks_is_refused() -> None:
    with pytest.raises(UsageError, match="name the tasks"):
        choose_tasks(build_parser().parse_args([]), {}, using_simulator=False)


def test_run_reports_a_usage_error_with_exit_status_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEGO_APP_ID", "1")
    monkeypatch.delenv("ZEGO_ENDPOINT", raising=False)
    monkeypatch.delenv("ZEGO_SERVER_SECRET", raising=False)
    out = io.StringIO()
    assert run([], out=out) == 2
    assert "ZEGO_APP_ID set but" in out.getvalue()


def test_the_demo_has_a_huawei_merge_registered_as_a_merge_that_only_its_callback_ends() -> None:
    tasks = choose_tasks(build_parser().parse_args([]), {}, using_simulator=True)
    merges = [t for t in tasks if t.vendor == "Huawei" and t.kind is TaskKind.MERGE]
    assert len(merges) == 1
    assert not merges[0].pollable
    assert merges[0].expected_source is ChangeSource.CALLBACK
    assert {t.expected_source for t in tasks} >= {ChangeSource.CALLBACK, ChangeSource.POLL}


def _merge(**fields: Any) -> TaskRef:
    return TaskRef("Huawei", "289665201", TaskStatus.SUCCEEDED, TaskKind.MERGE, ChangeSource.CALLBACK, **fields)


def test_an_ending_as_the_scenario_says_is_no_problem() -> None:
    merge = _merge()
    assert unexpected_endings([merge], {merge: {"status": "SUCCEEDED", "completedBy": "CALLBACK"}}, set()) == []


def test_the_right_status_from_the_wrong_source_is_a_problem() -> None:
    merge = _merge()
    problems = unexpected_endings([merge], {merge: {"status": "SUCCEEDED", "completedBy": "POLL"}}, set())
    assert problems == ["Huawei:289665201 was ended by POLL, expected CALLBACK"]


def test_a_describe_call_for_a_task_describemediatask_cannot_describe_is_a_problem() -> None:
    merge = _merge()
    states: dict[TaskRef, dict[str, Any] | None] = {merge: {"status": "SUCCEEDED", "completedBy": "CALLBACK"}}
    problems = unexpected_endings([merge], states, queried={"289665201"})
    assert problems == ["Huawei:289665201 (merge) was queried with DescribeMediaTask, which cannot describe it"]
