"""The functions' tracer: Powertools' X-Ray ``Tracer`` when tracing is on, without the X-Ray SDK when off.

Powertools' ``Tracer()`` imports the X-Ray SDK (``aws_xray_sdk.core``, 130-200 ms of a cold start,
docs/benchmarks.md) even when tracing is disabled. Tracing is chosen per stack (the template's
``TracingEnabled``, off by default), which sets Powertools' own ``POWERTOOLS_TRACE_DISABLED`` for every
function; when it is off, or outside Lambda (where Powertools disables tracing too), the ``Tracer`` gets
a provider that records nothing, so the decorators stay in place and cost nothing.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

TRACE_DISABLED_VARIABLE = "POWERTOOLS_TRACE_DISABLED"


def tracing_enabled(environ: Mapping[str, str]) -> bool:
    """Whether this function traces: in Lambda (not SAM local) and not disabled by the stack."""
    if resolve_truthy_env_var_choice(env=environ.get(TRACE_DISABLED_VARIABLE, "false")):
        return False
    return bool(environ.get("LAMBDA_TASK_ROOT")) and not environ.get("AWS_SAM_LOCAL")


def function_tracer(environ: Mapping[str, str] | None = None) -> Tracer:
    """The module-level tracer of a function: X-Ray when :func:`tracing_enabled`, else a silent one."""
    if tracing_enabled(os.environ if environ is None else environ):
        return Tracer()
    return Tracer(disabled=True, auto_patch=False, provider=SilentProvider())


class SilentSegment(BaseSegment):
    """A (sub)segment that records nothing."""

    def close(self, end_time: int | None = None) -> None:
        """Nothing to close."""

    def add_subsegment(self, subsegment: Any) -> None:
        """Nothing is kept."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Nothing is kept."""

    def put_annotation(self, key: str, value: Any) -> None:
        """Dropped."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Dropped."""

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        """Dropped (the function's logs carry the exception)."""


class SilentProvider(BaseProvider):
    """A tracing provider that records nothing and imports nothing."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        """A subsegment that records nothing."""
        yield SilentSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> Any:
        """The same, for async code."""
        yield SilentSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        """Dropped."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Dropped."""

    def patch(self, modules: Sequence[str]) -> None:
        """Nothing to patch."""

    def patch_all(self) -> None:
        """Nothing to patch."""
