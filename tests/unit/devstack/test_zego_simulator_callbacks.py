"""ZEGO simulator completion callbacks without sockets: signature, payloads, retry schedule, faults.

Time is a ``FakeClock`` and the receiver a scripted transport: ``run_for`` jumps the clock from one due
try to the next, so the whole 62-second retry schedule runs in microseconds and without sleeping.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pytest

from devstack.zego_simulator.__main__ import build_parser, callbacks_from_args, simulator_from_args
from devstack.zego_simulator.callbacks import (
    CallbackDispatcher,
    CallbackFaultSettings,
    CallbackSettings,
    DeliveryResult,
    callback_body,
    sign_callback,
)
from devstack.zego_simulator.scenario import (
    CallbackFate,
    CallbackScript,
    Scenario,
    ScenarioError,
    TaskBook,
    TaskSpec,
    TimelineClock,
    Vendor,
)
from devstack.zego_simulator.server import ZegoSimulator
from tests.support.clock import FakeClock
from tests.support.simulator_tasks import (
    COMPOSE,
    COMPOSE_FAILED,
    EVERY_KIND,
    HUAWEI_MERGE,
    HUAWEI_SNAPSHOT,
    SNAPSHOT_AT_OFFSETS,
    SNAPSHOT_SAMPLED,
    TRANSCODE,
    TRANSCODE_FAILED,
)

APP_ID = 12345
SERVER_SECRET = "9193cc662a4c0ec135ec71fb57194b38"
CALLBACK_SECRET = "cb5ecret0f1e2d3c"
URL = "http://127.0.0.1:9/callbacks/zego"
ZEGO_RETRY_OFFSETS = [0.0, 2.0, 6.0, 14.0, 30.0, 62.0]
"""When ZEGO tries a callback that keeps failing: 2, 4, 8, 16, 32 s after each previous try."""


class Receiver:
    """A scripted transport: answers ``statuses`` in turn (the last one repeats; ``None`` times out)."""

    def __init__(self, clock: FakeClock, *statuses: int | None) -> None:
        self.clock = clock
        self.statuses = list(statuses) or [200]
        self.calls: list[tuple[float, dict[str, str], dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> DeliveryResult:
        assert (url, timeout) == (URL, 2.0)
        self.calls.append((self.clock.monotonic(), json.loads(body), dict(headers)))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return DeliveryResult(status) if status is not None else DeliveryResult(None, "timeout")

    @property
    def times(self) -> list[float]:
        return [moment for moment, _, _ in self.calls]

    @property
    def bodies(self) -> list[dict[str, str]]:
        return [body for _, body, _ in self.calls]

    def task_ids(self) -> list[str]:
        return [body["task_id"] for body in self.bodies]


def make(
    clock: FakeClock,
    *tasks: TaskSpec,
    receiver: Receiver | None = None,
    faults: CallbackFaultSettings | None = None,
    time_scale: float = 1.0,
    seed: int | None = 0,
    **settings: Any,
) -> tuple[TaskBook, CallbackDispatcher, Receiver]:
    book = TaskBook(
        Scenario(tasks=tasks), time_scale=time_scale, monotonic=clock.monotonic, wall_clock=lambda: wall(clock)
    )
    receiver = receiver if receiver is not None else Receiver(clock)
    dispatcher = CallbackDispatcher(
        CallbackSettings(url=URL, secret=CALLBACK_SECRET, faults=faults or CallbackFaultSettings(), **settings),
        book,
        app_id=APP_ID,
        seed=seed,
        transport=receiver,
        monotonic=clock.monotonic,
        wall_clock=lambda: wall(clock),
    )
    book.subscribe(dispatcher.task_started)
    return book, dispatcher, receiver


def wall(clock: FakeClock) -> float:
    return clock.now().timestamp()


def query(book: TaskBook, clock: FakeClock, spec: TaskSpec) -> None:
    book.answer(spec.vendor, spec.task_id, now=clock.monotonic(), wall_now=wall(clock), vendor_request_id="rid")


def run_for(clock: FakeClock, dispatcher: CallbackDispatcher, seconds: float) -> None:
    """Let ``seconds`` pass, delivering every try when it falls due."""
    end = clock.monotonic() + seconds
    dispatcher.deliver_due()
    while (due := dispatcher.next_due()) is not None and due <= end:
        clock.advance(max(0.0, due - clock.monotonic()))
        dispatcher.deliver_due()
    clock.advance(max(0.0, end - clock.monotonic()))


def signature_of(body: Mapping[str, str], secret: str = CALLBACK_SECRET) -> str:
    """ZEGO's rule, written out here again: sort the three strings, concatenate, SHA-1, lowercase hex."""
    parts = sorted([secret, body["timestamp"], body["nonce"]])
    return hashlib.sha1((parts[0] + parts[1] + parts[2]).encode(), usedforsecurity=False).hexdigest()


