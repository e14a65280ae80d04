"""PollerService failure paths, against moto adapters with one of them made to fail."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.support.poller import body, failure, success
from tests.unit.poller.conftest import Poller
from zego_media_tasks.domain.outcome import OutcomeKind
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.poller.service import Action, ConfigurationFailure
from zego_media_tasks.queue.poll_queue import QueueSendError
from zego_media_tasks.store.task_store import StoreError, WriteResult

TASK = "task-7"
TENCENT = Vendor.TENCENT


def test_a_failed_send_fails_the_message_before_anything_is_written(
    poller: Poller, monkeypatch: pytest.MonkeyPatch
) -> None:
    poller.describer.script(TASK, TENCENT, success(TASK, TENCENT, "PROCESSING"))

    def broken(*_args: object, **_kwargs: object) -> str:
        raise QueueSendError("SendMessage", "EndpointConnectionError")

    monkeypatch.setattr(poller.service.queue, "send", broken)
    with pytest.raises(QueueSendError):
        poller.handle(body(TASK, TENCENT))
    # Nothing written: the redelivered message polls again from the same generation
    assert poller.record(TASK, TENCENT) is None


def test_a_configuration_error_is_raised_even_when_recording_it_fails(
    poller: Poller, monkeypatch: pytest.MonkeyPatch
) -> None:
    poller.describer.script(TASK, TENCENT, failure(OutcomeKind.CONFIGURATION, "3", "permission not enabled"))

    def broken(*_args: object, **_kwargs: object) -> WriteResult:
        raise StoreError("PutItem", "InternalServerError")

    monkeypatch.setattr(poller.table, "put", broken)
    with pytest.raises(ConfigurationFailure) as caught:
        poller.handle(body(TASK, TENCENT))
    assert (caught.value.code, caught.value.recorded) == ("3", False)
    assert "could not record" in caught.value.warnings[0]


def test_a_dead_letter_failure_is_retried_and_the_retry_does_not_write_again(
    poller: Poller, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = '{"TaskId": "task-7", "Vendor": "Tencent", "Generation": true}'
    real_send = poller.service.dead_letters.send

    def broken(*_args: object, **_kwargs: object) -> str:
        raise QueueSendError("SendMessage to DLQ", "AccessDenied")

    monkeypatch.setattr(poller.service.dead_letters, "send", broken)
    with pytest.raises(QueueSendError):
        poller.handle(raw)
    rejected = poller.record(TASK, TENCENT)
    assert rejected is not None
    assert rejected.status is TaskStatus.REJECTED

    monkeypatch.setattr(poller.service.dead_letters, "send", real_send)
    poller.clock.advance(60)
    result = poller.handle(raw)
    assert result.action is Action.DEAD_LETTERED
    assert result.decision is None  # the terminal record was left alone
    assert poller.record(TASK, TENCENT) == rejected
    assert [m.attributes["ErrorReason"] for m in poller.dead_letters()] == ["INVALID_FIELD"]


def test_a_record_that_keeps_moving_is_not_forced_to_rejected(poller: Poller, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a live record whose generation moves between every read and write (a very busy chain)
    live = TaskRecord(
        task_id=TASK,
        vendor=TENCENT,
        status=TaskStatus.PROCESSING,
        generation=1,
        first_seen_at="2026-11-23T12:00:00.000Z",
        deadline_at="2026-11-24T12:00:00.000Z",
        status_changed_at="2026-11-23T12:00:00.000Z",
    )
    poller.store.put(live, expected_generation=None)
    store = poller.table
    real_get = store.get

    def moving_get(task_id: str, vendor: Vendor, *, consistent: bool = True) -> TaskRecord | None:
        current = real_get(task_id, vendor, consistent=consistent)
        assert current is not None
        poller.store.put(replace(current, generation=current.generation + 1), expected_generation=current.generation)
        return current

    monkeypatch.setattr(store, "get", moving_get)
    result = poller.handle('{"TaskId": "task-7", "Vendor": "Tencent", "Attempt": "x"}')
    assert result.action is Action.DEAD_LETTERED
    assert result.warnings == ("the task record kept moving; it was not marked REJECTED",)
    current = poller.record(TASK, TENCENT)
    assert current is not None
    assert current.status is TaskStatus.PROCESSING
    assert len(poller.dead_letters()) == 1
