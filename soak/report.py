"""The soak's report: a console summary, ``soak/report.json`` and ``docs/soak.md`` (the latest run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from soak.analysis import CALLBACKS_CRITERION, EVENTS_CRITERION
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
    criteria = {c.name: c.details for c in result.criteria}
    callbacks = criteria.get(CALLBACKS_CRITERION)
    if callbacks is not None:
        lines.append(
            f"  callbacks {callbacks['callbacks_scripted']} {callbacks['by_fate']}, tries {callbacks['tries']}, "
            f"receiver {callbacks['receiver_outcomes']}, tasks ended by {callbacks['ended_by']}"
        )
    events = criteria.get(EVENTS_CRITERION)
    if events is not None:
        lines.append(
            f"  state-change events {events['distinct_event_ids']} for {events['status_changes']} status changes, "
            f"{events['deliveries']} deliveries (duplicate rate {events['duplicate_rate']:.2%}), delay "
            f"p50 {events['delay_seconds']['p50']} s, p95 {events['delay_seconds']['p95']} s"
        )
    return "\n".join(lines)


def write_json(result: SoakResult, path: Path) -> None:
    """The whole result as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.as_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _lost_chain_settings(config: dict[str, Any]) -> list[str]:
    rotation = config.get("secret_rotation_at_seconds")
    lines = [
        f"- The ServerSecret, which the poller reads from Secrets Manager (moto) as deployed, is rotated "
        f"{rotation:g} s into the run: in Secrets Manager, then at ZEGO (the simulator)."
        if rotation is not None
        else "- No secret rotation in this variant."
    ]
    if not (config.get("deleted_rate") or config.get("dropped_send_rate")):
        return [
            *lines,
            "- No poll message is lost on purpose in this variant (a lost chain comes back one grace later).",
        ]
    return [
        *lines,
        f"- Lost chains, during the first {config['loss_window_seconds']:g} s: {config['deleted_rate']:.0%} of a "
        f"running chain's poll messages deleted on delivery, before the poller sees them, and "
        f"{config['dropped_send_rate']:.0%} of the poller's re-enqueues dropped while the record is written as if "
        f"they went out. The watchdog runs every {config['watchdog_interval_seconds']:g} s with the shortest grace "
        "the soak's queue allows (visibility timeout x maxReceiveCount); that outlasts the soak's deadlines, so a "
        "revived chain that no callback ended ends TIMED_OUT by DEADLINE, which the outcome criterion accepts for "
        "those tasks only, and only if the watchdog revived them.",
    ]


def _aws_fault_settings(config: dict[str, Any]) -> list[str]:
    windows = config.get("aws_fault_windows") or []
    if not windows:
        return ["- No AWS faults in this variant."]
    spans = ", ".join(f"{start:g}-{start + seconds:g} s" for start, seconds in windows)
    throttled = config["aws_throttle_share"]
    return [
        f"- AWS faults, in the emulator (the process hosting moto), during {spans} into the run: "
        f"{config['dynamodb_fault_rate']:.0%} of the stack's DynamoDB data-plane requests (GetItem, PutItem, "
        f"UpdateItem, Query, TransactWriteItems, ...) and {config['sqs_fault_rate']:.0%} of its SQS ones (SendMessage, "
        f"ReceiveMessage, DeleteMessage, ChangeMessageVisibility, and their batches) refused before moto sees them, "
        f"{throttled:.0%} as throttling (HTTP 400 `ProvisionedThroughputExceededException` or `ThrottlingException`; "
        f"SQS `RequestThrottled`), {1 - throttled:.0%} as HTTP 500 (`InternalServerError`; SQS `InternalFailure`), "
        "on the wire as AWS sends them. boto3's standard retries (4 attempts for DynamoDB, 3 for SQS) absorb most; "
        "the rest reach the product's defined outcomes: a poll message's item fails and SQS redelivers it after the "
        "visibility timeout, the API and the callback receiver answer 503 and the client (the registrar, ZEGO) tries "
        "again. Only the stack's own clients are targets (a header the soak adds to them): the local event sources, "
        "which stand in for AWS's pollers, and the soak's own readers are spared.",
    ]


def _aws_fault_counts(counts: dict[str, Any]) -> list[str]:
    faults = counts.get("aws_faults") or {}
    if not faults.get("requests"):
        return []
    return [
        f"- AWS faults: the stack made {faults['requests']} DynamoDB/SQS data-plane requests, {faults['in_window']} "
        f"within the fault windows, of which {faults['faults']} were refused ({faults['codes']}); requests of "
        f"others (event sources, the soak's readers) spared within the windows {faults.get('spared_in_window', {})}. "
        f"Registrations answered 503 and tried again: {faults.get('registrations_retried_after_503', 0)}.",
    ]


