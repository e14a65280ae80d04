"""The embedded AWS emulator: moto's server mode on loopback, reached by boto3 over real HTTP.

Everything that runs moto (``make run``, the tests, the benchmarks, the chaos soak) starts it here, in
this process (:class:`AwsEmulator`) or in a child process with a CPU core of its own
(:class:`AwsEmulatorProcess`), and corrects it here (:class:`MotoFixes`). Two corrections exist, both
installed in whichever process hosts moto, both process-wide because moto's handlers are classes:

1. **DynamoDB writes one at a time** (:func:`serialize_dynamodb_writes`). moto handles a write without a
   lock: its UpdateItem reads the old item (for ``ReturnValues``), evaluates the condition and applies
   the update as separate steps, so two threads can both pass the same condition (two rate-limiter
   reservations get the same slot) or both be handed the same old value; real DynamoDB serialises the
   writes to one item. Code that relies on conditional writes needs the real guarantee under
   concurrency: the rate limiter, the poller's generation fence.
2. **SQS at backlog scale** (:func:`speed_up_sqs`). moto's SQS checks every message's visibility and
   delay with ``moto.core.utils.unix_time_millis``, which builds two ``datetime`` objects per call
   (plain ``time.time()`` gives the same number); and ``ReceiveMessage`` checks each candidate
   message's retention period through ``get_queue_attributes``, which recomputes the three approximate
   message counts (three scans of the whole queue) per message, where the queue's retention period can
   be read directly, as the original ends up doing. Measured (moto 5.2.5, 2,000 messages): a
   SendMessageBatch of 10 went from ~350 ms to ~10 ms, a ReceiveMessage from ~82 ms to ~14 ms; without
   them a 2,000-task backlog measures moto, not the poller (docs/benchmarks.md).

Neither changes what moto answers, only when and how fast. ``make run`` (:func:`local_twin`) and the
benchmarks install both, ``make run`` in a child process of its own; the soak, the DynamoDB lock; the
concurrency tests, the lock for one test; the other tests, neither.

One deliberate fault can be installed too, for the chaos soak: **throttling and 5xx for a while**
(:func:`inject_aws_faults`, :mod:`devstack.aws_faults`): during configured windows a seeded share of the
DynamoDB and SQS requests of the clients marked as targets is answered as AWS answers when it throttles or
fails, before moto sees it.

Two small speed-ups are always installed with the emulator, because they change nothing but CPU: the
dispatcher's backend lookup no longer lists moto's package directory per request
(:func:`speed_up_dispatch`), and a rule's target transform compiles its JSONPath expressions once, not
per event. Measured with a sampling profiler on the moto process of make run's stack at the ceiling
(1,500 tasks): PutEvents fell from 10.8 % to 2.2 % of the server's samples, the backend lookup from 9 %
to 1 %.

One more correction is always installed, because without it moto delivers something EventBridge never
does: **EventBridge's whole event envelope** (:func:`deliver_whole_event_envelope`). moto builds the event
it hands to a rule's target (an SQS queue, a log group) from a template that leaves out ``account``, which
EventBridge always delivers, and lists the members in another order; the state-change events a local rule
delivers (``.devstack/events.jsonl``) are checked against the documented envelope
(``docs/state-change-event.schema.json``).

bandit's subprocess warnings (B404, B603) are suppressed here: the only child is our own interpreter
running this module with a port number and flags, without a shell.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import socket
import subprocess  # nosec B404
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import requests
from moto.server import ThreadedMotoServer

from devstack.aws_faults import STATS_PATH, AwsFaultInjector, AwsFaultSettings
from devstack.wall_clock import follow_the_parents_clock

LOCAL_REGION = "us-east-1"
# moto accepts any credentials; these fixed dummies make sure nothing ever reaches real AWS.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0

Assign = Callable[[Any, str, Any], None]
"""How a patch is set: ``setattr`` for the whole process, or pytest's ``monkeypatch.setattr`` for one test."""

