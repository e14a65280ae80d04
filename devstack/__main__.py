"""``make run``: the whole pipeline on this machine, with a live view of every task.

    make run                              # the demo scenario against the embedded ZEGO simulator
    make run ARGS=--exit-when-done        # exit 0 once every task is terminal (and as expected)
    TASKS="Tencent:ID Huawei:ID" make run # your own task ids
    make run ARGS="--tasks-file tasks.txt"

The simulator sends ZEGO's signed completion callbacks to the local callback route (POST /callbacks/zego),
signed with ZEGO_CALLBACK_SECRET if set, else with a CallbackSecret generated for the run (never shown).

With ZEGO_ENDPOINT, ZEGO_APP_ID and ZEGO_SERVER_SECRET all set, no simulator starts and that endpoint
is used (real ZEGO, or anything speaking its API). Real ZEGO cannot call back to this machine: ZEGO
support points an AppId's callback URL at a deployed stack, so here polling alone ends the tasks.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from devstack.emulator import local_twin
from devstack.expectations import expected_source, expected_status, task_kind
from devstack.stack import DEMO_SCENARIO, LocalStack, StackOptions, ZegoTarget
from devstack.zego_simulator import CallbackOutcome, Scenario, ZegoSimulator
from zego_media_tasks.domain.messages import task_id_problem
from zego_media_tasks.domain.status import (
    TERMINAL_STATUSES,
    ChangeSource,
    TaskKind,
    TaskStatus,
    Vendor,
    is_pollable,
    parse_vendor,
)

ZEGO_VARIABLES = ("ZEGO_ENDPOINT", "ZEGO_APP_ID", "ZEGO_SERVER_SECRET")
CALLBACK_SECRET_VARIABLE = "ZEGO_CALLBACK_SECRET"  # noqa: S105 - a variable name, not a secret
# The demo's only long wait is a Huawei task that never appears: a 5-minute NO_TASK grace is right in
# production, too long for a first run. Shown in the banner; override with --not-found-grace.
DEMO_NOT_FOUND_GRACE_SECONDS = 20
DEMO_BACKOFF_CAP_SECONDS = 8
DEMO_BACKOFF_BASE_SECONDS = 2
PIPED_WIDTH = 160


def demo_poller_environment(not_found_grace: int = DEMO_NOT_FOUND_GRACE_SECONDS) -> dict[str, str]:
    """The demo's poller tuning (a short NO_TASK grace and backoff cap), for ``make run`` and the benchmarks
    that run its stack."""
    return {
        "NOT_FOUND_GRACE_SECONDS": str(not_found_grace),
        "POLL_BACKOFF_CAP_SECONDS": str(DEMO_BACKOFF_CAP_SECONDS),
        # The base below the cap (the deployed 16 s base would exceed the demo's 8 s cap: a settings error).
        "POLL_BACKOFF_BASE_SECONDS": str(DEMO_BACKOFF_BASE_SECONDS),
    }


class UsageError(Exception):
    """A mistake in how make run was called; printed without a traceback, exit status 2."""


@dataclass(frozen=True)
class TaskRef:
    """A task to track: vendor, TaskId and Kind, plus what the scenario says it must end in and by."""

    vendor: str
    task_id: str
    expected: TaskStatus | None = None
    kind: TaskKind | None = None
    expected_source: ChangeSource | None = None
    """The ``completedBy`` the scenario dictates (None: a poll and the callback may race for it)."""

    @property
    def pollable(self) -> bool:
        """Whether DescribeMediaTask can describe it (a Huawei merge is ended by its callback alone)."""
        return is_pollable(Vendor(self.vendor), self.kind)


def parse_task_list(text: str, source: str) -> list[TaskRef]:
    """``Vendor:TaskId`` items separated by white space or newlines (``#`` starts a comment)."""
    tasks = []
    for number, line in enumerate(text.splitlines(), start=1):
        for item in line.split("#", 1)[0].split():
            vendor_text, sep, task_id = item.partition(":")
            vendor = parse_vendor(vendor_text)
            if not sep or vendor is None:
                raise UsageError(f"{source}:{number}: {item!r} is not Vendor:TaskId (Vendor is Tencent or Huawei)")
            problem = task_id_problem(task_id)
            if problem:
                raise UsageError(f"{source}:{number}: {item!r}: {problem}")
            tasks.append(TaskRef(vendor.value, task_id))
    if not tasks:
        raise UsageError(f"{source}: no tasks given")
    return tasks


def zego_target(environ: dict[str, str]) -> ZegoTarget | None:
    """The real ZEGO endpoint when all three variables are set; None when none is; else a UsageError."""
    present = [name for name in ZEGO_VARIABLES if environ.get(name)]
    if not present:
        return None
    if len(present) != len(ZEGO_VARIABLES):
        missing = [name for name in ZEGO_VARIABLES if name not in present]
        raise UsageError(
            f"{', '.join(present)} set but {', '.join(missing)} not: set all three to use a real ZEGO endpoint, "
            "or none to use the embedded simulator"
        )
    return ZegoTarget(environ["ZEGO_ENDPOINT"], environ["ZEGO_APP_ID"], environ["ZEGO_SERVER_SECRET"])


def check_port_free(port: int) -> None:
    """Raise a UsageError naming the port when something already listens on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option as the API server: a port left in TIME_WAIT by the previous run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(f"port {port} is in use on 127.0.0.1: stop it or set API_PORT=<free port>") from None


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m devstack``."""
    parser = argparse.ArgumentParser(
        prog="make run", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--exit-when-done", action="store_true", help="exit when every task is terminal")
    parser.add_argument("--tasks", help='tasks to track, "Tencent:ID Huawei:ID" (default: $TASKS or the demo)')
    parser.add_argument("--tasks-file", type=Path, help="a file of Vendor:TaskId items")
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", "3000")))
    parser.add_argument("--timeout", type=float, default=300.0, help="with --exit-when-done: give up after N s")
    parser.add_argument("--time-scale", type=float, default=1.0, help="simulator seconds per real second")
    parser.add_argument("--not-found-grace", type=int, default=DEMO_NOT_FOUND_GRACE_SECONDS)
    parser.add_argument("--log-file", type=Path, default=Path(".devstack/run.log"), help="handlers' logs go here")
    parser.add_argument(
        "--events-file",
        type=Path,
        default=Path(".devstack/events.jsonl"),
        help="every delivered state-change event, one JSON line each, as EventBridge delivered it (rewritten)",
    )
    return parser


def choose_tasks(args: argparse.Namespace, environ: dict[str, str], using_simulator: bool) -> list[TaskRef]:
    """Tasks from --tasks, --tasks-file or $TASKS; else the demo scenario's, with expected statuses."""
    if args.tasks_file is not None:
        try:
            text = args.tasks_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read task file {args.tasks_file}: {error}") from None
        return parse_task_list(text, str(args.tasks_file))
    listed = args.tasks or environ.get("TASKS")
    if listed:
        return parse_task_list(listed, "--tasks" if args.tasks else "TASKS")
    if not using_simulator:
        raise UsageError("with a real ZEGO endpoint, name the tasks to track: TASKS='Tencent:ID Huawei:ID'")
    # The demo runs against the simulator, which sends its callbacks to the stack.
    return [
        TaskRef(
            spec.vendor.value,
            spec.task_id,
            expected_status(spec, callbacks=True),
            kind=task_kind(spec),
            expected_source=expected_source(spec, callbacks=True),
        )
        for spec in Scenario.from_file(DEMO_SCENARIO).tasks
    ]


def _status_style(status: str) -> str:
    if status == TaskStatus.SUCCEEDED:
        return "green"
    if status in TERMINAL_STATUSES:
        return "red" if status != TaskStatus.CANCELED else "yellow"
    return "cyan"


def render(
    tasks: list[TaskRef], states: dict[TaskRef, dict[str, Any] | None], started: float, events: int | None = None
) -> Table:
    """The live table: one row per task; the title counts terminal tasks and, when given, the state-change
    events delivered so far."""
    done = sum(1 for t in tasks if (states.get(t) or {}).get("status") in TERMINAL_STATUSES)
    delivered = "" if events is None else f", {events} state-change events"
    title = f"ZEGO media tasks: {done}/{len(tasks)} terminal, {time.monotonic() - started:.0f}s{delivered}"
    table = Table(title=title)
    columns = ("vendor", "task id", "status", "ended by", "vendor status", "polls", "next poll", "result / last error")
    for column in columns:
        table.add_column(column, overflow="fold")
    for task in tasks:
        state = states.get(task) or {}
        status = str(state.get("status", "…"))
        error = state.get("lastError") or {}
        result = state.get("replayUrl") or ", ".join(state.get("thumbnailUrls") or state.get("fileNames") or [])
        detail = result or state.get("message") or (f"{error.get('code')}: {error.get('message')}" if error else "")
        table.add_row(
            task.vendor,
            task.task_id,
            f"[{_status_style(status)}]{status}[/]",
            str(state.get("completedBy") or ""),
            str(state.get("vendorStatus") or ""),
            str(state.get("pollCount", 0)),
            str(state.get("nextPollAt") or "")[11:19],
            str(detail)[:80],
        )
    return table


def _follow(
    stack: LocalStack,
    tasks: list[TaskRef],
    *,
    states: dict[TaskRef, dict[str, Any] | None],
    args: argparse.Namespace,
    stop: threading.Event,
    started: float,
    refresh: Callable[[], None] | None,
    console: Console | None = None,
) -> bool:
    """Poll the API once a second until every task is terminal (with --exit-when-done) or stopped."""
    all_terminal = False
    while not stop.is_set():
        for task in tasks:
            state = stack.task(task.task_id, task.vendor)
            before = (states.get(task) or {}).get("status")
            states[task] = state
            status = (state or {}).get("status")
            if console is not None and status != before:
                by = f" by {state['completedBy']}" if state and state.get("completedBy") else ""
                console.print(f"{time.monotonic() - started:6.1f}s  {task.vendor:<7} {task.task_id}  {status}{by}")
        if refresh is not None:
            refresh()
        all_terminal = all((states.get(t) or {}).get("status") in TERMINAL_STATUSES for t in tasks)
        # The summary comes as soon as every task is terminal; only --exit-when-done gives up on a timeout.
        if all_terminal or (args.exit_when_done and time.monotonic() - started > args.timeout):
            break
        stop.wait(1.0)
    return all_terminal


def unexpected_endings(
    tasks: Sequence[TaskRef], states: dict[TaskRef, dict[str, Any] | None], queried: Collection[str | None]
) -> list[str]:
    """How the run differs from what the scenario dictates: a status or ``completedBy`` other than the
    expected one, or a TaskId in ``queried`` (DescribeMediaTask's) that it cannot describe, so must never
    be polled."""
    problems = []
    for task in tasks:
        state = states.get(task) or {}
        name = f"{task.vendor}:{task.task_id}"
        if task.expected is not None and state.get("status") != task.expected:
            problems.append(f"{name} ended {state.get('status')}, expected {task.expected}")
        elif task.expected_source is not None and state.get("completedBy") != task.expected_source:
            problems.append(f"{name} was ended by {state.get('completedBy')}, expected {task.expected_source}")
        if not task.pollable and task.task_id in queried:
            problems.append(f"{name} ({task.kind}) was queried with DescribeMediaTask, which cannot describe it")
    return problems


def _callbacks_line(stack: LocalStack, environ: dict[str, str]) -> str:
    """Where callbacks come from; the CallbackSecret itself is never shown."""
    given = environ.get(CALLBACK_SECRET_VARIABLE)
    secret = f"{CALLBACK_SECRET_VARIABLE} from the environment" if given else "a CallbackSecret made for this run"
    if stack.simulator is not None:
        return f"  Callbacks: the simulator POSTs signed callbacks to {stack.callback_url} ({secret}, not shown)."
    return (
        f"  Callbacks: {stack.callback_url} is served, but real ZEGO cannot reach this machine: ZEGO support points "
        "the AppId's callback URL at a deployed stack's /callbacks/zego. Here polling alone ends tasks (a Huawei "
        "merge or transcode only at its deadline)."
    )


def event_count(stack: LocalStack) -> int | None:
    """State-change events delivered to the local subscriber queue so far (None: events are off)."""
    return stack.delivered_events.count if stack.delivered_events is not None else None


def _events_line(stack: LocalStack, path: Path) -> str:
    bus = stack.environment.get("EVENT_BUS_NAME")
    return (
        f"  State-change events: the tasks table's stream → the publisher → bus {bus} → a local rule → {path} "
        "(one line per event, as delivered)."
    )


def _events_summary(stack: LocalStack) -> str:
    # The last writes' events are a stream read, a batching window and a queue read behind the API.
    settled = stack.wait_for_events(timeout=15.0)
    return f"state-change events {event_count(stack)}{'' if settled else ' (still arriving)'}; "


def _callbacks_summary(simulator: ZegoSimulator | None) -> str:
    if simulator is None or simulator.callbacks is None:
        return ""
    outcomes = Counter(record.outcome for record in simulator.callback_log.records())
    ended = ", ".join(f"{outcomes[outcome]} {outcome}" for outcome in CallbackOutcome if outcomes[outcome])
    return f"callbacks {ended or 'none sent'}; "


def run(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the local stack; the exit status for --exit-when-done is 0 only if every task ended as expected."""
    args = build_parser().parse_args(argv)
    environ = dict(os.environ)
    console = Console(file=out or sys.stdout, highlight=False)
    if not console.is_terminal:
        console.width = PIPED_WIDTH  # rich assumes 80 columns, which folds every TaskId and URL
    try:
        target = zego_target(environ)
        tasks = choose_tasks(args, environ, using_simulator=target is None)
        check_port_free(args.api_port)
    except UsageError as error:
        console.print(f"[bold red]make run:[/] {error}")
        return 2
    args.log_file.parent.mkdir(parents=True, exist_ok=True)
    options = StackOptions(
        api_port=args.api_port,
        zego=target,
        time_scale=args.time_scale,
        poller_environment=demo_poller_environment(args.not_found_grace),
        simulator_callbacks=True,
        callback_secret=environ.get(CALLBACK_SECRET_VARIABLE) or None,
        events_log=args.events_file,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # The handlers log JSON (Powertools) to stdout; keep the terminal for the live view.
    with (
        args.log_file.open("a", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
        LocalStack(options, emulator=local_twin()) as stack,
    ):
        console.print(
            f"[bold]zego-media-tasks local stack[/]  API {stack.api_url}  (Swagger UI: {stack.api_url}/swagger)"
        )
        console.print(
            f"  AWS emulator (moto) {stack.emulator.endpoint_url}; ZEGO {'simulator ' if target is None else ''}"
            f"{stack.environment['ZEGO_ENDPOINT']}; handler logs: {args.log_file}"
        )
        console.print(_callbacks_line(stack, environ))
        console.print(_events_line(stack, args.events_file))
        console.print(
            "  [yellow]Local only: API authorization (IAM/API key) is not enforced here.[/] "
            f"Demo tuning: NO_TASK grace {args.not_found_grace}s, backoff cap {DEMO_BACKOFF_CAP_SECONDS}s."
        )
        console.print(f"  Try: curl -s {stack.api_url}/tasks?status=SUCCEEDED")
        for task in tasks:
            response = stack.register(task.task_id, task.vendor, task.kind.value if task.kind else None)
            if response.status_code not in (200, 202):
                console.print(
                    f"[red]registering {task.vendor}:{task.task_id} failed: {response.status_code} {response.text}"
                )
                return 1
        started = time.monotonic()
        states: dict[TaskRef, dict[str, Any] | None] = {}
        all_terminal = False
        try:
            if console.is_terminal:
                with Live(
                    render(tasks, states, started, event_count(stack)),
                    console=console,
                    refresh_per_second=2,
                    # stdout is the handlers' log file here; Live must not pull it back onto the screen.
                    redirect_stdout=False,
                    redirect_stderr=False,
                ) as live:
                    all_terminal = _follow(
                        stack,
                        tasks,
                        states=states,
                        args=args,
                        stop=stop,
                        started=started,
                        refresh=lambda: live.update(render(tasks, states, started, event_count(stack))),
                    )
            else:
                # Piped or CI: one line per status change, then the table once.
                all_terminal = _follow(
                    stack, tasks, states=states, args=args, stop=stop, started=started, refresh=None, console=console
                )
                console.print(render(tasks, states, started, event_count(stack)))
        except KeyboardInterrupt:
            console.print("stopping…")
            stop.set()
            all_terminal = all((states.get(t) or {}).get("status") in TERMINAL_STATUSES for t in tasks)
        queried = {record.task_id for record in stack.simulator.call_log.records()} if stack.simulator else set()
        unexpected = unexpected_endings(tasks, states, queried)
        summary = "all tasks terminal" if all_terminal else "not every task is terminal"
        console.print(
            f"[bold]{summary}[/] after {time.monotonic() - started:.1f}s; "
            f"poller invocations {stack.event_source.stats.invocations if stack.event_source else 0}; "
            f"{_callbacks_summary(stack.simulator)}{_events_summary(stack)}dead letters {len(stack.dead_letters())}"
        )
        for problem in unexpected:
            console.print(f"[red]{problem}")
        if not args.exit_when_done and all_terminal and not stop.is_set():
            console.print("Still serving the API; Ctrl-C to stop.")
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
    console.print("stopped: every thread and port is closed.")
    return 0 if all_terminal and not unexpected else 1


if __name__ == "__main__":
    sys.exit(run())
