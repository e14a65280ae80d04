"""Helpers shared by the benchmarks: template defaults, a quiet stdout, progress lines."""

from __future__ import annotations

import contextlib
import io
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devstack.template import load_template, parameter_defaults

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
ZEGO_LIMIT_PER_SECOND = 20
"""ZEGO's documented DescribeMediaTask limit per AppId, which the simulator enforces."""


def template_defaults() -> dict[str, Any]:
    """Every parameter default of ``template.yaml`` (the configuration a deployment gets)."""
    return parameter_defaults(load_template())


class CountingSink(io.TextIOBase):
    """A stdout that keeps nothing and counts the UTF-8 bytes written to it (what Lambda would ship to
    CloudWatch Logs)."""

    def __init__(self) -> None:
        super().__init__()
        self._bytes = 0
        self._lock = threading.Lock()

    def writable(self) -> bool:
        """Always."""
        return True

    def write(self, text: str) -> int:
        """Count and drop."""
        with self._lock:
            self._bytes += len(text.encode("utf-8"))
        return len(text)

    @property
    def bytes_written(self) -> int:
        """Bytes written so far."""
        with self._lock:
            return self._bytes


_SINK = CountingSink()
"""One sink for the whole process, never closed: Powertools loggers of the same service share one
stdlib logger and its handler, bound to whatever stdout was when the first of them was created."""


def stdout_bytes() -> int:
    """Bytes the handlers have written to the quiet stdout so far."""
    return _SINK.bytes_written


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send stdout to a counting sink for the block.

    The handlers log one JSON line per record and print EMF metrics to stdout, as in Lambda; writing
    them (to nowhere) keeps their cost in the measurement without flooding the console. Powertools'
    Logger binds the stream when the handler module is imported, so modules must be loaded inside the
    block. Progress goes to stderr.
    """
    saved = sys.stdout
    sys.stdout = _SINK
    try:
        yield
    finally:
        sys.stdout = saved


def progress(message: str) -> None:
    """One progress line on stderr."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