_PATCH_MARK = "_devstack_moto_fix"
"""Set on every replacement function, so that a patch is installed at most once."""
DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """Environment variables that point boto3 at the emulator serving ``endpoint_url``."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
        **LOCAL_CREDENTIALS,
    }


# -- the corrections -------------------------------------------------------------------------------


def _mark(function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, _PATCH_MARK, True)
    return function


def _marked(function: object) -> bool:
    return bool(getattr(function, _PATCH_MARK, False))


def serialize_dynamodb_writes(assign: Assign = setattr) -> None:
    """Make moto apply DynamoDB writes one at a time, as DynamoDB does for the writes to one item.

    Covers moto in-process (``mock_aws``) and moto's threaded server in this process alike. A no-op when
    already installed. Tests pass ``monkeypatch.setattr`` as ``assign`` so that the lock goes at teardown.
    """
    from moto.dynamodb.responses import DynamoHandler

    if _marked(DynamoHandler.put_item):
        return
    lock = threading.RLock()
    for name in DYNAMODB_WRITES:
        original = getattr(DynamoHandler, name)

        def locked(self: Any, *args: Any, __original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        assign(DynamoHandler, name, _mark(locked))


def speed_up_sqs() -> None:
    """Make moto's SQS fast enough for a backlog of thousands of messages, in this process (idempotent)."""
    import moto.sqs.models as sqs_models

    namespace = vars(sqs_models)  # the module's globals: what its functions look the helpers up in
    if _marked(namespace["unix_time_millis"]):
        return
    original_seconds: Callable[[datetime | None], float] = namespace["unix_time"]
    original_millis: Callable[[datetime | None], float] = namespace["unix_time_millis"]

    def unix_time(dt: datetime | None = None) -> float:
        return time.time() if dt is None else original_seconds(dt)

    def unix_time_millis(dt: datetime | None = None) -> float:
        return time.time() * 1000.0 if dt is None else original_millis(dt)

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        queue = self.get_queue(queue_name)
        retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
        return bool(retain_until > time.time())

    namespace["unix_time"] = _mark(unix_time)
    namespace["unix_time_millis"] = _mark(unix_time_millis)
    backend = sqs_models.SQSBackend
    backend.is_message_valid_based_on_retention_period = _mark(is_message_valid_based_on_retention_period)  # type: ignore[method-assign]


def speed_up_dispatch() -> None:
    """Make moto's server route a request without listing its own package, in this process (idempotent).

    To find the backend of a request, moto's dispatcher lists moto's package directory (``os.listdir``
    and an ``isdir`` per entry) on every request: about a tenth of the server's CPU at the ceiling. The
    package does not change while the process runs, so one listing is enough.
    """
    from moto import backends

    if _marked(backends.list_of_moto_modules):
        return
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    backends.list_of_moto_modules = _mark(list_of_moto_modules)


EVENT_ENVELOPE_TEMPLATE = (
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
    '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
    '"detail": <detail>}'
)
"""The event a rule's target receives, member for member as EventBridge delivers it (moto fills the
``<...>`` placeholders from the event; ``time`` is turned into ISO 8601 on the way to SQS)."""


def deliver_whole_event_envelope() -> None:
    """Make moto's rules deliver EventBridge's whole envelope, ``account`` included (idempotent)."""
    import jsonpath_ng.ext as jsonpath
    from moto.events.utils import EventTemplateParser

    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = EVENT_ENVELOPE_TEMPLATE
    # moto compiles each of the template's eight JSONPath expressions for every event it delivers, and a
    # compile builds a whole parser (ply's yacc): about a tenth of moto's CPU in make run's stack at the
    # ceiling. A compiled path is read-only (``find`` keeps no state), so one compile per path is enough.
    namespace = vars(jsonpath)  # what moto's ``from jsonpath_ng.ext import parse`` reads, at each event
    if not _marked(namespace["parse"]):
        namespace["parse"] = _mark(functools.lru_cache(maxsize=256)(namespace["parse"]))


def inject_aws_faults(injector: AwsFaultInjector, assign: Assign = setattr) -> None:
    """Put ``injector`` in front of moto's dispatcher in this process: it answers the requests it refuses
    (and its stats path), moto the rest. A second injector replaces the first. Tests pass
    ``monkeypatch.setattr`` as ``assign`` so that it goes at teardown."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    current = DomainDispatcherApplication.__call__
    original = getattr(current, "_devstack_original", current)

    def dispatch(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        answered = injector.answer(environ, start_response)
        return answered if answered is not None else original(self, environ, start_response)

    dispatch._devstack_original = original  # type: ignore[attr-defined]
    assign(DomainDispatcherApplication, "__call__", _mark(dispatch))


@dataclass(frozen=True)
class MotoFixes:
    """Which corrections (see the module docstring) the process hosting moto installs."""

    atomic_writes: bool = False
    """DynamoDB writes one at a time (:func:`serialize_dynamodb_writes`)."""
    fast_sqs: bool = False
    """SQS fast enough for a backlog (:func:`speed_up_sqs`)."""
    aws_faults: AwsFaultSettings | None = None
    """Throttling and 5xx for a while (:func:`inject_aws_faults`); None: none."""

    def install(self) -> None:
        """Install the chosen corrections in this process (idempotent)."""
        if self.atomic_writes:
            serialize_dynamodb_writes()
        if self.fast_sqs:
            speed_up_sqs()
        if self.aws_faults is not None:
            inject_aws_faults(AwsFaultInjector(self.aws_faults))

    def arguments(self) -> list[str]:
        """The child process's flags for these corrections."""
        flags = [flag for flag, on in (("--atomic-writes", self.atomic_writes), ("--fast-sqs", self.fast_sqs)) if on]
        return flags + ([f"--aws-faults={self.aws_faults.to_json()}"] if self.aws_faults is not None else [])


