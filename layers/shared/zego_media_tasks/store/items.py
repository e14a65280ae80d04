"""The mapping between :class:`TaskRecord` and DynamoDB items, generated from the record's declaration.

Each declared field of the record (:mod:`zego_media_tasks.domain.fields`) is stored under its public
(camelCase) name with a codec chosen from its type, so a new field needs no edit here. Required fields
are always written; optional ones are left out when None, empty or an empty list; a reader tolerates
missing and mistyped attributes, and carries unknown ones through in ``extra``.

Key design (see docs/architecture.md): partition key ``taskId``, sort key ``vendor``, so the same TaskId
can be tracked for both vendors and ``GET /tasks/{taskId}`` is one Query. One GSI lists tasks by status,
newest change first: ``ByStatus`` (``status``, ``statusChangedAt``; a vendor's listing filters it on the
sort key). ``expiresAt`` is the TTL attribute. A second, sparse one, ``ByWatchAt`` (``watchShard``,
``watchAt``), holds the non-terminal records for the watchdog (:mod:`zego_media_tasks.domain.watch`).
Earlier versions also wrote ``vendorStatusKey`` for a ``ByVendorStatus`` index; a reader drops it
(:data:`RETIRED_ATTRIBUTES`), so the next write of such an item removes it.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from zego_media_tasks.domain.fields import DeclaredField, declared_fields
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.watch import watch_shard

PARTITION_KEY = "taskId"
SORT_KEY = "vendor"
STATUS_INDEX = "ByStatus"
STATUS_ATTR = "status"
STATUS_CHANGED_ATTR = "statusChangedAt"
GENERATION_ATTR = "generation"
TTL_ATTR = "expiresAt"
WATCH_INDEX = "ByWatchAt"
"""The watchdog's sparse index (``watchShard``, ``watchAt``): non-terminal records only, keys only."""
WATCH_SHARD_ATTR = "watchShard"
WATCH_AT_ATTR = "watchAt"
MAX_RAW_JSON_BYTES = 64 * 1024
"""The raw vendor block is kept verbatim up to this size; DynamoDB items stop at 400 KB."""


def key_of(task_id: str, vendor: Vendor) -> dict[str, str]:
    """The primary key of a record."""
    return {PARTITION_KEY: task_id, SORT_KEY: vendor.value}


# --- codecs: one per field type ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Codec:
    """How one field type is written to and read from an item (resource-layer values)."""

    encode: Callable[[Any], Any]
    """Field value → attribute value; None, "" and [] are then left out for optional fields."""
    decode: Callable[[Any], Any]
    """Attribute value (None when absent) → field value, or None when absent or unusable."""


def _decode_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _decode_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return int(value)


def _decode_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _decode_strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _decode_status(value: Any) -> TaskStatus:
    try:
        return TaskStatus(value)
    except ValueError:
        return TaskStatus.UNKNOWN


def _encode_raw(raw: Any) -> str | None:
    # Raw vendor JSON kept verbatim as a string: DynamoDB maps cannot hold floats or empty keys.
    if raw is None:
        return None
    text = json.dumps(raw, ensure_ascii=False, sort_keys=True)
    size = len(text.encode("utf-8"))
    if size > MAX_RAW_JSON_BYTES:
        # Keep the record writable: the normalized fields already hold what matters.
        return json.dumps({"truncated": True, "sizeBytes": size})
    return text


def _decode_raw(value: Any) -> Any:
    text = _decode_str(value)
    return json.loads(text) if text else None


def _decode_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


def _encode_float(value: float | None) -> Decimal | None:
    # DynamoDB numbers are decimals: boto3 refuses floats, and repr() round-trips exactly.
    return None if value is None else Decimal(repr(value))


def _same(value: Any) -> Any:
    return value


_CODECS: Mapping[Any, Codec] = {
    str: Codec(_same, _decode_str),
    bool: Codec(_same, _decode_bool),
    int: Codec(_same, _decode_int),
    float: Codec(_encode_float, _decode_float),
    tuple: Codec(list, _decode_strings),
    TaskStatus: Codec(lambda status: status.value, _decode_status),
    Vendor: Codec(lambda vendor: vendor.value, lambda value: Vendor(str(value))),
    Mapping: Codec(_encode_raw, _decode_raw),
}
_REQUIRED_FALLBACK: Mapping[Any, Any] = {str: "", int: 0}
"""What a reader uses for a required field whose attribute is missing or unusable (an optional one
takes its declared default)."""


def _base_type(hint: Any) -> tuple[Any, bool]:
    """``(type, optional)`` for ``X`` or ``X | None``; generic types by their origin."""
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        optional = len(members) != len(typing.get_args(hint))
        if len(members) != 1:
            raise TypeError(f"no item codec for {hint!r}")
        hint = members[0]
    return typing.get_origin(hint) or hint, optional


