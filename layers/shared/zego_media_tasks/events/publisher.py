"""EventBridge adapter: PutEvents with retries of exactly the entries that failed.

``PutEvents`` can accept a call and still refuse some of its entries (``FailedEntryCount``, an
``ErrorCode`` per entry: throttling, an internal failure); only those are sent again, with exponential
backoff. A whole call that fails (throttled, unavailable) is retried the same way. When entries still
fail after the last attempt, :class:`PublishError` is raised and the stream record is reported failed,
so Lambda retries it later (and, past its retry budget, hands it to the on-failure destination): an event
is delayed, never dropped. A re-publication carries the same ``eventId`` in its detail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from zego_media_tasks.aws import LazyClient, error_code, lazy
from zego_media_tasks.domain.ports import DependencyUnavailable
from zego_media_tasks.domain.state_change import DETAIL_TYPE, StateChange
from zego_media_tasks.domain.timestamps import from_iso

MAX_ENTRIES_PER_CALL: Final = 10
"""PutEvents takes at most 10 entries per call."""
DEFAULT_ATTEMPTS: Final = 4
DEFAULT_BASE_DELAY_SECONDS: Final = 0.2


class PublishError(DependencyUnavailable):
    """Some events could not be published after every attempt; the stream record must be retried."""

    dependency = "event bus"


class EventPublisher:
    """Publishes state changes to one event bus, under one ``source``. Built once per Lambda instance."""

    def __init__(
        self,
        bus_name: str,
        source: str,
        *,
        client: Any | LazyClient[Any] | None = None,
        sleep: Callable[[float], None],
        attempts: int = DEFAULT_ATTEMPTS,
        base_delay_seconds: float = DEFAULT_BASE_DELAY_SECONDS,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.bus_name = bus_name
        self.source = source
        self._client: LazyClient[Any] = lazy("events", client)
        self._sleep = sleep
        self._attempts = attempts
        self._base_delay = base_delay_seconds

    def entry(self, change: StateChange) -> dict[str, Any]:
        """The PutEvents entry of ``change``."""
        return {
            "EventBusName": self.bus_name,
            "Source": self.source,
            "DetailType": DETAIL_TYPE,
            "Detail": change.detail_json(),
            "Resources": [],
            "Time": from_iso(change.time),  # the change's own time, not the publication's
        }

    def publish(self, changes: Sequence[StateChange]) -> int:
        """Publish every change; returns the number of PutEvents calls made. Raises :class:`PublishError`."""
        pending = [self.entry(change) for change in changes]
        calls = 0
        last_reason = "no attempt"
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(self._base_delay * 2 ** (attempt - 1))
            still_failing: list[dict[str, Any]] = []
            for start in range(0, len(pending), MAX_ENTRIES_PER_CALL):
                chunk = pending[start : start + MAX_ENTRIES_PER_CALL]
                calls += 1
                try:
                    response = self._client.get().put_events(Entries=chunk)
                except (ClientError, BotoCoreError) as error:
                    last_reason = error_code(error)
                    still_failing.extend(chunk)
                    continue
                if response.get("FailedEntryCount", 0):
                    for sent, result in zip(chunk, response.get("Entries", []), strict=False):
                        if result.get("ErrorCode"):
                            last_reason = str(result["ErrorCode"])
                            still_failing.append(sent)
            if not still_failing:
                return calls
            pending = still_failing
        raise PublishError("PutEvents", f"{len(pending)} entries failed ({last_reason})")
