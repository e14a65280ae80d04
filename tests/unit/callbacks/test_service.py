"""The receiver (``callbacks/service.py``) over moto: one test per row of its outcome table, and what a
callback does to the poll chain.

Every callback is signed by the test (``tests.support.zego_callbacks``) with a timestamp from the same
fake clock the receiver reads. A rejected callback is shown to change nothing in the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from tests.support.poller import success
from tests.support.zego_callbacks import (
    APP_ID,
    HUAWEI_MERGE,
    REPLAY_URL,
    SNAPSHOT_TASK,
    TENCENT_MERGE,
    form_body,
    huawei_compose,
    json_body,
    signed,
    tencent_compose,
    tencent_snapshot,
)
from tests.unit.callbacks.conftest import Scene
from zego_media_tasks.callbacks.service import CallbackResult, CallbackService, Outcome
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.poller.service import Action
from zego_media_tasks.store.task_store import TaskStore, WriteResult
from zego_media_tasks.zego.callbacks import DEFAULT_MAX_AGE_SECONDS, DEFAULT_MAX_BODY_BYTES, RejectionReason
from zego_media_tasks.zego.client import SecretUnavailableError

TENCENT = Vendor.TENCENT
HUAWEI = Vendor.HUAWEI


def stored(scene: Scene, task_id: str = TENCENT_MERGE, vendor: Vendor = TENCENT) -> TaskRecord:
    record = scene.record(task_id, vendor)
    assert record is not None
    return record


def rejected(result: CallbackResult) -> RejectionReason:
    assert result.outcome is Outcome.REJECTED
    assert result.rejection is not None
    return result.rejection.reason


# --- 200: the callback ended a task, or created its record -------------------------------------------


def test_a_callback_ends_a_registered_task_one_generation_on(scene: Scene) -> None:
    # Given a merge registered ten minutes ago, still PENDING at generation 0
    registered = scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    scene.clock.advance(600)

    # When its completion callback arrives
    result = scene.callback(tencent_compose())

    # Then it is applied: the record is SUCCEEDED one generation on, with what the callback brought
    assert (result.outcome, result.status_code) == (Outcome.APPLIED, 200)
    assert (result.task_id, result.vendor, result.status) == (TENCENT_MERGE, TENCENT, TaskStatus.SUCCEEDED)
    assert result.time_to_terminal_seconds == 600
    record = stored(scene)
    assert (record.status, record.generation, record.completed_by) == (
        TaskStatus.SUCCEEDED,
        registered.generation + 1,
        ChangeSource.CALLBACK,
    )
    assert (record.replay_url, record.file_id, record.vendor_status) == (REPLAY_URL, "5285890813218549789", "SUCCESS")
    assert record.completed_at == to_iso(scene.clock.now())
    assert record.first_seen_at == registered.first_seen_at
    # And the stored raw body is the callback without its signature and nonce
    assert record.raw is not None
    assert "signature" not in record.raw
    assert "nonce" not in record.raw
    assert record.raw["task_id"] == TENCENT_MERGE


def test_a_failed_merge_callback_ends_the_task_failed_with_its_code(scene: Scene) -> None:
    scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    result = scene.callback(tencent_compose(code="60000"))
    assert (result.outcome, result.status_code, result.status) == (Outcome.APPLIED, 200, TaskStatus.FAILED)
    record = stored(scene)
    assert (record.status, record.result_code, record.message) == (TaskStatus.FAILED, "60000", "bad source file")


def test_a_callback_for_a_task_nobody_registered_creates_its_record_already_terminal(scene: Scene) -> None:
    # Given no record of the snapshot task
    assert scene.store.for_task(SNAPSHOT_TASK) == []

    # When its callback arrives
    result = scene.callback(tencent_snapshot())

    # Then the record is created, terminal, at generation 1, with the pictures
    assert (result.outcome, result.status_code) == (Outcome.CREATED, 200)
    record = stored(scene, SNAPSHOT_TASK)
    assert (record.status, record.generation, record.kind) == (TaskStatus.SUCCEEDED, 1, TaskKind.SNAPSHOT)
    assert record.thumbnail_urls == ("https://example.com/1.jpg", "https://example.com/2.jpg")
    assert record.first_seen_at == to_iso(scene.clock.now())
    # And nothing was queued: there is no chain for a task that has already ended
    assert scene.new_messages() == []


def test_a_huawei_snapshot_callback_keeps_its_object_names_where_polling_keeps_them(scene: Scene) -> None:
    # Huawei's DescribeMediaTask answers object names (FileName), normalized to fileNames; the callback too
    scene.register(SNAPSHOT_TASK, HUAWEI, TaskKind.SNAPSHOT)
    result = scene.callback(tencent_snapshot(vendor="hw"))
    assert (result.outcome, result.vendor) == (Outcome.APPLIED, HUAWEI)
    record = stored(scene, SNAPSHOT_TASK, HUAWEI)
    assert (record.file_names, record.thumbnail_urls) == (
        ("https://example.com/1.jpg", "https://example.com/2.jpg"),
        (),
    )


def test_a_snapshot_callback_without_pictures_proves_nothing_and_leaves_the_task_to_polling(scene: Scene) -> None:
    # ZEGO documents no failure field for the snapshot callback: an empty list is neither success nor failure
    registered = scene.register(SNAPSHOT_TASK, TENCENT, TaskKind.SNAPSHOT)
    result = scene.callback(tencent_snapshot(snapshot_pic_list="[]"))
    assert (result.outcome, result.status_code) == (Outcome.INCONCLUSIVE, 200)
    assert stored(scene, SNAPSHOT_TASK) == registered
    assert scene.callback(tencent_snapshot(task_id="nobody-registered", snapshot_pic_list="[]")).status_code == 200
    assert scene.store.for_task("nobody-registered") == []


# --- 200: the task had ended already ------------------------------------------------------------------


def test_a_duplicate_callback_changes_nothing(scene: Scene) -> None:
    scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    assert scene.callback(tencent_compose()).outcome is Outcome.APPLIED
    after_first = stored(scene)
    scene.clock.advance(2)  # ZEGO's first retry

    again = scene.callback(tencent_compose())

    assert (again.outcome, again.status_code, again.status) == (Outcome.ALREADY_TERMINAL, 200, TaskStatus.SUCCEEDED)
    assert again.transition is None
    assert stored(scene) == after_first


def test_a_late_contradicting_callback_after_the_end_changes_nothing(scene: Scene) -> None:
    # Given a task a poll saw SUCCEEDED
    scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    scene.describer.script(TENCENT_MERGE, TENCENT, success(TENCENT_MERGE, TENCENT, "FINISH", event="compose"))
    [first] = scene.new_messages()
    assert scene.poll(first).action is Action.POLLED
    ended = stored(scene)
    assert (ended.status, ended.completed_by) == (TaskStatus.SUCCEEDED, ChangeSource.POLL)

    # When a callback saying it failed arrives later
    scene.clock.advance(120)
    result = scene.callback(tencent_compose(code="70000"))

    # Then it is acknowledged (a 2xx stops ZEGO's retries) and the record keeps the first terminal state
    assert (result.outcome, result.status_code, result.status) == (Outcome.ALREADY_TERMINAL, 200, TaskStatus.SUCCEEDED)
    assert stored(scene) == ended


# --- 401, 403, 400, 413: refused, nothing changes -------------------------------------------------------


def test_a_bad_signature_is_401_and_changes_nothing(scene: Scene) -> None:
    scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    before = stored(scene)
    result = scene.callback(tencent_compose(), secret="not-the-callback-secret")
    assert result.status_code == 401
    assert rejected(result) is RejectionReason.BAD_SIGNATURE
    assert stored(scene) == before


def test_a_missing_signature_is_401(scene: Scene) -> None:
    fields = signed(tencent_compose(), at=scene.clock.now())
    del fields["signature"]
    result = scene.receiver.handle(json_body(fields).encode(), "application/json")
    assert result.status_code == 401
    assert rejected(result) is RejectionReason.MISSING_SIGNATURE
    assert scene.store.for_task(TENCENT_MERGE) == []


def test_a_stale_timestamp_is_401_even_when_correctly_signed(scene: Scene) -> None:
    # Given a genuine callback signed more than the freshness window ago (a replay, or a clock far off)
    fields = signed(tencent_compose(), at=scene.clock.now() - timedelta(seconds=DEFAULT_MAX_AGE_SECONDS + 1))
    result = scene.receiver.handle(json_body(fields).encode(), "application/json")
    assert result.status_code == 401
    assert rejected(result) is RejectionReason.STALE_TIMESTAMP
    assert scene.store.for_task(TENCENT_MERGE) == []


def test_a_timestamp_from_the_future_is_stale_too(scene: Scene) -> None:
    fields = signed(tencent_compose(), at=scene.clock.now() + timedelta(seconds=DEFAULT_MAX_AGE_SECONDS + 1))
    assert rejected(scene.receiver.handle(json_body(fields).encode(), None)) is RejectionReason.STALE_TIMESTAMP


def test_a_timestamp_inside_the_window_is_fresh(scene: Scene) -> None:
    fields = signed(tencent_compose(), at=scene.clock.now() - timedelta(seconds=DEFAULT_MAX_AGE_SECONDS))
    assert scene.receiver.handle(json_body(fields).encode(), None).status_code == 200


def test_a_callback_for_another_app_id_is_403(scene: Scene) -> None:
    result = scene.callback(tencent_compose(), app_id=APP_ID + 1)
    assert result.status_code == 403
    assert rejected(result) is RejectionReason.WRONG_APP_ID
    assert scene.store.for_task(TENCENT_MERGE) == []


def test_an_unparseable_body_is_400(scene: Scene) -> None:
    result = scene.receiver.handle(b'{"event": "compose", ', "application/json")
    assert result.status_code == 400
    assert rejected(result) is RejectionReason.NOT_PARSEABLE


def test_an_unknown_event_is_400(scene: Scene) -> None:
    result = scene.callback({**tencent_compose(), "event": "record"})
    assert result.status_code == 400
    assert rejected(result) is RejectionReason.UNKNOWN_EVENT
    assert scene.store.for_task(TENCENT_MERGE) == []


def test_a_callback_without_task_id_is_400(scene: Scene) -> None:
    fields = tencent_compose()
    del fields["task_id"]
    result = scene.callback(fields)
    assert result.status_code == 400
    assert rejected(result) is RejectionReason.MISSING_TASK_ID


def test_a_body_over_the_size_cap_is_413(scene: Scene) -> None:
    fields = tencent_compose(padding="x" * DEFAULT_MAX_BODY_BYTES)
    result = scene.callback(fields)
    assert result.status_code == 413
    assert rejected(result) is RejectionReason.OVERSIZE
    assert scene.store.for_task(TENCENT_MERGE) == []


# --- 503: our failure, ZEGO retries -------------------------------------------------------------------


def test_the_table_unavailable_is_503(scene: Scene) -> None:
    # Given a receiver whose table does not exist (deleted, wrong name, no permission alike)
    receiver = replace(scene.receiver, store=TaskStore("no-such-table"))
    body = json_body(signed(tencent_compose(), at=scene.clock.now())).encode()

    result = receiver.handle(body, "application/json")

    assert (result.outcome, result.status_code) == (Outcome.UNAVAILABLE, 503)
    assert (result.task_id, result.event) == (TENCENT_MERGE, "compose")
    assert "ResourceNotFoundException" in result.detail


def test_the_callback_secret_unavailable_is_503(scene: Scene) -> None:
    def unavailable() -> str:
        raise SecretUnavailableError("GetSecretValue failed: ThrottlingException", permanent=False)

    receiver = replace(scene.receiver, secret=unavailable)
    result = receiver.handle(json_body(signed(tencent_compose(), at=scene.clock.now())).encode(), None)
    assert (result.outcome, result.status_code) == (Outcome.UNAVAILABLE, 503)


@dataclass
class RacingStore:
    """The tasks table, where a concurrent writer lands its write between the receiver's read and its
    conditional write (once)."""

    store: TaskStore
    race: Callable[[], object] | None

    def for_task(self, task_id: str, *, consistent: bool = False) -> list[TaskRecord]:
        return self.store.for_task(task_id, consistent=consistent)

    def get(self, task_id: str, vendor: Vendor, *, consistent: bool = True) -> TaskRecord | None:
        return self.store.get(task_id, vendor, consistent=consistent)

    def put(self, record: TaskRecord, expected_generation: int | None) -> WriteResult:
        race, self.race = self.race, None
        if race is not None:
            race()
        return self.store.put(record, expected_generation)


def racing_receiver(scene: Scene, race: Callable[[], object]) -> CallbackService:
    """The scene's receiver, over a table where ``race`` writes once between its read and its write."""
    return replace(scene.receiver, store=RacingStore(scene.store, race))


