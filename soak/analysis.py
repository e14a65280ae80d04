"""The soak's pass criteria, computed from what was recorded (pure: no I/O, unit-tested on its own).

1. **Outcomes**: every task is terminal and in the status its script dictates (read over the API).
2. **Nothing went backwards**: in the table's own write log (its stream), every change of a record
   raises its generation, no record is written again once terminal, and none is deleted.
3. **One live chain**: a *live chain* of a task is a poll message not yet handled whose generation is the
   record's current one (the only messages that can still advance it). Duplicates make two for a
   while; the fence must absorb them: no generation may be written twice, every episode with two or
   more live chains must end, and at the end no message may be left on the queue.
4. **Dead letters**: the DLQ holds exactly the malformed messages sent on purpose, each with the
   reason the parser gives it.
5. **Chaos applied**: every injected fault, duplicate, crash, callback fault and AWS fault (the emulator's
   throttling and 5xx answers, counted in the process that hosts moto) really happened, at its configured
   rate within binomial noise (a soak whose chaos silently stayed off would pass for the wrong reason).
6. **Callbacks**: each completion callback met the fate its script gave it in the simulator's log (lost,
   duplicated, delayed, reordered, badly signed, or sent), every genuine one was accepted in the end, and
   the refused (badly signed) ones changed nothing: the receiver made no write while refusing them and
   no write of their tasks in the table's stream says a callback ended it.
7. **State-change events**: every status change the table's stream shows (an insert, or a write whose
   status differs from the one before) has exactly one event id among the delivered events (redeliveries
   carry the same id), none is missing and none is extra, each says the change's status, and the
   record's ``sequence`` rises by one with each status change and only then.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from devstack.zego_simulator import CallbackOutcome, CallbackRecord
from soak.instruments import CallbackHandled, DeliveredEvent, FencedWrite, Handled, Sent, StreamWrite
from zego_media_tasks.domain.status import TERMINAL_STATUSES

TERMINAL = frozenset(status.value for status in TERMINAL_STATUSES)
ACKNOWLEDGED = frozenset({"POLLED", "SUPERSEDED", "SKIPPED_TERMINAL", "SKIPPED_STALE", "DEAD_LETTERED"})
"""``Action`` values: the message was handled and may be deleted (anything else is an exception name)."""
Key = tuple[str, str]
EXAMPLES = 10
"""How many offending examples each criterion lists."""
CALLBACKS_CRITERION = "every callback met its scripted fate, and refused ones changed nothing"
EVENTS_CRITERION = "every status change has exactly one delivered event id"


@dataclass(frozen=True)
class Criterion:
    """One pass criterion and what was measured for it."""

    name: str
    passed: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExpectedTask:
    """A task of the plan: its kind and the terminal status it must reach."""

    key: Key
    kind: str
    expected: str
    source: str | None = None
    """What must end it (``completedBy``), when the script decides it; None: whatever wins the race."""


# -- 1. outcomes --------------------------------------------------------------------------------------


def check_outcomes(
    tasks: Sequence[ExpectedTask],
    final: Mapping[Key, str],
    completed_by: Mapping[Key, str | None] | None = None,
    *,
    lost: AbstractSet[Key] = frozenset(),
    revived: AbstractSet[Key] = frozenset(),
    answered_past_grace: AbstractSet[Key] = frozenset(),
) -> Criterion:
    """Every task terminal and as expected, ended by what its script says where it says it
    (``completed_by``: each record's ``completedBy``); per-kind counts.

    A Huawei task that appears late is scripted from ZEGO's first answer for it: if that answer came only
    after the NO_TASK grace (``answered_past_grace``: every query before it met a fault or the rate limit),
    the poller saw NO_TASK past the grace, and ``NOT_FOUND`` by ``POLL`` is its defined end.

    A task whose chain lost a message (``lost``) may instead end ``TIMED_OUT`` by ``DEADLINE``, if the
    watchdog revived it (``revived``): the soak's grace outlasts its deadlines, so a revived chain that no
    callback ended finds its deadline passed. Its end is then still defined, and still checked."""
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    wrong: list[dict[str, str]] = []
    missing = 0
    ended_by = completed_by or {}
    timed_out_after_revival = 0
    not_found_after_a_late_answer = 0
    for task in tasks:
        status = final.get(task.key)
        by_kind[task.kind]["tasks"] += 1
        if status is None:
            missing += 1
        source = ended_by.get(task.key)
        revived_late = (
            task.key in lost and task.key in revived and status == "TIMED_OUT" and source in (None, "DEADLINE")
        )
        timed_out_after_revival += revived_late and status != task.expected
        found_late = task.key in answered_past_grace and status == "NOT_FOUND" and source in (None, "POLL")
        not_found_after_a_late_answer += found_late and status != task.expected
        if (
            revived_late
            or found_late
            or (status == task.expected and (task.source is None or completed_by is None or source == task.source))
        ):
            by_kind[task.kind]["as_expected"] += 1
        else:
            wrong.append(
                {
                    "task": f"{task.key[1]}:{task.key[0]}",
                    "expected": task.expected if task.source is None else f"{task.expected} by {task.source}",
                    "got": str(status) if completed_by is None else f"{status} by {source}",
                }
            )
    terminal = sum(1 for task in tasks if final.get(task.key) in TERMINAL)
    passed = not wrong
    return Criterion(
        "every task ends as its scenario dictates",
        passed,
        f"{len(tasks) - len(wrong)}/{len(tasks)} as expected, {terminal} terminal, {missing} without a record",
        {
            "tasks": len(tasks),
            "as_expected": len(tasks) - len(wrong),
            "terminal": terminal,
            "missing": missing,
            "final_statuses": dict(sorted(Counter(final.get(t.key, "MISSING") for t in tasks).items())),
            "completed_by": dict(sorted(Counter(str(ended_by.get(t.key)) for t in tasks).items())),
            "by_kind": {kind: dict(counts) for kind, counts in sorted(by_kind.items())},
            "wrong_examples": wrong[:EXAMPLES],
            "tasks_with_a_lost_message": len(lost),
            "lost_tasks_revived": len(lost & revived),
            "timed_out_after_revival": timed_out_after_revival,
            "first_answered_past_the_grace": len(answered_past_grace),
            "not_found_after_a_late_first_answer": not_found_after_a_late_answer,
        },
    )


# -- 2. the write log ----------------------------------------------------------------------------------


def check_write_log(writes: Sequence[StreamWrite], final: Mapping[Key, str]) -> Criterion:
    """No record went backwards: generations strictly increase, terminal records never change again."""
    problems: list[dict[str, Any]] = []
    last_image: dict[Key, tuple[int | None, str | None]] = {}
    events: Counter[str] = Counter()
    steps: Counter[int] = Counter()
    for write in writes:
        key = (write.task_id, write.vendor)
        events[write.event] += 1
        if write.watch_only:
            events["WATCH_AT_ONLY"] += 1
            continue  # the watchdog's own write: the record's generation and status stay as they were
        seen = last_image.get(key)
        if write.event == "REMOVE":
            problems.append({"task": key, "sequence": write.sequence, "problem": "record deleted"})
        elif write.event == "INSERT":
            if seen is not None:
                problems.append({"task": key, "sequence": write.sequence, "problem": "inserted twice"})
        else:
            old_gen, old_status = write.old_generation, write.old_status
            if old_status in TERMINAL:
                problems.append(
                    {
                        "task": key,
                        "sequence": write.sequence,
                        "problem": f"terminal {old_status} written again (now {write.new_status})",
                    }
                )
            if old_gen is None or write.new_generation is None or write.new_generation <= old_gen:
                problems.append(
                    {
                        "task": key,
                        "sequence": write.sequence,
                        "problem": f"generation {old_gen} -> {write.new_generation}",
                    }
                )
            else:
                steps[write.new_generation - old_gen] += 1
            if seen is not None and seen != (old_gen, old_status):
                # The old image must be what the log last showed for this record: nothing lost in between.
                problems.append(
                    {
                        "task": key,
                        "sequence": write.sequence,
                        "problem": f"old image {old_gen} is not the last {seen[0]}",
                    }
                )
        last_image[key] = (write.new_generation, write.new_status)
    disagreements = [
        {"task": key, "table": image[1], "api": final.get(key)}
        for key, image in last_image.items()
        if final.get(key) is not None and final.get(key) != image[1]
    ]
    passed = not problems and not disagreements
    return Criterion(
        "no record ever went backwards",
        passed,
        f"{len(writes)} writes applied to {len(last_image)} records: {len(problems)} went backwards or changed "
        f"after terminal",
        {
            "writes": len(writes),
            "records": len(last_image),
            "events": dict(sorted(events.items())),
            "generation_steps": {str(step): count for step, count in sorted(steps.items())},
            "max_generation": max((image[0] or 0 for image in last_image.values()), default=0),
            **_counted("violations", "violation_examples", problems),
            "api_disagrees_with_table": disagreements[:EXAMPLES],
        },
    )


# -- 3. live chains ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Episode:
    """A stretch of time during which a task had more than one live chain."""

    key: Key
    start: float
    end: float | None
    """None: still open at the end of the run (not absorbed)."""
    peak: int


def _consumed_at(handled: Iterable[Handled]) -> dict[str, float]:
    """Message id -> end of its first acknowledged handling (a crash after it does not revive it: the
    redelivered copy finds its generation taken and is dropped)."""
    consumed: dict[str, float] = {}
    for entry in sorted(handled, key=lambda h: h.ended):
        if entry.outcome in ACKNOWLEDGED and entry.message_id not in consumed:
            consumed[entry.message_id] = entry.ended
    return consumed


def live_chain_episodes(
    sent: Sequence[Sent],
    handled: Sequence[Handled],
    writes: Sequence[FencedWrite],
    lost: Mapping[str, float] | None = None,
) -> tuple[list[Episode], dict[Key, int]]:
    """Episodes with more than one live chain per task, and each task's peak number of live chains.

    The record's generation over time comes from the poller's applied writes (a record created by
    ``POST /tasks`` is at generation 0, as is a task with no record). A message is live from its send
    until its first acknowledged handling; it is a chain while its generation equals the record's and
    the record is not terminal.
    """
    consumed = _consumed_at(handled)
    for message_id, moment in (lost or {}).items():  # deleted before delivery: gone from then on
        consumed.setdefault(message_id, moment)
    messages: dict[Key, list[Sent]] = defaultdict(list)
    for message in sent:
        if message.task_id is not None and message.vendor is not None and message.generation is not None:
            messages[(message.task_id, message.vendor)].append(message)
    commits: dict[Key, list[FencedWrite]] = defaultdict(list)
    for write in writes:
        if write.result == "WRITTEN":
            commits[(write.task_id, write.vendor)].append(write)

    episodes: list[Episode] = []
    peaks: dict[Key, int] = {}
    for key, task_messages in messages.items():
        task_commits = sorted(commits.get(key, []), key=lambda w: w.at)
        moments = sorted(
            {m.at for m in task_messages}
            | {consumed[m.message_id] for m in task_messages if m.message_id in consumed}
            | {w.at for w in task_commits}
        )
        peak = 0
        open_since: float | None = None
        open_peak = 0
        commit_index = 0
        generation, terminal = 0, False
        for moment in moments:
            while commit_index < len(task_commits) and task_commits[commit_index].at <= moment:
                commit = task_commits[commit_index]
                generation, terminal = commit.generation, commit.status in TERMINAL
                commit_index += 1
            chains = 0
            if not terminal:
                chains = sum(
                    1
                    for m in task_messages
                    if m.generation == generation and m.at <= moment < consumed.get(m.message_id, float("inf"))
                )
            peak = max(peak, chains)
            if chains > 1:
                if open_since is None:
                    open_since, open_peak = moment, chains
                open_peak = max(open_peak, chains)
            elif open_since is not None:
                episodes.append(Episode(key, open_since, moment, open_peak))
                open_since = None
        if open_since is not None:
            episodes.append(Episode(key, open_since, None, open_peak))
        peaks[key] = peak
    return episodes, peaks


def check_chains(
    sent: Sequence[Sent],
    handled: Sequence[Handled],
    writes: Sequence[FencedWrite],
    stream: Sequence[StreamWrite],
    leftover_messages: Sequence[str],
    *,
    lost: Mapping[str, float] | None = None,
) -> Criterion:
    """At most one live chain survives per task: no generation written twice, every episode of two
    or more chains absorbed (a revived chain meeting a live one included), nothing left on the queue;
    ``lost``: messages deleted before delivery, with the moment (they are no chain from then on)."""
    written_twice = [
        {"task": key, "generation": generation, "times": count}
        for key, counts in _generation_counts(stream).items()
        for generation, count in counts.items()
        if count > 1
    ]
    episodes, peaks = live_chain_episodes(sent, handled, writes, lost)
    open_episodes = [e for e in episodes if e.end is None]
    closed = [e.end - e.start for e in episodes if e.end is not None]
    polled = [h for h in handled if h.called_zego and h.generation is not None and h.task_id and h.vendor]
    per_generation: Counter[tuple[str, str, int]] = Counter(
        (h.task_id or "", h.vendor or "", h.generation or 0) for h in polled
    )
    raced = sum(1 for count in per_generation.values() if count > 1)
    passed = not written_twice and not open_episodes and not leftover_messages
    peak_histogram = Counter(peaks.values())
    return Criterion(
        "never more than one live chain per task once duplicates are absorbed",
        passed,
        f"{len(episodes)} episodes with 2+ live chains, all absorbed: {not open_episodes}; generations written "
        f"twice: {len(written_twice)}; messages left on the queue: {len(leftover_messages)}",
        {
            **_counted("generations_written_twice", "written_twice_examples", written_twice),
            "episodes": len(episodes),
            "tasks_with_episodes": len({e.key for e in episodes}),
            "episodes_not_absorbed": len(open_episodes),
            "not_absorbed_examples": [_jsonable(e.key) for e in open_episodes[:EXAMPLES]],
            "episode_seconds_max": round(max(closed, default=0.0), 3),
            "episode_seconds_mean": round(sum(closed) / len(closed), 3) if closed else 0.0,
            "peak_live_chains_histogram": {str(k): v for k, v in sorted(peak_histogram.items())},
            "max_live_chains": max(peaks.values(), default=0),
            "generations_polled_by_two_copies": raced,
            "messages_left_on_queue": len(leftover_messages),
            "leftover_examples": list(leftover_messages[:EXAMPLES]),
        },
    )


def _generation_counts(stream: Sequence[StreamWrite]) -> dict[Key, Counter[int]]:
    counts: dict[Key, Counter[int]] = defaultdict(Counter)
    for write in stream:
        if write.new_generation is not None and write.event != "REMOVE" and not write.watch_only:
            counts[(write.task_id, write.vendor)][write.new_generation] += 1
    return counts


# -- 4. dead letters -------------------------------------------------------------------------------------


def parked_bodies(sent: Sequence[Sent], handled: Sequence[Handled]) -> Counter[str]:
    """How many times the poller parked each malformed body in the DLQ (once per handling: a batch that
    crashed after parking is delivered again and parks its body again, as at-least-once allows)."""
    bodies = {s.message_id: s.body for s in sent if s.body is not None}
    return Counter(bodies[h.message_id] for h in handled if h.outcome == "DEAD_LETTERED" and h.message_id in bodies)


def check_dead_letters(
    dead_letters: Sequence[tuple[str, str | None]], expected: Mapping[str, str], parked: Mapping[str, int]
) -> Criterion:
    """The DLQ holds the malformed messages sent on purpose (``expected``: body -> ErrorReason), one copy
    per time the poller parked each (``parked``), and nothing else: no poll message ever exhausted its
    receives."""
    copies = Counter(body for body, _ in dead_letters)
    unexpected: list[dict[str, Any]] = []
    wrong_reason: list[dict[str, Any]] = []
    for body, reason in dead_letters:
        if body not in expected:
            unexpected.append({"body": body[:200], "reason": reason})
        elif reason != expected[body]:
            wrong_reason.append({"body": body[:200], "reason": reason, "expected": expected[body]})
    missing = [body for body in expected if copies[body] == 0]
    miscounted = [
        {"body": body[:200], "copies": copies[body], "parked": parked.get(body, 0)}
        for body in expected
        if copies[body] and copies[body] != parked.get(body, 0)
    ]
    redelivered = sum(max(0, copies[body] - 1) for body in expected)
    passed = not unexpected and not missing and not wrong_reason and not miscounted
    return Criterion(
        "no unexpected dead-letter message",
        passed,
        f"{len(dead_letters)} in the DLQ: {len(expected) - len(missing)}/{len(expected)} malformed messages sent on "
        f"purpose ({redelivered} parked twice after a crash), {len(unexpected)} unexpected",
        {
            "dead_letters": len(dead_letters),
            "expected": len(expected),
            "found_expected": len(expected) - len(missing),
            "second_copies_after_redelivery": redelivered,
            "unexpected": len(unexpected),
            "unexpected_examples": unexpected[:EXAMPLES],
            "missing_examples": [body[:200] for body in missing[:EXAMPLES]],
            "wrong_reason_examples": wrong_reason[:EXAMPLES],
            "copies_not_matching_handlings": miscounted[:EXAMPLES],
            "reasons": dict(sorted(Counter(str(reason) for _, reason in dead_letters).items())),
        },
    )


# -- 5. chaos applied -------------------------------------------------------------------------------------


def check_chaos(
    *,
    zego_calls: int,
    faults: Mapping[str, int],
    targets: Mapping[str, float],
    sends: int,
    duplicates: int,
    duplicate_target: float,
    invocations: int,
    crashes: int,
    crash_target: float,
    callbacks: int = 0,
    callback_faults: Mapping[str, int] | None = None,
    callback_targets: Mapping[str, float] | None = None,
    aws_requests: Mapping[str, int] | None = None,
    aws_faults: Mapping[str, int] | None = None,
    aws_targets: Mapping[str, float] | None = None,
) -> Criterion:
    """Each kind of chaos happened at its rate within binomial noise (4 standard deviations), and at least
    once wherever three or more were expected (a small run may draw none of a rare kind by chance).

    Callback faults (``callback_faults``: callbacks that met each fault, in the simulator's log) are
    counted out of the ``callbacks`` scripted, against ``callback_targets``; they are reported as
    ``callback_<fault>``. AWS faults (``aws_faults``: the emulator's refusals per kind, ``dynamodb_throttled``,
    ``sqs_5xx``, ...) are counted out of the stack's requests to that service within the fault windows
    (``aws_requests``, per service), against ``aws_targets``."""
    observed: dict[str, dict[str, float]] = {}

    def record(name: str, count: int, total: int, target: float) -> bool:
        share = count / total if total else 0.0
        slack = 4 * math.sqrt(total * target * (1 - target)) + 1
        observed[name] = {"count": count, "of": total, "share": round(share, 4), "target": target}
        expected = total * target
        return (count > 0 or expected < 3) and abs(count - expected) <= slack

    ok = [record(name, faults.get(name, 0), zego_calls, target) for name, target in targets.items()]
    ok.append(record("duplicate_delivery", duplicates, sends, duplicate_target))
    ok.append(record("invocation_crash", crashes, invocations, crash_target))
    observed_callbacks = callback_faults or {}
    for name, target in (callback_targets or {}).items():
        ok.append(record(f"callback_{name}", observed_callbacks.get(name, 0), callbacks, target))
    by_service, refused = aws_requests or {}, aws_faults or {}
    for name, target in (aws_targets or {}).items():
        ok.append(record(name, refused.get(name, 0), by_service.get(name.split("_", 1)[0], 0), target))
    passed = all(ok)
    return Criterion(
        "the chaos was really applied",
        passed,
        ", ".join(f"{name} {values['share']:.1%}" for name, values in observed.items()),
        {"observed": observed},
    )


# -- 6. callbacks ------------------------------------------------------------------------------------------

ACCEPTED_RETRY = 503
"""The receiver's answer when its write lost to a concurrent poll and the task is still open: ZEGO retries."""
_ENDED = frozenset({CallbackOutcome.DELIVERED, CallbackOutcome.DROPPED, CallbackOutcome.LOST, CallbackOutcome.OVERFLOW})


def _tries_by_callback(tries: Iterable[CallbackRecord]) -> dict[Key, dict[int, list[CallbackRecord]]]:
    """The simulator's log per task and copy (1, or 2 for a duplicate's second copy), in log order."""
    grouped: dict[Key, dict[int, list[CallbackRecord]]] = defaultdict(lambda: defaultdict(list))
    for entry in tries:
        grouped[(entry.task_id, entry.vendor)][entry.copy].append(entry)
    return grouped


def callbacks_settled(fates: Mapping[Key, str], tries: Sequence[CallbackRecord]) -> bool:
    """Every scripted callback has ended in the simulator's log: each copy's latest record is not a retry
    (a duplicate has both copies), so nothing more will reach the receiver."""
    grouped = _tries_by_callback(tries)
    for key, fate in fates.items():
        copies = grouped.get(key, {})
        if len(copies) < (2 if fate == "duplicate" else 1):
            return False
        if any(records[-1].outcome not in _ENDED for records in copies.values()):
            return False
    return True


def _as_scripted(fate: str, copies: Mapping[int, list[CallbackRecord]]) -> str | None:
    """Why the log of one task's callback does not show ``fate`` (None: it does)."""
    if not copies:
        return "never sent nor logged"
    first = copies[min(copies)][0]
    if fate == "lost":
        shown = [(r.attempt, r.outcome) for records in copies.values() for r in records]
        return None if shown == [(0, CallbackOutcome.LOST)] else f"expected one lost record, got {shown}"
    if fate == "bad_signature":
        statuses = [r.http_status for records in copies.values() for r in records]
        last = copies[min(copies)][-1].outcome
        # A try may go unanswered within ZEGO's timeout on a busy machine (None); none may be accepted.
        if 401 not in statuses or not set(statuses) <= {401, None} or last != CallbackOutcome.DROPPED:
            return f"expected every try refused with 401, then dropped; got {statuses}, {last}"
        return None
    expected_fault = None if fate == "send" else fate
    if first.fault != expected_fault:
        return f"fault {first.fault}, scripted {fate}"
    if sorted(copies) != ([1, 2] if fate == "duplicate" else [1]):
        return f"copies {sorted(copies)}"
    undelivered = [copy for copy, records in copies.items() if records[-1].outcome != CallbackOutcome.DELIVERED]
    if undelivered:
        return f"copy {undelivered} never accepted: {[(r.http_status, r.outcome) for r in copies[undelivered[0]]]}"
    return None


def check_callbacks(
    fates: Mapping[Key, str],
    tries: Sequence[CallbackRecord],
    received: Sequence[CallbackHandled],
    stream: Sequence[StreamWrite],
    completed_by: Mapping[Key, str | None],
    *,
    unstarted: AbstractSet[Key] = frozenset(),
) -> Criterion:
    """Each callback as scripted (``fates``: task -> its callback's fate, ``none`` left out) in the
    simulator's log (``tries``), every genuine one accepted in the end, the refused ones without effect.

    ``unstarted``: tasks whose chain lost a message before the simulator ever answered a query for them.
    The simulator starts a task's timeline (and schedules its callback) at its first answered query, so
    such a task never ends there and sends no callback: "never sent" is then what it must show.

    Refused: the badly signed callbacks, answered 401 (``received``: the receiver's answers) with no write
    attempted, and no write of their tasks in the table's stream saying a callback ended them. No genuine
    try is ever answered 401.
    """
    grouped = _tries_by_callback(tries)
    not_scripted: list[dict[str, Any]] = []
    for key, fate in fates.items():
        why = _as_scripted(fate, grouped.get(key, {}))
        if key in unstarted and not grouped.get(key):
            why = None
        if why is not None:
            not_scripted.append({"task": key, "fate": fate, "problem": why})
    unscripted = [key for key in grouped if key not in fates]
    forged = {key for key, fate in fates.items() if fate == "bad_signature"}
    genuine_refused = [
        {"task": (r.task_id, r.vendor), "copy": r.copy, "attempt": r.attempt}
        for r in tries
        if r.http_status == 401 and (r.task_id, r.vendor) not in forged
    ]
    refused = [r for r in received if r.outcome == "REJECTED"]
    refused_writing = [_answer_example(r) for r in refused if r.writes_attempted]
    forged_tries = sum(1 for r in tries if r.http_status == 401 and (r.task_id, r.vendor) in forged)
    refused_401 = sum(1 for r in refused if r.status_code == 401)
    ended_by_forgery = [
        {"task": (w.task_id, w.vendor), "sequence": w.sequence}
        for w in stream
        if (w.task_id, w.vendor) in forged and w.new_completed_by == "CALLBACK"
    ]
    ended_by_forgery += [
        {"task": key, "completedBy": "CALLBACK (final record)"} for key in forged if completed_by.get(key) == "CALLBACK"
    ]
    # The receiver must have refused, itself, each forged try the simulator saw refused (more when a try
    # timed out at the simulator but reached the receiver).
    unseen_forgeries = max(0, forged_tries - refused_401)
    outcomes = Counter(r.outcome for r in received)
    ended = Counter(str(source) for source in completed_by.values())
    fates_count = Counter(fates.values())
    passed = (
        bool(fates)
        and not not_scripted
        and not unscripted
        and not genuine_refused
        and not refused_writing
        and not ended_by_forgery
        and unseen_forgeries == 0
    )
    return Criterion(
        CALLBACKS_CRITERION,
        passed,
        f"{len(fates) - len(not_scripted)}/{len(fates)} callbacks as scripted; receiver: {outcomes.get('APPLIED', 0)} "
        f"applied, {outcomes.get('CREATED', 0)} created a record, {outcomes.get('ALREADY_TERMINAL', 0)} already "
        f"terminal, {outcomes.get('REJECTED', 0)} rejected ({len(refused_writing)} with a write, "
        f"{len(ended_by_forgery)} tasks ended by a forged one); tasks ended by CALLBACK {ended.get('CALLBACK', 0)}, "
        f"POLL {ended.get('POLL', 0)}, DEADLINE {ended.get('DEADLINE', 0)}",
        {
            "callbacks_scripted": len(fates),
            "by_fate": dict(sorted(fates_count.items())),
            "tries": len(tries),
            "tries_by_http_status": dict(sorted(Counter(str(r.http_status) for r in tries).items())),
            "tries_by_outcome": dict(sorted(Counter(str(r.outcome) for r in tries).items())),
            "receiver_outcomes": dict(sorted(outcomes.items())),
            "receiver_status_codes": dict(sorted(Counter(str(r.status_code) for r in received).items())),
            "receiver_conflicts_retried": sum(
                1 for r in received if r.status_code == ACCEPTED_RETRY and r.outcome == "CONFLICT"
            ),
            "receiver_unavailable_retried": sum(
                1 for r in received if r.status_code == ACCEPTED_RETRY and r.outcome == "UNAVAILABLE"
            ),
            "ended_by": dict(sorted(ended.items())),
            **_counted("not_as_scripted", "not_as_scripted_examples", not_scripted),
            **_counted("unscripted_callbacks", "unscripted_examples", unscripted),
            **_counted("genuine_tries_refused", "genuine_refused_examples", genuine_refused),
            "forged_tries": forged_tries,
            "refused_with_401": refused_401,
            "refused_with_a_write": len(refused_writing),
            "refused_with_a_write_examples": refused_writing[:EXAMPLES],
            **_counted("tasks_ended_by_a_forged_callback", "ended_by_forgery_examples", ended_by_forgery),
        },
    )


def _answer_example(entry: CallbackHandled) -> dict[str, Any]:
    return {
        "task": [entry.task_id, entry.vendor],
        "event": entry.event,
        "outcome": entry.outcome,
        "status_code": entry.status_code,
        "writes_attempted": entry.writes_attempted,
    }


# -- 7. state-change events -----------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in [0, 1]) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _sequence_problems(stream: Sequence[StreamWrite]) -> list[dict[str, Any]]:
    """The record's ``sequence``: one more with each status change, unchanged otherwise, never missing."""
    problems: list[dict[str, Any]] = []
    for write in stream:
        if write.event == "REMOVE":
            continue
        key = (write.task_id, write.vendor)
        new, old = write.new_record_sequence, write.old_record_sequence
        if new is None:
            problems.append({"task": key, "write": write.sequence, "problem": "no sequence in the new image"})
        elif write.event == "MODIFY":
            wanted = None if old is None else old + 1 if write.status_changed else old
            if new != wanted:
                change = "a status change" if write.status_changed else "no status change"
                problems.append({"task": key, "write": write.sequence, "problem": f"{old} -> {new} on {change}"})
    return problems


def check_events(stream: Sequence[StreamWrite], delivered: Sequence[DeliveredEvent]) -> Criterion:
    """Every status change of the table's stream has exactly one event id among the delivered events,
    none is missing, none is extra; sequences rise by one per status change; duplicate rate and delay."""
    transitions = [w for w in stream if w.status_changed]
    by_change: dict[tuple[str, str, int | None], list[DeliveredEvent]] = defaultdict(list)
    for event in delivered:
        by_change[(event.task_id or "", event.vendor or "", event.sequence)].append(event)
    missing: list[dict[str, Any]] = []
    several_ids: list[dict[str, Any]] = []
    wrong_content: list[dict[str, Any]] = []
    delays: list[float] = []
    seen: set[tuple[str, str, int | None]] = set()
    for write in transitions:
        change = (write.task_id, write.vendor, write.new_record_sequence)
        seen.add(change)
        events = by_change.get(change, [])
        ids = {event.event_id for event in events}
        if not events:
            missing.append({"task": change[:2], "sequence": change[2], "status": write.new_status})
            continue
        if len(ids) != 1 or None in ids:
            several_ids.append({"task": change[:2], "sequence": change[2], "ids": sorted(str(i) for i in ids)})
        contents = {(event.status, event.previous_status) for event in events}
        if contents != {(write.new_status, write.old_status)}:
            wrong_content.append(
                {"task": change[:2], "sequence": change[2], "wrote": [write.old_status, write.new_status],
                 "events": sorted([str(c[1]), str(c[0])] for c in contents)}
            )  # fmt: skip
        if write.created_at is not None:
            delays.append(min(event.received_at for event in events) - write.created_at)
    extra = [
        {"task": change[:2], "sequence": change[2], "deliveries": len(events)}
        for change, events in by_change.items()
        if change not in seen
    ]
    sequence_problems = _sequence_problems(stream)
    written = [w.created_at for w in transitions if w.created_at is not None]
    received = [event.received_at for event in delivered]
    unique = len({event.event_id for event in delivered})
    duplicates = len(delivered) - unique
    passed = bool(transitions) and not (missing or several_ids or wrong_content or extra or sequence_problems)
    p50, p95 = percentile(delays, 0.5), percentile(delays, 0.95)
    return Criterion(
        EVENTS_CRITERION,
        passed,
        f"{len(transitions)} status changes in the stream, {unique} distinct events delivered ({len(delivered)} "
        f"deliveries, {duplicates} redelivered): {len(missing)} missing, {len(extra)} extra, {len(several_ids)} with "
        f"more than one id, {len(sequence_problems)} sequence errors; delay p50 {_seconds(p50)}, p95 {_seconds(p95)}",
        {
            "status_changes": len(transitions),
            "deliveries": len(delivered),
            "distinct_event_ids": unique,
            "redeliveries": duplicates,
            "duplicate_rate": round(duplicates / unique, 4) if unique else 0.0,
            **_counted("missing", "missing_examples", missing),
            **_counted("extra", "extra_examples", extra),
            **_counted("changes_with_several_ids", "several_ids_examples", several_ids),
            **_counted("wrong_content", "wrong_content_examples", wrong_content),
            **_counted("sequence_errors", "sequence_error_examples", sequence_problems),
            # A delay that grows with the run is a backlog: compare the two rates.
            "status_changes_per_second": _rate(written),
            "deliveries_per_second": _rate(received),
            "delay_seconds": {
                "measured": len(delays),
                "p50": _rounded(p50),
                "p95": _rounded(p95),
                "max": _rounded(max(delays) if delays else None),
            },
        },
    )


def _rate(moments: Sequence[float]) -> float | None:
    """Events per second between the first and the last of ``moments``."""
    if len(moments) < 2 or max(moments) <= min(moments):
        return None
    return round((len(moments) - 1) / (max(moments) - min(moments)), 2)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _counted(count_key: str, examples_key: str, found: Sequence[Any]) -> dict[str, Any]:
    """How many were ``found`` and the first :data:`EXAMPLES` of them, under a criterion's two detail keys."""
    return {count_key: len(found), examples_key: [_jsonable(item) for item in found[:EXAMPLES]]}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value
