"""The ZEGO simulator as a helper process for the handler-level benchmark, in its own interpreter so
that it does not compete with the poller threads for the measuring process's GIL (in AWS, ZEGO is
another machine; moto gets its own process from ``devstack.emulator.AwsEmulatorProcess``).

``python -m bench.servers zego --port P --call-log F ...`` takes the arguments of ``python -m
devstack.zego_simulator`` (the simulator's one command line), prints ``ready`` once listening and exits
when its standard input closes, so it never outlives the benchmark that started it (even if it is
killed). It binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import subprocess  # nosec B404
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from devstack.zego_simulator.__main__ import build_parser, simulator_from_args

ROOT = Path(__file__).resolve().parent.parent


def _serve_zego(simulator_args: Sequence[str]) -> None:
    """Serve the simulator that ``python -m devstack.zego_simulator <simulator_args>`` would, until stdin
    closes. With one ``--app-id`` and no ``--secret``, the secret comes from ``$ZEGO_SIMULATOR_SECRET``."""
    simulator = simulator_from_args(build_parser().parse_args(simulator_args), dict(os.environ)).start()
    try:
        print("ready", flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    finally:
        simulator.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the helper processes."""
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    sub = parser.add_subparsers(dest="server", required=True)
    sub.add_parser(
        "zego", help="the ZEGO simulator; the other arguments are those of python -m devstack.zego_simulator"
    )
    _, simulator_args = parser.parse_known_args(argv)
    _serve_zego(simulator_args)


class HelperProcess:
    """A running helper: its ``pid`` (for CPU accounting) and a way to stop it."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    @property
    def pid(self) -> int:
        """The helper's process id."""
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the helper has used so far (from /proc)."""
        return process_cpu_seconds(self.pid)

    def stop(self) -> None:
        """Close its stdin (it exits), then make sure it is gone."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (Linux /proc; 0 where unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def helper(
    args: Sequence[str], *, env: dict[str, str] | None = None, ready_timeout: float = 30.0
) -> Iterator[HelperProcess]:
    """Start ``python -m bench.servers <args>``, wait for ``ready``, stop it on exit."""
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)])
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments # nosec B603
        [sys.executable, "-m", "bench.servers", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    running = HelperProcess(process)
    try:
        if process.stdout is None:  # pragma: no cover - stdout=PIPE always sets it
            raise RuntimeError("no pipe to the helper")
        readable, _, _ = select.select([process.stdout], [], [], ready_timeout)
        line = process.stdout.readline() if readable else ""
        if line.strip() != "ready":
            raise RuntimeError(f"helper {args[0]} did not start within {ready_timeout:g} s (said {line!r})")
        yield running
    finally:
        running.stop()


if __name__ == "__main__":
    main()