def body_of(spec: TaskSpec, **kwargs: Any) -> dict[str, str]:
    return callback_body(spec, app_id=APP_ID, secret=CALLBACK_SECRET, timestamp="1481597358", nonce="158273", **kwargs)


# --- signature -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "timestamp", "nonce", "expected"),
    [
        # "1481597358" < "158273" < "cb5ecret0f1e2d3c": the secret sorts last
        (CALLBACK_SECRET, "1481597358", "158273", "4b4267658c2354f9714bf027efc05fa59f1978a1"),
        # "0secret" < "1700000000" < "2a9f": the secret sorts first
        ("0secret", "1700000000", "2a9f", "ed338573f96ccfc6a513e105e6fcbbd1e13de1f5"),
        # "158273" < "99" < "zz": the nonce sorts before the timestamp (dictionary order, not numeric)
        ("zz", "99", "158273", "70d3d30ba2bd0f2c412718aadd2382e0ac02bcc6"),
    ],
)
def test_the_signature_is_sha1_of_secret_timestamp_and_nonce_in_dictionary_order(
    secret: str, timestamp: str, nonce: str, expected: str
) -> None:
    # Expected values computed outside Python: printf '%s' "1481597358158273cb5ecret0f1e2d3c" | sha1sum
    assert sign_callback(secret, timestamp, nonce) == expected


def test_a_body_carries_its_own_valid_signature() -> None:
    body = body_of(COMPOSE)

    assert body["signature"] == signature_of(body)
    assert body["signature"] != signature_of(body, secret=SERVER_SECRET)


def test_a_bad_signature_fault_signs_with_something_else() -> None:
    body = body_of(COMPOSE, bad_signature=True)

    assert len(body["signature"]) == 40
    assert body["signature"] != signature_of(body)


# --- payloads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", EVERY_KIND, ids=lambda spec: f"{spec.vendor}-{spec.event}-{spec.final.status}")
def test_every_value_is_a_string_as_zego_sends(spec: TaskSpec) -> None:
    body = body_of(spec)

    assert all(isinstance(value, str) for value in body.values())
    assert (body["appid"], body["timestamp"], body["nonce"]) == ("12345", "1481597358", "158273")


def test_a_tencent_merge_sends_compose_with_file_id_code_0_and_no_vendor() -> None:
    body = body_of(COMPOSE)

    assert list(body) == [
        "appid",
        "event",
        "task_id",
        "replay_url",
        "file_id",
        "code",
        "message",
        "timestamp",
        "nonce",
        "signature",
    ]
    assert body["event"] == "compose"
    assert (body["task_id"], body["file_id"]) == (COMPOSE.task_id, "5285890813218549789")
    assert body["replay_url"] == "https://example-vod.zego.im/compose/out.mp4"
    assert (body["code"], body["message"]) == ("0", "")


def test_a_failed_tencent_merge_sends_a_failure_code_with_the_message() -> None:
    body = body_of(COMPOSE_FAILED)

    assert (body["code"], body["message"], body["replay_url"]) == ("60000", "source file is corrupted", "")


def test_a_task_can_script_its_compose_code_and_message() -> None:
    spec = TaskSpec.from_dict(
        {
            "task_id": "c",
            "vendor": "Tencent",
            "event": "compose",
            "final": {"status": "FAIL"},
            "callback": {"code": 70000, "message": "internal error"},
        }
    )

    assert (body_of(spec)["code"], body_of(spec)["message"]) == ("70000", "internal error")