def _lost_chain_counts(counts: dict[str, Any]) -> list[str]:
    lost, rotation = counts.get("lost_chains"), counts.get("secret_rotation") or {}
    lines = []
    if rotation.get("rotated"):
        lines.append(
            f"- ServerSecret rotated mid-run: {rotation['calls_refused_for_the_old_secret']} calls refused for the old "
            "secret (Code 100000005), each followed at once by a fresh read of the secret and one retry."
        )
    if not lost:
        return lines
    return [
        *lines,
        f"- Lost chains: {lost['deleted_before_delivery']} messages deleted before delivery, {lost['sends_dropped']} "
        f"sends dropped, on {lost['tasks']} tasks; the watchdog ran {lost['watchdog_runs']} times and revived "
        f"{lost['chains_revived']} chains on {lost['tasks_revived']} tasks ({lost['lost_tasks_revived']} of the "
        "tasks that lost a message; the others were ended by their callback or by a duplicate of the lost message).",
    ]


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
        f"- {config['tasks']} tasks (seed {config['seed']}), registered at {config['registration_rate']}/s "
        f"(achieved: {_achieved(config['tasks'], counts['timing'].get('registration_seconds'))}): "
        f"{counts['plan']['by_channel']}; timelines at time scale {config['time_scale']}.",
        f"- Faults per ZEGO call: HTTP 5xx {config['faults']['http_5xx_rate']:.0%}, hangs "
        f"{config['faults']['hang_rate']:.0%} ({config['faults']['hang_seconds']} s, read timeout 1 s), "
        f"Code 6 {config['faults']['code_6_rate']:.0%}, Code 1000 {config['faults']['code_1000_rate']:.0%}, "
        f"truncated JSON {config['faults']['malformed_json_rate']:.0%}; {config['duplicate_rate']:.0%} of "
        f"messages sent twice; {config['crash_rate']:.0%} of poller invocations crash after re-enqueueing, "
        "before acknowledging.",
        *_lost_chain_settings(config),
        *_aws_fault_settings(config),
        *_callback_settings(config, counts),
        f"- Soak-only settings: poll queue visibility timeout {config['visibility_timeout_seconds']} s (template "
        "parameter override; default 180 s), backoff 1-4 s (with callbacks on: up to "
        f"{result.config.poller_environment()['POLL_BACKOFF_CAP_WITH_CALLBACKS_SECONDS']} s), throttle retry 1 s, "
        "NO_TASK grace "
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
        [(name, v["count"], v["of"], f"{v['share']:.2%}", f"{v['target'] * 100:g}%") for name, v in chaos.items()],
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
        f"- Fenced writes: {counts['fenced_writes']}, by writer {counts.get('fenced_writes_by_writer', {})}.",
        f"- Table writes (its stream): {writes['writes']} on {writes['records']} records {writes['events']}; "
        f"generation steps {writes['generation_steps']}; highest generation {writes['max_generation']}.",
        f"- Live chains: {chains['episodes']} episodes with two or more on {chains['tasks_with_episodes']} tasks "
        f"(longest {chains['episode_seconds_max']} s, mean {chains['episode_seconds_mean']} s), peak per task "
        f"{chains['peak_live_chains_histogram']}; generations polled by two copies "
        f"{chains['generations_polled_by_two_copies']}; not absorbed {chains['episodes_not_absorbed']}.",
        *_lost_chain_counts(counts),
        *_aws_fault_counts(counts),
        f"- Time until every task was terminal: {counts['timing']['until_all_terminal_seconds']} s; queue drained "
        f"in a further {counts['timing']['drain_seconds']} s.",
        "",
    ]
    callbacks, events = criteria.get(CALLBACKS_CRITERION), criteria.get(EVENTS_CRITERION)
    lines += _callback_section(callbacks.details if callbacks else None)
    lines += _events_section(events.details if events else None)
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
        "simulator's own 20/s limit admitted), within four standard deviations; a callback fault, with the "
        "callbacks scripted.",
        "- A Huawei task that appears late is scripted from ZEGO's first answer for it; when every query before "
        "that answer met a fault or the rate limit until past the NO_TASK grace, the poller saw NO_TASK past the "
        "grace, and NOT_FOUND by POLL is its defined end (the outcome criterion accepts it for those tasks only).",
        "- An AWS fault's share is counted out of the stack's requests to that service within the fault windows "
        "(each retry boto3 makes is a request of its own), in the emulator's process, where the refusals happen.",
        "- Callback fates are drawn by the plan (not by the simulator's random rates), so every task's end is "
        "known beforehand: a polled task whose callback is lost or badly signed is found by polling; a Huawei "
        "merge (never polled: DescribeMediaTask answers it NO_TASK) whose callback is lost or badly signed ends "
        "TIMED_OUT at its deadline. A failed snapshot gets no callback (a snapshot callback has no status).",
        "- *Already terminal*: a callback (late, duplicated, or beaten by a poll) for a task that had ended; "
        "answered 200 with no write. *Conflict*: its write lost to a concurrent poll while the task was still "
        "open; answered 503 and applied by ZEGO's retry.",
        "- An event's *delay* runs from the table's write (the stream record's ApproximateCreationDateTime) to "
        "its first delivery to the subscriber queue: stream read (4 a second), the publisher's batching window, "
        "PutEvents, the rule, the queue read. The publisher makes one PutEvents call per stream record, in "
        "order, on one shard; locally each takes about 0.1 s against moto on a shared CPU, so when the table "
        "changes status faster than that the delay is a backlog that grows with the run, not a latency.",
        "- The registration rate is a target: the registrar calls `POST /tasks` one at a time, so a slower "
        "gateway (every handler, the simulator and the publisher share this process) lowers what is achieved.",
        "",
    ]
    failed = [c for c in result.criteria if not c.passed]
    if failed:
        lines += ["## Failures", ""]
        for criterion in failed:
            lines += [f"### {criterion.name}", "", "```json", json.dumps(criterion.details, indent=2)[:4000], "```", ""]
    return "\n".join(lines)


