"""Task records built from the record's declaration, so that a test covering "every field" lists none.

:func:`every_field_set` gives each declared field (of :class:`~zego_media_tasks.domain.record.TaskRecord`,
:class:`~zego_media_tasks.domain.snapshot.TaskSnapshot` or a dataclass they are made of) a value of its
type that no other field has and that is not the field's default. A field added to the declaration is
then covered by every round trip built on it, and a field of a type nobody knows fails loudly here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from zego_media_tasks.domain.fields import DeclaredField, declared_fields
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso

T = TypeVar("T")

SAMPLE_START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
"""The n-th timestamp field of a sample is ``n + 1`` minutes after this."""


def sample_value(item: DeclaredField, index: int) -> Any:
    """A value of the field's type that no other field has and that is not the field's default."""
    hint = item.hint
    if isinstance(hint, types.UnionType):
        [hint] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    origin = typing.get_origin(hint) or hint
    if item.info.timestamp:
        return to_iso(SAMPLE_START + timedelta(minutes=index + 1))
    if origin is str:
        return f"{item.name}-value"
    if origin is bool:
        return True  # every flag's default is False
    if origin is int:
        return 1000 + index
    if origin is float:
        return 0.25 + index
    if origin is tuple:
        return (f"{item.name}-1", f"{item.name}-2")
    if origin is TaskStatus:
        return TaskStatus.SUCCEEDED
    if origin is Vendor:
        return Vendor.HUAWEI
    if isinstance(origin, type) and issubclass(origin, StrEnum):
        return list(origin)[-1]  # any member; None is the default of an optional one
    if origin is Mapping:
        return {"Field": item.name, "Ratio": 0.5, "Nested": {"": None}}
    if dataclasses.is_dataclass(origin) and isinstance(origin, type):
        return origin(**{inner.name: sample_value(inner, index) for inner in declared_fields(origin)})
    raise AssertionError(f"no sample value for {item.name}: {item.hint!r}; teach this helper the new type")


def every_field_set(cls: type[T]) -> T:
    """An instance of ``cls`` with every declared field set to its :func:`sample_value`."""
    values = {item.name: sample_value(item, index) for index, item in enumerate(declared_fields(cls))}
    return cls(**values)