def test_a_huawei_merge_sends_compose_without_vendor_file_id_or_message() -> None:
    body = body_of(HUAWEI_MERGE)

    assert set(body) == {"appid", "event", "task_id", "replay_url", "code", "timestamp", "nonce", "signature"}
    assert (body["event"], body["replay_url"]) == ("compose", "https://obs.example/merge/289665201.mp4")


def test_a_finished_transcode_sends_procedure_with_extra_params_a_json_string() -> None:
    body = body_of(TRANSCODE)

    assert set(body) == {
        *("appid", "event", "task_id", "status", "file_id", "extra_params", "timestamp", "nonce", "signature")
    }
    assert (body["event"], body["status"], body["file_id"]) == ("procedure", "SUCCESS", "3270835010897125368")
    (result,) = json.loads(body["extra_params"])["media"]["transcode"]
    assert set(result) == {"code", "message", "replay_url", "size", "duration", "video", "audio"}
    assert (result["code"], result["replay_url"]) == ("0", "http://vod.example/playlist.m3u8")
    assert set(result["video"]) == {"bitrate", "codec", "fps", "height", "width"}
    assert set(result["audio"]) == {"bitrate", "codec", "sampling_rate"}
    assert isinstance(result["size"], int)
    assert isinstance(result["duration"], float)


def test_the_made_up_media_details_are_the_same_for_a_task_id() -> None:
    assert body_of(TRANSCODE)["extra_params"] == body_of(TRANSCODE)["extra_params"]


def test_a_failed_transcode_sends_procedure_failed_with_empty_extra_params() -> None:
    body = body_of(TRANSCODE_FAILED)

    assert (body["status"], body["extra_params"]) == ("FAILED", "")


def test_a_tencent_time_point_snapshot_sends_lower_case_vendor_field_id_and_offsets() -> None:
    body = body_of(SNAPSHOT_AT_OFFSETS)

    assert set(body) == {
        *("appid", "event", "task_id", "vendor", "field_id", "snapshot_pic_list", "timestamp", "nonce", "signature")
    }
    assert (body["event"], body["vendor"], body["field_id"]) == ("snapshot", "tencent", "abcwurywbhsfwi")
    assert json.loads(body["snapshot_pic_list"]) == [
        {"url": "http://abc.com/1.jpg", "offset": 0},
        {"url": "http://abc.com/2.jpg", "offset": 1000},
    ]


def test_an_interval_snapshot_has_no_offsets() -> None:
    assert json.loads(body_of(SNAPSHOT_SAMPLED)["snapshot_pic_list"]) == [{"url": "http://abc.com/s_0.jpg"}]


def test_a_huawei_snapshot_says_hw_and_lists_the_object_names() -> None:
    body = body_of(HUAWEI_SNAPSHOT)

    assert (body["vendor"], "field_id" in body) == ("hw", False)
    assert json.loads(body["snapshot_pic_list"]) == [{"url": "record/demo/0.jpg"}, {"url": "record/demo/10.jpg"}]


# --- when a callback is sent ---------------------------------------------------------------------


def test_the_callback_goes_out_when_the_timeline_ends_and_not_before(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE)
    started = clock.monotonic()
    query(book, clock, COMPOSE)

    run_for(clock, dispatcher, 9.9)
    assert receiver.calls == []
    run_for(clock, dispatcher, 0.2)

    assert receiver.times == [started + 10]
    assert receiver.calls[0][2]["Content-Type"] == "application/json"
    assert receiver.bodies[0]["timestamp"] == str(int(wall(clock) - 0.1))


def test_no_timeline_no_callback(clock: FakeClock) -> None:
    _, dispatcher, receiver = make(clock, COMPOSE)

    run_for(clock, dispatcher, 1000)

    assert receiver.calls == []


@pytest.mark.parametrize(
    "spec",
    [
        TaskSpec(task_id="stuck", vendor=Vendor.TENCENT, event="transcode", stays="PROCESSING"),
        TaskSpec(task_id="missing", vendor=Vendor.TENCENT, event="transcode", code=41003),
    ],
)
def test_a_task_that_never_ends_sends_no_callback(clock: FakeClock, spec: TaskSpec) -> None:
    book, dispatcher, receiver = make(clock, spec)
    query(book, clock, spec)

    run_for(clock, dispatcher, 1000)

    assert receiver.calls == []
    assert dispatcher.log.records() == []


