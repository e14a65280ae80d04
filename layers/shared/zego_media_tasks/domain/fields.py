"""How a field of the task record is described, once, next to its declaration.

Every field of :class:`~zego_media_tasks.domain.record.TaskRecord` (and of the snapshot and error types
it is made of) carries a :class:`FieldInfo` in its dataclass metadata. The DynamoDB item mapping
(``store.items``) and the API representation (``api.models``) are both generated from these
declarations, so a new field is one edit here plus a regenerated ``docs/openapi.json``. The public name
of a field, the DynamoDB attribute and the JSON member alike, is its Python name in camelCase.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FIELD_INFO = "zego_media_tasks.field"
"""The dataclass metadata key holding a field's :class:`FieldInfo`."""


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What the adapters need to know about one field besides its name and type."""

    doc: str = ""
    """The field's description in the API document (empty: none)."""
    internal: bool = False
    """Stored, but never part of the API representation (poll-chain bookkeeping)."""
    timestamp: bool = False
    """An ISO 8601 UTC string from :mod:`zego_media_tasks.domain.timestamps`."""
    stored_as: str | None = None
    """The DynamoDB attribute, when it is not the public name (a differently encoded value)."""


def about(
    doc: str = "", *, internal: bool = False, timestamp: bool = False, stored_as: str | None = None
) -> Mapping[str, FieldInfo]:
    """Dataclass metadata for a field: ``field(default=None, metadata=about("..."))``."""
    return {FIELD_INFO: FieldInfo(doc=doc, internal=internal, timestamp=timestamp, stored_as=stored_as)}


def camel(name: str) -> str:
    """``first_seen_at`` → ``firstSeenAt``: a field's public name."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True, slots=True)
class DeclaredField:
    """One field of a described dataclass: its name, resolved type, public name and description."""

    name: str
    hint: Any
    public_name: str
    info: FieldInfo
    required: bool
    """No default: every record has a value."""

    @property
    def stored_name(self) -> str:
        """The DynamoDB attribute holding the field."""
        return self.info.stored_as or self.public_name


_DECLARED: dict[type, tuple[DeclaredField, ...]] = {}


def declared_fields(cls: type) -> tuple[DeclaredField, ...]:
    """The described fields of dataclass ``cls`` in declaration order (fields without a
    :class:`FieldInfo` are not part of any mapping, e.g. the record's ``extra``)."""
    known = _DECLARED.get(cls)
    if known is not None:
        return known
    hints = typing.get_type_hints(cls)
    found = []
    for item in dataclasses.fields(cls):
        info = item.metadata.get(FIELD_INFO)
        if info is None:
            continue
        required = item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
        found.append(DeclaredField(item.name, hints[item.name], camel(item.name), info, required))
    _DECLARED[cls] = tuple(found)
    return _DECLARED[cls]
