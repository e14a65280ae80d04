"""State-change events as a subscriber checks them: against the committed JSON Schema, de-duplicated by
``detail.eventId`` and ordered by ``detail.sequence``, per task."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs are published

from zego_media_tasks.events.schema import DOCUMENT_PATH

TaskKey = tuple[str, str]
"""(taskId, vendor)."""


@functools.cache
def _validator() -> Any:
    schema = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def check_document() -> None:
    """Raise when the committed document is not a valid JSON Schema (draft 2020-12)."""
    Draft202012Validator.check_schema(json.loads(DOCUMENT_PATH.read_text(encoding="utf-8")))


def schema_violations(event: object) -> list[str]:
    """Where ``event`` breaks ``docs/state-change-event.schema.json`` (formats checked); empty when valid."""
    errors = sorted(_validator().iter_errors(event), key=lambda error: [str(part) for part in error.path])
    return [f"{'/'.join(str(part) for part in error.path) or '(event)'}: {error.message}" for error in errors]


def by_task(events: Iterable[dict[str, Any]]) -> dict[TaskKey, list[dict[str, Any]]]:
    """Each task's events, one per ``detail.eventId`` (a redelivery dropped), in ``detail.sequence`` order."""
    unique: dict[str, dict[str, Any]] = {}
    for event in events:
        unique.setdefault(event["detail"]["eventId"], event)
    tasks: dict[TaskKey, list[dict[str, Any]]] = {}
    for event in unique.values():
        detail = event["detail"]
        tasks.setdefault((detail["taskId"], detail["vendor"]), []).append(event)
    return {key: sorted(found, key=lambda event: event["detail"]["sequence"]) for key, found in tasks.items()}
