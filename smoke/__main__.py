"""``python -m smoke [--stack NAME] [--region REGION]`` (``make smoke [STACK=NAME]``).

Prints one line per check; exits 0 when every check passed, 1 with one ``smoke: FAILED ...`` line when
the target cannot be checked (no credentials, no region, no such stack) or a check failed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import boto3

from smoke import targets
from smoke.checks import CheckError, Outcome, Suite

LOCAL_LOG = Path(".devstack") / "smoke-functions.log"
"""Locally the functions run in this process: their log lines, metrics and warnings go here, not between the
checks' lines."""


def _reporter(out: TextIO) -> Callable[[Outcome], None]:
    def report(outcome: Outcome) -> None:
        print(f"{'ok  ' if outcome.passed else 'FAIL'} {outcome.name}: {outcome.detail}", file=out, flush=True)

    return report


def run(stack: str | None, region: str | None = None, *, out: TextIO | None = None) -> int:
    """Check the deployed ``stack`` (or, without one, the local stack); the exit status."""
    out, err = out or sys.stdout, sys.stderr
    try:
        if stack:
            # botocore reads AWS_DEFAULT_REGION and the profile's region; the AWS CLI also AWS_REGION.
            region = region or os.environ.get("AWS_REGION") or None
            target = targets.deployed(stack, boto3.session.Session(region_name=region))
            print(f"smoke: checking {target.description} ({target.auth_mode} auth)", file=out, flush=True)
            outcomes = Suite(target, report=_reporter(out)).run()
        else:
            LOCAL_LOG.parent.mkdir(parents=True, exist_ok=True)
            print(f"smoke: starting the local stack (its functions log to {LOCAL_LOG})", file=out, flush=True)
            with (
                LOCAL_LOG.open("w", encoding="utf-8") as log,
                contextlib.redirect_stdout(log),
                contextlib.redirect_stderr(log),
                targets.local() as target,
            ):
                print(f"smoke: checking {target.description}", file=out, flush=True)
                outcomes = Suite(target, event_timeout_seconds=30, report=_reporter(out)).run()
    except (targets.TargetError, CheckError) as failure:
        print(f"smoke: FAILED {failure}", file=err, flush=True)
        return 1
    skipped = sum(not outcome.applicable for outcome in outcomes)
    print(f"smoke: passed, {len(outcomes) - skipped} checks ({skipped} not applicable here)", file=out, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="a deployed stack's name (default: start and check the local stack)")
    parser.add_argument("--region", help="the stack's region (default: AWS_REGION or the profile's)")
    arguments = parser.parse_args(argv)
    return run(arguments.stack, arguments.region)


if __name__ == "__main__":
    sys.exit(main())
