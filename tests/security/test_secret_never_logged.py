"""A full local pipeline run with a known ZEGO ServerSecret and CallbackSecret: the secrets, and every
signature made with them, must appear in none of the output.

Everything that could carry them is captured while a few tasks run to completion, through faults, with
the simulator's signed completion callbacks (some duplicated, some delayed, some with a bad signature,
which the receiver refuses and logs) POSTed to the local callback receiver:

- every Python logger at DEBUG, botocore, urllib3, werkzeug, the simulator's and ours included (a handler
  on the root logger, plus one on each logger that does not propagate, such as Powertools');
- ``sys.stdout``/``sys.stderr`` (the handlers' Powertools JSON lines, incoming events logged with
  ``POWERTOOLS_LOGGER_LOG_EVENT``, EMF metrics), and the test's file descriptors 1 and 2 (``capfd``);
- the ZEGO simulator's call log and callback log, written as JSON lines to files.

Every ``Signature`` the client computes during the run is recorded (by wrapping the signing function the
client calls), and so is every callback ``signature``, the one the simulator signs each callback with and
the one the receiver computes to check it (by wrapping both signing functions); none of them, nor either
secret in any letter case, may occur anywhere in that text.

The run happens once (a module fixture); the checks are separate tests, so that a signature leak and a
secret leak are reported apart.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from devstack.expectations import task_kind
from devstack.stack import DEMO_SCENARIO, LocalStack
from devstack.zego_simulator import CallbackFate, CallbackOutcome, CallbackScript, FaultSettings, Scenario
from devstack.zego_simulator import callbacks as simulator_callbacks
from tests.support.local_pipeline import callbacks_settled, embedded_simulator, quick_run
from zego_media_tasks.domain.status import TERMINAL_STATUSES
from zego_media_tasks.zego import callbacks as zego_callbacks
from zego_media_tasks.zego import client as zego_client
from zego_media_tasks.zego import signing
from zego_media_tasks.zego.signing import SignedAuth

pytestmark = pytest.mark.e2e

# Distinctive, so that a match can only be the secret itself (32 hex characters, like ZEGO's secrets).
SECRET = "5ec2e7c0ffeeba5e5ec2e7c0ffeeba5e"
CALLBACK_SECRET = "ca11bac5ec2e7ca11bac5ec2e7ca11ba"
SIGNATURE_IN_TEXT = re.compile(r"Signature['\"]?\s*[=:]\s*['\"]?[0-9a-fA-F]{32}(?![0-9a-fA-F])")
"""A ZEGO ``Signature`` value (32 hex digits; AWS SigV4's are 64) in a query string, JSON or repr."""
CALLBACK_SIGNATURE_IN_TEXT = re.compile(r"signature['\"]?\s*[=:]\s*['\"]?[0-9a-f]{40}(?![0-9a-fA-F])", re.IGNORECASE)
"""A callback ``signature`` value (SHA-1: 40 hex digits) in a body, JSON, form or repr."""
TERMINAL = frozenset(status.value for status in TERMINAL_STATUSES)
DEMO = Scenario.from_file(DEMO_SCENARIO)


class _Capture(logging.Handler):
    """Keeps every formatted record (message, extras via the record's dict, and exception text)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name} {record.levelname} {record.getMessage()} {record.__dict__!r}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


def _debug_everywhere(capture: _Capture) -> None:
    """Every known logger at DEBUG; the capture on the root and on every logger that does not propagate."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    if capture not in root.handlers:
        root.addHandler(capture)
    for name, candidate in list(logging.root.manager.loggerDict.items()):
        if isinstance(candidate, logging.Logger):
            candidate.setLevel(logging.DEBUG)
            candidate.disabled = False
            if not candidate.propagate and capture not in candidate.handlers:
                candidate.addHandler(capture)
        del name


@contextlib.contextmanager
def _captured_logging() -> Iterator[_Capture]:
    capture = _Capture()
    saved = {
        name: (logger.level, logger.propagate)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root_level = logging.getLogger().level
    _debug_everywhere(capture)
    try:
        yield capture
    finally:
        for logger in [logging.getLogger(), *(logging.getLogger(name) for name in logging.root.manager.loggerDict)]:
            if capture in logger.handlers:
                logger.removeHandler(capture)
        for name, (level, propagate) in saved.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).propagate = propagate
        logging.getLogger().setLevel(root_level)


@contextlib.contextmanager
def _file_descriptors_to(path: Path) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``path`` (anything written below Python's ``sys`` streams)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    with path.open("wb") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@contextlib.contextmanager
def _recorded_signatures() -> Iterator[list[str]]:
    """Every Signature the ZEGO client computes meanwhile (the client's signing function, wrapped)."""
    made: list[str] = []
    original = signing.signed_auth  # what the client module imported under the same name

    def recording(app_id: int, server_secret: str, *, nonce: str, timestamp: int) -> SignedAuth:
        auth = original(app_id, server_secret, nonce=nonce, timestamp=timestamp)
        made.append(auth.signature)
        return auth

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zego_client, "signed_auth", recording)
        yield made


@contextlib.contextmanager
def _recorded_callback_signatures() -> Iterator[list[str]]:
    """Every callback signature made meanwhile: each the simulator signs a callback with (a wrong one for
    a bad-signature fault included) and each the receiver computes to check one."""
    made: list[str] = []
    signers = [(simulator_callbacks, "sign_callback"), (zego_callbacks, "callback_signature")]

    def recording(original: Callable[[str, str, str], str]) -> Callable[[str, str, str], str]:
        def sign(secret: str, timestamp: str, nonce: str) -> str:
            signature = original(secret, timestamp, nonce)
            made.append(signature)
            return signature

        return sign

    with pytest.MonkeyPatch.context() as patch:
        for module, name in signers:
            patch.setattr(module, name, recording(getattr(module, name)))
        yield made


def _run_until_terminal(stack: LocalStack, scenario: Scenario, capture: _Capture) -> dict[str, str]:
    tasks = [(spec.task_id, spec.vendor.value) for spec in scenario.tasks]
    for spec in scenario.tasks:
        kind = task_kind(spec)
        assert stack.register(spec.task_id, spec.vendor.value, kind.value if kind else None).status_code in (200, 202)
    _debug_everywhere(capture)  # loggers created while starting (werkzeug is set to ERROR by the emulator)
    statuses: dict[str, str] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        statuses = {t: (stack.task(t, v) or {}).get("status", "") for t, v in tasks}
        if all(status in TERMINAL for status in statuses.values()):
            return statuses
        _debug_everywhere(capture)
        time.sleep(0.5)
    raise AssertionError(f"not terminal within 120 s: {statuses}")


@dataclass(frozen=True)
class Captured:
    """What one run left behind."""

    ours: str
    """Everything but the simulator's own log: log records, stdout/stderr, file descriptors 1 and 2."""
    simulator: str
    """The simulator's log records and its JSON-lines call and callback logs."""
    signatures: tuple[str, ...]
    callback_signatures: tuple[str, ...]
    statuses: dict[str, str]
    zego_calls: int
    callback_outcomes: dict[str, int]
    """Callback tries (and losses) by outcome, from the simulator's callback log."""
    refused_callbacks: int
    """Tries the receiver answered 401."""

    @property
    def everything(self) -> str:
        """All of it, ours and the simulator's."""
        return self.ours + "\n" + self.simulator


def _scenario() -> Scenario:
    """The demo, each callback fault that reaches the receiver scripted onto a task that polling ends
    anyway: the Huawei snapshot's callback is badly signed (refused and retried 5 times), the Tencent
    snapshot's duplicated; the Huawei merge's is delivered (nothing else can end it)."""
    fates = {"289665200": CallbackFate.BAD_SIGNATURE, "289665201": CallbackFate.SEND}
    fates |= {spec.task_id: CallbackFate.DUPLICATE for spec in DEMO.tasks if spec.event == "SampleSnapshot"}
    return Scenario(
        tasks=tuple(
            replace(spec, callback=CallbackScript(fates[spec.task_id])) if spec.task_id in fates else spec
            for spec in DEMO.tasks
        )
    )


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Captured:
    """One full local run with the known secrets, through faults, with every output captured."""
    tmp_path = tmp_path_factory.mktemp("secret")
    scenario = _scenario()
    call_log, callback_log = tmp_path / "zego-calls.jsonl", tmp_path / "zego-callbacks.jsonl"
    faults = FaultSettings(http_5xx_rate=0.15, malformed_json_rate=0.05, code_1000_rate=0.05, code_6_rate=0.05)
    stream = io.StringIO()
    with (
        pytest.MonkeyPatch.context() as patch,
        _recorded_signatures() as signatures,
        _recorded_callback_signatures() as callback_signatures,
        _file_descriptors_to(tmp_path / "fd.txt"),
        _captured_logging() as capture,
        contextlib.redirect_stdout(stream),
        contextlib.redirect_stderr(stream),
    ):
        patch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")  # the incoming events, logged whole
        options = replace(
            quick_run(scenario, NOT_FOUND_GRACE_SECONDS="3", POWERTOOLS_LOG_LEVEL="DEBUG"),
            time_scale=0.2,
            faults=faults,
            simulator_seed=3,
            simulator_server_secret=SECRET,
            callback_secret=CALLBACK_SECRET,
            simulator_call_log=call_log,
            simulator_callback_log=callback_log,
        )
        with LocalStack(options) as stack:
            simulator = embedded_simulator(stack)
            assert simulator.callbacks is not None
            statuses = _run_until_terminal(stack, scenario, capture)
            # The refused callback's retries outlast the tasks: capture them all.
            assert simulator.callback_log.wait_for(callbacks_settled(simulator), timeout=60)
            zego_calls = len(simulator.call_log)
            tries = simulator.callback_log.records()
    simulator_lines = [line for line in capture.lines if line.startswith("devstack.zego_simulator")]
    other_lines = [line for line in capture.lines if not line.startswith("devstack.zego_simulator")]
    return Captured(
        ours="\n".join([*other_lines, stream.getvalue(), (tmp_path / "fd.txt").read_text(errors="replace")]),
        simulator="\n".join(
            [*simulator_lines, call_log.read_text(encoding="utf-8"), callback_log.read_text(encoding="utf-8")]
        ),
        signatures=tuple(signatures),
        callback_signatures=tuple(callback_signatures),
        statuses=statuses,
        zego_calls=zego_calls,
        callback_outcomes=dict(Counter(record.outcome for record in tries)),
        refused_callbacks=sum(1 for record in tries if record.http_status == 401),
    )


def _leaks(text: str, signatures: tuple[str, ...], pattern: re.Pattern[str] = SIGNATURE_IN_TEXT) -> list[str]:
    """Lines of ``text`` holding one of ``signatures`` or an unmasked signature value (``pattern``)."""
    wanted = {signature.lower() for signature in signatures}
    return [
        line[:400]
        for line in text.splitlines()
        if pattern.search(line) or any(signature in line.lower() for signature in wanted)
    ]


def test_the_run_was_real_and_its_output_was_captured(captured: Captured) -> None:
    assert all(status in TERMINAL for status in captured.statuses.values()), captured.statuses
    assert captured.zego_calls >= len(captured.statuses)
    assert len(captured.signatures) >= captured.zego_calls
    assert "ZEGO request" in captured.ours  # the client's own DEBUG line, with the masked URL
    assert "Signature=***" in captured.ours
    assert "urllib3.connectionpool DEBUG" in captured.ours  # library DEBUG logging was on
    assert "botocore" in captured.ours
    # Incoming SQS events, logged whole by Powertools (as JSON on its stream, or as a dict in the record when
    # an earlier test left Powertools' logger bound to another stream).
    assert "Records" in captured.ours
    # Callbacks were applied, duplicated and refused (1 try + 5 retries), and the receiver logged each.
    assert captured.callback_outcomes.get(CallbackOutcome.DELIVERED, 0) >= 5
    assert captured.refused_callbacks == 6
    assert "callback applied" in captured.ours
    assert "callback rejected" in captured.ours
    assert len(captured.callback_signatures) >= sum(captured.callback_outcomes.values())


def test_the_secret_appears_in_no_output(captured: Captured) -> None:
    assert SECRET.lower() not in captured.everything.lower()


def test_the_callback_secret_appears_in_no_output(captured: Captured) -> None:
    assert CALLBACK_SECRET.lower() not in captured.everything.lower()


def test_no_signature_appears_in_the_pipelines_output(captured: Captured) -> None:
    leaks = _leaks(captured.ours, captured.signatures)
    assert not leaks, f"{len(leaks)} lines, e.g. {leaks[:2]}"


def test_no_signature_appears_in_the_simulators_log(captured: Captured) -> None:
    leaks = _leaks(captured.simulator, captured.signatures)
    assert not leaks, f"{len(leaks)} lines, e.g. {leaks[:2]}"


def test_no_callback_signature_appears_in_any_output(captured: Captured) -> None:
    leaks = _leaks(captured.everything, captured.callback_signatures, CALLBACK_SIGNATURE_IN_TEXT)
    assert not leaks, f"{len(leaks)} lines, e.g. {leaks[:2]}"
