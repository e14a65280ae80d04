"""``python -m bench`` (``make bench``): run the seven benchmarks, write ``bench/results.json`` and the
charts, refresh the figures block of ``docs/benchmarks.md``.

``--quick`` shortens every run (for trying the harness, not for figures); ``--only`` runs some
benchmarks and keeps the other sections of results.json as they are when it is written (read again
then, so that another ``--only`` run's sections written meanwhile stay). The whole default run takes
about 14 minutes on the 2-core machine of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bench import machine
from bench.common import BENCH_DIR, ROOT, progress, template_defaults

RESULTS = BENCH_DIR / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"
BENCHMARKS = (
    "cold_start",
    "per_record",
    "polling_efficiency",
    "rate_limit",
    "overload",
    "callback_latency",
    "events",
    "watchdog",
    "long_lists",
)
SWEEP = [
    {"ceiling": 19.0},
    {"ceiling": 18.0},
    {"ceiling": 18.0, "concurrency": 10},
    # What-ifs: ZEGO 250 ms away (a cross-region round trip) instead of the simulator's 50 ms.
    {"ceiling": 19.0, "latency_seconds": 0.25},
    {"ceiling": 19.0, "concurrency": 10, "latency_seconds": 0.25},
]


def _run_one(name: str, quick: bool, results: dict[str, Any]) -> dict[str, Any]:
    if name == "cold_start":
        from bench import cold_start

        return cold_start.run(runs=5 if quick else 20)
    if name == "per_record":
        from bench import per_record

        return per_record.run(quick=quick)
    if name == "callback_latency":
        from bench import callback_latency

        return callback_latency.run(merges=12, transcodes=4) if quick else callback_latency.run()
    if name == "events":
        from bench import events

        return events.run(quick=quick)
    if name == "watchdog":
        from bench import watchdog

        return watchdog.run(quick=quick)
    if name == "long_lists":
        from bench import long_lists

        return long_lists.run(quick=quick)
    if name == "polling_efficiency":
        from bench import polling_efficiency

        progress("polling efficiency: virtual-clock simulation")
        return polling_efficiency.run(tasks=1000 if quick else 10_000)
    if name == "overload":
        from bench import overload

        progress("overload: virtual-clock fleet, 20,000 tasks in flight" if not quick else "overload: 2,000 tasks")
        sizing = overload.Sizing.from_template(handler_cpu_ms_per_record(results) / 1000)
        if quick:
            return overload.run(tasks=2000, sizing=sizing, warmup_seconds=200, measure_seconds=200, sweep=False)
        return overload.run(tasks=20_000, sizing=sizing, warmup_seconds=1000, measure_seconds=1000)
    from bench import rate_limit

    # Short runs, repeated (the median is reported): the machine is shared and noisy.
    main = rate_limit.Durations(warmup_seconds=5, measure_seconds=15) if quick else rate_limit.Durations(10, 30)
    sweep = rate_limit.Durations(warmup_seconds=5, measure_seconds=10) if quick else rate_limit.Durations(10, 30)
    return rate_limit.run(
        tasks=2000,
        main=main,
        sweep=sweep,
        sweep_knobs=SWEEP[:1],
        repeats=1 if quick else 3,
        adaptation_durations=rate_limit.Durations(0.5, 30 if quick else 90),
    )


def handler_cpu_ms_per_record(results: dict[str, Any]) -> float:
    """The poller's CPU per record on one full core, from the sections already measured: with the real
    adapters (boto3, requests), the handler's own threads (what Lambda bills), else the whole bench
    process (with the harness's receivers); else the stubbed per-record figure; else the overload
    model's recorded default."""
    from bench.overload import HANDLER_CPU_SECONDS_PER_RECORD

    rate = results.get("rate_limit", {}).get("handler_default", {})
    per_record = results.get("per_record", {}).get("poller", {})
    return float(
        rate.get("handler_cpu_ms_per_record")
        or rate.get("bench_process_cpu_ms_per_record")
        or per_record.get("marginal_cpu_ms_per_record")
        or 1000 * HANDLER_CPU_SECONDS_PER_RECORD
    )


def _costs(results: dict[str, Any]) -> dict[str, Any] | None:
    from bench.costs import SCENARIO_KEYS, cost_section, pipeline_section
    from zego_media_tasks.domain.watch import WATCH_SHARDS

    polling = results.get("polling_efficiency")
    per_record = results.get("per_record")
    if polling is None or per_record is None:
        return None
    rate = results.get("rate_limit", {}).get("handler_default", {})
    cpu_ms = handler_cpu_ms_per_record(results)
    # The wait for slots at ZEGO's ceiling: the overload model's, which runs the fleet the template deploys
    # (the handler-level harness runs its instances on a full core against a near simulator, so it has
    # more instances than its pace needs and waits for slots more than a deployment would).
    wait = results.get("overload", {}).get("limiter_wait_seconds_per_record")
    if wait is None:
        wait = rate.get("limiter_wait_seconds", {}).get("mean", 0.0)
    knobs = {
        "memory_mb": int(template_defaults()["PollerMemorySize"]),
        "cpu_seconds_per_record": cpu_ms / 1000,
        "invocation_overhead_seconds": per_record["poller"]["cpu_ms_per_invocation_overhead"] / 1000,
        "limiter_wait_seconds": float(wait),
        "log_bytes_per_record": {
            "backlog": float(per_record["poller"]["batch_10"].get("log_bytes_per_record", 0)),
            "quiet": float(per_record["poller"]["batch_1"].get("log_bytes_per_record", 0)),
        },
    }
    section = cost_section(polling["schedules"], **knobs)
    # The whole pipeline per million tasks (poller, stream and publisher, callbacks route, watchdog) for
    # the two scenarios of the standard mix: results.json "costs" → per_million_tasks_*.
    scenarios = {name: polling[name] for name, _key in SCENARIO_KEYS if name in polling}
    events = results.get("events", {})
    if scenarios and all(s["all"].get("write_units_per_poll") is not None for s in scenarios.values()) and events:
        section.update(
            pipeline_section(
                scenarios,
                cost_section(scenarios, **knobs),
                publisher_assumptions=events["costs"]["assumptions"],
                events_per_task={name: row["mean"] for name, row in events.get("events_per_task", {}).items()},
                defaults=template_defaults(),
                watch_shards=WATCH_SHARDS,
            )
        )
    return section


def main(argv: Sequence[str] | None = None) -> None:
    """Run, write, render."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, to try the harness")
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="run only these (repeatable)")
    args = parser.parse_args(argv)
    selected = args.only or list(BENCHMARKS)
    started = time.monotonic()
    results: dict[str, Any] = {}
    if args.only and RESULTS.exists():
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    results["machine"] = machine.describe()
    timings: dict[str, float] = dict(results.get("benchmark_seconds", {}))
    for name in BENCHMARKS:
        if name in selected:
            began = time.monotonic()
            results[name] = _run_one(name, args.quick, results)
            timings[name] = round(time.monotonic() - began, 1)
    if args.only and RESULTS.exists():
        # Read again: another --only run may have written its sections meanwhile.
        written = json.loads(RESULTS.read_text(encoding="utf-8"))
        results = {**written, **{name: results[name] for name in selected}, "machine": results["machine"]}
        timings = {**written.get("benchmark_seconds", {}), **{name: timings[name] for name in selected}}
    costs = _costs(results)
    if costs is not None:
        results["costs"] = costs
    results["benchmark_seconds"] = timings
    results["benchmarks_run"] = [name for name in BENCHMARKS if name in selected]
    results["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["quick"] = args.quick
    results["duration_seconds"] = round(time.monotonic() - started, 1)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    progress(f"wrote {RESULTS.relative_to(ROOT)}")

    from bench import charts, report

    for path in charts.render(results, BENCH_DIR):
        progress(f"wrote {path.relative_to(ROOT)}")
    if report.update_document(DOC, results):
        progress(f"refreshed the figures in {DOC.relative_to(ROOT)}")
    print(report.summary(results))


if __name__ == "__main__":
    main()
