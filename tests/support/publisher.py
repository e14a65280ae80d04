"""A test double of the state-change events' ``Publisher`` port (``events.service``)."""

from __future__ import annotations

from zego_media_tasks.domain.state_change import StateChange


class CollectingPublisher:
    """Keeps every change it is given, in order, each batch as one successful PutEvents call."""

    def __init__(self) -> None:
        self.published: list[StateChange] = []

    def publish(self, changes: list[StateChange]) -> int:
        self.published.extend(changes)
        return 1