BENCHMARK_FIXES = MotoFixes(atomic_writes=True, fast_sqs=True)
"""Both corrections: moto behaving as DynamoDB does under concurrency and keeping up with a backlog."""


# -- the emulator ----------------------------------------------------------------------------------


class AwsEmulator:
    """moto in server mode on 127.0.0.1, in this process; ``endpoint_url`` is what ``AWS_ENDPOINT_URL``
    should be."""

    def __init__(self, port: int = 0, *, fixes: MotoFixes | None = None) -> None:
        self.port = port or free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.fixes = fixes or MotoFixes()
        self._server: ThreadedMotoServer | None = None

    def start(self) -> Self:
        """Install the fixes and start serving; returns once requests are accepted."""
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request costs CPU
        self.fixes.install()
        deliver_whole_event_envelope()
        speed_up_dispatch()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Drop every resource (moto's reset API), for test isolation."""
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()

    def environment(self) -> dict[str, str]:
        """Environment variables that point boto3 at this emulator."""
        return aws_environment(self.endpoint_url)

    def fault_stats(self) -> dict[str, Any]:
        """The AWS fault injector's counts (:meth:`devstack.aws_faults.AwsFaultInjector.stats`); empty without
        one."""
        if self.fixes.aws_faults is None:
            return {}
        response = requests.get(f"{self.endpoint_url}{STATS_PATH}", timeout=10)
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats


class AwsEmulatorProcess(AwsEmulator):
    """:class:`AwsEmulator` whose server runs in a child interpreter, so that moto gets a CPU core of its
    own instead of sharing this process's GIL with the handlers (the soak, the handler-level benchmark).

    The child serves until its standard input closes: when :meth:`stop` closes it, or when this process
    dies, so a killed parent leaves no server behind. moto's state lives in the child; tests that read
    moto's backend directly need :class:`AwsEmulator`.
    """

    def __init__(self, port: int = 0, *, fixes: MotoFixes | None = None, log_path: Path | None = None) -> None:
        super().__init__(port, fixes=fixes)
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The child's process id (for CPU accounting)."""
        if self._process is None:
            raise RuntimeError("the emulator process is not started")
        return self._process.pid

    def start(self) -> Self:
        """Start the child and return once it answers (bounded wait)."""
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), str(ROOT / "layers" / "shared"), environment.get("PYTHONPATH", "")]
        )
        log = open(self._log_path, "wb") if self._log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
        try:
            # Our own interpreter and module, a port number and flags, no shell.
            self._process = subprocess.Popen(  # noqa: S603 # nosec B603
                [sys.executable, "-m", "devstack.emulator", f"--port={self.port}", *self.fixes.arguments()],
                env=environment,
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
            )
        finally:
            if log is not subprocess.DEVNULL and hasattr(log, "close"):
                log.close()  # the child holds its own handle
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the emulator process exited with status {self._process.returncode}")
            try:
                requests.get(f"{self.endpoint_url}/moto-api/", timeout=1).raise_for_status()
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the emulator process did not answer within {START_TIMEOUT_SECONDS} s")

    def stop(self) -> None:
        """Close the child's standard input (it stops serving and exits); kill it if it lingers."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            with suppress(OSError):
                process.stdin.close()
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_SECONDS)


def local_twin() -> AwsEmulatorProcess:
    """The emulator of ``make run``: moto with both corrections, in its own process, so that a backlog of
    thousands of tasks measures the poller and ZEGO's ceiling, not moto sharing one interpreter with the
    handlers, the event source and the simulator (docs/benchmarks.md, rate limit through ``make run``)."""
    return AwsEmulatorProcess(fixes=BENCHMARK_FIXES)


def _serve(argv: Sequence[str] | None = None) -> None:
    """The child of :class:`AwsEmulatorProcess`: serve until standard input closes."""
    parser = argparse.ArgumentParser(prog="python -m devstack.emulator")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--atomic-writes", action="store_true")
    parser.add_argument("--fast-sqs", action="store_true")
    parser.add_argument("--aws-faults", type=AwsFaultSettings.from_json, help="AwsFaultSettings as JSON")
    args = parser.parse_args(argv)
    follow_the_parents_clock()
    fixes = MotoFixes(atomic_writes=args.atomic_writes, fast_sqs=args.fast_sqs, aws_faults=args.aws_faults)
    emulator = AwsEmulator(args.port, fixes=fixes)
    emulator.start()
    try:
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    finally:
        emulator.stop()


@contextmanager
def patched_environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        restore_environment(saved)


def restore_environment(saved: Mapping[str, str | None]) -> None:
    """Put environment variables back as ``saved`` recorded them (None: the variable was not set)."""
    for name, old in saved.items():
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


if __name__ == "__main__":
    _serve()
