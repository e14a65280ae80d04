"""What a scripted task must end in, and by what, follows from its script and whether callbacks are on."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.expectations import expected_source, expected_status, task_kind
from devstack.zego_simulator import TaskSpec
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus


def _spec(**fields: Any) -> TaskSpec:
    return TaskSpec.from_dict(fields)


HUAWEI_MERGE = {
    "task_id": "289665201",
    "vendor": "Huawei",
    "event": "compose",
    "timeline": [{"status": "PROCESSING", "seconds": 5}],
    "final": {"status": "SUCCEEDED", "ReplayUrl": "https://obs.example/m.mp4"},
}
TENCENT_TRANSCODE = {
    "task_id": "t1",
    "vendor": "Tencent",
    "event": "transcode",
    "timeline": [{"status": "PROCESSING", "seconds": 5}],
    "final": {"status": "FINISH"},
}


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        (HUAWEI_MERGE, TaskKind.MERGE),
        (TENCENT_TRANSCODE, TaskKind.TRANSCODE),
        ({**TENCENT_TRANSCODE, "event": "SampleSnapshot"}, TaskKind.SNAPSHOT),
        ({"task_id": "2", "vendor": "Huawei", "final": {"status": "SUCCEEDED"}}, TaskKind.SNAPSHOT),
        ({"task_id": "3", "vendor": "Huawei", "stays": "NO_TASK"}, None),
    ],
)
def test_a_task_is_registered_with_the_kind_of_the_zego_action_that_started_it(
    fields: dict[str, Any], kind: TaskKind | None
) -> None:
    assert task_kind(_spec(**fields)) is kind


def test_a_huawei_merge_is_ended_by_its_callback_when_one_arrives() -> None:
    merge = _spec(**HUAWEI_MERGE)
    assert expected_status(merge, callbacks=True) is TaskStatus.SUCCEEDED
    assert expected_source(merge, callbacks=True) is ChangeSource.CALLBACK


@pytest.mark.parametrize("fate", ["lost", "none", "bad_signature"])
def test_a_huawei_merge_whose_callback_never_arrives_valid_ends_at_its_deadline(fate: str) -> None:
    merge = _spec(**HUAWEI_MERGE, callback=fate)
    assert expected_status(merge, callbacks=True) is TaskStatus.TIMED_OUT
    assert expected_source(merge, callbacks=True) is ChangeSource.DEADLINE


def test_without_callbacks_a_huawei_merge_can_only_time_out() -> None:
    assert expected_status(_spec(**HUAWEI_MERGE)) is TaskStatus.TIMED_OUT


@pytest.mark.parametrize("fate", ["send", "duplicate", "delayed", "reordered"])
def test_a_polled_task_whose_callback_arrives_may_be_ended_by_either(fate: str) -> None:
    transcode = _spec(**TENCENT_TRANSCODE, callback=fate)
    assert expected_status(transcode, callbacks=True) is TaskStatus.SUCCEEDED
    assert expected_source(transcode, callbacks=True) is None


@pytest.mark.parametrize("fate", ["lost", "bad_signature"])
def test_a_polled_task_whose_callback_never_arrives_valid_is_ended_by_polling(fate: str) -> None:
    transcode = _spec(**TENCENT_TRANSCODE, callback=fate)
    assert expected_status(transcode, callbacks=True) is TaskStatus.SUCCEEDED
    assert expected_source(transcode, callbacks=True) is ChangeSource.POLL


def test_tasks_that_never_end_send_no_callback_and_end_as_before() -> None:
    assert expected_source(_spec(task_id="3", vendor="Huawei", stays="NO_TASK"), callbacks=True) is ChangeSource.POLL
    stuck = _spec(task_id="4", vendor="Tencent", event="transcode", stays="PROCESSING")
    assert expected_status(stuck, callbacks=True) is TaskStatus.TIMED_OUT
    assert expected_source(stuck, callbacks=True) is ChangeSource.DEADLINE