@dataclass(frozen=True, slots=True)
class _Attribute:
    field: DeclaredField
    codec: Codec
    optional: bool
    fallback: Any


def _attributes(cls: type) -> tuple[_Attribute, ...]:
    """One attribute per declared field of ``cls``; a nested described dataclass is a map of its own."""
    found = []
    for item in declared_fields(cls):
        base, optional = _base_type(item.hint)
        nested = isinstance(base, type) and dataclasses.is_dataclass(base)
        codec = _nested_codec(base) if nested else _CODECS.get(base) or _enum_codec(base)
        if codec is None:  # a new field of a new type: say so at import, not at the first write
            raise TypeError(f"{cls.__name__}.{item.name}: no item codec for {item.hint!r}")
        fallback = _REQUIRED_FALLBACK.get(base) if item.required else None
        found.append(_Attribute(item, codec, optional or not item.required, fallback))
    return tuple(found)


def _encode_fields(attributes: tuple[_Attribute, ...], value: Any, into: dict[str, Any]) -> dict[str, Any]:
    for attribute in attributes:
        encoded = attribute.codec.encode(getattr(value, attribute.field.name))
        if attribute.optional and encoded in (None, "", [], {}):
            into.pop(attribute.field.stored_name, None)
            continue
        into[attribute.field.stored_name] = encoded
    return into


def _decode_fields(attributes: tuple[_Attribute, ...], item: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attribute in attributes:
        value = attribute.codec.decode(item.get(attribute.field.stored_name))
        if value is None and attribute.fallback is not None:
            value = attribute.fallback
        if value is None and attribute.optional:
            continue  # the field's own default
        values[attribute.field.name] = value
    return values


def _enum_codec(cls: Any) -> Codec | None:
    """A vocabulary of ours (kind, change source) as its value; an unknown value reads as absent."""
    if not (isinstance(cls, type) and issubclass(cls, StrEnum)):
        return None
    values = {member.value: member for member in cls}
    return Codec(
        lambda member: None if member is None else member.value,
        lambda value: values.get(value) if isinstance(value, str) else None,
    )


def _nested_codec(cls: type) -> Codec:
    """A described dataclass inside the record (the last error, media details) as a DynamoDB map."""
    attributes = _attributes(cls)

    def encode(value: Any) -> dict[str, Any] | None:
        return None if value is None else _encode_fields(attributes, value, {})

    def decode(value: Any) -> Any:
        return cls(**_decode_fields(attributes, value)) if isinstance(value, Mapping) else None

    return Codec(encode, decode)


_ATTRIBUTES = _attributes(TaskRecord)
STORED_ATTRIBUTES = frozenset({WATCH_SHARD_ATTR, *(attribute.field.stored_name for attribute in _ATTRIBUTES)})
"""Every attribute name this version writes (anything else on an item is carried in ``extra``)."""
RETIRED_ATTRIBUTES = frozenset({"vendorStatusKey"})
"""Attributes earlier versions wrote and this one neither reads nor carries (``ByVendorStatus``'s key)."""
_KNOWN = STORED_ATTRIBUTES | RETIRED_ATTRIBUTES


def record_to_item(record: TaskRecord) -> dict[str, Any]:
    """A DynamoDB item (resource-layer types) for ``record``; optional None/empty values are left out."""
    item = _encode_fields(_ATTRIBUTES, record, dict(record.extra))
    if WATCH_AT_ATTR in item:  # the shard only beside the watch time: the index stays sparse
        item[WATCH_SHARD_ATTR] = watch_shard(record.task_id, record.vendor)
    return item


@dataclass(frozen=True, slots=True)
class ItemChanges:
    """What turns one stored item into another: the attributes to set and the ones to remove."""

    changed: dict[str, Any]
    """Attributes whose value is new or different (resource-layer values)."""
    removed: tuple[str, ...]
    """Attributes the old item has and the new one leaves out."""


def item_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> ItemChanges:
    """The difference between two items of the same key, both as :func:`record_to_item` encodes them (or
    as read back: numbers may be Decimal), so the mapping stays the one source of what is stored. The
    key attributes never differ and are never listed."""
    keys = {PARTITION_KEY, SORT_KEY}
    changed = {name: value for name, value in new.items() if name not in keys and old.get(name) != value}
    removed = tuple(sorted(name for name in old if name not in new and name not in keys))
    return ItemChanges(changed, removed)


def record_from_item(item: Mapping[str, Any]) -> TaskRecord:
    """The :class:`TaskRecord` for a DynamoDB item (resource-layer types; numbers may be Decimal)."""
    extra = {k: v for k, v in item.items() if k not in _KNOWN}
    return TaskRecord(**_decode_fields(_ATTRIBUTES, item), extra=extra)
