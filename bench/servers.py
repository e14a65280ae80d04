"""The ZEGO simulator as a helper process for the handler-level benchmark, in its own interpreter so
that it does not compete with the poller threads for the measuring process's GIL (in AWS, ZEGO is
another machine; moto gets its own process from ``devstack.emulator.AwsEmulatorProcess``).

``python -m bench.servers zego --port P --call-log F ...`` prints ``ready`` once listening and exits when
its standard input closes, so it never outlives the benchmark that started it (even if it is killed).
It binds 127.0.0.1 only.
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

ROOT = Path(__file__).resolve().parent.parent
SECRET_ENV = "ZEGO_SIMULATOR_SECRET"  # noqa: S105 - the name of a variable, not a secret


def _serve_zego(*, port: int, scenario: Path, app_id: int, call_log: Path, latency: float, rate_limit: int) -> None:
    from devstack.zego_simulator import FaultSettings, Scenario, ZegoSimulator

    secret = os.environ[SECRET_ENV]
    simulator = ZegoSimulator(
        Scenario.from_file(scenario),
        apps={app_id: secret},
        port=port,
        rate_limit=rate_limit,
        faults=FaultSettings(latency_seconds=latency),
        call_log_path=call_log,
    ).start()
    try:
        print("ready", flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    finally:
        simulator.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the helper processes."""
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    sub = parser.add_subparsers(dest="server", required=True)
    zego = sub.add_parser("zego")
    zego.add_argument("--port", type=int, required=True)
    zego.add_argument("--scenario", type=Path, required=True)
    zego.add_argument("--app-id", type=int, required=True)
    zego.add_argument("--call-log", type=Path, required=True)
    zego.add_argument("--latency-seconds", type=float, default=0.0)
    zego.add_argument("--rate-limit", type=int, default=20)
    args = parser.parse_args(argv)
    _serve_zego(
        port=args.port,
        scenario=args.scenario,
        app_id=args.app_id,
        call_log=args.call_log,
        latency=args.latency_seconds,
        rate_limit=args.rate_limit,
    )


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
