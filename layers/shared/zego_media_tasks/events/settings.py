"""The publisher's configuration, read from the environment once per Lambda instance.

- ``EVENT_BUS_NAME`` (required): the bus the state-change events go to (the stack's own, or an existing
  one given as a parameter).
- ``EVENT_SOURCE`` (default ``zego-media-tasks``): the events' ``source``, so that several stacks can
  share a bus and rules tell them apart.
"""

from __future__ import annotations

from typing import Final

from zego_media_tasks.config.environment import Knob, SettingsModel, Text, setting, settings_model
from zego_media_tasks.domain.state_change import DEFAULT_SOURCE

EVENT_BUS_NAME: Final = Knob("EVENT_BUS_NAME", Text(), "the EventBridge bus the state-change events go to")
EVENT_SOURCE: Final = Knob(
    "EVENT_SOURCE",
    Text("1-256 characters, not starting with 'aws.'", lambda text: len(text) <= 256 and not text.startswith("aws.")),
    "the events' source",
)


@settings_model
class PublisherSettings(SettingsModel):
    """Everything the publisher needs from its environment."""

    SUBJECT = "event publisher settings"

    event_bus_name: str = setting(EVENT_BUS_NAME)
    event_source: str = setting(EVENT_SOURCE, default=DEFAULT_SOURCE)
