"""ZEGO simulator call log and rate limiter: windows, stats, the JSON-lines file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.zego_simulator.server import CallLog, CallRecord, SlidingWindowLimiter, busiest_window


def record(at: float, code: int | None = 0, *, app_id: str = "12345", fault: str | None = None) -> CallRecord:
    return CallRecord(
        monotonic=at,
        wall_time=1_700_000_000.0 + at,
        app_id=app_id,
        task_id="t-1",
        vendor="Tencent",
        action="DescribeMediaTask",
        code=code,
        http_status=None if fault == "hang" else (503 if fault == "http_5xx" else 200),
        fault=fault,
        latency_seconds=0.001,
    )


# --- sliding window limiter ----------------------------------------------------------------------


def test_limiter_admits_the_limit_then_refuses_within_one_second() -> None:
    limiter = SlidingWindowLimiter(20)

    admitted = [limiter.try_acquire("app", 100.0 + i * 0.01) for i in range(21)]

    assert admitted == [True] * 20 + [False]
    assert limiter.try_acquire("app", 101.0)  # the first call (at 100.0) has left the window


def test_limiter_windows_are_per_key() -> None:
    limiter = SlidingWindowLimiter(1)

    assert limiter.try_acquire("a", 0.0)
    assert limiter.try_acquire("b", 0.0)
    assert not limiter.try_acquire("a", 0.5)


def test_limiter_reset_forgets_admitted_calls() -> None:
    limiter = SlidingWindowLimiter(1)
    limiter.try_acquire("a", 0.0)
    limiter.reset()

    assert limiter.try_acquire("a", 0.1)


@pytest.mark.parametrize(("limit", "window"), [(0, 1.0), (1, 0.0)])
def test_limiter_arguments_are_validated(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        SlidingWindowLimiter(limit, window)


# --- windows and stats ---------------------------------------------------------------------------


def test_busiest_window_is_half_open() -> None:
    # Calls at 0.0 and 1.0 are never in the same [t, t + 1) window: the limiter admits both.
    assert busiest_window([0.0, 0.5, 1.0]) == (2, 0.0)
    assert busiest_window([0.0, 0.5, 0.999]) == (3, 0.0)
    assert busiest_window([]) == (0, None)
    assert busiest_window([5.0, 0.2, 5.5, 5.9, 0.1]) == (3, 5.0)


def test_stats_count_codes_statuses_faults_and_windows() -> None:
    log = CallLog()
    for at, code, fault in [
        (0.0, 0, None),
        (0.1, 0, None),
        (0.2, 6, None),
        (0.3, 6, "code_6"),
        (1.5, None, "http_5xx"),
        (2.6, None, "hang"),
        (2.7, 0, None),
    ]:
        log.append(record(at, code, fault=fault))

    stats = log.stats()

    assert stats.total == 7
    assert stats.codes == {0: 3, 6: 2}
    assert stats.http_statuses == {200: 5, 503: 1}
    assert stats.faults == {"code_6": 1, "http_5xx": 1, "hang": 1}
    assert stats.no_answer == 1
    assert stats.code_6_share == pytest.approx(2 / 7)
    assert (stats.busiest_window_calls, stats.busiest_window_start) == (4, 0.0)
    assert stats.busiest_window_code_0 == 2
    assert stats.per_second == (4, 1, 2)
    assert stats.duration_seconds == pytest.approx(2.7)
    assert json.loads(json.dumps(stats.as_dict()))["codes"] == {"0": 3, "6": 2}


def test_stats_of_an_empty_log() -> None:
    stats = CallLog().stats()

    assert (stats.total, stats.code_6_share, stats.per_second, stats.busiest_window_start) == (0, 0.0, (), None)


def test_max_in_window_filters_by_code_and_app_id() -> None:
    log = CallLog()
    for i in range(5):
        log.append(record(i * 0.1, 0, app_id="1"))
        log.append(record(i * 0.1, 6, app_id="2"))

    assert log.max_in_window() == 10
    assert log.max_in_window(codes={0}) == 5
    assert log.max_in_window(app_id="2") == 5
    assert log.max_in_window(codes={0}, app_id="2") == 0
    assert log.max_in_window(0.25, codes={6}) == 3


def test_clear_empties_the_log() -> None:
    log = CallLog()
    log.append(record(0.0))
    log.clear()

    assert (len(log), log.records()) == (0, [])


def test_a_bounded_log_keeps_the_newest_records() -> None:
    log = CallLog(max_records=3)
    for i in range(5):
        log.append(record(float(i)))

    assert [r.monotonic for r in log.records()] == [2.0, 3.0, 4.0]


def test_records_are_also_written_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    log = CallLog(path)
    log.append(record(0.0))
    log.append(record(0.5, 6))
    log.close()

    lines = [json.loads(line) for line in path.read_text().splitlines()]

    assert [line["code"] for line in lines] == [0, 6]
    assert set(lines[0]) == {
        "monotonic",
        "wall_time",
        "app_id",
        "task_id",
        "vendor",
        "action",
        "code",
        "http_status",
        "fault",
        "latency_seconds",
    }
    assert len(log) == 2  # closing the file keeps the in-memory records
