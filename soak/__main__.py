"""``python -m soak`` (``make soak``): run the chaos soak, print the counts, write the reports.

Exit status 0 when every criterion passed, 1 when one failed, 2 on a usage error.

    python -m soak                      # 1,000 tasks, writes soak/report.json and docs/soak.md
    python -m soak --quick              # 60 tasks (what tests/e2e/test_soak.py runs)
    python -m soak --tasks 300 --seed 5 --no-markdown
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from soak.config import SoakConfig
from soak.report import console_summary, write_json, write_markdown
from soak.runner import run_soak

ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run, report; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="the 60-task variant")
    parser.add_argument("--tasks", type=int, help="number of tasks (default 1000, quick 60)")
    parser.add_argument("--seed", type=int, help="seed of the scenario and of every injected fault")
    parser.add_argument("--report", type=Path, default=ROOT / "soak" / "report.json", help="JSON report path")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "soak.md", help="Markdown report path")
    parser.add_argument("--no-markdown", action="store_true", help="do not write the Markdown report")
    parser.add_argument("--out", type=Path, default=ROOT / "soak" / "out", help="handler logs and raw logs")
    args = parser.parse_args(argv)

    config = SoakConfig.quick() if args.quick else SoakConfig()
    if args.tasks is not None:
        if args.tasks < 30:
            parser.error("--tasks must be at least 30 (the mix needs one task of each kind)")
        config = replace(config, tasks=args.tasks)
    if args.seed is not None:
        config = replace(config, seed=args.seed)

    console = sys.stdout

    def progress(line: str) -> None:
        console.write(line + "\n")
        console.flush()

    result = run_soak(config, out_dir=args.out, progress=progress)
    write_json(result, args.report)
    if not args.no_markdown and not args.quick:
        write_markdown(result, args.markdown)
    progress(console_summary(result))
    progress(f"report: {args.report}" + ("" if args.no_markdown or args.quick else f", {args.markdown}"))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