def test_a_rescripted_task_sends_nothing_for_its_old_timeline(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE)
    query(book, clock, COMPOSE)
    clock.advance(5)

    book.add(COMPOSE)  # its timeline starts again at its next query, which never comes
    run_for(clock, dispatcher, 1000)

    assert receiver.calls == []


def test_a_reset_restarts_the_callback_with_the_timeline(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE)
    query(book, clock, COMPOSE)
    clock.advance(5)
    book.reset_timelines()
    restarted = clock.monotonic()
    query(book, clock, COMPOSE)

    run_for(clock, dispatcher, 1000)

    assert receiver.times == [restarted + 10]


# --- retries -------------------------------------------------------------------------------------


def test_a_failing_receiver_gets_5_retries_2_4_8_16_32_s_apart_then_the_callback_is_dropped(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE_FAILED, receiver=Receiver(clock, 500))
    ended = clock.monotonic()
    query(book, clock, COMPOSE_FAILED)

    run_for(clock, dispatcher, 10_000)

    assert [moment - ended for moment in receiver.times] == ZEGO_RETRY_OFFSETS
    records = dispatcher.log.records()
    assert [record.attempt for record in records] == [1, 2, 3, 4, 5, 6]
    assert [record.outcome for record in records] == ["retry"] * 5 + ["dropped"]
    assert [record.next_attempt_in for record in records] == [2, 4, 8, 16, 32, None]
    assert {record.http_status for record in records} == {500}
    assert [record.due - ended for record in records] == ZEGO_RETRY_OFFSETS
    assert dispatcher.pending == 0


def test_the_retry_schedule_follows_the_time_scale(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE_FAILED, receiver=Receiver(clock, 503), time_scale=0.5)
    ended = clock.monotonic()
    query(book, clock, COMPOSE_FAILED)

    run_for(clock, dispatcher, 10_000)

    assert [moment - ended for moment in receiver.times] == [offset * 0.5 for offset in ZEGO_RETRY_OFFSETS]


def test_every_retry_resends_the_same_body(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE_FAILED, receiver=Receiver(clock, 500, 500, 200))
    query(book, clock, COMPOSE_FAILED)

    run_for(clock, dispatcher, 10_000)

    assert len(receiver.bodies) == 3
    assert receiver.bodies[0] == receiver.bodies[1] == receiver.bodies[2]


def test_a_success_stops_the_retries(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE_FAILED, receiver=Receiver(clock, 500, 500, 200))
    ended = clock.monotonic()
    query(book, clock, COMPOSE_FAILED)

    run_for(clock, dispatcher, 10_000)

    assert [moment - ended for moment in receiver.times] == [0, 2, 6]
    assert [record.outcome for record in dispatcher.log.records()] == ["retry", "retry", "delivered"]


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_any_2xx_is_delivered(clock: FakeClock, status: int) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE_FAILED, receiver=Receiver(clock, status))
    query(book, clock, COMPOSE_FAILED)

    run_for(clock, dispatcher, 10_000)

    assert len(receiver.calls) == 1
    assert dispatcher.log.records()[0].outcome == "delivered"


@pytest.mark.parametrize("status", [199, 301, 302, 400, 401, 404, 429, 500])
def test_anything_else_is_retried(clock: FakeClock, status: int) -> None:
    book, dispatcher, _ = make(clock, COMPOSE_FAILED, receiver=Receiver(clock, status, 200))
    query(book, clock, COMPOSE_FAILED)

    run_for(clock, dispatcher, 10_000)

    assert [record.http_status for record in dispatcher.log.records()] == [status, 200]


def test_no_answer_is_retried_and_logged_as_an_error(clock: FakeClock) -> None:
    book, dispatcher, _ = make(clock, COMPOSE_FAILED, receiver=Receiver(clock, None, 200))
    query(book, clock, COMPOSE_FAILED)

    run_for(clock, dispatcher, 10_000)

    first, second = dispatcher.log.records()
    assert (first.http_status, first.error, first.outcome) == (None, "timeout", "retry")
    assert (second.http_status, second.outcome) == (200, "delivered")


