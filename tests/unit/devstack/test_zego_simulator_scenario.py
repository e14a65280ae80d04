"""ZEGO simulator scenarios: file validation, timelines on an injected clock, vendor blocks, generation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devstack.zego_simulator.scenario import (
    GENERATED_KINDS,
    FinalState,
    Scenario,
    ScenarioError,
    Step,
    TaskBook,
    TaskSpec,
    Vendor,
    huawei_time,
)
from tests.support.fixture_files import ZEGO_RESPONSES

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "devstack" / "scenarios" / "demo.json"
T0 = 1000.0  # monotonic seconds
WALL0 = 1_763_449_200.0  # 2025-11-18T07:00:00Z

COMPOSE = TaskSpec(
    task_id="compose-1",
    vendor=Vendor.TENCENT,
    event="compose",
    timeline=(Step("WAITING", 3), Step("PROCESSING", 9)),
    final=FinalState("FINISH", {"FileId": "528589", "ReplayUrl": "https://example.test/out.mp4"}),
)


def fixture_block(name: str, vendor: str) -> dict[str, Any]:
    block: dict[str, Any] = json.loads((ZEGO_RESPONSES / name).read_text())["Data"][vendor]
    return block


def tencent_book_ending_like(
    fixture: dict[str, Any], event: str, fields: tuple[str, ...], timeline: tuple[Step, ...] = ()
) -> TaskBook:
    """A book of one Tencent task, the fixture's TaskId, that ends ``FINISH`` with the fixture's ``fields``."""
    final = FinalState("FINISH", {name: fixture[name] for name in fields})
    spec = TaskSpec(task_id=fixture["TaskId"], vendor=Vendor.TENCENT, event=event, timeline=timeline, final=final)
    return TaskBook(Scenario(tasks=(spec,)))


def answer(book: TaskBook, task_id: str, *, at: float, vendor: Vendor = Vendor.TENCENT) -> dict[str, Any]:
    result = book.answer(vendor, task_id, now=T0 + at, wall_now=WALL0 + at, vendor_request_id="vendor-rid")
    assert result.code == 0
    assert result.block is not None
    return result.block


def task_dict(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "task_id": "t-1",
        "vendor": "Tencent",
        "event": "transcode",
        "timeline": [{"status": "PROCESSING", "seconds": 5}],
        "final": {"status": "FINISH", "FileId": "1"},
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


# --- the demo scenario ---------------------------------------------------------------------------


def test_demo_scenario_scripts_each_kind_make_run_needs() -> None:
    scenario = Scenario.from_file(DEMO)
    by_kind = {(t.vendor, t.event, t.final.status if t.final else t.stays): t for t in scenario.tasks}

    compose = by_kind[(Vendor.TENCENT, "compose", "FINISH")]
    assert compose.final is not None
    assert compose.final.fields["FileId"]
    assert compose.final.fields["ReplayUrl"].startswith("https://")
    transcode = by_kind[(Vendor.TENCENT, "transcode", "FAIL")]
    assert transcode.final is not None
    assert transcode.final.fields["Message"]
    snapshot = by_kind[(Vendor.TENCENT, "SampleSnapshot", "FINISH")]
    assert snapshot.final is not None
    assert snapshot.final.fields["ThumbnailsUrl"]
    huawei = by_kind[(Vendor.HUAWEI, "SnapshotByTimeOffset", "SUCCEEDED")]
    assert huawei.final is not None
    assert huawei.final.fields["FileName"]
    assert (Vendor.HUAWEI, None, "NO_TASK") in by_kind
    assert all(task.timeline_seconds <= 20 for task in scenario.tasks)


# --- timelines -----------------------------------------------------------------------------------


def test_timeline_steps_follow_the_clock_from_the_first_query() -> None:
    book = TaskBook(Scenario(tasks=(COMPOSE,)))

    assert answer(book, "compose-1", at=0)["Status"] == "WAITING"
    assert answer(book, "compose-1", at=2.999)["Status"] == "WAITING"
    assert answer(book, "compose-1", at=3.0)["Status"] == "PROCESSING"
    assert answer(book, "compose-1", at=11.9)["Status"] == "PROCESSING"
    finished = answer(book, "compose-1", at=12.0)
    assert finished["Status"] == "FINISH"
    assert finished["FileId"] == "528589"
    assert finished["ReplayUrl"] == "https://example.test/out.mp4"


def test_timeline_does_not_start_before_the_task_is_first_queried() -> None:
    book = TaskBook(Scenario(tasks=(COMPOSE,)))

    # Given the task is never queried for an hour, when it is first queried, then it starts WAITING.
    assert answer(book, "compose-1", at=3600)["Status"] == "WAITING"
    assert answer(book, "compose-1", at=3600 + 12)["Status"] == "FINISH"


def test_time_scale_shrinks_scenario_seconds() -> None:
    book = TaskBook(Scenario(tasks=(COMPOSE,)), time_scale=0.1)

    assert answer(book, "compose-1", at=0)["Status"] == "WAITING"
    assert answer(book, "compose-1", at=0.3)["Status"] == "PROCESSING"
    assert answer(book, "compose-1", at=1.2)["Status"] == "FINISH"


def test_each_task_runs_its_own_timeline() -> None:
    other = TaskSpec(
        task_id="compose-2", vendor=Vendor.TENCENT, event="compose", final=COMPOSE.final, timeline=COMPOSE.timeline
    )
    book = TaskBook(Scenario(tasks=(COMPOSE, other)))

    answer(book, "compose-1", at=0)
    assert answer(book, "compose-2", at=10)["Status"] == "WAITING"
    assert answer(book, "compose-1", at=12)["Status"] == "FINISH"
    assert answer(book, "compose-2", at=12)["Status"] == "WAITING"


def test_adding_a_task_at_run_time_replaces_it_and_restarts_its_timeline() -> None:
    book = TaskBook(Scenario(tasks=(COMPOSE,)))
    answer(book, "compose-1", at=0)
    assert answer(book, "compose-1", at=20)["Status"] == "FINISH"

    book.add(TaskSpec(task_id="compose-1", vendor=Vendor.TENCENT, event="compose", stays="PROCESSING"))

    assert answer(book, "compose-1", at=21)["Status"] == "PROCESSING"


def test_reset_timelines_restarts_every_task() -> None:
    book = TaskBook(Scenario(tasks=(COMPOSE,)))
    answer(book, "compose-1", at=0)
    book.reset_timelines()

    assert answer(book, "compose-1", at=20)["Status"] == "WAITING"


# --- vendor blocks -------------------------------------------------------------------------------


def test_tencent_finish_block_has_the_vendor_documented_shape() -> None:
    fixture = fixture_block("tencent-compose-finish.json", "Tencent")
    book = tencent_book_ending_like(fixture, "compose", ("FileId", "ReplayUrl", "RequestId"))

    assert answer(book, fixture["TaskId"], at=0) == fixture


def test_tencent_block_carries_a_vendor_request_id_and_empty_outputs_while_running() -> None:
    block = answer(TaskBook(Scenario(tasks=(COMPOSE,))), "compose-1", at=0)

    assert block == {
        "TaskId": "compose-1",
        "Event": "compose",
        "Status": "WAITING",
        "FileId": "",
        "ReplayUrl": "",
        "RequestId": "vendor-rid",
        "Message": "",
    }


def test_tencent_snapshot_block_lists_thumbnails() -> None:
    fixture = fixture_block("tencent-snapshot-finish.json", "Tencent")
    book = tencent_book_ending_like(
        fixture, "SampleSnapshot", ("FileId", "RequestId", "ThumbnailsUrl"), timeline=(Step("PROCESSING", 1),)
    )

    assert answer(book, fixture["TaskId"], at=0)["ThumbnailsUrl"] == []
    assert answer(book, fixture["TaskId"], at=1) == fixture


def test_huawei_succeeded_block_keeps_scripted_times() -> None:
    fixture = fixture_block("huawei-snapshot-succeeded.json", "Huawei")
    spec = TaskSpec.from_dict(
        {
            "task_id": fixture["TaskId"],
            "vendor": "Huawei",
            "final": {"status": "SUCCEEDED", **{k: fixture[k] for k in ("CreateTime", "EndTime", "FileName")}},
        }
    )
    book = TaskBook(Scenario(tasks=(spec,)))

    assert answer(book, fixture["TaskId"], at=0, vendor=Vendor.HUAWEI) == fixture


def test_huawei_times_default_to_the_first_query_and_the_timeline_length() -> None:
    spec = TaskSpec(
        task_id="289",
        vendor=Vendor.HUAWEI,
        timeline=(Step("PROCESSING", 8),),
        final=FinalState("SUCCEEDED", {"FileName": ["a/0.jpg"]}),
    )
    book = TaskBook(Scenario(tasks=(spec,)), time_scale=0.5)

    running = answer(book, "289", at=0, vendor=Vendor.HUAWEI)
    assert (running["Status"], running["CreateTime"], running["EndTime"]) == ("PROCESSING", huawei_time(WALL0), "")
    done = answer(book, "289", at=4, vendor=Vendor.HUAWEI)
    assert (done["Status"], done["CreateTime"], done["EndTime"]) == (
        "SUCCEEDED",
        huawei_time(WALL0),
        huawei_time(WALL0 + 4),
    )
    assert done["FileName"] == ["a/0.jpg"]


def test_unknown_huawei_task_answers_no_task_like_the_vendor() -> None:
    fixture = fixture_block("huawei-no-task.json", "Huawei")
    book = TaskBook()

    assert answer(book, fixture["TaskId"], at=0, vendor=Vendor.HUAWEI) == fixture


def test_unknown_tencent_task_answers_code_2_without_data() -> None:
    result = TaskBook().answer(Vendor.TENCENT, "nope", now=T0, wall_now=WALL0, vendor_request_id="r")

    assert (result.code, result.block) == (2, None)
    assert "TaskId" in result.message


def test_a_task_scripted_for_one_vendor_is_unknown_to_the_other() -> None:
    book = TaskBook(Scenario(tasks=(COMPOSE,)))

    assert answer(book, "compose-1", at=0, vendor=Vendor.HUAWEI)["Status"] == "NO_TASK"


def test_a_code_task_always_answers_its_code() -> None:
    spec = TaskSpec(task_id="gone", vendor=Vendor.TENCENT, event="transcode", code=41003, message="file does not exist")
    book = TaskBook(Scenario(tasks=(spec,)))

    for at in (0.0, 100.0):
        result = book.answer(Vendor.TENCENT, "gone", now=T0 + at, wall_now=WALL0, vendor_request_id="r")
        assert (result.code, result.message, result.block) == (41003, "file does not exist", None)


def test_final_extra_and_omit_reshape_the_vendor_block() -> None:
    spec = TaskSpec.from_dict(
        task_dict(
            final={"status": "FINISH", "FileId": "1", "extra": {"ReplayUrl": None, "Size": 12}, "omit": ["Message"]}
        )
    )
    book = TaskBook(Scenario(tasks=(spec,)))
    assert answer(book, "t-1", at=0)["ReplayUrl"] == ""
    block = answer(book, "t-1", at=10)

    assert block["ReplayUrl"] is None
    assert block["Size"] == 12
    assert "Message" not in block


def test_answers_are_fresh_copies() -> None:
    spec = TaskSpec.from_dict(task_dict(timeline=None, final={"status": "FINISH", "ThumbnailsUrl": ["u"]}))
    book = TaskBook(Scenario(tasks=(spec,)))
    answer(book, "t-1", at=0)["ThumbnailsUrl"].append("mutated")

    assert answer(book, "t-1", at=1)["ThumbnailsUrl"] == ["u"]


def test_allow_unknown_status_scripts_a_status_outside_the_vocabulary() -> None:
    spec = TaskSpec.from_dict(task_dict(timeline=None, final=None, stays="PAUSED", allow_unknown_status=True))

    assert answer(TaskBook(Scenario(tasks=(spec,))), "t-1", at=0)["Status"] == "PAUSED"


# --- templates -----------------------------------------------------------------------------------


def test_template_scripts_matching_unlisted_ids_each_with_its_own_timeline() -> None:
    scenario = Scenario.from_dict(
        {"templates": [{**task_dict(task_id=None), "match": "bench-[0-9]+"}]},
    )
    book = TaskBook(scenario)

    assert answer(book, "bench-1", at=0)["Status"] == "PROCESSING"
    assert answer(book, "bench-2", at=4)["Status"] == "PROCESSING"
    finished = answer(book, "bench-1", at=5)
    assert (finished["TaskId"], finished["Status"], finished["FileId"]) == ("bench-1", "FINISH", "1")
    assert answer(book, "bench-2", at=5)["Status"] == "PROCESSING"
    assert book.answer(Vendor.TENCENT, "bench-x", now=T0, wall_now=WALL0, vendor_request_id="r").code == 2
    assert answer(book, "bench-3", at=0, vendor=Vendor.HUAWEI)["Status"] == "NO_TASK"


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"vendor": "Aliyun"}, "vendor must be one of ['Tencent', 'Huawei']"),
        ({"vendor": None}, "vendor is required"),
        ({"task_id": ""}, "task_id must be a non-empty string"),
        ({"event": None}, "event must be one of"),
        (
            {"vendor": "Huawei", "event": "transcode", "final": {"status": "SUCCEEDED"}},
            "Huawei tasks are snapshots (DescribeMediaTask answers those) or merges",
        ),
        ({"timeline": [{"status": "RUNNING", "seconds": 2}]}, "timeline[0].status 'RUNNING' is not a Tencent status"),
        ({"timeline": [{"status": "WAITING", "seconds": -3}]}, "timeline[0].seconds must be a positive number, got -3"),
        ({"timeline": [{"status": "WAITING", "seconds": "3"}]}, "timeline[0].seconds must be a number"),
        ({"timeline": [{"status": "WAITING"}]}, "timeline[0] must have exactly 'status' and 'seconds'"),
        ({"timeline": {"WAITING": 3}}, "timeline must be a list"),
        ({"final": {"status": "DONE"}}, "final.status 'DONE' is not a Tencent status"),
        ({"final": {"status": "FINISH", "FileName": ["x"]}}, "final.FileName is not a Tencent field"),
        ({"final": {"status": "FINISH", "ThumbnailsUrl": "x"}}, "final.ThumbnailsUrl must be a list"),
        ({"final": {"status": "FINISH", "ThumbnailsUrl": [1]}}, "final.ThumbnailsUrl must be a list of strings"),
        ({"final": {"status": "FINISH", "ReplayUrl": "u" * 1025}}, "ReplayUrl is longer than 1024 bytes"),
        ({"final": {"FileId": "1"}}, "final: status is required"),
        ({"final": None}, "a timeline needs a 'final' state"),
        ({"stays": "PROCESSING"}, "give exactly one of 'final'"),
        ({"final": None, "timeline": None}, "got none"),
        ({"final": None, "timeline": None, "code": 0}, "code must be non-zero"),
        ({"final": None, "timeline": None, "code": "2"}, "code must be an integer"),
        ({"message": "boom"}, "'message' goes with 'code'"),
        ({"Status": "FINISH"}, "unknown field(s) ['Status']"),
        (
            {"vendor": "Huawei", "event": None, "final": {"status": "SUCCEEDED", "EndTime": "2024-11-18"}},
            "final.EndTime must be YYYYMMDDhhmmss",
        ),
    ],
)
def test_invalid_tasks_are_rejected_with_a_clear_message(overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        Scenario.from_dict({"tasks": [task_dict(**overrides)]})

    assert expected in str(raised.value)
    assert str(raised.value).startswith("tasks[0]")


def test_a_task_listed_twice_for_one_vendor_is_rejected() -> None:
    with pytest.raises(ScenarioError, match="listed twice"):
        Scenario.from_dict({"tasks": [task_dict(), task_dict()]})


def test_the_same_task_id_may_exist_for_both_vendors() -> None:
    huawei = task_dict(vendor="Huawei", event=None, timeline=None, final=None, stays="NO_TASK")

    assert len(Scenario.from_dict({"tasks": [task_dict(), huawei]}).tasks) == 2


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], "scenario: expected a JSON object, got list"),
        ({"task": []}, "unknown top-level field(s) ['task']"),
        ({"tasks": {}}, "tasks must be a list"),
        ({"templates": [{"vendor": "Tencent"}]}, "templates[0]: match is required"),
        ({"templates": [{"match": "(", "vendor": "Tencent"}]}, "is not a valid regular expression"),
    ],
)
def test_invalid_documents_are_rejected_with_a_clear_message(document: object, expected: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        Scenario.from_dict(document)

    assert expected in str(raised.value)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"tasks": [}')
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"tasks": [task_dict(vendor="Aliyun")]}))

    with pytest.raises(ScenarioError, match=r"broken\.json: not valid JSON"):
        Scenario.from_file(broken)
    with pytest.raises(ScenarioError, match=r"invalid\.json: tasks\[0\]"):
        Scenario.from_file(invalid)
    with pytest.raises(ScenarioError, match=r"missing\.json: cannot read scenario file"):
        Scenario.from_file(tmp_path / "missing.json")


# --- generation ----------------------------------------------------------------------------------


def test_generate_is_reproducible_and_ids_are_unique() -> None:
    first = Scenario.generate(2000, seed=7)
    again = Scenario.generate(2000, seed=7)

    assert first == again
    assert len(first.tasks) == 2000
    assert len({(task.vendor, task.task_id) for task in first.tasks}) == 2000
    assert Scenario.generate(10, seed=8).task_ids() != first.task_ids()[:10]


def test_generate_follows_the_mix() -> None:
    scenario = Scenario.generate(300, seed=1, mix={"huawei-no-task": 1, "tencent-file-missing": 1})

    assert {task.stays for task in scenario.tasks if task.vendor is Vendor.HUAWEI} == {"NO_TASK"}
    assert {task.code for task in scenario.tasks if task.vendor is Vendor.TENCENT} == {41003}
    assert 100 < len(scenario.task_ids(Vendor.HUAWEI)) < 200


def test_generate_offers_every_kind_and_timelines_in_range() -> None:
    scenario = Scenario.generate(200, seed=3, mix=dict.fromkeys(GENERATED_KINDS, 1.0), duration_seconds=(5, 10))

    for task in scenario.tasks:
        if task.timeline:
            assert 5 - 0.01 <= task.timeline_seconds <= 10 + 0.01


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"mix": {"tencent-magic": 1}}, "unknown kind"),
        ({"mix": {"huawei-no-task": 0}}, "positive sum"),
        ({"duration_seconds": (10, 5)}, "0 < low <= high"),
    ],
)
def test_generate_rejects_bad_arguments(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(ScenarioError, match=expected):
        Scenario.generate(5, **kwargs)