def test_losing_the_write_to_a_poll_that_leaves_the_task_open_is_503_and_the_retry_applies_it(scene: Scene) -> None:
    # Given a registered merge whose first poll (still PROCESSING) lands while the callback is being applied
    scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    scene.describer.script(TENCENT_MERGE, TENCENT, success(TENCENT_MERGE, TENCENT, "PROCESSING", event="compose"))
    [first] = scene.new_messages()
    receiver = racing_receiver(scene, lambda: scene.poll(first))
    body = json_body(signed(tencent_compose(), at=scene.clock.now())).encode()

    # When the callback is handled
    result = receiver.handle(body, "application/json")

    # Then it lost the fenced write and the task is open: 503, so ZEGO retries; the poll's write stands
    assert (result.outcome, result.status_code) == (Outcome.CONFLICT, 503)
    polled = stored(scene)
    assert (polled.status, polled.generation) == (TaskStatus.PROCESSING, 1)
    # And ZEGO's retry, 2 s later with the same body, applies it on top of the poll's generation
    scene.clock.advance(2)
    retried = receiver.handle(body, "application/json")
    assert (retried.outcome, retried.status_code) == (Outcome.APPLIED, 200)
    ended = stored(scene)
    assert (ended.status, ended.generation, ended.completed_by) == (TaskStatus.SUCCEEDED, 2, ChangeSource.CALLBACK)


