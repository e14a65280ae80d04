"""The whole local stack with ZEGO's completion callbacks going wrong in every way ZEGO warns of (lost,
duplicated, late, out of order) and forged ones (bad signature), while DescribeMediaTask fails too.

One run (a module fixture): a task of each kind (Tencent merge, transcode finished and failed, snapshot,
Huawei snapshot and merge) gets each callback fate, a few generated tasks get random callback faults,
and every DescribeMediaTask call risks a 5xx, malformed JSON, Code 1000, Code 6 or a hang. Then,
separately:

- every task ends as its scenario says, by what its scenario decides; a Huawei merge is never queried;
- no terminal record is ever written again, and each is written terminal once, read from the table's
  own stream (every write, in order): a late, duplicate or refused callback changes nothing;
- the simulator's callback log shows each fault really happened as scripted, so each test could fail.

The deadline is the shortest the settings allow (60 s): a Huawei merge whose callback never arrives valid
can only end there, TIMED_OUT, so the run takes about 80 s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from soak.analysis import check_write_log
from soak.instruments import StreamWrite, enable_stream, read_stream

from devstack.emulator import AwsEmulator, MotoFixes
from devstack.stack import LocalStack
from devstack.zego_simulator import (
    CallbackFate,
    CallbackFaultSettings,
    CallbackOutcome,
    CallbackRecord,
    FaultSettings,
    Scenario,
    TaskSpec,
    ZegoSimulator,
)
from tests.support.local_pipeline import (
    TaskKey,
    callbacks_settled,
    describe_calls,
    embedded_simulator,
    key_of,
    label,
    quick_run,
    register_all,
    timeline_end,
    unexpected_endings,
    wait_until_terminal,
)
from zego_media_tasks.domain.status import TERMINAL_STATUSES

pytestmark = pytest.mark.e2e

TIME_SCALE = 0.25
DEADLINE_SECONDS = 60
FATES = (
    CallbackFate.SEND,
    CallbackFate.LOST,
    CallbackFate.DUPLICATE,
    CallbackFate.DELAYED,
    CallbackFate.REORDERED,
    CallbackFate.BAD_SIGNATURE,
)
TERMINAL = frozenset(status.value for status in TERMINAL_STATUSES)
RETRIES = 5
"""ZEGO retries a refused callback five times."""
CALL_FAULTS = FaultSettings(
    http_5xx_rate=0.1, malformed_json_rate=0.05, code_1000_rate=0.05, code_6_rate=0.05, hang_rate=0.03, hang_seconds=2
)
"""Every DescribeMediaTask call risks one of these, hangs longer than the read timeout included."""
CALLBACK_FAULTS = CallbackFaultSettings(
    lost_rate=0.15, duplicate_rate=0.15, delayed_rate=0.15, reordered_rate=0.15, bad_signature_rate=0.15
)
"""The random callback faults of the tasks without a scripted fate."""


def _scripted(fate: CallbackFate, index: int) -> list[dict[str, Any]]:
    """One task of each kind with ``fate``.

    Every timeline runs from the simulator's start (``created``), so the order in which the tasks end, and
    the order in which the simulator numbers their callbacks, is the scenario's, whatever the polls do:
    each fate's tasks end after the previous fate's, so the bad-signature ones, which follow, overtake the
    reordered ones. 40 scenario seconds (10 s) leave the time to register every task before any ends.
    """
    digest = hashlib.md5(fate.value.encode(), usedforsecurity=False).hexdigest()
    tasks: list[dict[str, Any]] = [
        {
            "task_id": f"14000000{index:02d}-ComposeMedia-{digest}tt0",
            "vendor": "Tencent",
            "event": "compose",
            "final": {
                "status": "FINISH",
                "FileId": f"52858908132185{index:05d}",
                "ReplayUrl": "https://v.example/c.mp4",
            },
        },
        {
            "task_id": f"15000000{index:02d}-procedurev2-{digest}tt0",
            "vendor": "Tencent",
            "event": "transcode",
            "final": {
                "status": "FINISH",
                "FileId": f"52858908132186{index:05d}",
                "ReplayUrl": "https://v.example/t.mp4",
            },
        },
        {
            "task_id": f"15000001{index:02d}-procedurev2-{digest}tt0",
            "vendor": "Tencent",
            "event": "transcode",
            "final": {"status": "FAIL", "Message": "source file is corrupted"},
        },
        {
            "task_id": f"15000002{index:02d}-procedurev2-{digest}tt0",
            "vendor": "Tencent",
            "event": "SampleSnapshot",
            "final": {"status": "FINISH", "FileId": "1", "ThumbnailsUrl": ["http://v.example/s_0.jpg"]},
        },
        {
            "task_id": f"2896653{index:02d}",
            "vendor": "Huawei",
            "event": "SnapshotByTimeOffset",
            "final": {"status": "SUCCEEDED", "FileName": ["record/snapshot/0.jpg"]},
        },
        {
            "task_id": f"2896654{index:02d}",
            "vendor": "Huawei",
            "event": "compose",
            "final": {"status": "SUCCEEDED", "ReplayUrl": f"https://obs.example/merge/{index}.mp4"},
        },
    ]
    for kind_index, task in enumerate(tasks):
        processing = 39 + 4 * index + kind_index
        task["timeline"] = [{"status": "WAITING", "seconds": 1}, {"status": "PROCESSING", "seconds": processing}]
        task["clock"] = "created"
        task["callback"] = fate.value
    return tasks


def _scenario() -> Scenario:
    scripted = [task for index, fate in enumerate(FATES) for task in _scripted(fate, index)]
    closer = {  # ends after everything else: the last callback overtakes any that is still held back
        "task_id": "1500009999-procedurev2-c105e400000000000000000000000000tt0",
        "vendor": "Tencent",
        "event": "transcode",
        "timeline": [{"status": "PROCESSING", "seconds": 80}],
        "final": {"status": "FINISH", "FileId": "1"},
        "clock": "created",
        "callback": "send",
    }
    # Random callback faults for tasks without a scripted fate. No failed snapshots: a snapshot callback
    # carries no status, so a callback can only report a snapshot as finished.
    mix = {"tencent-compose-finish": 2, "tencent-transcode-fail": 1, "tencent-snapshot-finish": 1}
    mix |= {"huawei-snapshot-succeeded": 1, "huawei-no-task": 1, "tencent-stuck": 1, "tencent-file-missing": 1}
    generated = Scenario.generate(12, seed=11, mix=mix, duration_seconds=(4.0, 30.0))
    listed = Scenario.from_dict({"tasks": [*scripted, closer]})
    return Scenario(tasks=(*listed.tasks, *generated.tasks))


SCENARIO = _scenario()
SCRIPTED = {fate: [s for s in SCENARIO.tasks if s.callback and s.callback.fate is fate] for fate in FATES}
HUAWEI_MERGES = [spec for spec in SCENARIO.tasks if spec.is_huawei_compose]


@dataclass(frozen=True)
class Run:
    """What the run left behind."""

    stack: LocalStack
    simulator: ZegoSimulator
    final: dict[TaskKey, dict[str, Any]]
    writes: list[StreamWrite]
    callbacks: list[CallbackRecord]

    def tries(self, spec: TaskSpec) -> list[CallbackRecord]:
        """The task's callback log records, oldest first."""
        return [record for record in self.callbacks if (record.task_id, record.vendor) == key_of(spec)]


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    options = replace(
        quick_run(SCENARIO, ZEGO_READ_TIMEOUT_SECONDS="1", TASK_DEADLINE_SECONDS=str(DEADLINE_SECONDS)),
        time_scale=TIME_SCALE,
        faults=CALL_FAULTS,
        simulator_seed=5,
        callback_faults=CALLBACK_FAULTS,
    )
    # Conditional writes one at a time, as DynamoDB applies them to an item: the fence relies on it, and a
    # poll and a callback often write the same record at the same moment here.
    emulator = AwsEmulator(fixes=MotoFixes(atomic_writes=True))
    with LocalStack(options, emulator=emulator) as stack:
        simulator = embedded_simulator(stack)
        assert simulator.callbacks is not None
        stream = enable_stream(stack.provisioned().table_names["TasksTable"])  # before any traffic
        register_all(stack, SCENARIO.tasks)
        final = wait_until_terminal(stack, SCENARIO.tasks, timeout=DEADLINE_SECONDS + 90)
        # Late copies, retries and refused callbacks are still arriving: let them all end.
        assert simulator.callback_log.wait_for(callbacks_settled(simulator), timeout=60)
        final = wait_until_terminal(stack, SCENARIO.tasks, timeout=5)
        yield Run(stack, simulator, final, read_stream(stream), simulator.callback_log.records())


