"""The chaos soak: its small variant end to end, and its checks on hand-made logs.

``make soak`` runs 1,000 tasks (about five minutes); the 60-task variant here runs the same chaos through
the same stack in well under a minute. The checks are also fed logs with one defect each, so that a soak
that passes is known to be able to fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from soak.analysis import (
    ExpectedTask,
    check_chains,
    check_chaos,
    check_dead_letters,
    check_outcomes,
    check_write_log,
    live_chain_episodes,
)
from soak.config import SoakConfig
from soak.instruments import FencedWrite, Handled, Sent, StreamWrite
from soak.report import console_summary
from soak.runner import run_soak

TASK = ("task-1", "Tencent")


@pytest.mark.e2e
# Powertools warns when an invocation publishes no metric (e.g. a batch of stale copies only); harmless here.
@pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
def test_the_quick_soak_meets_every_criterion(tmp_path: Path) -> None:
    # Given the 60-task soak with every fault, duplicates and crashes (seed 7 draws each kind at least once)
    config = SoakConfig.quick()

    # When it runs through the whole local stack
    result = run_soak(config, out_dir=tmp_path, progress=lambda _line: None)

    # Then every criterion passes, and the chaos really happened
    assert result.passed, console_summary(result)
    chaos = next(c for c in result.criteria if c.name == "the chaos was really applied")
    assert all(values["count"] > 0 for values in chaos.details["observed"].values()), chaos.details


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


def test_the_dead_letter_queue_must_hold_exactly_the_malformed_messages() -> None:
    expected = {"not json": "NOT_JSON"}
    assert check_dead_letters([("not json", "NOT_JSON")], expected, {"not json": 1}).passed
    # parked twice (its batch crashed after parking it): two copies are right
    assert check_dead_letters([("not json", "NOT_JSON")] * 2, expected, {"not json": 2}).passed
    assert not check_dead_letters([], expected, {}).passed  # missing
    assert not check_dead_letters([("not json", "NOT_JSON")] * 2, expected, {"not json": 1}).passed
    assert not check_dead_letters([("not json", "NOT_JSON"), ('{"TaskId": "t"}', None)], expected, {}).passed
    assert not check_dead_letters([("not json", "MISSING_VENDOR")], expected, {"not json": 1}).passed


def test_chaos_that_did_not_happen_fails() -> None:
    def chaos(faults: dict[str, int], crashes: int) -> bool:
        return check_chaos(
            zego_calls=1000,
            faults=faults,
            targets={"http_5xx": 0.1},
            sends=1000,
            duplicates=50,
            duplicate_target=0.05,
            invocations=500,
            crashes=crashes,
            crash_target=0.02,
        ).passed

    assert chaos({"http_5xx": 100}, crashes=10)
    assert not chaos({}, crashes=10)  # no 5xx at all
    assert not chaos({"http_5xx": 100}, crashes=0)  # ten crashes expected, none happened
    assert not chaos({"http_5xx": 400}, crashes=10)  # far above the configured rate
