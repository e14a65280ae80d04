"""The virtual-clock simulation's accounting: polls, detection lag, request units, reproducibility."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from bench.polling_efficiency import (
    CALLBACKS_90,
    CALLBACKS_ENABLED,
    MIX,
    PULL_ONLY,
    SCHEDULES,
    CallbackDelivery,
    TaskSpec,
    UpperBound,
    aggregate,
    answers,
    callback_arrival,
    callback_evidence,
    callbacks_scenario,
    follow,
    follow_with_callbacks,
    generate_tasks,
)
from bench.report import callbacks_block

from tests.support.poller import POLLER_RESOURCES
from zego_media_tasks.domain.backoff import (
    DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS,
    DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS,
)
from zego_media_tasks.domain.outcome import OutcomeKind
from zego_media_tasks.domain.status import TaskStatus
from zego_media_tasks.poller.settings import PollerSettings

DEFAULT, BEFORE_ISSUE_14, FIXED_10, FIXED_60 = SCHEDULES


def _task(completion: float, index: int = 0, fixture: str = "tencent-compose-finish.json") -> TaskSpec:
    return TaskSpec(index=index, kind="merge", fixture=fixture, completion_seconds=completion)


def test_fixed_interval_polls_every_interval_until_it_sees_the_end() -> None:
    # Given a task that finishes 25 s after registration, polled every 10 s from t = 0
    trace = follow(_task(25), FIXED_10, size_items=False)
    # Then it is polled at 0, 10, 20 and 30 s, and seen 5 s after it finished
    assert trace.polls == 4
    assert trace.lag_seconds == 5


def test_a_task_finished_at_registration_costs_one_poll() -> None:
    trace = follow(_task(0), FIXED_60, size_items=False)
    assert trace.polls == 1
    assert trace.lag_seconds == 0


def test_an_end_exactly_on_a_poll_is_seen_by_that_poll() -> None:
    assert follow(_task(60), FIXED_60, size_items=False).lag_seconds == 0
    assert follow(_task(60.5), FIXED_60, size_items=False).lag_seconds == pytest.approx(59.5)


def test_the_default_schedule_is_reproducible_per_task() -> None:
    # Given the same task followed twice, and a different task with the same completion time
    first = follow(_task(600, index=7), DEFAULT, size_items=False)
    again = follow(_task(600, index=7), DEFAULT, size_items=False)
    other = [follow(_task(600, index=n), DEFAULT, size_items=False) for n in range(20)]
    # Then the same task gives the same trace (its RNG is seeded by its index), others vary (jitter moves
    # their polls, so the moment each is seen ended differs)
    assert first == again
    assert len({trace.lag_seconds for trace in other}) > 1
    # And the lag never exceeds the backoff cap
    assert all(0 <= trace.lag_seconds <= DEFAULT.cap_seconds for trace in other)


def test_upper_bound_makes_the_window_a_fixed_interval() -> None:
    assert UpperBound().uniform(0, 10) == 10


def test_canned_answers_go_through_the_real_parser() -> None:
    for fixture in ("tencent-compose-finish.json", "huawei-snapshot-succeeded.json", "transcode-finish"):
        canned = answers(fixture)
        assert canned.processing.kind is OutcomeKind.SUCCESS
        assert canned.processing.snapshot is not None
        assert canned.processing.snapshot.status is TaskStatus.PROCESSING
        assert canned.final.snapshot is not None
        assert canned.final.snapshot.status is TaskStatus.SUCCEEDED


def test_request_units_are_counted_on_sampled_tasks() -> None:
    # Given a task registered through POST /tasks that is PROCESSING for two polls and then finished,
    # followed with item sizes
    trace = follow(_task(15), FIXED_10, size_items=True, through_api=True)
    assert trace.polls == 3
    # Then registration put a new item in the table and the status index (a PENDING record is not watched)
    assert trace.registration_write_units == 2
    # And each poll read the record once (small items: one unit each)
    assert trace.read_units == 3
    # And each poll wrote the table once; each of the two status changes (PENDING → PROCESSING,
    # PROCESSING → SUCCEEDED) cost a delete and a put in the status index, and the watch index got the
    # record's entry at the first poll and lost it at the last
    assert trace.write_units == 3 * 1 + 2 * 2 + 2
    assert 0 < trace.first_item_bytes < trace.last_item_bytes


def test_a_task_dropped_on_the_queue_is_created_by_its_first_poll() -> None:
    # Given the same task registered by a message on the poll queue
    trace = follow(_task(15), FIXED_10, size_items=True)
    # Then nothing was written before the first poll, whose read found no record (still one unit)
    assert (trace.registration_write_units, trace.first_item_bytes) == (0, 0)
    assert trace.read_units == 3
    # And the first poll put a new item in the table, the status index and the watch index; the second
    # wrote the table; the last changed the status (a delete and a put) and left the watch index
    assert trace.write_units == 3 + 1 + 4


def test_generated_tasks_follow_the_mix_and_are_reproducible() -> None:
    tasks = generate_tasks(2000)
    assert tasks == generate_tasks(2000)
    counts = Counter(task.kind for task in tasks)
    for kind in MIX:
        assert counts[kind.name] / len(tasks) == pytest.approx(kind.weight, abs=0.05)
        durations = [t.completion_seconds for t in tasks if t.kind == kind.name]
        assert kind.min_seconds <= min(durations)
        assert max(durations) <= kind.max_seconds


def test_aggregate_reports_per_kind_and_overall() -> None:
    tasks = [_task(25, index=0), TaskSpec(1, "snapshot", "tencent-snapshot-finish.json", 5)]
    traces = [follow(task, FIXED_10, size_items=True) for task in tasks]
    result = aggregate(traces, tasks)
    assert result["all"]["tasks"] == 2
    assert result["all"]["calls_per_task"]["mean"] == (4 + 2) / 2
    assert result["merge"]["detection_lag_seconds"]["max"] == 5
    assert result["snapshot"]["detection_lag_seconds"]["max"] == 5
    # 6 calls over 40 s of tracking (completions 25 + 5 s, lags 5 + 5 s)
    assert result["all"]["calls_per_second_per_1000_tracked"] == pytest.approx(1000 * 6 / 40)


# --- polling as the callbacks' safety net -----------------------------------------------------------

ALWAYS = CallbackDelivery("always", 1.0)
PULL_ONLY_THROUGH_API = replace(PULL_ONLY, through_api=True)


def test_without_callbacks_the_safety_net_simulation_is_the_pull_only_one() -> None:
    for index in range(20):
        task = _task(600, index=index)
        pulled = follow(task, DEFAULT, size_items=False)
        netted = follow_with_callbacks(task, DEFAULT, PULL_ONLY)
        assert (netted.polls, netted.lag_seconds, netted.ended_by_callback) == (pulled.polls, pulled.lag_seconds, False)


def test_a_callback_ends_the_task_and_the_poll_due_after_it_calls_nobody() -> None:
    # Given a task polled every 10 s that finishes at 25 s, its callback arriving shortly after
    task = _task(25)
    arrival = callback_arrival(task, ALWAYS)
    assert arrival is not None

    trace = follow_with_callbacks(task, FIXED_10, ALWAYS)

    # Then the polls at 0, 10 and 20 s called ZEGO, the message due at 30 s found the task ended
    assert (trace.polls, trace.callback_arrived, trace.ended_by_callback) == (3, True, True)
    assert trace.lag_seconds == pytest.approx(arrival - 25)
    assert 0.2 <= trace.lag_seconds <= 2.0


def test_a_poll_that_sees_the_end_before_the_callback_arrives_wins() -> None:
    # Given a task finishing at 29.5 s, polled at 30 s, whose callback takes at least a second
    late = CallbackDelivery("late", 1.0, min_delay_seconds=1.0, max_delay_seconds=2.0)
    trace = follow_with_callbacks(_task(29.5), FIXED_10, late)
    # Then the poll saw it first, half a second after the end
    assert (trace.polls, trace.lag_seconds, trace.callback_arrived, trace.ended_by_callback) == (4, 0.5, True, False)


def test_every_write_is_a_stream_record_and_every_status_change_one_event() -> None:
    # Given a task registered through POST /tasks, polled every 10 s, that finishes at 25 s, nobody calling back
    trace = follow_with_callbacks(_task(25), FIXED_10, PULL_ONLY_THROUGH_API)
    # Then the registration and the polls at 0, 10, 20 and 30 s wrote the record: five stream records,
    # of which three changed the status (PENDING, PROCESSING, SUCCEEDED), each one billed event
    assert trace.publication is not None
    assert trace.publication.stream_records == 1 + trace.polls == 5
    assert (trace.publication.events, trace.publication.billed_events) == (3, 3)
    assert 0 < trace.publication.largest_event_bytes < 64 * 1024


def test_a_queued_task_has_no_pending_record_and_one_event_less() -> None:
    # Given the same task registered by a message on the poll queue
    trace = follow_with_callbacks(_task(25), FIXED_10, PULL_ONLY)
    # Then only the four polls wrote, and two writes changed the status (created PROCESSING, SUCCEEDED)
    assert trace.publication is not None
    assert trace.publication.stream_records == trace.polls == 4
    assert trace.publication.events == 2


def test_the_callbacks_write_is_counted_and_the_poll_it_stopped_writes_nothing() -> None:
    # Given the task above, its callback arriving shortly after the end
    trace = follow_with_callbacks(_task(25), FIXED_10, replace(ALWAYS, through_api=True))
    # Then registration, three polls and the callback wrote; the callback's write was the SUCCEEDED event
    assert trace.publication is not None
    assert (trace.publication.stream_records, trace.publication.events) == (1 + 3 + 1, 3)


def test_a_write_that_changed_no_status_publishes_nothing() -> None:
    # Given a task finishing at 595 s, polled every 10 s from 0 to 600 s: 61 polls
    trace = follow_with_callbacks(_task(595), FIXED_10, PULL_ONLY_THROUGH_API)
    # Then 62 stream records (registration included), still three events
    assert trace.publication is not None
    assert trace.polls == 61
    assert (trace.publication.stream_records, trace.publication.events) == (1 + 61, 3)


def test_callback_arrivals_follow_the_share_and_delay_and_are_reproducible() -> None:
    tasks = generate_tasks(2000)
    arrivals = [callback_arrival(task, CALLBACKS_90) for task in tasks]
    assert arrivals == [callback_arrival(task, CALLBACKS_90) for task in tasks]
    delivered = [(task, arrival) for task, arrival in zip(tasks, arrivals, strict=True) if arrival is not None]
    assert len(delivered) / len(tasks) == pytest.approx(0.9, abs=0.02)
    assert all(0.2 <= arrival - task.completion_seconds <= 2.0 for task, arrival in delivered)
    assert all(callback_arrival(task, PULL_ONLY) is None for task in tasks)


def test_callback_evidence_is_read_by_the_real_reader_for_every_task_of_the_mix() -> None:
    for fixture in {fixture for kind in MIX for fixture in kind.fixtures}:
        evidence = callback_evidence(fixture)
        canned = answers(fixture)
        assert (evidence.task_id, evidence.vendor, evidence.status) == (
            canned.task_id,
            canned.vendor,
            TaskStatus.SUCCEEDED,
        )
        # A Huawei snapshot's pictures are object names, the others' results URLs
        assert evidence.replay_url or evidence.thumbnail_urls or evidence.file_names


def test_the_callbacks_schedule_is_the_pollers_with_callbacks_enabled() -> None:
    settings = PollerSettings.from_env({**POLLER_RESOURCES, "CALLBACKS_ENABLED": "true"})
    assert CALLBACKS_ENABLED.policy().backoff == settings.polling_policy().backoff
    assert CALLBACKS_ENABLED.cap_seconds == DEFAULT_BACKOFF_CAP_WITH_CALLBACKS_SECONDS > DEFAULT.cap_seconds
    assert CALLBACKS_ENABLED.base_seconds == DEFAULT_BACKOFF_BASE_WITH_CALLBACKS_SECONDS > DEFAULT.base_seconds


def test_a_scenario_counts_the_tasks_callbacks_ended_and_the_lag_of_the_others() -> None:
    tasks = [_task(25, index=0), _task(25, index=1)]
    traces = [follow_with_callbacks(tasks[0], FIXED_10, ALWAYS), follow_with_callbacks(tasks[1], FIXED_10, PULL_ONLY)]
    scenario = callbacks_scenario(traces, tasks, FIXED_10, ALWAYS)
    assert (scenario["callbacks_arrived"], scenario["ended_by_callback"]) == (1, 1)
    assert scenario["found_by_polling_detection_lag_seconds"]["max"] == 5
    assert scenario["all"]["calls_per_task"]["mean"] == (3 + 4) / 2
    assert (scenario["cap_seconds"], scenario["callback_share"]) == (10.0, 1.0)


def test_the_report_shows_both_schedules_and_the_sweep() -> None:
    tasks = [
        _task(25, index=0),
        TaskSpec(1, "snapshot", "tencent-snapshot-finish.json", 5),
        TaskSpec(2, "transcode", "transcode-finish", 300),
    ]
    pull = callbacks_scenario([follow_with_callbacks(t, DEFAULT, PULL_ONLY) for t in tasks], tasks, DEFAULT, PULL_ONLY)
    netted = callbacks_scenario(
        [follow_with_callbacks(t, CALLBACKS_ENABLED, CALLBACKS_90) for t in tasks],
        tasks,
        CALLBACKS_ENABLED,
        CALLBACKS_90,
    )
    other = {**netted, "cap_seconds": 300.0}
    text = callbacks_block(
        {"pull_only": pull, "callbacks_90": netted, "callbacks_90_cap_sweep": {"120/300": other, "120/900": netted}}
    )
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0] for line in lines[1:]] == [
        "| pull-only (default schedule)",
        "| callbacks 90 % (callbacks-enabled schedule)",
        "| callbacks 90 %, schedule sweep",
    ]
