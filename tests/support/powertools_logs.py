"""A Powertools logger's lines, read back as JSON: formatted by the logger's own formatter at logging time,
so a test sees exactly the line CloudWatch would, whichever stream Powertools' own handler writes to."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger

LogLines = Callable[[], list[dict[str, Any]]]
"""The lines logged so far, oldest first, each parsed from its JSON."""


@contextmanager
def captured_log_lines(logger: Logger) -> Iterator[LogLines]:
    """Capture what ``logger`` logs while the block runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    target = logging.getLogger(logger.name)
    target.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        target.removeHandler(handler)
