"""Benchmark 5, callback latency: from the ZEGO simulator sending a completion callback to the task's
record showing it, through ``make run``'s stack.

The stack is ``make run``'s (``LocalStack`` with the simulator's callbacks on, the demo's polling
tuning, moto in this process, no fixes): the simulator POSTs each signed callback to the local API
Gateway, which invokes the real callback receiver (one consistent Query, one conditional PutItem to
moto over loopback HTTP).

Two kinds of task, neither polled, so that every record is ended by its callback: Huawei merges
registered with ``Kind: merge`` first (the callback ends a tracked task), and Tencent transcodes nobody
registered (the callback creates the record, already finished). Only once every merge is registered
are the tasks given to the simulator, their timelines running from then (``created``), ending one at a
time ``spacing_seconds`` apart. A watcher reads each task's record with a consistent GetItem in a loop
from the moment its timeline ends and notes when a read first returns it terminal. A callback's latency
is that moment minus the start of the simulator's first try (``CallbackRecord.monotonic``, the same
monotonic clock): an upper bound, too long by at most one read (the read period is reported). A first
try that was refused would count with its retry, 2 s later, as ZEGO would deliver it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from bench.common import progress, quiet_stdout
from bench.stats import summary
from devstack.__main__ import demo_poller_environment
from devstack.stack import LocalStack, StackOptions
from devstack.zego_simulator import CallbackOutcome, CallbackRecord, Scenario, TaskSpec, Vendor, ZegoSimulator
from zego_media_tasks.domain.status import ChangeSource, TaskKind
from zego_media_tasks.domain.status import Vendor as RecordVendor
from zego_media_tasks.store.task_store import TaskStore

MERGES = 45
TRANSCODES = 15
SPACING_SECONDS = 0.5
"""Apart enough that one callback is answered before the next is sent: one receiver instance serves them
one at a time, as one Lambda instance would, so closer callbacks would measure their queue."""
READ_PAUSE_SECONDS = 0.002
"""Between two rounds of reads: the watcher shares the interpreter (and its lock) with the receiver."""
FIRST_END_SECONDS = 2.0
"""When the first task ends, after the tasks are given to the simulator."""
PATH = (
    "simulator → HTTP POST → local API Gateway → CallbackFunction (consistent Query + conditional PutItem, "
    "moto over loopback) → 200; seen by a consistent GetItem loop"
)


def scenario(merges: int, transcodes: int, *, spacing: float, first_end: float) -> Scenario:
    """``merges`` Huawei merges and ``transcodes`` Tencent transcodes, interleaved, ending one at a time
    from when they are given to the simulator."""
    # Spread evenly: the transcodes' callbacks fall between the merges', not in one burst.
    spread = [(i / merges, "merge") for i in range(merges)] + [
        ((j + 0.5) / transcodes, "transcode") for j in range(transcodes)
    ]
    tasks: list[dict[str, Any]] = []
    for index, (_, kind) in enumerate(sorted(spread)):
        timeline = [{"status": "PROCESSING", "seconds": round(first_end + index * spacing, 3)}]
        if kind == "merge":
            tasks.append(
                {
                    "task_id": str(300_000_000 + index),
                    "vendor": "Huawei",
                    "event": "compose",
                    "timeline": timeline,
                    "final": {"status": "SUCCEEDED", "ReplayUrl": f"https://obs.example/merge/{index}.mp4"},
                    "callback": "send",
                }
            )
        else:
            tasks.append(
                {
                    "task_id": f"1500000000-procedurev2-{index:032x}tt0",
                    "vendor": "Tencent",
                    "event": "transcode",
                    "clock": "created",
                    "timeline": timeline,
                    "final": {
                        "status": "FINISH",
                        "FileId": str(10**18 + index),
                        "ReplayUrl": "https://v.example/t.mp4",
                    },
                    "callback": "send",
                }
            )
    return Scenario.from_dict({"description": "callback latency benchmark", "tasks": tasks})


class _Watcher(threading.Thread):
    """Reads each task's record from the moment its timeline ends until a read returns it terminal."""

    def __init__(self, store: TaskStore, ends: Mapping[tuple[str, str], float], timeout: float) -> None:
        super().__init__(name="callback-latency-watcher", daemon=True)
        self._store = store
        self._pending = dict(ends)
        self._deadline = time.monotonic() + timeout
        self.seen: dict[tuple[str, str], tuple[float, ChangeSource | None]] = {}
        self.read_seconds: list[float] = []

    def run(self) -> None:
        while self._pending and time.monotonic() < self._deadline:
            now = time.monotonic()
            due = [key for key, end in self._pending.items() if end <= now]
            if not due:
                time.sleep(min(0.005, max(0.0, min(self._pending.values()) - now)))
                continue
            for key in due:
                began = time.monotonic()
                record = self._store.get(key[0], RecordVendor(key[1]), consistent=True)
                returned = time.monotonic()
                self.read_seconds.append(returned - began)
                if record is not None and record.terminal:
                    self.seen[key] = (returned, record.completed_by)
                    del self._pending[key]
            time.sleep(READ_PAUSE_SECONDS)


