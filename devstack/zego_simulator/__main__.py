"""Run the ZEGO simulator standalone until SIGINT/SIGTERM.

    python -m devstack.zego_simulator --port 8900 --scenario devstack/scenarios/demo.json \\
        --app-id 12345 --secret 9193cc662a4c0ec135ec71fb57194b38

Give ``--app-id``/``--secret`` pairs in the same order (several AppIds are allowed). With a single
``--app-id`` and no ``--secret``, the secret is read from ``ZEGO_SIMULATOR_SECRET`` (keeps it out of the
process list). The secret is never logged.

``--callback-url`` switches on ZEGO's completion callbacks (POSTed to that URL when a task ends), signed
with ``--callback-secret`` or ``$ZEGO_CALLBACK_SECRET`` (the CallbackSecret, not a ServerSecret; never
logged either).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Sequence
from dataclasses import fields
from types import FrameType

from devstack.wall_clock import follow_the_parents_clock
from devstack.zego_simulator.callbacks import DEFAULT_TIMEOUT_SECONDS, CallbackFaultSettings, CallbackSettings
from devstack.zego_simulator.faults import FaultSettings
from devstack.zego_simulator.scenario import Scenario, ScenarioError
from devstack.zego_simulator.server import DEFAULT_MAX_SKEW_SECONDS, DEFAULT_RATE_LIMIT, LOOPBACK, ZegoSimulator

logger = logging.getLogger("devstack.zego_simulator")

SECRET_ENV = "ZEGO_SIMULATOR_SECRET"  # noqa: S105 - the variable's name, not a secret
CALLBACK_SECRET_ENV = "ZEGO_CALLBACK_SECRET"  # noqa: S105 - the variable's name, not a secret
_FAULT_HELP = {
    "latency_seconds": "added to every answer",
    "latency_spread_seconds": "a uniform extra delay per round trip, half before the call is counted",
    "hang_seconds": "how long a hung request is held",
}
_CALLBACK_FAULT_HELP = {"delay_seconds": "how late a delayed callback is sent (scenario seconds)"}


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m devstack.zego_simulator``."""
    parser = argparse.ArgumentParser(
        prog="python -m devstack.zego_simulator",
        description="A ZEGO DescribeMediaTask simulator on loopback that can also send ZEGO's completion callbacks.",
    )
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=8900, help="port; 0 picks a free one (default %(default)s)")
    parser.add_argument("--scenario", help="scenario JSON file (format: devstack/scenarios/README.md)")
    parser.add_argument("--app-id", type=int, action="append", required=True, help="accepted AppId (repeatable)")
    parser.add_argument("--secret", action="append", help=f"ServerSecret per --app-id, in order (or ${SECRET_ENV})")
    parser.add_argument(
        "--rate-limit", type=int, default=DEFAULT_RATE_LIMIT, help="calls/s per AppId; 0 = unlimited (default 20)"
    )
    parser.add_argument("--time-scale", type=float, default=1.0, help="real seconds per scenario second")
    parser.add_argument("--seed", type=int, default=0, help="seed of fault draws and request ids")
    parser.add_argument("--max-skew-seconds", type=float, default=DEFAULT_MAX_SKEW_SECONDS)
    parser.add_argument("--throttle-http-status", type=int, default=200, help="HTTP status of Code-6 answers")
    parser.add_argument("--call-log", help="also append every call as a JSON line to this file")
    faults = parser.add_argument_group("fault injection (rates are per call, 0..1, together at most 1)")
    for knob in fields(FaultSettings):  # one flag per knob, with the knob's default
        flag = "--" + knob.name.replace("_", "-")
        faults.add_argument(flag, type=float, default=knob.default, help=_FAULT_HELP.get(knob.name))
    callbacks = parser.add_argument_group(
        "completion callbacks (off without --callback-url; retried after 2, 4, 8, 16, 32 s times --time-scale)"
    )
    callbacks.add_argument("--callback-url", help="POST each task's completion callback here (http:// or https://)")
    callbacks.add_argument("--callback-secret", help=f"CallbackSecret that signs them (or ${CALLBACK_SECRET_ENV})")
    callbacks.add_argument("--callback-app-id", type=int, help="appid the callbacks carry (default: the one --app-id)")
    callbacks.add_argument(
        "--callback-timeout-seconds", type=float, default=DEFAULT_TIMEOUT_SECONDS, help="per try (default 2)"
    )
    callbacks.add_argument("--callback-log", help="also append every callback attempt as a JSON line to this file")
    for knob in fields(CallbackFaultSettings):  # one flag per knob: --callback-lost-rate, ...
        flag = "--callback-" + knob.name.replace("_", "-")
        rate_help = "per callback, 0..1; the rates together at most 1"
        callbacks.add_argument(
            flag, type=float, default=knob.default, help=_CALLBACK_FAULT_HELP.get(knob.name, rate_help)
        )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def apps_from_args(app_ids: Sequence[int], secrets: Sequence[str] | None, environ: dict[str, str]) -> dict[int, str]:
    """Pair AppIds with secrets; a single AppId may take its secret from ``$ZEGO_SIMULATOR_SECRET``."""
    if not secrets:
        secret = environ.get(SECRET_ENV, "")
        if len(app_ids) != 1 or not secret:
            raise ValueError(f"give one --secret per --app-id (or one --app-id and ${SECRET_ENV})")
        secrets = [secret]
    if len(secrets) != len(app_ids):
        raise ValueError(f"{len(app_ids)} --app-id but {len(secrets)} --secret; give them in pairs")
    return dict(zip(app_ids, secrets, strict=True))