def test_a_transport_that_raises_counts_as_no_answer(clock: FakeClock) -> None:
    def broken(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> DeliveryResult:
        raise RuntimeError("boom")

    book = TaskBook(Scenario(tasks=(COMPOSE_FAILED,)), monotonic=clock.monotonic)
    dispatcher = CallbackDispatcher(
        CallbackSettings(url=URL, secret=CALLBACK_SECRET, retry_delays=()),
        book,
        app_id=APP_ID,
        transport=broken,
        monotonic=clock.monotonic,
    )
    book.subscribe(dispatcher.task_started)
    query(book, clock, COMPOSE_FAILED)

    dispatcher.deliver_due()

    (record,) = dispatcher.log.records()
    assert (record.outcome, record.error) == ("dropped", "RuntimeError: boom")


def test_the_queue_is_bounded(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE, TRANSCODE, max_pending=1)
    query(book, clock, COMPOSE)
    query(book, clock, TRANSCODE)

    run_for(clock, dispatcher, 10_000)

    assert receiver.task_ids() == [COMPOSE.task_id]
    overflow = dispatcher.log.records(TRANSCODE.task_id)
    assert [(record.outcome, record.attempt) for record in overflow] == [("overflow", 0)]


# --- faults --------------------------------------------------------------------------------------


def test_a_lost_callback_is_never_sent_but_logged(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE, faults=CallbackFaultSettings(lost_rate=1.0))
    query(book, clock, COMPOSE)

    run_for(clock, dispatcher, 10_000)

    assert receiver.calls == []
    (record,) = dispatcher.log.records()
    assert (record.outcome, record.fault, record.attempt, record.http_status) == ("lost", "lost", 0, None)


def test_a_duplicated_callback_is_sent_twice_with_the_same_body(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE, faults=CallbackFaultSettings(duplicate_rate=1.0))
    ended = clock.monotonic() + 10
    query(book, clock, COMPOSE)

    run_for(clock, dispatcher, 10_000)

    assert receiver.times == [ended, ended + 1]
    assert receiver.bodies[0] == receiver.bodies[1]
    assert [(record.copy, record.fault) for record in dispatcher.log.records()] == [(1, "duplicate"), (2, "duplicate")]


def test_each_copy_of_a_duplicate_has_its_own_retries(clock: FakeClock) -> None:
    book, dispatcher, _ = make(
        clock, COMPOSE, receiver=Receiver(clock, 500, 200, 200), faults=CallbackFaultSettings(duplicate_rate=1.0)
    )
    query(book, clock, COMPOSE)

    run_for(clock, dispatcher, 10_000)

    records = dispatcher.log.records()
    assert sorted((record.copy, record.attempt, record.outcome) for record in records) == [
        (1, 1, "retry"),
        (1, 2, "delivered"),
        (2, 1, "delivered"),
    ]


def test_a_delayed_callback_is_sent_late(clock: FakeClock) -> None:
    faults = CallbackFaultSettings(delayed_rate=1.0, delay_seconds=45)
    book, dispatcher, receiver = make(clock, COMPOSE, faults=faults, time_scale=0.5)
    ended = clock.monotonic() + 10 * 0.5
    query(book, clock, COMPOSE)

    run_for(clock, dispatcher, 10_000)

    assert receiver.times == [ended + 45 * 0.5]
    assert dispatcher.log.records()[0].fault == "delayed"


def test_a_reordered_callback_is_overtaken_by_the_next_one(clock: FakeClock) -> None:
    earlier = TaskSpec.from_dict({**_task(COMPOSE, "earlier", seconds=10), "callback": "reordered"})
    later = TaskSpec.from_dict(_task(COMPOSE, "later", seconds=12))
    book, dispatcher, receiver = make(clock, earlier, later)
    query(book, clock, earlier)
    query(book, clock, later)
    started = clock.monotonic()

    run_for(clock, dispatcher, 10_000)

    assert receiver.task_ids() == ["later", "earlier"]
    assert receiver.times == [started + 12, started + 12]


def test_a_reordered_callback_with_nobody_to_overtake_it_goes_at_the_hold_limit(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(
        clock, COMPOSE, faults=CallbackFaultSettings(reordered_rate=1.0), reorder_hold_seconds=20
    )
    started = clock.monotonic()
    query(book, clock, COMPOSE)

    run_for(clock, dispatcher, 10_000)

    assert receiver.times == [started + 10 + 20]
    assert dispatcher.log.records()[0].fault == "reordered"


def test_a_bad_signature_is_rejected_every_time_and_dropped_after_5_retries(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(
        clock, COMPOSE, receiver=Receiver(clock, 401), faults=CallbackFaultSettings(bad_signature_rate=1.0)
    )
    query(book, clock, COMPOSE)

    run_for(clock, dispatcher, 10_000)

    assert len(receiver.bodies) == 6
    assert all(body["signature"] != signature_of(body) for body in receiver.bodies)
    assert [record.outcome for record in dispatcher.log.records()] == ["retry"] * 5 + ["dropped"]
    assert {record.fault for record in dispatcher.log.records()} == {"bad_signature"}


def test_fault_draws_are_reproducible_from_the_seed(clock: FakeClock) -> None:
    faults = CallbackFaultSettings(lost_rate=0.2, duplicate_rate=0.2, delayed_rate=0.2, bad_signature_rate=0.2)
    tasks = [TaskSpec.from_dict(_task(COMPOSE, f"t{index}", seconds=1 + index)) for index in range(40)]

    def fates(seed: int) -> list[tuple[str, str | None]]:
        book, dispatcher, _ = make(clock, *tasks, faults=faults, seed=seed)
        for task in tasks:
            query(book, clock, task)
        run_for(clock, dispatcher, 10_000)
        return [(record.task_id, record.fault) for record in dispatcher.log.records() if record.attempt <= 1]

    first = fates(7)
    assert first == fates(7)
    assert first != fates(8)
    assert {fault for _, fault in first} == {None, "lost", "duplicate", "delayed", "bad_signature"}


def test_faults_can_be_changed_at_run_time(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, COMPOSE)
    dispatcher.configure_faults(lost_rate=1.0)
    query(book, clock, COMPOSE)

    run_for(clock, dispatcher, 10_000)

    assert (receiver.calls, dispatcher.faults) == ([], CallbackFaultSettings(lost_rate=1.0))


@pytest.mark.parametrize(
    ("fate", "calls", "outcomes"),
    [
        ("send", 1, ["delivered"]),
        ("none", 0, []),
        ("lost", 0, ["lost"]),
        ("duplicate", 2, ["delivered", "delivered"]),
        ("delayed", 1, ["delivered"]),
    ],
)
def test_a_task_scripts_its_own_fate_whatever_the_rates_say(
    clock: FakeClock, fate: str, calls: int, outcomes: list[str]
) -> None:
    spec = TaskSpec.from_dict({**_task(COMPOSE, "scripted", seconds=10), "callback": fate})
    book, dispatcher, receiver = make(clock, spec, faults=CallbackFaultSettings(bad_signature_rate=1.0))
    query(book, clock, spec)

    run_for(clock, dispatcher, 10_000)

    assert len(receiver.calls) == calls
    assert [record.outcome for record in dispatcher.log.records()] == outcomes
    assert all(body["signature"] == signature_of(body) for body in receiver.bodies)


def test_a_scripted_delay_overrides_the_default(clock: FakeClock) -> None:
    spec = TaskSpec.from_dict(
        {**_task(COMPOSE, "late", seconds=10), "callback": {"fate": "delayed", "delay_seconds": 3}}
    )
    book, dispatcher, receiver = make(clock, spec)
    started = clock.monotonic()
    query(book, clock, spec)

    run_for(clock, dispatcher, 10_000)

    assert receiver.times == [started + 13]


# --- Huawei merges and the "created" clock -------------------------------------------------------


def test_a_huawei_merge_answers_no_task_and_its_query_starts_nothing(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, HUAWEI_MERGE)

    answer = book.answer(Vendor.HUAWEI, HUAWEI_MERGE.task_id, now=0, wall_now=wall(clock), vendor_request_id="r")
    run_for(clock, dispatcher, 10_000)

    assert answer.code == 0
    assert answer.block == {"TaskId": "289665201", "Status": "NO_TASK", "CreateTime": "", "EndTime": "", "FileName": []}
    assert receiver.calls == []


def test_a_huawei_merge_runs_from_its_creation_and_ends_in_a_compose_callback(clock: FakeClock) -> None:
    book, dispatcher, receiver = make(clock, HUAWEI_MERGE)
    created = clock.monotonic()

    book.start_created_timelines()
    run_for(clock, dispatcher, 10_000)

    assert receiver.times == [created + 20]
    assert receiver.bodies[0]["event"] == "compose"
    assert HUAWEI_MERGE.timeline_clock is TimelineClock.CREATED


def test_a_created_clock_task_added_later_starts_when_added(clock: FakeClock) -> None:
    spec = TaskSpec.from_dict({**_task(COMPOSE, "created", seconds=10), "clock": "created"})
    book, dispatcher, receiver = make(clock)
    book.start_created_timelines()
    clock.advance(100)
    added = clock.monotonic()

    book.add(spec)
    run_for(clock, dispatcher, 10_000)

    assert receiver.times == [added + 10]


def test_a_created_clock_task_answers_its_timeline_from_creation(clock: FakeClock) -> None:
    spec = TaskSpec.from_dict({**_task(COMPOSE, "created", seconds=10), "clock": "created"})
    book, _, _ = make(clock, spec)
    book.start_created_timelines()
    clock.advance(10)

    answer = book.answer(Vendor.TENCENT, "created", now=clock.monotonic(), wall_now=wall(clock), vendor_request_id="r")

    assert answer.block is not None
    assert answer.block["Status"] == "FINISH"


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ({"vendor": "Huawei", "event": "compose", "stays": "PROCESSING"}, "a Huawei merge needs a 'final' state"),
        ({"vendor": "Huawei", "event": "compose", "clock": "first_query"}, "its timeline runs from its creation"),
        ({"vendor": "Huawei", "event": "transcode"}, "Huawei tasks are snapshots"),
        ({"vendor": "Huawei", "event": "compose", "final": {"status": "SUCCEEDED", "FileId": "1"}}, "final.FileId"),
        ({"clock": "later"}, "clock must be one of ['first_query', 'created']"),
        ({"callback": "forgotten"}, "fate must be one of"),
        ({"callback": {"fate": "lost", "retries": 3}}, "unknown field(s) ['retries']"),
        ({"callback": {"delay_seconds": 3}}, "delay_seconds goes with fate 'delayed'"),
        ({"callback": {"fate": "delayed", "delay_seconds": -1}}, "non-negative number"),
        ({"event": "transcode", "callback": {"code": 70000}}, "belong to compose"),
        ({"final": None, "stays": "PROCESSING", "callback": "lost"}, "'callback' goes with 'final'"),
    ],
)
def test_invalid_callback_and_clock_fields_are_rejected(task: dict[str, Any], expected: str) -> None:
    data: dict[str, Any] = {
        "task_id": "t",
        "vendor": "Tencent",
        "event": "compose",
        "final": {"status": "SUCCEEDED" if task.get("vendor") == "Huawei" else "FINISH"},
        **task,
    }
    data = {name: value for name, value in data.items() if value is not None}
    if "stays" in data:
        data.pop("final", None)

    with pytest.raises(ScenarioError) as raised:
        TaskSpec.from_dict(data)

    assert expected in str(raised.value)


def test_a_huawei_merge_cannot_be_a_template() -> None:
    template = {**_task(HUAWEI_MERGE, "unused", seconds=1), "match": "2896.*"}
    del template["task_id"]

    with pytest.raises(ScenarioError, match="a Huawei merge cannot be a template"):
        Scenario.from_dict({"templates": [template]})


def test_the_callback_field_takes_a_fate_name_or_an_object() -> None:
    short = TaskSpec.from_dict({**_task(COMPOSE, "a", seconds=1), "callback": "bad_signature"})
    full = TaskSpec.from_dict(
        {**_task(COMPOSE, "b", seconds=1), "callback": {"fate": "delayed", "delay_seconds": 5, "code": 40000}}
    )

    assert short.callback == CallbackScript(fate=CallbackFate.BAD_SIGNATURE)
    assert full.callback == CallbackScript(fate=CallbackFate.DELAYED, code=40000, delay_seconds=5)


# --- configuration -------------------------------------------------------------------------------


def test_the_settings_never_show_the_secret() -> None:
    assert CALLBACK_SECRET not in repr(CallbackSettings(url=URL, secret=CALLBACK_SECRET))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"url": "ftp://example.test/cb"}, "http:// or https://"),
        ({"url": "http:///cb"}, "with a host"),
        ({"secret": ""}, "CallbackSecret"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"retry_delays": (2.0, -1.0)}, "retry_delays"),
        ({"max_pending": 0}, "max_pending"),
        ({"app_id": 2**32}, "uint32"),
    ],
)
def test_invalid_settings_are_refused(overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=r"(?i)callback") as raised:
        CallbackSettings(**{"url": URL, "secret": CALLBACK_SECRET, **overrides})

    assert expected in str(raised.value)


