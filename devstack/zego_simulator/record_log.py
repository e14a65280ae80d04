"""An append-only log of what the simulator did, one record per call served or callback attempted: held in
memory (optionally bounded) for the tests and the soak, and optionally written as JSON lines for people.

The call log (:class:`devstack.zego_simulator.server.CallLog`) and the callback log
(:class:`devstack.zego_simulator.callbacks.CallbackLog`) are both one of these.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Generic, Protocol, TypeVar


class LoggedRecord(Protocol):
    """What a record of the log must offer."""

    @property
    def task_id(self) -> str | None:
        """The task the record is about, if known."""

    def as_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict (the JSON-lines file format)."""


RecordT = TypeVar("RecordT", bound=LoggedRecord)


class RecordLog(Generic[RecordT]):
    """Records in memory (optionally bounded) and optionally as JSON lines in a file; thread-safe."""

    def __init__(self, path: str | Path | None = None, *, max_records: int | None = None) -> None:
        self._records: deque[RecordT] = deque(maxlen=max_records)
        self._changed = threading.Condition()
        self._file: IO[str] | None = None
        if path is not None:
            self._file = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def append(self, record: RecordT) -> None:
        """Add one record (and write it to the file, if any)."""
        with self._changed:
            self._records.append(record)
            if self._file is not None:
                self._file.write(json.dumps(record.as_dict(), separators=(",", ":")) + "\n")
                self._file.flush()
            self._changed.notify_all()

    def records(self, task_id: str | None = None) -> list[RecordT]:
        """A snapshot of the records, oldest first, optionally of one task only."""
        with self._changed:
            return [record for record in self._records if task_id is None or record.task_id == task_id]

    def wait_for(self, condition: Callable[[list[RecordT]], bool], timeout: float) -> bool:
        """Block until ``condition(records)`` holds (re-checked on every append) or ``timeout`` real
        seconds pass; returns whether it holds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(list(self._records)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def __len__(self) -> int:
        with self._changed:
            return len(self._records)

    def clear(self) -> None:
        """Drop the in-memory records (the file, if any, keeps its lines)."""
        with self._changed:
            self._records.clear()

    def close(self) -> None:
        """Close the JSON-lines file, if any (records stay readable)."""
        with self._changed:
            if self._file is not None:
                self._file.close()
                self._file = None
