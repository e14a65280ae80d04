"""Documents generated from the code and committed beside it (``docs/openapi.json``, the state-change
event schema): one command line for each, which rewrites the file, or with ``--check`` says whether it is
stale, so that a test or CI step can fail on a document the code no longer matches."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def write_or_check(
    argv: Sequence[str] | None, text: Callable[[], str], *, default_path: Path, module: str, doc: str | None
) -> int:
    """The command line of the document that ``text()`` generates (``python -m <module>``): write it to
    ``--output`` (default ``default_path``) and return 0, or with ``--check`` return 1, saying so on
    stderr, when the file differs. ``doc``: the module's docstring, whose first line describes the command."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--output", type=Path, default=default_path)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs from the code")
    args = parser.parse_args(argv)
    generated = text()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != generated:
            sys.stderr.write(f"{args.output} is stale: run python -m {module}\n")
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(generated, encoding="utf-8")
    return 0