def _first_tries(records: list[CallbackRecord]) -> dict[tuple[str, str], CallbackRecord]:
    return {(r.task_id, r.vendor): r for r in records if r.attempt == 1 and r.copy == 1}


def run(
    *,
    merges: int = MERGES,
    transcodes: int = TRANSCODES,
    spacing: float = SPACING_SECONDS,
    first_end: float = FIRST_END_SECONDS,
) -> dict[str, Any]:
    """One run; the figures for ``results.json``."""
    plan = scenario(merges, transcodes, spacing=spacing, first_end=first_end)
    options = StackOptions(
        scenario=Scenario(),
        simulator_callbacks=True,
        poller_environment=demo_poller_environment(),
    )
    progress(f"callback latency: {merges} Huawei merges and {transcodes} Tencent transcodes, {spacing:g} s apart")
    load_before = os.getloadavg()[0]
    with quiet_stdout(), LocalStack(options) as stack:
        simulator = stack.simulator
        if simulator is None or simulator.callbacks is None:  # pragma: no cover - set by start()
            raise RuntimeError("local stack did not start with simulator callbacks")
        for spec in plan.tasks:
            if spec.is_huawei_compose:  # the transcodes stay unregistered, so that nothing polls them
                stack.register(spec.task_id, spec.vendor.value, TaskKind.MERGE.value).raise_for_status()
        simulator.add_tasks(plan)  # the timelines start now
        ends = {(spec.task_id, spec.vendor.value): _timeline_end(simulator, spec) for spec in plan.tasks}
        store = TaskStore(stack.provisioned().table_names["TasksTable"])
        watcher = _Watcher(store, ends, timeout=max(ends.values()) - time.monotonic() + 30)
        watcher.start()
        watcher.join()
        simulator.callback_log.wait_for(lambda records: len(_first_tries(records)) >= len(ends), timeout=10)
        records = simulator.callback_log.records()
    first = _first_tries(records)
    latencies, other, retried = [], 0, 0
    for key, (seen_at, source) in watcher.seen.items():
        if source is not ChangeSource.CALLBACK or key not in first:
            other += 1
            continue
        latencies.append(1000 * (seen_at - first[key].monotonic))
        retried += first[key].outcome != CallbackOutcome.DELIVERED
    delivered = [r for r in records if r.outcome == CallbackOutcome.DELIVERED]
    return {
        "callbacks": len(ends),
        "tasks": {"huawei_merge_registered": merges, "tencent_transcode_unregistered": transcodes},
        "spacing_seconds": spacing,
        "measured": len(latencies),
        "not_seen": len(ends) - len(watcher.seen),
        "ended_otherwise": other,
        "first_try_refused": retried,
        "send_to_visible_ms": summary(latencies, digits=1),
        "delivery_round_trip_ms": summary([1000 * r.duration_seconds for r in delivered], digits=1),
        "read_period_ms": summary([1000 * seconds for seconds in watcher.read_seconds], digits=1),
        "dispatch_delay_ms": summary(
            [1000 * (first[key].monotonic - end) for key, end in ends.items() if key in first], digits=1
        ),
        "path": PATH,
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }


def _timeline_end(simulator: ZegoSimulator, spec: TaskSpec) -> float:
    book = simulator.service.book
    start = book.timeline_start(Vendor(spec.vendor.value), spec.task_id)
    if start is None:
        raise RuntimeError(f"{spec.task_id}: its timeline did not start when it was added")
    return start.monotonic + spec.timeline_seconds * book.time_scale