def test_every_task_ends_as_its_scenario_says(run: Run) -> None:
    assert unexpected_endings(run.final, SCENARIO.tasks) == []
    assert run.stack.dead_letters() == []


def test_no_terminal_record_is_ever_written_again(run: Run) -> None:
    final = {key: state["status"] for key, state in run.final.items()}
    checked = check_write_log(run.writes, final)
    assert checked.passed, checked.details
    # The log covers every task, and more than one write each: it really saw the run.
    assert checked.details["records"] == len(SCENARIO.tasks)
    assert checked.details["writes"] > 2 * len(SCENARIO.tasks)


def test_each_task_is_written_terminal_once_whatever_its_callbacks_do(run: Run) -> None:
    into_terminal: dict[TaskKey, int] = {}
    for write in run.writes:
        if write.new_status in TERMINAL:
            key = (write.task_id, write.vendor)
            into_terminal[key] = into_terminal.get(key, 0) + 1
    assert into_terminal == {key_of(spec): 1 for spec in SCENARIO.tasks}


def test_huawei_merges_are_never_queried_and_end_by_their_callback_or_their_deadline(run: Run) -> None:
    ends = {}
    for spec in HUAWEI_MERGES:
        assert describe_calls(run.simulator, spec) == [], label(spec)
        state = run.final[key_of(spec)]
        ends[spec.callback.fate if spec.callback else None] = (state["status"], state["completedBy"])
    arrived, never = ("SUCCEEDED", "CALLBACK"), ("TIMED_OUT", "DEADLINE")
    assert ends == {
        CallbackFate.SEND: arrived,
        CallbackFate.DUPLICATE: arrived,
        CallbackFate.DELAYED: arrived,
        CallbackFate.REORDERED: arrived,
        CallbackFate.LOST: never,
        CallbackFate.BAD_SIGNATURE: never,
    }


