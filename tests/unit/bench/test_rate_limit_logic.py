"""The rate-limit benchmark's bookkeeping: knobs from the template, the instrumentation wrappers, the
handler timing and how the best configuration is chosen. No server, no waiting."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from bench.rate_limit import Counters, Instrument, Knobs, _rank, _TimedDescriber, _TimedLimiter, timed_handler

from devstack.template import load_template, parameter_defaults
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.status import Vendor
from zego_media_tasks.store.rate_limiter import Permit, Saturated


class _Limiter:
    def __init__(self, answers: list[Permit | Saturated]) -> None:
        self.answers = answers

    def acquire(self) -> Permit | Saturated:
        return self.answers.pop(0)

    def postpone(self, earliest: datetime) -> datetime:
        return earliest

    def throttled(self) -> None:
        self.answers.clear()

    def current_rate(self) -> float:
        return 20.0


class _Describer:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def describe_media_task(self, task_id: str, vendor: Vendor) -> CallOutcome:
        self.calls.append(task_id)
        return CallOutcome.failure(OutcomeKind.TRANSIENT, "1000", "request failed")


def test_knobs_default_to_the_templates_parameters() -> None:
    defaults = parameter_defaults(load_template())
    knobs = Knobs.from_template()
    assert knobs.ceiling == float(defaults["ZegoRateLimitPerSecond"])
    assert knobs.concurrency == int(defaults["PollMaxConcurrency"])
    assert knobs.batch_size == int(defaults["PollBatchSize"])
    assert knobs.max_wait_seconds == float(defaults["RateLimitMaxWaitSeconds"])
    changed = knobs.with_changes(ceiling=18.0)
    assert changed.ceiling == 18.0
    assert changed.concurrency == knobs.concurrency
    environment = changed.poller_environment()
    assert environment["ZEGO_RATE_LIMIT_PER_SECOND"] == "18"
    assert environment["POLL_BACKOFF_CAP_SECONDS"] == "2"


def test_instrument_records_waits_saturations_and_lateness_only_while_recording() -> None:
    # Given wrapped fakes and a slot reserved 40 ms in the past
    instrument = Instrument()
    slot = int(time.time() * 1000) - 40
    limiter = _TimedLimiter(_Limiter([Permit(slot, 0.5), Saturated(2.0), Permit(slot, 0.1)]), instrument)
    describer = _TimedDescriber(_Describer(), instrument)
    # When one call happens before recording starts, then a saturation and a call while recording
    limiter.acquire()
    describer.describe_media_task("a", Vendor.TENCENT)
    instrument.recording = True
    limiter.acquire()
    limiter.acquire()
    describer.describe_media_task("b", Vendor.TENCENT)
    # Then only the recorded ones count, and the call left at least 40 ms after its slot
    snapshot = instrument.snapshot()
    assert snapshot["limiter_saturated"] == 1
    assert snapshot["limiter_wait_seconds"]["count"] == 1
    assert snapshot["limiter_wait_seconds"]["mean"] == 0.1
    assert snapshot["slot_to_call_ms"]["count"] == 1
    assert snapshot["slot_to_call_ms"]["p50"] >= 40


def test_a_call_without_a_reserved_slot_is_not_measured() -> None:
    instrument = Instrument(recording=True)
    describer = _TimedDescriber(_Describer(), instrument)
    describer.describe_media_task("a", Vendor.TENCENT)
    assert instrument.snapshot()["slot_to_call_ms"] == {"count": 0}


def test_timed_handler_counts_records_and_reported_failures() -> None:
    counters = Counters()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        sum(range(200_000))  # some CPU work inside the handler, counted as the handler's
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

    timed = timed_handler(handler, counters)
    timed({"Records": [{"messageId": "1"}, {"messageId": "2"}]}, None)
    timed({"Records": [{"messageId": "3"}]}, None)
    snapshot = counters.copy()
    assert (snapshot.invocations, snapshot.records, snapshot.failed) == (2, 3, 2)
    assert len(snapshot.intervals) == 2
    assert snapshot.handler_cpu_seconds > 0


def test_handler_cpu_is_the_invoking_threads_only() -> None:
    # Given CPU burnt by another thread while the handler only waits
    counters = Counters()
    busy = threading.Thread(target=lambda: sum(range(3_000_000)))

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        busy.start()
        busy.join()
        return {}

    timed_handler(handler, counters)({"Records": [{"messageId": "1"}]}, None)
    # Then the other thread's work is not the handler's: the same work, timed on this thread, costs far more
    assert counters.copy().handler_cpu_seconds < 0.5 * _cpu_of(lambda: sum(range(3_000_000)))


def _cpu_of(work: Any) -> float:
    started = time.thread_time()
    work()
    return time.thread_time() - started


def test_busy_time_is_clipped_to_the_window() -> None:
    # Given two instances' invocations, one straddling the window's start, one its end
    counters = Counters()
    counters.add(10, 0, started=5.0, ended=12.0)
    counters.add(10, 0, started=18.0, ended=25.0)
    counters.add(10, 0, started=30.0, ended=31.0)  # after the window
    # Then only the parts inside [10, 20) count
    assert counters.busy_seconds(10.0, 20.0) == 2.0 + 2.0


def _run(admitted: float, *met: bool) -> dict[str, Any]:
    names = ("fraction_of_ceiling_at_least_95pct", "no_second_above_20", "code_6_below_0_5pct")
    targets: dict[str, bool] = dict(zip(names, met, strict=True))
    targets["all_met"] = all(met)
    return {"targets": targets, "zego": {"admitted_per_second": admitted}}


def test_best_configuration_meets_most_targets_then_admits_most() -> None:
    runs = [_run(19.5, True, False, False), _run(17.0, True, True, True), _run(18.0, True, True, True)]
    assert max(runs, key=_rank) is runs[2]
