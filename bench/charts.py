"""PNG charts of results.json (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

ZEGO_LIMIT = 20


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def rate_limit_chart(section: Mapping[str, Any], path: Path) -> Path:
    """ZEGO calls per second over the measured window: admitted and Code 6, per run."""
    runs = [(key, section[key]) for key in ("handler_default", "stack_default", "stack_best") if key in section]
    figure, axes = plt.subplots(len(runs), 1, figsize=(10, 2.8 * len(runs)), sharex=True, squeeze=False)
    for axis, (key, run) in zip(axes[:, 0], runs, strict=True):
        per_second = run["zego"]["per_second"]
        throttled = run["zego"]["per_second_code_6"]
        admitted = [total - six for total, six in zip(per_second, throttled, strict=True)]
        seconds = list(range(len(per_second)))
        axis.bar(seconds, admitted, width=1.0, color="#4c72b0", label="Code 0")
        axis.bar(seconds, throttled, width=1.0, bottom=admitted, color="#dd8452", label="Code 6")
        axis.axhline(ZEGO_LIMIT, color="black", linestyle="--", linewidth=1, label="ZEGO limit (20/s)")
        ceiling = run["knobs"]["ceiling"]
        if ceiling != ZEGO_LIMIT:
            axis.axhline(ceiling, color="#55a868", linestyle=":", linewidth=1.2, label=f"our ceiling ({ceiling:g}/s)")
        zego = run["zego"]
        axis.set_title(
            f"{key.replace('_', ' ')}: {run['label']}: {zego['admitted_per_second']:.2f} admitted/s, "
            f"Code 6 {100 * zego['code_6_share']:.2f} %, busiest second {zego['busiest_second_all_calls']}",
            fontsize=9,
        )
        axis.set_ylabel("calls / s")
        axis.set_ylim(0, max(25, max(per_second, default=0) + 2))
        axis.legend(loc="lower right", fontsize=7, ncol=4)
    axes[-1, 0].set_xlabel("second of the measured window")
    return _save(figure, path)


def rate_limit_sweep_chart(section: Mapping[str, Any], path: Path) -> Path:
    """Admitted calls/s and Code-6 share for every handler-level configuration."""
    runs = [section["handler_default"], *section.get("handler_sweep", [])]
    labels = [
        f"{run['knobs']['ceiling']:g}/s, {run['knobs']['concurrency']} inst."
        + (f", ZEGO {1000 * run['simulator_latency_seconds']:.0f} ms" if "simulator_latency_seconds" in run else "")
        for run in runs
    ]
    figure, left = plt.subplots(figsize=(10, 4))
    positions = list(range(len(runs)))
    left.bar(positions, [run["zego"]["admitted_per_second"] for run in runs], color="#4c72b0")
    left.axhline(ZEGO_LIMIT, color="black", linestyle="--", linewidth=1)
    left.set_ylabel("admitted calls / s (bars)")
    left.set_ylim(0, 22)
    left.set_xticks(positions, labels, rotation=20, ha="right", fontsize=8)
    right = left.twinx()
    right.plot(positions, [100 * run["zego"]["code_6_share"] for run in runs], "o-", color="#dd8452")
    right.axhline(0.5, color="#dd8452", linestyle=":", linewidth=1)
    right.set_ylabel("Code 6 share, % (line; target < 0.5 %)")
    left.set_title("Handler level: configurations tried", fontsize=10)
    return _save(figure, path)


def polling_chart(section: Mapping[str, Any], path: Path) -> Path:
    """Calls per task and detection lag (p50/p95) per schedule and kind."""
    schedules = section["schedules"]
    names = list(schedules)
    kinds = ["snapshot", "merge", "transcode", "all"]
    figure, (calls_axis, lag_axis) = plt.subplots(1, 2, figsize=(12, 4.2))
    width = 0.8 / len(names)
    for index, name in enumerate(names):
        offsets = [k + (index - (len(names) - 1) / 2) * width for k in range(len(kinds))]
        calls = [schedules[name][kind]["calls_per_task"]["mean"] for kind in kinds]
        calls_axis.bar(offsets, calls, width=width, label=name)
        p50 = [schedules[name][kind]["detection_lag_seconds"]["p50"] for kind in kinds]
        p95 = [schedules[name][kind]["detection_lag_seconds"]["p95"] for kind in kinds]
        bars = lag_axis.bar(offsets, p95, width=width, alpha=0.35)
        lag_axis.bar(offsets, p50, width=width, color=bars.patches[0].get_facecolor()[:3], label=name)
    calls_axis.set_yscale("log")
    calls_axis.set_xticks(range(len(kinds)), kinds)
    calls_axis.set_ylabel("ZEGO calls per task (mean, log scale)")
    calls_axis.legend(fontsize=8)
    lag_axis.set_xticks(range(len(kinds)), kinds)
    lag_axis.set_ylabel("detection lag, s (solid p50, light p95)")
    lag_axis.legend(fontsize=8)
    figure.suptitle(f"Polling efficiency, {section['tasks']:,} simulated tasks", fontsize=10)
    return _save(figure, path)


def cold_start_chart(section: Mapping[str, Any], path: Path) -> Path:
    """Median cold start: dependencies alone, with their objects, and the handler."""
    medians = section["medians"]
    rows = ["deps-poller", "deps-init-poller", "poller", "deps-api", "deps-init-api", "api"]
    labels = [
        "poller: boto3 + Powertools imports",
        "poller: + Logger/Tracer/Metrics + 2 boto3 clients",
        "poller handler (import + runtime())",
        "api: boto3 + Powertools imports",
        "api: + Logger/Tracer/Metrics",
        "api handler (import + api())",
    ]
    figure, axis = plt.subplots(figsize=(10, 3.6))
    imports = [medians[row]["import_ms"] for row in rows]
    inits = [medians[row]["init_ms"] for row in rows]
    positions = list(range(len(rows)))[::-1]
    axis.barh(positions, imports, color="#4c72b0", label="import")
    axis.barh(positions, inits, left=imports, color="#dd8452", label="first-invocation init")
    axis.set_yticks(positions, labels, fontsize=8)
    axis.set_xlabel(f"median ms over {section['runs_per_kind']} fresh interpreters")
    axis.legend(fontsize=8)
    return _save(figure, path)


def api_latency_chart(section: Mapping[str, Any], path: Path) -> Path:
    """API latency percentiles per offered rate."""
    steps = section["api_latency"]["steps"]
    rates = [step["target_rate"] for step in steps]
    figure, axis = plt.subplots(figsize=(8, 4))
    for key, style in (("p50", "o-"), ("p99", "s--")):
        axis.plot(rates, [step["service_latency_ms"][key] for step in steps], style, label=f"service time {key}")
        axis.plot(
            rates,
            [step["latency_from_schedule_ms"][key] for step in steps],
            style,
            alpha=0.5,
            label=f"from schedule {key}",
        )
    axis.set_yscale("log")
    axis.set_xlabel("offered requests / s (achieved: " + ", ".join(f"{s['achieved_rate']:g}" for s in steps) + ")")
    axis.set_ylabel("latency, ms (log)")
    axis.set_title("GET /tasks/{taskId}?vendor= on the local stack (loopback)", fontsize=10)
    axis.legend(fontsize=8)
    return _save(figure, path)


def adaptation_chart(section: Mapping[str, Any], path: Path) -> Path:
    """Code-0 and Code-6 answers per second while the fleet adapts to a ZEGO admitting less than configured."""
    admitted, throttled = section["per_second_code_0"], section["per_second_code_6"]
    seconds = list(range(len(admitted)))
    figure, axis = plt.subplots(figsize=(10, 3.2))
    axis.bar(seconds, admitted, width=1.0, color="#4c72b0", label="Code 0")
    axis.bar(seconds, throttled, width=1.0, bottom=admitted, color="#dd8452", label="Code 6")
    pace = [(s, p) for s, p in enumerate(section.get("pace_per_second", [])) if p is not None]
    if pace:
        axis.plot([s for s, _ in pace], [p for _, p in pace], color="#55a868", label="fleet pace (limiter)")
    admits = section["zego_admits_per_second"]
    axis.axhline(admits, color="black", linestyle="--", linewidth=1, label=f"ZEGO admits ({admits}/s)")
    axis.axhline(0.9 * admits, color="grey", linestyle=":", linewidth=1, label="90 %")
    axis.set_title(
        f"configured {section['configured_ceiling']:g}/s, ZEGO admits {admits}/s: "
        f"{section['admitted_per_second']:.2f} Code 0/s, Code 6 {100 * section['code_6_share']:.2f} %",
        fontsize=9,
    )
    axis.set_xlabel("second of the run")
    axis.set_ylabel("calls / s")
    axis.legend(loc="lower right", fontsize=7, ncol=5)
    return _save(figure, path)


def overload_chart(section: Mapping[str, Any], path: Path) -> Path:
    """Under overload: Code-0 calls per second, and how much later than scheduled each poll came."""
    run = section["runs"][0]
    figure, (rate, spread) = plt.subplots(1, 2, figsize=(11, 3.4))
    per_second = run["per_second_code_0"]
    rate.plot(range(len(per_second)), per_second, linewidth=0.6, color="#4c72b0")
    rate.axhline(ZEGO_LIMIT, color="black", linestyle="--", linewidth=1, label="ceiling (20/s)")
    rate.set_ylim(0, ZEGO_LIMIT + 3)
    rate.set_title(f"{section['tasks_in_flight']:,} tasks: Code-0 calls per second", fontsize=9)
    rate.set_xlabel("virtual second of the measured window")
    rate.legend(fontsize=7)
    late = run["lateness_sample"]
    spread.hist(late, bins=40, color="#dd8452")
    spread.set_title("actual minus scheduled poll time, s (sample)", fontsize=9)
    spread.set_xlabel("seconds")
    spread.set_ylabel("polls")
    return _save(figure, path)


SERVICE_COLOURS = {
    "sqs": "#4c72b0",
    "lambda": "#dd8452",
    "dynamodb": "#55a868",
    "api_gateway": "#c44e52",
    "eventbridge": "#8172b3",
    "cloudwatch_logs": "#937860",
}


def cost_breakdown_chart(costs: Mapping[str, Any], path: Path) -> Path:
    """Dollars per million tasks by service, per scenario and traffic regime (stacked bars)."""
    bars = [
        (f"{scenario.replace('_', ' ')}\n{pair.replace('+', ' + ')}", row)
        for scenario, pairs in costs["breakdown"].items()
        for pair, row in pairs.items()
    ]
    figure, axis = plt.subplots(figsize=(10, 4.6))
    bottoms = [0.0] * len(bars)
    for service, colour in SERVICE_COLOURS.items():
        values = [row.get(service, 0.0) for _, row in bars]
        axis.bar(range(len(bars)), values, bottom=bottoms, color=colour, label=service.replace("_", " "))
        bottoms = [bottom + value for bottom, value in zip(bottoms, values, strict=True)]
    for index, (_, row) in enumerate(bars):
        axis.text(index, row["total"] + 0.5, f"${row['total']:.2f}", ha="center", fontsize=8)
    axis.set_xticks(range(len(bars)), [label for label, _ in bars], fontsize=8)
    axis.set_ylabel("USD per million tasks (us-east-1, on demand)")
    axis.legend(fontsize=8, ncols=3)
    figure.suptitle("Cost per million tracked tasks by service, standard mix, default schedule", fontsize=10)
    return _save(figure, path)


def render(results: Mapping[str, Any], directory: Path) -> list[Path]:
    """Every chart whose section is present; returns the files written."""
    written: list[Path] = []
    if "rate_limit" in results:
        written.append(rate_limit_chart(results["rate_limit"], directory / "rate_limit.png"))
        written.append(rate_limit_sweep_chart(results["rate_limit"], directory / "rate_limit_sweep.png"))
        if "adaptation" in results["rate_limit"]:
            written.append(
                adaptation_chart(results["rate_limit"]["adaptation"], directory / "rate_limit_adaptation.png")
            )
    if "overload" in results:
        written.append(overload_chart(results["overload"], directory / "overload.png"))
    if "polling_efficiency" in results:
        written.append(polling_chart(results["polling_efficiency"], directory / "polling_efficiency.png"))
    if "cold_start" in results:
        written.append(cold_start_chart(results["cold_start"], directory / "cold_start.png"))
    if "per_record" in results:
        written.append(api_latency_chart(results["per_record"], directory / "api_latency.png"))
    if "breakdown" in results.get("costs", {}):
        written.append(cost_breakdown_chart(results["costs"], directory / "cost_breakdown.png"))
    return written
