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
5. **Chaos applied**: every injected fault, duplicate and crash really happened, at its configured rate
   within binomial noise (a soak whose chaos silently stayed off would pass for the wrong reason).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from soak.instruments import FencedWrite, Handled, Sent, StreamWrite
from zego_media_tasks.domain.status import TERMINAL_STATUSES

TERMINAL = frozenset(status.value for status in TERMINAL_STATUSES)
ACKNOWLEDGED = frozenset({"POLLED", "SUPERSEDED", "SKIPPED_TERMINAL", "SKIPPED_STALE", "DEAD_LETTERED"})
"""``Action`` values: the message was handled and may be deleted (anything else is an exception name)."""
Key = tuple[str, str]
EXAMPLES = 10
"""How many offending examples each criterion lists."""


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


# -- 1. outcomes --------------------------------------------------------------------------------------


def check_outcomes(tasks: Sequence[ExpectedTask], final: Mapping[Key, str]) -> Criterion:
    """Every task terminal and as expected; per-kind counts."""
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    wrong: list[dict[str, str]] = []
    missing = 0
    for task in tasks:
        status = final.get(task.key)
        by_kind[task.kind]["tasks"] += 1
        if status is None:
            missing += 1
        if status == task.expected:
            by_kind[task.kind]["as_expected"] += 1
        else:
            wrong.append({"task": f"{task.key[1]}:{task.key[0]}", "expected": task.expected, "got": str(status)})
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
            "by_kind": {kind: dict(counts) for kind, counts in sorted(by_kind.items())},
            "wrong_examples": wrong[:EXAMPLES],
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
            "violations": len(problems),
            "violation_examples": [_jsonable(p) for p in problems[:EXAMPLES]],
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
    sent: Sequence[Sent], handled: Sequence[Handled], writes: Sequence[FencedWrite]
) -> tuple[list[Episode], dict[Key, int]]:
    """Episodes with more than one live chain per task, and each task's peak number of live chains.

    The record's generation over time comes from the poller's applied writes (a record created by
    ``POST /tasks`` is at generation 0, as is a task with no record). A message is live from its send
    until its first acknowledged handling; it is a chain while its generation equals the record's and
    the record is not terminal.
    """
    consumed = _consumed_at(handled)
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
) -> Criterion:
    """At most one live chain survives per task: no generation written twice, every episode of two
    or more chains absorbed, nothing left on the queue."""
    written_twice = [
        {"task": key, "generation": generation, "times": count}
        for key, counts in _generation_counts(stream).items()
        for generation, count in counts.items()
        if count > 1
    ]
    episodes, peaks = live_chain_episodes(sent, handled, writes)
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
            "generations_written_twice": len(written_twice),
            "written_twice_examples": [_jsonable(w) for w in written_twice[:EXAMPLES]],
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
        if write.new_generation is not None and write.event != "REMOVE":
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
) -> Criterion:
    """Each kind of chaos happened at its rate within binomial noise (4 standard deviations), and at least
    once wherever three or more were expected (a small run may draw none of a rare kind by chance)."""
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
    passed = all(ok)
    return Criterion(
        "the chaos was really applied",
        passed,
        ", ".join(f"{name} {values['share']:.1%}" for name, values in observed.items()),
        {"observed": observed},
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value