def test_losing_the_write_to_a_terminal_poll_is_200(scene: Scene) -> None:
    # Given a registered merge whose first poll sees it finished while the callback is being applied
    scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    scene.describer.script(TENCENT_MERGE, TENCENT, success(TENCENT_MERGE, TENCENT, "FINISH", event="compose"))
    [first] = scene.new_messages()
    receiver = racing_receiver(scene, lambda: scene.poll(first))

    result = receiver.handle(json_body(signed(tencent_compose(), at=scene.clock.now())).encode(), None)

    # Then the task has ended, which is all ZEGO needs to know; the poll's terminal write stands
    assert (result.outcome, result.status_code, result.status) == (Outcome.ALREADY_TERMINAL, 200, TaskStatus.SUCCEEDED)
    assert stored(scene).completed_by is ChangeSource.POLL


def test_two_copies_of_one_callback_at_once_write_once(scene: Scene) -> None:
    # Given a registered merge and a copy of its callback that lands while the first is being applied
    scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    body = json_body(signed(tencent_compose(), at=scene.clock.now())).encode()
    twin: list[CallbackResult] = []
    receiver = racing_receiver(scene, lambda: twin.append(scene.receiver.handle(body, "application/json")))

    result = receiver.handle(body, "application/json")

    assert [copy.outcome for copy in twin] == [Outcome.APPLIED]
    assert (result.outcome, result.status_code) == (Outcome.ALREADY_TERMINAL, 200)
    assert stored(scene).generation == 1


