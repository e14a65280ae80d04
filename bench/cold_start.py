"""Benchmark 3, cold start: the time to import and initialise each handler in a fresh interpreter,
next to the time to import its dependencies alone (``bench/cold_probe.py`` does one measurement per
process; this module runs it, interleaving the kinds so that machine drift hits them all alike).

The probes see an environment like the function's (names of tables and queues, the ZEGO settings,
``AWS_LAMBDA_FUNCTION_NAME`` so Powertools behaves as in Lambda) pointing at 127.0.0.1:9, where nothing
listens; building clients makes no network call, and nothing is invoked.

Each probe is timed twice: from its first line to the end of its work (the probe's own clock), and as a
whole process (interpreter start and exit included, measured here around ``subprocess.run``).

What our code costs is then found with ``python -X importtime`` (modules the handler imports that its
dependencies do not) and a profile of the first-invocation initialisation.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess  # nosec B404
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from bench.common import BENCH_DIR, ROOT, progress

PROBE = BENCH_DIR / "cold_probe.py"
KINDS = ("deps-poller", "deps-init-poller", "poller", "deps-api", "deps-init-api", "api")
UNROUTABLE = "http://127.0.0.1:9"
"""The discard port on loopback: nothing listens there, so a stray request would fail at once."""
ENVIRONMENT = {
    "PYTHONPATH": str(ROOT / "layers" / "shared"),
    "AWS_ENDPOINT_URL": UNROUTABLE,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_LAMBDA_FUNCTION_NAME": "bench-cold-start",
    "POWERTOOLS_SERVICE_NAME": "zego-media-tasks",
    "POWERTOOLS_METRICS_NAMESPACE": "ZegoMediaTasks/Bench",
    "POWERTOOLS_TRACE_DISABLED": "true",  # the template's default (TracingEnabled=false)
    "TABLE_NAME": "bench-tasks",
    "RATE_LIMIT_TABLE_NAME": "bench-rate-limit",
    "QUEUE_URL": f"{UNROUTABLE}/123456789012/bench-poll",
    "DLQ_URL": f"{UNROUTABLE}/123456789012/bench-dlq",
    "ZEGO_APP_ID": "1234567890",
    "ZEGO_SERVER_SECRET": "not-a-real-secret-used-only-for-cold-start",
    "ZEGO_ENDPOINT": UNROUTABLE,
    "PAGINATION_SECRET": "not-a-real-pagination-key-for-the-benchmark",
    "PATH": "/usr/bin:/bin",
    # No local AWS configuration may change what boto3 does at start-up.
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}
_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


def _probe(kind: str, *extra: str, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    # -P: do not put bench/ on sys.path (its module names must not shadow anything the handlers import).
    command = [sys.executable, "-P", *(["-X", "importtime"] if importtime else []), str(PROBE), kind, *extra]
    return subprocess.run(  # noqa: S603 - our interpreter, our probe, fixed arguments # nosec B603
        command, env=ENVIRONMENT, capture_output=True, text=True, timeout=60, check=True, cwd=ROOT
    )


def _report(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    last = completed.stdout.strip().splitlines()[-1]
    report: dict[str, Any] = json.loads(last)
    return report


def _timed_probe(kind: str) -> dict[str, Any]:
    """One probe's report, with ``process_seconds``: the whole process, start to exit."""
    started = time.perf_counter()
    completed = _probe(kind)
    elapsed = time.perf_counter() - started
    return {**_report(completed), "process_seconds": elapsed}


def import_self_times(stderr: str) -> dict[str, int]:
    """Module → self import time in microseconds, from ``-X importtime`` output."""
    times: dict[str, int] = {}
    for line in stderr.splitlines():
        found = _IMPORTTIME.match(line)
        if found:
            times[found.group(3)] = int(found.group(1))
    return times


def attribute_imports(handler: Mapping[str, int], dependencies: Mapping[str, int]) -> dict[str, Any]:
    """What the handler imports beyond its dependencies, grouped by top-level package (ms)."""
    extra = {module: micros for module, micros in handler.items() if module not in dependencies}
    packages: dict[str, int] = {}
    for module, micros in extra.items():
        top = module.split(".")[0]
        packages[top] = packages.get(top, 0) + micros
    return {
        "extra_modules": len(extra),
        "extra_ms": round(sum(extra.values()) / 1000, 1),
        "by_package_ms": {name: round(v / 1000, 1) for name, v in sorted(packages.items(), key=lambda i: -i[1])[:10]},
        "top_modules_ms": {name: round(v / 1000, 1) for name, v in sorted(extra.items(), key=lambda i: -i[1])[:12]},
    }


def _median_ms(values: Sequence[float]) -> float:
    return round(1000 * statistics.median(values), 1)


def run(*, runs: int = 20) -> dict[str, Any]:
    """``runs`` interleaved measurements of every kind (after one unmeasured run each, which also
    writes the bytecode caches), then the import-time attribution and the init profiles."""
    for kind in KINDS:
        _probe(kind)
    samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for round_number in range(runs):
        if round_number % 5 == 0:
            progress(f"cold start: round {round_number + 1}/{runs}")
        for kind in KINDS:
            samples[kind].append(_timed_probe(kind))
    medians = {
        kind: {
            "runs": len(rows),
            "total_ms": _median_ms([row["seconds"] for row in rows]),
            "import_ms": _median_ms([row["import_seconds"] for row in rows]),
            "init_ms": _median_ms([row["init_seconds"] for row in rows]),
            "process_ms": _median_ms([row["process_seconds"] for row in rows]),
            "min_total_ms": round(1000 * min(row["seconds"] for row in rows), 1),
            "max_total_ms": round(1000 * max(row["seconds"] for row in rows), 1),
        }
        for kind, rows in samples.items()
    }
    result: dict[str, Any] = {"runs_per_kind": runs, "medians": medians, "handlers": {}}
    for handler in ("poller", "api"):
        total = medians[handler]["total_ms"]
        deps = medians[f"deps-{handler}"]["total_ms"]
        deps_init = medians[f"deps-init-{handler}"]["total_ms"]
        process = medians[handler]["process_ms"]
        deps_init_process = medians[f"deps-init-{handler}"]["process_ms"]
        importtime_handler = import_self_times(_probe(handler, importtime=True).stderr)
        importtime_deps = import_self_times(_probe(f"deps-init-{handler}", importtime=True).stderr)
        profile = _report(_probe(handler, "--profile")).get("init_profile", [])
        result["handlers"][handler] = {
            "handler_ms": total,
            "dependencies_import_ms": deps,
            "dependencies_with_objects_ms": deps_init,
            "ratio_to_dependencies": round(total / deps, 3),
            "own_code_adds": round(total / deps - 1, 3),
            "own_code_adds_beyond_dependency_objects": round(total / deps_init - 1, 3),
            "process_ms": process,
            "dependencies_with_objects_process_ms": deps_init_process,
            "whole_process_ratio": round(process / deps_init_process, 3),
            "target_whole_process_at_most_1_2": process / deps_init_process <= 1.2,
            "target_own_code_below_20pct": total / deps - 1 < 0.20,
            "imports_beyond_dependencies": attribute_imports(importtime_handler, importtime_deps),
            "init_profile_top": profile[:10],
        }
    return result
