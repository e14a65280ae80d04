"""What every local event source mapping does, whatever it reads: the core of the SQS mapping
(:mod:`devstack.event_source`) and of the DynamoDB stream one (:mod:`devstack.stream_source`).

Reader threads that survive any failure of a read cycle (as Lambda's pollers do), one batch handed to the
real handler as one Lambda event with a Lambda-like context, and the handler's ``batchItemFailures`` read
as Lambda reads them: an entry naming no record of the batch fails the whole batch. What a source reads,
how it batches and what it does with the outcome stay in its own module.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from devstack.handlers import Handler
from devstack.lambda_context import LocalLambdaContext

LOG = logging.getLogger(__name__)

Record = dict[str, Any]
"""A record as the source read it (a ReceiveMessage message, a GetRecords record)."""

FAILED_CYCLE_PAUSE_SECONDS = 0.2
"""How long a reader waits after a read cycle failed before it reads again."""


class InvocationSettings(Protocol):
    """The settings of a mapping that shape each invocation, whatever the source."""

    @property
    def function_timeout_seconds(self) -> float:
        """The function's ``Timeout``: what the context's remaining time counts down from."""

    @property
    def report_batch_item_failures(self) -> bool:
        """``ReportBatchItemFailures`` is among the ``FunctionResponseTypes``; without it Lambda ignores the
        response of a handler that returned."""


@dataclass
class InvocationStats:
    """Counters every mapping keeps (read by the progress view, the tests, benchmarks and the soak);
    each source adds its own."""

    invocations: int = 0
    records: int = 0
    """Records handed to the handler (a redelivered or retried record counts again)."""
    failed_invocations: int = 0
    """Invocations that raised or answered something invalid: the whole batch failed."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        """Add to several counters atomically."""
        with self.lock:
            for name, amount in counts.items():
                setattr(self, name, getattr(self, name) + amount)


def failed_item_identifiers(response: Any, identifiers: Sequence[str]) -> set[str] | None:
    """The ``itemIdentifier`` values a ``ReportBatchItemFailures`` response names, or None when Lambda
    would fail the whole batch: a response that is not an object, or an entry naming none of
    ``identifiers`` (the batch's own). No response means no failures."""
    if response is None:
        return set()
    if not isinstance(response, Mapping):
        return None
    known = set(identifiers)
    failed: set[str] = set()
    for failure in response.get("batchItemFailures") or []:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if identifier not in known:
            LOG.error("invalid batchItemFailures entry %r: failing the whole batch", failure)
            return None
        failed.add(identifier)
    return failed


class EventSourceCore:
    """Reader threads and the invocation of the handler; a source subclasses it with what it reads.

    A subclass says how a record of its source looks in a Lambda event (:meth:`_event_record`) and
    which identifier ``batchItemFailures`` names it by (:meth:`_item_identifier`).
    """

    def __init__(
        self,
        handler: Handler,
        settings: InvocationSettings,
        stats: InvocationStats,
        function_name: str,
        invoke_hook: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        """``invoke_hook`` sees each event before the handler does."""
        self._handler = handler
        self._function_name = function_name
        self._function_timeout_seconds = settings.function_timeout_seconds
        self._report_batch_item_failures = settings.report_batch_item_failures
        self._invoke_hook = invoke_hook
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.stats = stats

    def _event_record(self, record: Record) -> dict[str, Any]:
        raise NotImplementedError

    def _item_identifier(self, record: Record) -> str:
        raise NotImplementedError

    # -- reading -----------------------------------------------------------------------------------
    def _start_reader(self, name: str, cycle: Callable[[], None]) -> None:
        """A daemon thread that runs ``cycle`` until :meth:`stop`, surviving any failure of it."""
        thread = threading.Thread(target=self._keep_reading, args=(cycle,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _keep_reading(self, cycle: Callable[[], None]) -> None:
        while not self._stop.is_set():
            try:
                cycle()
            except Exception:
                # The mapping itself must survive anything (as Lambda's does); log and keep reading.
                LOG.exception("local event source of %s: read cycle failed", self._function_name)
                self._stop.wait(FAILED_CYCLE_PAUSE_SECONDS)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop reading; in-flight invocations finish first."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    # -- invoking ----------------------------------------------------------------------------------
    def _invoke(self, batch: Sequence[Record]) -> set[str] | None:
        """Hand ``batch`` to the handler as one Lambda event. Returns the identifiers of the records it
        reported failed, or None when the whole batch failed (it raised or answered something invalid)."""
        event = {"Records": [self._event_record(record) for record in batch]}
        context = LocalLambdaContext(function_name=self._function_name, timeout_seconds=self._function_timeout_seconds)
        self.stats.add(invocations=1, records=len(batch))
        if self._invoke_hook:
            self._invoke_hook(event)
        try:
            response = self._handler(event, context)
        except Exception:
            LOG.exception("%s raised: its batch failed", self._function_name)
            self.stats.add(failed_invocations=1)
            return None
        if not self._report_batch_item_failures:
            return set()
        failed = failed_item_identifiers(response, [self._item_identifier(record) for record in batch])
        if failed is None:
            self.stats.add(failed_invocations=1)
        return failed