# --- the poll chain after a callback ---------------------------------------------------------------------


def test_a_callback_ending_a_registered_task_stops_its_queued_poll_without_calling_zego(scene: Scene) -> None:
    # Given a registered merge, polled once (PROCESSING), its next poll queued at generation 1
    scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    scene.describer.script(TENCENT_MERGE, TENCENT, success(TENCENT_MERGE, TENCENT, "PROCESSING", event="compose"))
    [first] = scene.new_messages()
    assert scene.poll(first).action is Action.POLLED
    [queued] = scene.new_messages()
    assert queued.body["Generation"] == 1
    calls_before = list(scene.describer.calls)

    # When the completion callback arrives before that poll is due
    assert scene.callback(tencent_compose()).outcome is Outcome.APPLIED

    # Then the queued message, delivered when due, finds the task ended and stops: no ZEGO call, no message
    result = scene.poll(queued)
    assert result.action is Action.SKIPPED_TERMINAL
    assert scene.describer.calls == calls_before
    assert scene.new_messages() == []
    assert stored(scene).completed_by is ChangeSource.CALLBACK


def test_a_callback_before_the_first_poll_stops_the_registration_message(scene: Scene) -> None:
    scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    [registration] = scene.new_messages()
    assert scene.callback(tencent_compose()).outcome is Outcome.APPLIED
    assert scene.poll(registration).action is Action.SKIPPED_TERMINAL
    assert scene.describer.calls == []
    assert scene.new_messages() == []