def _achieved(tasks: int, seconds: float | None) -> str:
    return "-" if not seconds else f"{tasks / seconds:.1f}/s over {seconds:.0f} s"


def _callback_settings(config: dict[str, Any], counts: dict[str, Any]) -> list[str]:
    if not config.get("callbacks"):
        return ["- Completion callbacks: off (polling alone)."]
    faults = config["callback_faults"]
    return [
        f"- Completion callbacks to the stack's `POST /callbacks/zego` for {config['callback_share']:.0%} of the "
        f"tasks with an ending, with scripted faults per callback: lost {faults['lost_rate']:.0%}, duplicated "
        f"{faults['duplicate_rate']:.0%}, delayed {faults['delayed_rate']:.0%} ({faults['delay_seconds']:.0f} "
        f"scenario s), reordered {faults['reordered_rate']:.0%}, bad signature {faults['bad_signature_rate']:.0%}; "
        f"fates {counts['plan'].get('by_callback_fate', {})}. {config['kind_share']:.0%} of the other tasks, and "
        f"every Huawei merge, registered with their Kind ({counts['plan'].get('by_registered_kind', {})}).",
    ]


def _callback_section(details: dict[str, Any] | None) -> list[str]:
    if details is None:
        return []
    outcomes = details["receiver_outcomes"]
    lines = ["## Callbacks", ""]
    lines += _table(
        [(name, count) for name, count in outcomes.items()],
        ("receiver's answer", "callbacks (every try)"),
    )
    lines += [
        "",
        f"- Callbacks scripted: {details['callbacks_scripted']} {details['by_fate']}; tries sent "
        f"{details['tries']}, answers by HTTP status {details['tries_by_http_status']}.",
        f"- Applied {outcomes.get('APPLIED', 0)}, created a record {outcomes.get('CREATED', 0)}, already terminal "
        f"{outcomes.get('ALREADY_TERMINAL', 0)}, rejected {outcomes.get('REJECTED', 0)} (forged tries "
        f"{details['forged_tries']}, refused with 401 {details['refused_with_401']}, with a write "
        f"{details['refused_with_a_write']}, tasks a forged callback ended "
        f"{details['tasks_ended_by_a_forged_callback']}); "
        f"genuine tries refused {details['genuine_tries_refused']}; conflicts retried "
        f"{details['receiver_conflicts_retried']}; answered 503 for an unavailable table and retried "
        f"{details.get('receiver_unavailable_retried', 0)}.",
        f"- Tasks ended by (`completedBy`): {details['ended_by']}.",
        "",
    ]
    return lines


def _events_section(details: dict[str, Any] | None) -> list[str]:
    if details is None:
        return []
    delay = details["delay_seconds"]
    return [
        "## State-change events",
        "",
        f"- Status changes in the table's stream: {details['status_changes']}; distinct event ids delivered "
        f"{details['distinct_event_ids']}, deliveries {details['deliveries']} (redelivered {details['redeliveries']}, "
        f"duplicate rate {details['duplicate_rate']:.2%}).",
        f"- Missing {details['missing']}, extra {details['extra']}, changes with more than one id "
        f"{details['changes_with_several_ids']}, wrong status {details['wrong_content']}, sequence errors "
        f"{details['sequence_errors']}.",
        f"- Delay from the write to its delivered event ({delay['measured']} events): p50 {delay['p50']} s, p95 "
        f"{delay['p95']} s, max {delay['max']} s. Rates: the table changed status "
        f"{details.get('status_changes_per_second')}/s, events were delivered at "
        f"{details.get('deliveries_per_second')}/s.",
        "",
    ]


def write_markdown(result: SoakResult, path: Path) -> None:
    """Write :func:`markdown` to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(result), encoding="utf-8")