def callbacks_from_args(args: argparse.Namespace, environ: dict[str, str]) -> CallbackSettings | None:
    """Callback settings from parsed arguments, or ``None`` (callbacks off) without ``--callback-url``."""
    if not args.callback_url:
        if args.callback_secret or args.callback_app_id is not None:
            raise ValueError("--callback-secret and --callback-app-id need --callback-url")
        return None
    secret = args.callback_secret or environ.get(CALLBACK_SECRET_ENV, "")
    if not secret:
        raise ValueError(f"--callback-url needs the CallbackSecret: --callback-secret or ${CALLBACK_SECRET_ENV}")
    knobs = {knob.name: getattr(args, f"callback_{knob.name}") for knob in fields(CallbackFaultSettings)}
    return CallbackSettings(
        url=args.callback_url,
        secret=secret,
        app_id=args.callback_app_id,
        timeout_seconds=args.callback_timeout_seconds,
        faults=CallbackFaultSettings(**knobs),
    )


def simulator_from_args(args: argparse.Namespace, environ: dict[str, str]) -> ZegoSimulator:
    """A (not yet started) simulator configured from parsed arguments."""
    scenario = Scenario.from_file(args.scenario) if args.scenario else Scenario()
    return ZegoSimulator(
        scenario,
        apps=apps_from_args(args.app_id, args.secret, environ),
        host=args.host,
        port=args.port,
        rate_limit=args.rate_limit or None,
        time_scale=args.time_scale,
        faults=FaultSettings(**{knob.name: getattr(args, knob.name) for knob in fields(FaultSettings)}),
        seed=args.seed,
        max_skew_seconds=args.max_skew_seconds,
        throttle_http_status=args.throttle_http_status,
        call_log_path=args.call_log,
        callbacks=callbacks_from_args(args, environ),
        callback_log_path=args.callback_log,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, serve until SIGINT/SIGTERM, stop cleanly; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    follow_the_parents_clock()  # run by a test suite whose clock is moved ahead: sign and check in its time
    try:
        simulator = simulator_from_args(args, dict(os.environ))
    except (ScenarioError, ValueError) as error:
        parser.error(str(error))
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with simulator:
        logger.info("%d scripted tasks, time scale %s; Ctrl-C stops", len(simulator.service.book), args.time_scale)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