# --- which vendor a merge callback is about ----------------------------------------------------------------


def test_a_huawei_merge_callback_ends_the_registered_huawei_task_that_is_never_polled(scene: Scene) -> None:
    # Given a registered Huawei merge: DescribeMediaTask cannot describe it, so its chain only waits
    scene.register(HUAWEI_MERGE, HUAWEI, TaskKind.MERGE)
    [registration] = scene.new_messages()
    assert scene.poll(registration).action is Action.POLLED
    [waiting] = scene.new_messages()
    assert waiting.delay_seconds == 900
    scene.clock.advance(300)

    # When ZEGO's compose callback (no vendor, no file id, no code) arrives
    result = scene.callback(huawei_compose())

    # Then it goes to the Huawei record, which ends SUCCEEDED with the replay URL
    assert (result.outcome, result.vendor) == (Outcome.APPLIED, HUAWEI)
    record = stored(scene, HUAWEI_MERGE, HUAWEI)
    assert (record.status, record.replay_url, record.completed_by) == (
        TaskStatus.SUCCEEDED,
        REPLAY_URL,
        ChangeSource.CALLBACK,
    )
    assert scene.record(HUAWEI_MERGE, TENCENT) is None
    # And the waiting message stops at its next hop; ZEGO was never called for this task
    assert scene.poll(waiting).action is Action.SKIPPED_TERMINAL
    assert scene.describer.calls == []


def test_a_merge_callback_goes_to_the_registered_record_whatever_its_fields_suggest(scene: Scene) -> None:
    # Given only a Huawei record for the task, and a compose callback carrying a (Tencent-looking) code
    scene.register(HUAWEI_MERGE, HUAWEI, TaskKind.MERGE)
    fields = {**huawei_compose(), "code": "0"}

    result = scene.callback(fields)

    # Then the record decides, not the fields: the Huawei task ended, no Tencent record appeared
    assert (result.outcome, result.vendor) == (Outcome.APPLIED, HUAWEI)
    assert stored(scene, HUAWEI_MERGE, HUAWEI).status is TaskStatus.SUCCEEDED
    assert scene.record(HUAWEI_MERGE, TENCENT) is None


def test_an_unregistered_merge_without_file_id_or_code_is_taken_for_a_huawei_one(scene: Scene) -> None:
    result = scene.callback(huawei_compose())
    assert (result.outcome, result.vendor) == (Outcome.CREATED, HUAWEI)
    assert stored(scene, HUAWEI_MERGE, HUAWEI).kind is TaskKind.MERGE


def test_a_form_encoded_callback_is_applied_like_a_json_one(scene: Scene) -> None:
    scene.register(TENCENT_MERGE, TENCENT, TaskKind.MERGE)
    body = form_body(signed(tencent_compose(), at=scene.clock.now())).encode()
    result = scene.receiver.handle(body, "application/x-www-form-urlencoded")
    assert (result.outcome, result.status_code) == (Outcome.APPLIED, 200)
    raw = stored(scene).raw
    assert raw is not None
    assert raw["code"] == "0"
