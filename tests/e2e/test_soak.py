"""The chaos soak: its small variant end to end, and its checks on hand-made logs.

``make soak`` runs 1,000 tasks (about five minutes); the 60-task variant here runs the same chaos through
the same stack in well under two minutes. The checks are also fed logs with one defect each, so that a
soak that passes is known to be able to fail.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from soak.analysis import (
    CALLBACKS_CRITERION,
    EVENTS_CRITERION,
    ExpectedTask,
    callbacks_settled,
    check_callbacks,
    check_chains,
    check_chaos,
    check_dead_letters,
    check_events,
    check_outcomes,
    check_write_log,
    live_chain_episodes,
)
from soak.config import SoakConfig
from soak.instruments import CallbackHandled, DeliveredEvent, FencedWrite, Handled, Sent, StreamWrite
from soak.report import console_summary
from soak.runner import plan_for, run_soak
from soak.scenario import DEADLINE_KINDS, FAULT_FATES, build_plan

from devstack.zego_simulator import CallbackRecord
from zego_media_tasks.domain.state_change import event_id

TASK = ("task-1", "Tencent")


@pytest.mark.e2e
# Powertools warns when an invocation publishes no metric (e.g. a batch of stale copies only); harmless here.
@pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
def test_the_quick_soak_meets_every_criterion(tmp_path: Path) -> None:
    # Given the 60-task soak with every fault, duplicates and crashes (seed 7 draws each kind at least once)
    config = SoakConfig.quick()

    # When it runs through the whole local stack
    result = run_soak(config, out_dir=tmp_path, progress=lambda _line: None)

    # Then every criterion passes, and the chaos really happened, callback faults included
    assert result.passed, console_summary(result)
    criteria = {c.name: c.details for c in result.criteria}
    observed = criteria["the chaos was really applied"]["observed"]
    assert {f"callback_{fate.value}" for fate in FAULT_FATES} <= set(observed), observed
    assert all(values["count"] > 0 for values in observed.values()), observed
    # and the receiver met each kind of callback: applied, too late, forged
    outcomes = criteria[CALLBACKS_CRITERION]["receiver_outcomes"]
    assert all(outcomes.get(name, 0) > 0 for name in ("APPLIED", "ALREADY_TERMINAL", "REJECTED")), outcomes
    assert criteria[CALLBACKS_CRITERION]["ended_by"].get("CALLBACK", 0) > 0
    # and every task's changes were published: each task has a record, so one change at least
    assert criteria[EVENTS_CRITERION]["distinct_event_ids"] >= config.tasks


# -- the checks themselves, on hand-made logs -----------------------------------------------------------


def _write(sequence: int, event: str, old: tuple[int, str] | None, new: tuple[int, str] | None) -> StreamWrite:
    return StreamWrite(
        sequence=sequence,
        event=event,
        task_id=TASK[0],
        vendor=TASK[1],
        old_generation=old[0] if old else None,
        old_status=old[1] if old else None,
        new_generation=new[0] if new else None,
        new_status=new[1] if new else None,
    )


GOOD_LOG = [
    _write(1, "INSERT", None, (0, "PENDING")),
    _write(2, "MODIFY", (0, "PENDING"), (1, "PROCESSING")),
    _write(3, "MODIFY", (1, "PROCESSING"), (2, "SUCCEEDED")),
]


def test_a_clean_write_log_passes() -> None:
    assert check_write_log(GOOD_LOG, {TASK: "SUCCEEDED"}).passed


@pytest.mark.parametrize(
    "defect",
    [
        _write(4, "MODIFY", (2, "SUCCEEDED"), (3, "FAILED")),  # a terminal record changed
        _write(4, "REMOVE", (2, "SUCCEEDED"), None),  # deleted
    ],
)
def test_a_write_after_terminal_fails(defect: StreamWrite) -> None:
    assert not check_write_log([*GOOD_LOG, defect], {TASK: "SUCCEEDED"}).passed


def test_a_generation_going_backwards_fails() -> None:
    log = [GOOD_LOG[0], GOOD_LOG[1], _write(3, "MODIFY", (1, "PROCESSING"), (1, "WAITING"))]
    assert not check_write_log(log, {TASK: "WAITING"}).passed


def test_a_lost_write_between_two_logged_ones_fails() -> None:
    # The old image of the last write is not what the log showed last: something changed it unlogged.
    log = [GOOD_LOG[0], _write(2, "MODIFY", (3, "PROCESSING"), (4, "PROCESSING"))]
    assert not check_write_log(log, {TASK: "PROCESSING"}).passed


def test_the_api_disagreeing_with_the_table_fails() -> None:
    assert not check_write_log(GOOD_LOG, {TASK: "FAILED"}).passed


def test_a_task_in_the_wrong_terminal_state_fails() -> None:
    tasks = [ExpectedTask(TASK, "tencent-compose-finish", "SUCCEEDED")]
    assert check_outcomes(tasks, {TASK: "SUCCEEDED"}).passed
    assert not check_outcomes(tasks, {TASK: "TIMED_OUT"}).passed
    assert not check_outcomes(tasks, {}).passed


def _sent(at: float, message_id: str, generation: int) -> Sent:
    return Sent(at, message_id, TASK[0], TASK[1], generation, 1, "poller")


def _handled(ended: float, message_id: str, generation: int, outcome: str) -> Handled:
    return Handled(ended - 0.1, ended, message_id, TASK[0], TASK[1], generation, outcome, outcome == "POLLED")


def _fenced(at: float, generation: int, status: str = "PROCESSING") -> FencedWrite:
    return FencedWrite(at, TASK[0], TASK[1], generation - 1, generation, status, "WRITTEN")


def test_a_duplicate_absorbed_by_the_fence_is_one_closed_episode() -> None:
    # Two copies of generation 1; the first advances the record, the second is then stale.
    sent = [_sent(0.0, "a", 1), _sent(0.1, "a-copy", 1), _sent(2.0, "b", 2)]
    handled = [_handled(2.1, "a", 1, "POLLED"), _handled(3.0, "a-copy", 1, "SKIPPED_STALE")]
    writes = [_fenced(0.05, 1), _fenced(2.05, 2)]

    episodes, peaks = live_chain_episodes(sent, handled, writes)

    assert [(e.start, e.end, e.peak) for e in episodes] == [(0.1, 2.05, 2)]
    assert peaks[TASK] == 2
    assert check_chains(sent, handled, writes, GOOD_LOG, []).passed


def test_two_chains_that_never_collapse_fail() -> None:
    # Both copies keep being admitted (as if there were no fence): the episode never ends.
    sent = [_sent(0.0, "a", 1), _sent(0.1, "a-copy", 1)]
    writes = [_fenced(0.05, 1)]
    assert not check_chains(sent, [], writes, GOOD_LOG, []).passed


def test_a_generation_written_twice_fails() -> None:
    log = [*GOOD_LOG[:2], _write(3, "MODIFY", (1, "PROCESSING"), (1, "PROCESSING"))]
    assert not check_chains([], [], [], log, []).passed


def test_a_message_left_on_the_queue_fails() -> None:
    assert not check_chains([], [], [], GOOD_LOG, ["<in flight>"]).passed


def test_the_watchdogs_own_write_of_a_watch_time_is_no_regression_and_no_second_write_of_a_generation() -> None:
    moved = replace(_write(3, "MODIFY", (1, "PROCESSING"), (1, "PROCESSING")), watch_only=True)
    log = [*GOOD_LOG[:2], moved, _write(4, "MODIFY", (1, "PROCESSING"), (2, "SUCCEEDED"))]
    assert check_write_log(log, {TASK: "SUCCEEDED"}).passed
    assert check_chains([], [], [], log, []).passed
    # the same write changing more than the watch time is a second write of generation 1
    assert not check_chains([], [], [], [*log[:2], replace(moved, watch_only=False), log[3]], []).passed


def test_a_message_deleted_before_delivery_is_no_live_chain_once_deleted() -> None:
    # Generation 1's message is deleted at 1.0; the watchdog revives generation 1 at 5.0, which polls at 6.0.
    sent = [_sent(0.0, "a", 1), replace(_sent(5.0, "revived", 1), origin="watchdog"), _sent(6.0, "b", 2)]
    handled = [_handled(6.0, "revived", 1, "POLLED"), _handled(7.0, "b", 2, "POLLED")]
    writes = [_fenced(0.05, 1), _fenced(6.0, 2), _fenced(7.0, 3, "SUCCEEDED")]
    assert check_chains(sent, handled, writes, GOOD_LOG, [], lost={"a": 1.0}).passed
    assert live_chain_episodes(sent, handled, writes, {"a": 1.0})[0] == []
    # without the deletion known, the deleted message would count as a second chain beside the revived one
    [false_episode] = live_chain_episodes(sent, handled, writes)[0]
    assert (false_episode.start, false_episode.end) == (5.0, 6.0)


def test_a_task_that_lost_a_message_may_end_timed_out_only_if_the_watchdog_revived_it() -> None:
    tasks = [ExpectedTask(TASK, "tencent-compose-finish", "SUCCEEDED")]
    timed_out = ({TASK: "TIMED_OUT"}, {TASK: "DEADLINE"})
    assert check_outcomes(tasks, *timed_out, lost={TASK}, revived={TASK}).passed
    assert not check_outcomes(tasks, *timed_out, lost={TASK}).passed  # never revived: nothing could end it so
    assert not check_outcomes(tasks, *timed_out, revived={TASK}).passed  # it lost nothing: it had to succeed
    assert not check_outcomes(tasks, {TASK: "FAILED"}, {TASK: "POLL"}, lost={TASK}, revived={TASK}).passed


def test_the_dead_letter_queue_must_hold_exactly_the_malformed_messages() -> None:
    expected = {"not json": "NOT_JSON"}
    assert check_dead_letters([("not json", "NOT_JSON")], expected, {"not json": 1}).passed
    # parked twice (its batch crashed after parking it): two copies are right
    assert check_dead_letters([("not json", "NOT_JSON")] * 2, expected, {"not json": 2}).passed
    assert not check_dead_letters([], expected, {}).passed  # missing
    assert not check_dead_letters([("not json", "NOT_JSON")] * 2, expected, {"not json": 1}).passed
    assert not check_dead_letters([("not json", "NOT_JSON"), ('{"TaskId": "t"}', None)], expected, {}).passed
    assert not check_dead_letters([("not json", "MISSING_VENDOR")], expected, {"not json": 1}).passed


CHAOS: dict[str, Any] = {
    "zego_calls": 1000,
    "faults": {"http_5xx": 100},
    "targets": {"http_5xx": 0.1},
    "sends": 1000,
    "duplicates": 50,
    "duplicate_target": 0.05,
    "invocations": 500,
    "crashes": 10,
    "crash_target": 0.02,
}
"""A run whose 5xx faults, duplicates and crashes all happened at their rates."""


def _chaos_passes(**changes: Any) -> bool:
    return check_chaos(**{**CHAOS, **changes}).passed


def test_chaos_that_did_not_happen_fails() -> None:
    assert _chaos_passes()
    assert not _chaos_passes(faults={})  # no 5xx at all
    assert not _chaos_passes(crashes=0)  # ten crashes expected, none happened
    assert not _chaos_passes(faults={"http_5xx": 400})  # far above the configured rate


def test_chaos_without_the_callback_faults_fails() -> None:
    def chaos(callback_faults: dict[str, int]) -> bool:
        targets = {"lost": 0.06, "bad_signature": 0.06}
        return _chaos_passes(callbacks=500, callback_faults=callback_faults, callback_targets=targets)

    assert chaos({"lost": 30, "bad_signature": 30})
    assert not chaos({"lost": 30})  # the simulator forged no signature
    assert not chaos({"lost": 30, "bad_signature": 200})


def test_chaos_without_the_aws_faults_fails() -> None:
    def chaos(refused: dict[str, int]) -> bool:
        # Only AWS faults are configured here: every other kind has nothing to draw from.
        nothing = {"zego_calls": 0, "faults": {}, "targets": {}, "sends": 0, "duplicates": 0, "invocations": 0}
        aws = {"aws_requests": {"dynamodb": 1000, "sqs": 400}, "aws_faults": refused}
        return _chaos_passes(**nothing, **aws, crashes=0, aws_targets={"dynamodb_throttled": 0.125, "sqs_5xx": 0.125})

    assert chaos({"dynamodb_throttled": 125, "sqs_5xx": 50})
    assert not chaos({"dynamodb_throttled": 125})  # the emulator never failed an SQS request
    assert not chaos({"dynamodb_throttled": 400, "sqs_5xx": 50})  # far above the configured share


def test_a_task_that_appears_late_may_end_not_found_only_when_zego_first_answered_past_the_grace() -> None:
    tasks = [ExpectedTask(TASK, "huawei-appears-late", "SUCCEEDED")]
    assert not check_outcomes(tasks, {TASK: "NOT_FOUND"}, {TASK: "POLL"}).passed
    assert check_outcomes(tasks, {TASK: "NOT_FOUND"}, {TASK: "POLL"}, answered_past_grace={TASK}).passed
    assert not check_outcomes(tasks, {TASK: "TIMED_OUT"}, {TASK: "DEADLINE"}, answered_past_grace={TASK}).passed


def test_a_task_ended_by_the_wrong_source_fails() -> None:
    tasks = [ExpectedTask(TASK, "huawei-merge", "SUCCEEDED", "CALLBACK")]
    assert check_outcomes(tasks, {TASK: "SUCCEEDED"}, {TASK: "CALLBACK"}).passed
    assert not check_outcomes(tasks, {TASK: "SUCCEEDED"}, {TASK: "POLL"}).passed


# -- the plan's callbacks ---------------------------------------------------------------------------------


def test_the_plan_scripts_every_callback_and_each_fault_at_least_once() -> None:
    plan = plan_for(SoakConfig.quick())
    fates = plan.callback_fates()
    assert {fate.value for fate in FAULT_FATES} <= set(fates.values())
    ending = [t for t in plan.tasks if t.spec is not None and t.spec.final is not None]
    assert all(t.callback_fate is not None for t in ending)  # none left to the simulator's random rates
    merges = [t for t in plan.tasks if t.kind == "huawei-merge"]
    assert merges
    assert all(t.registered_kind is not None and t.registered_kind.value == "merge" for t in merges)
    assert all(t.scripted_at_registration and t.spec not in plan.scenario.tasks for t in merges)
    assert all(t.expected_source is not None and t.expected_source.value == "CALLBACK" for t in merges)
    assert not [t for t in plan.tasks if t.kind in DEADLINE_KINDS]


def test_a_huawei_merge_whose_callback_never_arrives_valid_must_time_out() -> None:
    plan = build_plan(300, seed=3, api_share=0.5, malformed_messages=2, callback_faults=SoakConfig().callback_faults)
    unheard = [t for t in plan.tasks if t.kind == "huawei-merge-unheard"]
    assert {t.callback_fate.value for t in unheard if t.callback_fate} == {"lost", "bad_signature"}
    assert {(t.expected.value, t.expected_source.value if t.expected_source else None) for t in unheard} == {
        ("TIMED_OUT", "DEADLINE")
    }


# -- the callback check, on hand-made logs -----------------------------------------------------------------

MERGE = ("289665201", "Huawei")
FORGED = ("289665202", "Huawei")
LOST = ("289665203", "Huawei")
DOUBLE = ("1400000001-ComposeMedia-0aa1tt0", "Tencent")
FATES = {MERGE: "send", FORGED: "bad_signature", LOST: "lost", DOUBLE: "duplicate"}


def _try(key: tuple[str, str], outcome: str, status: int | None, *, attempt: int = 1, copy: int = 1,
         fault: str | None = None) -> CallbackRecord:  # fmt: skip
    return CallbackRecord(
        task_id=key[0], vendor=key[1], event="compose", copy=copy, attempt=attempt, outcome=outcome,
        http_status=status, error=None, fault=fault, nonce="n-" + key[0], due=0.0, monotonic=float(attempt),
        wall_time=0.0, duration_seconds=0.01, next_attempt_in=None,
    )  # fmt: skip


def _refused(key: tuple[str, str]) -> list[CallbackRecord]:
    retries = [_try(key, "retry", 401, attempt=n, fault="bad_signature") for n in range(1, 6)]
    return [*retries, _try(key, "dropped", 401, attempt=6, fault="bad_signature")]


GOOD_TRIES = [
    _try(MERGE, "delivered", 200),
    *_refused(FORGED),
    _try(LOST, "lost", None, attempt=0, fault="lost"),
    _try(DOUBLE, "delivered", 200, fault="duplicate"),
    _try(DOUBLE, "delivered", 200, copy=2, fault="duplicate"),
]


def _answer(key: tuple[str, str] | None, outcome: str, status: int, writes: int = 0) -> CallbackHandled:
    task_id, vendor = key if key else (None, None)
    return CallbackHandled(0.0, 0.1, task_id, vendor, "compose", outcome, status, writes)


GOOD_ANSWERS = [
    _answer(MERGE, "APPLIED", 200, writes=1),
    *[_answer(None, "REJECTED", 401)] * 6,
    _answer(DOUBLE, "APPLIED", 200, writes=1),
    _answer(DOUBLE, "ALREADY_TERMINAL", 200),
]
ENDED_BY: dict[tuple[str, str], str | None] = {
    MERGE: "CALLBACK",
    FORGED: "DEADLINE",
    LOST: "DEADLINE",
    DOUBLE: "CALLBACK",
}


def _ended(key: tuple[str, str], by: str, sequence: int = 7) -> StreamWrite:
    return StreamWrite(sequence, "MODIFY", key[0], key[1], 1, "PROCESSING", 2, "SUCCEEDED", 1, 2, by)


def _callbacks(
    tries: list[CallbackRecord] = GOOD_TRIES,
    answers: list[CallbackHandled] = GOOD_ANSWERS,
    stream: list[StreamWrite] | None = None,
    ended_by: dict[tuple[str, str], str | None] = ENDED_BY,
    fates: dict[tuple[str, str], str] = FATES,
) -> bool:
    return check_callbacks(fates, tries, answers, stream or [_ended(MERGE, "CALLBACK")], ended_by).passed


def test_callbacks_as_scripted_pass() -> None:
    assert _callbacks()
    assert callbacks_settled(FATES, GOOD_TRIES)


@pytest.mark.parametrize(
    "tries",
    [
        [t for t in GOOD_TRIES if t.copy == 1],  # a duplicate that came once
        [t for t in GOOD_TRIES if t.task_id != LOST[0]],  # a lost callback not even logged as lost
        [*GOOD_TRIES[:1], _try(FORGED, "delivered", 200, fault="bad_signature"), *GOOD_TRIES[7:]],  # forgery accepted
        [*GOOD_TRIES, _try(LOST, "delivered", 200, copy=2)],  # a lost callback arrived
        [_try(MERGE, "dropped", 503, attempt=6), *GOOD_TRIES[1:]],  # a genuine callback never accepted
        [_try(MERGE, "retry", 401), *GOOD_TRIES],  # a genuine try refused
        [*GOOD_TRIES, _try(("999", "Huawei"), "delivered", 200)],  # a callback nobody scripted
    ],
)
def test_callbacks_not_as_scripted_fail(tries: list[CallbackRecord]) -> None:
    assert not _callbacks(tries=tries)


def test_a_refused_callback_that_wrote_fails() -> None:
    answers = [*GOOD_ANSWERS[:1], _answer(FORGED, "REJECTED", 401, writes=1), *GOOD_ANSWERS[2:]]
    assert not _callbacks(answers=answers)


def test_a_task_ended_by_a_forged_callback_fails() -> None:
    assert not _callbacks(stream=[_ended(MERGE, "CALLBACK"), _ended(FORGED, "CALLBACK", sequence=8)])
    assert not _callbacks(ended_by={**ENDED_BY, FORGED: "CALLBACK"})


def test_forged_tries_the_receiver_never_refused_fail() -> None:
    assert not _callbacks(answers=[a for a in GOOD_ANSWERS if a.outcome != "REJECTED"])


def test_no_callbacks_at_all_fail() -> None:
    assert not _callbacks(tries=[], answers=[], fates={})


def test_callbacks_still_retrying_are_not_settled() -> None:
    assert not callbacks_settled(FATES, [t for t in GOOD_TRIES if t.outcome != "dropped"])
    assert not callbacks_settled(FATES, [t for t in GOOD_TRIES if t.copy == 1])


# -- the event check, on hand-made logs ------------------------------------------------------------------


def _change(sequence: int, event: str, old: tuple[str, int] | None, new: tuple[str, int], at: float) -> StreamWrite:
    return StreamWrite(
        sequence=sequence,
        event=event,
        task_id=TASK[0],
        vendor=TASK[1],
        old_generation=None,
        old_status=old[0] if old else None,
        new_generation=None,
        new_status=new[0],
        old_record_sequence=old[1] if old else None,
        new_record_sequence=new[1],
        created_at=at,
    )


CHANGES = [
    _change(1, "INSERT", None, ("PENDING", 1), 100.0),
    _change(2, "MODIFY", ("PENDING", 1), ("PROCESSING", 2), 101.0),
    _change(3, "MODIFY", ("PROCESSING", 2), ("PROCESSING", 2), 102.0),  # a poll that saw nothing new
    _change(4, "MODIFY", ("PROCESSING", 2), ("SUCCEEDED", 3), 103.0),
]


def _event(sequence: int, status: str, previous: str | None, at: float, **changes: Any) -> DeliveredEvent:
    event = DeliveredEvent(at, event_id(TASK[0], TASK[1], sequence), TASK[0], TASK[1], sequence, status, previous)
    return replace(event, **changes)


EVENTS = [
    _event(1, "PENDING", None, 100.5),
    _event(2, "PROCESSING", "PENDING", 102.0),
    _event(3, "SUCCEEDED", "PROCESSING", 103.2),
    _event(3, "SUCCEEDED", "PROCESSING", 104.0),  # redelivered
]


def test_one_event_per_status_change_passes_and_is_measured() -> None:
    checked = check_events(CHANGES, EVENTS)
    assert checked.passed, checked.details
    assert (checked.details["status_changes"], checked.details["distinct_event_ids"]) == (3, 3)
    assert checked.details["redeliveries"] == 1
    assert checked.details["duplicate_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert checked.details["delay_seconds"] == {"measured": 3, "p50": 0.5, "p95": 1.0, "max": 1.0}
    # three changes in 3 s, four deliveries in 3.5 s: a delay that grows is a backlog, and shows here
    assert (checked.details["status_changes_per_second"], checked.details["deliveries_per_second"]) == (0.67, 0.86)


@pytest.mark.parametrize(
    "events",
    [
        EVENTS[:2],  # the terminal change was never delivered
        [*EVENTS, _event(3, "SUCCEEDED", "PROCESSING", 105.0, event_id="another-id")],  # a redelivery, a new id
        [*EVENTS, _event(4, "FAILED", "SUCCEEDED", 105.0)],  # an event for no change of the table
        [EVENTS[0], _event(2, "WAITING", "PENDING", 102.0), *EVENTS[2:]],  # says another status
        [],
    ],
)
def test_events_that_do_not_match_the_changes_fail(events: list[DeliveredEvent]) -> None:
    assert not check_events(CHANGES, events).passed


def test_a_status_change_that_skips_a_sequence_number_fails() -> None:
    changes = [*CHANGES[:3], replace(CHANGES[3], new_record_sequence=4)]
    events = [*EVENTS[:2], _event(4, "SUCCEEDED", "PROCESSING", 103.2)]
    checked = check_events(changes, events)
    assert not checked.passed
    assert (checked.details["sequence_errors"], checked.details["missing"], checked.details["extra"]) == (1, 0, 0)


def test_a_sequence_raised_without_a_status_change_fails() -> None:
    changes = [*CHANGES[:2], replace(CHANGES[2], new_record_sequence=3), CHANGES[3]]
    checked = check_events(changes, EVENTS)
    assert not checked.passed
    assert checked.details["sequence_errors"] == 1


def test_no_status_change_observed_fails() -> None:
    assert not check_events([], []).passed
