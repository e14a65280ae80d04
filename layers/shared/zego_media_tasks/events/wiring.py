"""Builds the publisher from its settings: the composition root of the publisher function."""

from __future__ import annotations

import time

from zego_media_tasks.events.publisher import EventPublisher
from zego_media_tasks.events.service import PublisherService
from zego_media_tasks.events.settings import PublisherSettings


def build_publisher(settings: PublisherSettings) -> PublisherService:
    """The service wired to EventBridge (the client is built at the first event)."""
    return PublisherService(EventPublisher(settings.event_bus_name, settings.event_source, sleep=time.sleep))