def test_fault_rates_together_are_at_most_1() -> None:
    with pytest.raises(ValueError, match="add up to at most 1"):
        CallbackFaultSettings(lost_rate=0.6, duplicate_rate=0.6)


def test_the_callback_secret_must_not_be_a_server_secret() -> None:
    with pytest.raises(ValueError, match="must not be a ServerSecret"):
        ZegoSimulator(apps={APP_ID: SERVER_SECRET}, callbacks=CallbackSettings(url=URL, secret=SERVER_SECRET))


def test_with_several_app_ids_the_callback_app_id_must_be_given() -> None:
    apps = {APP_ID: SERVER_SECRET, 67890: "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}

    with pytest.raises(ValueError, match="say which one"):
        ZegoSimulator(apps=apps, callbacks=CallbackSettings(url=URL, secret=CALLBACK_SECRET))
    assert ZegoSimulator(apps=apps, callbacks=CallbackSettings(url=URL, secret=CALLBACK_SECRET, app_id=67890))


def test_callbacks_are_off_by_default() -> None:
    simulator = ZegoSimulator(apps={APP_ID: SERVER_SECRET})

    assert simulator.callbacks is None
    with pytest.raises(RuntimeError, match="callbacks are off"):
        _ = simulator.callback_log


def test_the_command_line_configures_callbacks() -> None:
    args = build_parser().parse_args(
        [
            *("--app-id", str(APP_ID), "--secret", SERVER_SECRET),
            *("--callback-url", URL, "--callback-secret", CALLBACK_SECRET, "--callback-timeout-seconds", "1.5"),
            *("--callback-lost-rate", "0.1", "--callback-reordered-rate", "0.2", "--callback-delay-seconds", "9"),
        ]
    )

    simulator = simulator_from_args(args, environ={})

    assert simulator.callbacks is not None
    settings = simulator.callbacks.settings
    assert (settings.url, settings.secret, settings.timeout_seconds) == (URL, CALLBACK_SECRET, 1.5)
    assert settings.faults == CallbackFaultSettings(lost_rate=0.1, reordered_rate=0.2, delay_seconds=9)


def test_the_command_line_takes_the_callback_secret_from_the_environment() -> None:
    args = build_parser().parse_args(["--app-id", "1", "--secret", "s", "--callback-url", URL])

    settings = callbacks_from_args(args, {"ZEGO_CALLBACK_SECRET": CALLBACK_SECRET})

    assert settings is not None
    assert settings.secret == CALLBACK_SECRET


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--callback-url", URL], "needs the CallbackSecret"),
        (["--callback-secret", CALLBACK_SECRET], "need --callback-url"),
    ],
)
def test_incomplete_callback_flags_are_refused(flags: list[str], expected: str) -> None:
    args = build_parser().parse_args(["--app-id", "1", "--secret", "s", *flags])

    with pytest.raises(ValueError, match=expected):
        callbacks_from_args(args, {})


def test_without_a_callback_url_callbacks_are_off() -> None:
    args = build_parser().parse_args(["--app-id", "1", "--secret", "s"])

    assert callbacks_from_args(args, {"ZEGO_CALLBACK_SECRET": CALLBACK_SECRET}) is None


def _task(spec: TaskSpec, task_id: str, *, seconds: float) -> dict[str, Any]:
    """``spec`` as a scenario task object with another TaskId and a one-step timeline of ``seconds``."""
    assert spec.final is not None
    return {
        "task_id": task_id,
        "vendor": spec.vendor.value,
        "event": spec.event,
        "timeline": [{"status": "PROCESSING", "seconds": seconds}],
        "final": {"status": spec.final.status, **spec.final.fields},
    }
