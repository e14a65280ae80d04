"""The soak's report: a console summary, ``soak/report.json`` and ``docs/soak.md`` (the latest run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from soak.runner import SoakResult


def _mark(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def console_summary(result: SoakResult) -> str:
    """The counts and the verdict, as printed at the end of ``make soak``."""
    lines = [
        "",
        f"Chaos soak: {_mark(result.passed)} in {result.duration_seconds:.0f} s "
        f"({result.config.tasks} tasks, seed {result.config.seed})",
    ]
    for criterion in result.criteria:
        lines.append(f"  [{_mark(criterion.passed)}] {criterion.name}: {criterion.summary}")
    counts = result.counts
    zego, queue, esm = counts["zego"], counts["queue"], counts["event_source"]
    lines += [
        f"  ZEGO calls {zego['calls']} ({zego['calls_per_task']} per task), faults {zego['faults']}, "
        f"codes {zego['codes']}",
        f"  messages sent {queue['messages_sent']} {queue['by_origin']}, duplicates sent {queue['duplicates_sent']} "
        f"(delivered {queue['duplicates_delivered']}), handled {queue['messages_handled']}",
        f"  handled outcomes {queue['handled_outcomes']}",
        f"  invocations {esm['invocations']}, crashed {esm['crashes_injected']}, records redelivered "
        f"{queue['redelivered_records']} (max receive count {queue['max_receive_count']})",
        f"  fenced writes {counts['fenced_writes']}",
    ]
    return "\n".join(lines)


def write_json(result: SoakResult, path: Path) -> None:
    """The whole result as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.as_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def markdown(result: SoakResult) -> str:
    """``docs/soak.md``: what was run, the verdict per criterion and the counts behind it."""
    data = result.as_dict()
    config, counts = data["config"], data["counts"]
    criteria = {c.name: c for c in result.criteria}
    outcome = next(iter(criteria.values()))
    lines = [
        "# Chaos soak: latest run",
        "",
        "Written by `make soak` (`python -m soak`); the full numbers are in `soak/report.json` (not committed).",
        "What the soak does and why each criterion means what it says: `soak/__init__.py`, `soak/analysis.py`.",
        "",
        f"- **Verdict: {_mark(result.passed)}** — {result.started_at}, {result.duration_seconds:.0f} s "
        f"wall clock (limit 600 s) on {data['machine']['platform']}, {data['machine']['cpus']} CPUs, "
        f"Python {data['machine']['python']}.",
        f"- {config['tasks']} tasks (seed {config['seed']}), registered at {config['registration_rate']}/s: "
        f"{counts['plan']['by_channel']}; timelines at time scale {config['time_scale']}.",
        f"- Faults per ZEGO call: HTTP 5xx {config['faults']['http_5xx_rate']:.0%}, hangs "
        f"{config['faults']['hang_rate']:.0%} ({config['faults']['hang_seconds']} s, read timeout 1 s), "
        f"Code 6 {config['faults']['code_6_rate']:.0%}, Code 1000 {config['faults']['code_1000_rate']:.0%}, "
        f"truncated JSON {config['faults']['malformed_json_rate']:.0%}; {config['duplicate_rate']:.0%} of "
        f"messages sent twice; {config['crash_rate']:.0%} of poller invocations crash after re-enqueueing, "
        "before acknowledging.",
        f"- Soak-only settings: poll queue visibility timeout {config['visibility_timeout_seconds']} s (template "
        "parameter override; default 180 s), backoff 1-4 s, throttle retry 1 s, NO_TASK grace "
        f"{config['not_found_grace_seconds']} s, task deadline {config['task_deadline_seconds']} s, ZEGO read "
        "timeout 1 s. Everything else as the template deploys it (batch 10, batching window 1 s, 5 concurrent "
        "invocations, 30 s timeout, maxReceiveCount 5, 20 ZEGO calls/s).",
        "- moto runs in a child process (a CPU core of its own) with DynamoDB writes applied one at a time, as "
        "DynamoDB applies the writes to one item; every write the table applied is read back from its stream.",
        "",
        "## Criteria",
        "",
    ]
    lines += _table(
        [(c.name, _mark(c.passed), c.summary) for c in result.criteria], ("criterion", "result", "measured")
    )
    lines += ["", "## Tasks by kind", ""]
    by_kind = outcome.details.get("by_kind", {})
    expected_by_kind: dict[str, str] = counts["plan"].get("expected_by_kind", {})
    lines += _table(
        [
            (kind, expected_by_kind.get(kind, ""), values.get("tasks", 0), values.get("as_expected", 0))
            for kind, values in by_kind.items()
        ],
        ("kind", "must end", "tasks", "ended as expected"),
    )
    zego, queue, esm = counts["zego"], counts["queue"], counts["event_source"]
    chains = criteria["never more than one live chain per task once duplicates are absorbed"].details
    writes = criteria["no record ever went backwards"].details
    chaos = criteria["the chaos was really applied"].details["observed"]
    lines += ["", "## Chaos applied", ""]
    lines += _table(
        [(name, v["count"], v["of"], f"{v['share']:.2%}", f"{v['target']:.0%}") for name, v in chaos.items()],
        ("injected", "count", "out of", "share", "target"),
    )
    lines += [
        "",
        "## Counts",
        "",
        f"- ZEGO calls: {zego['calls']} ({zego['calls_per_task']} per task); answers by code {zego['codes']}; "
        f"no answer (hangs) {zego['no_answer']}; busiest second {zego['busiest_window_calls']} calls.",
        f"- Poll messages sent: {queue['messages_sent']} {queue['by_origin']}; duplicates sent "
        f"{queue['duplicates_sent']}, delivered {queue['duplicates_delivered']}.",
        f"- Messages handled by the poller: {queue['messages_handled']} {queue['handled_outcomes']}.",
        f"- Poller invocations: {esm['invocations']} ({esm['records']} records), crashed {esm['crashes_injected']}, "
        f"items reported failed {esm['reported_failures']}; records redelivered {queue['redelivered_records']}, "
        f"highest receive count {queue['max_receive_count']}.",
        f"- Fenced writes by the poller: {counts['fenced_writes']}.",
        f"- Table writes (its stream): {writes['writes']} on {writes['records']} records {writes['events']}; "
        f"generation steps {writes['generation_steps']}; highest generation {writes['max_generation']}.",
        f"- Live chains: {chains['episodes']} episodes with two or more on {chains['tasks_with_episodes']} tasks "
        f"(longest {chains['episode_seconds_max']} s, mean {chains['episode_seconds_mean']} s), peak per task "
        f"{chains['peak_live_chains_histogram']}; generations polled by two copies "
        f"{chains['generations_polled_by_two_copies']}; not absorbed {chains['episodes_not_absorbed']}.",
        f"- Time until every task was terminal: {counts['timing']['until_all_terminal_seconds']} s; queue drained "
        f"in a further {counts['timing']['drain_seconds']} s.",
        "",
    ]
    lines += [
        "## How to read it",
        "",
        "- A *live chain* is a poll message not yet handled whose generation is the record's current one: the only "
        "kind that can still advance the record. A duplicate makes two for a while (an *episode*); the fence must "
        "end every episode, and no generation may ever be written twice.",
        "- *Generations polled by two copies* are the price of duplicates handled at the same moment: both "
        "called ZEGO, one write won, the other was superseded (the fenced-write counts show the same number).",
        "- A malformed message whose invocation crashed after the poller parked it is delivered again and parked "
        "again: the DLQ check expects one copy per time the poller parked it (at-least-once, as designed).",
        "- The chaos criterion compares each injected fault with the calls it was drawn for (those the "
        "simulator's own 20/s limit admitted), within four standard deviations.",
        "",
    ]
    failed = [c for c in result.criteria if not c.passed]
    if failed:
        lines += ["## Failures", ""]
        for criterion in failed:
            lines += [f"### {criterion.name}", "", "```json", json.dumps(criterion.details, indent=2)[:4000], "```", ""]
    return "\n".join(lines)


def write_markdown(result: SoakResult, path: Path) -> None:
    """Write :func:`markdown` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(result), encoding="utf-8")