def test_lost_callbacks_were_never_sent(run: Run) -> None:
    for spec in SCRIPTED[CallbackFate.LOST]:
        assert [(r.attempt, r.outcome, r.fault) for r in run.tries(spec)] == [(0, "lost", "lost")], label(spec)


def test_duplicated_callbacks_were_both_accepted(run: Run) -> None:
    for spec in SCRIPTED[CallbackFate.DUPLICATE]:
        delivered = [(r.copy, r.http_status) for r in run.tries(spec) if r.outcome == CallbackOutcome.DELIVERED]
        assert sorted(delivered) == [(1, 200), (2, 200)], (label(spec), run.tries(spec))
        assert len({r.nonce for r in run.tries(spec)}) == 1  # the same callback twice, not two callbacks


def test_delayed_callbacks_arrived_late_and_were_accepted(run: Run) -> None:
    assert run.simulator.callbacks is not None
    delay = run.simulator.callbacks.faults.delay_seconds * TIME_SCALE
    for spec in SCRIPTED[CallbackFate.DELAYED]:
        first = run.tries(spec)[0]
        assert first.monotonic >= timeline_end(run.simulator, spec) + delay - 0.05, label(spec)
        assert (first.fault, first.outcome, first.http_status) == ("delayed", "delivered", 200), label(spec)


def test_reordered_callbacks_were_overtaken_by_a_later_one(run: Run) -> None:
    assert run.simulator.callbacks is not None
    hold = run.simulator.callbacks.settings.reorder_hold_seconds * TIME_SCALE
    for spec in SCRIPTED[CallbackFate.REORDERED]:
        first = run.tries(spec)[0]
        ended = timeline_end(run.simulator, spec)
        overtakers = [
            r
            for r in run.callbacks
            if r.attempt == 1
            and r.fault != "reordered"
            and ended <= r.monotonic
            and r.monotonic + r.duration_seconds <= first.monotonic
        ]
        assert overtakers, f"{label(spec)}: no later callback arrived before it"
        assert first.monotonic < ended + hold, f"{label(spec)}: released by the hold limit, not overtaken"
        # Delivered; a try that met a poll's concurrent write was answered 503 and retried (CONFLICT).
        tries = [(r.outcome, r.http_status) for r in run.tries(spec)]
        assert tries[-1] == ("delivered", 200), label(spec)
        assert set(tries[:-1]) <= {("retry", 503)}, (label(spec), tries)


def test_callbacks_with_a_bad_signature_were_refused_every_time_and_changed_nothing(run: Run) -> None:
    for spec in SCRIPTED[CallbackFate.BAD_SIGNATURE]:
        tries = run.tries(spec)
        assert [r.http_status for r in tries] == [401] * (1 + RETRIES), label(spec)
        assert [r.outcome for r in tries][-1] == "dropped"
        # What ended the task is never the refused callback.
        assert run.final[key_of(spec)]["completedBy"] in ("POLL", "DEADLINE"), label(spec)


def test_the_random_callback_faults_were_applied_too(run: Run) -> None:
    scripted = {spec.task_id for fate in FATES for spec in SCRIPTED[fate]}
    faults = {r.fault for r in run.callbacks if r.task_id not in scripted and r.fault}
    assert len(faults) >= 2, faults
