"""The API's JSON shapes: camelCase field names, ISO 8601 UTC timestamps, one model per shape.

These models are the contract: routes declare them as response models, so Powertools validates every
response against them and the OpenAPI document is generated from them. ``Task`` and ``TaskLastError`` are
generated from the record's declaration (:mod:`zego_media_tasks.domain.record`): one member per public
field, in declaration order, named in camelCase, described by the field's documentation.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator
from pydantic.alias_generators import to_camel

from zego_media_tasks.domain.fields import DeclaredField, declared_fields
from zego_media_tasks.domain.messages import MAX_TASK_ID_LENGTH, TASK_ID_PATTERN, TASK_ID_RULE, task_id_problem
from zego_media_tasks.domain.record import LastError, TaskRecord
from zego_media_tasks.domain.status import TaskKind, Vendor

Timestamp = Annotated[
    str,
    Field(
        json_schema_extra={"format": "date-time"},
        examples=["2026-11-23T10:00:00.123Z"],
    ),
]
"""ISO 8601 UTC with milliseconds and ``Z``, as stored (fixed width, sorts in time order)."""


class _CamelModel(BaseModel):
    """Serialized by alias (camelCase); built from Python names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")


def _api_type(item: DeclaredField) -> Any:
    """The representation type of a declared field: lists for tuples, plain objects for the raw block,
    the generated model for a nested described dataclass, :data:`Timestamp` for timestamps."""
    hint = item.hint
    optional = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
    if optional:
        [hint] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    origin = typing.get_origin(hint) or hint
    base: Any
    if item.info.timestamp:
        base = Timestamp
    elif origin is tuple:
        base = list[str]
    elif origin is Mapping:
        base = dict[str, Any]
    elif origin is int:
        base = Annotated[int, Field(ge=0)]  # counts and sizes
    elif isinstance(origin, type) and dataclasses.is_dataclass(origin):
        base = _MODELS.get(origin) or _model_of(origin, f"Task{origin.__name__}", origin.__doc__ or "")
    else:
        base = hint
    return base | None if optional else base


def _model_of(cls: type[Any], name: str, doc: str) -> type[_CamelModel]:
    """A response model with one required (possibly null) member per public field of ``cls``."""
    definitions: dict[str, Any] = {
        item.name: (_api_type(item), Field(description=item.info.doc or None))
        for item in declared_fields(cls)
        if not item.info.internal
    }
    model: type[_CamelModel] = create_model(name, __base__=_CamelModel, __doc__=doc, **definitions)
    _MODELS[cls] = model
    return model


def representation(value: Any) -> dict[str, Any]:
    """The public fields of a described dataclass (a record, a last error), ready for its model."""
    found: dict[str, Any] = {}
    for item in declared_fields(type(value)):
        if item.info.internal:
            continue
        member = getattr(value, item.name)
        if dataclasses.is_dataclass(member) and not isinstance(member, type):
            member = representation(member)
        elif isinstance(member, tuple):
            member = list(member)
        elif isinstance(member, Mapping):
            member = dict(member)
        found[item.name] = member
    return found


_MODELS: dict[type[Any], type[_CamelModel]] = {}

if TYPE_CHECKING:
    # The members are generated from the record's declaration below; to the type checker these are
    # plain models.
    TaskLastError = _CamelModel
    Task = _CamelModel
else:
    TaskLastError = _model_of(
        LastError, "TaskLastError", "The most recent failed DescribeMediaTask call (or rejection) for a task."
    )
    Task = _model_of(
        TaskRecord,
        "Task",
        "One tracked task for one vendor: what ZEGO last said about it and how we are polling it.",
    )


def task_of(record: TaskRecord) -> Task:
    """The representation of a stored record (internal fields such as the generation are left out)."""
    return Task.model_validate(representation(record))


class TaskList(_CamelModel):
    """The records of one TaskId: one per vendor we track it for, ordered by vendor."""

    tasks: list[Task]


class TaskPage(_CamelModel):
    """One page of a listing by status, newest status change first."""

    tasks: list[Task]
    next_token: str | None = Field(
        description="Pass as nextToken to get the next page; null on the last page. Opaque, and only valid "
        "for the same status and vendor. A page may be empty while still carrying a token."
    )


_LIST_CONTINUATION_DOC = (
    "Pass as nextToken to get the next page; null on the last page. Opaque, and only valid for the same task, "
    "vendor and list."
)


class ThumbnailPage(_CamelModel):
    """One page of a task's snapshot URLs, in the vendor's order."""

    thumbnail_urls: list[str]
    next_token: str | None = Field(description=_LIST_CONTINUATION_DOC)


class FileNamePage(_CamelModel):
    """One page of a task's snapshot object names (Huawei), in the vendor's order."""

    file_names: list[str]
    next_token: str | None = Field(description=_LIST_CONTINUATION_DOC)


class RegisterTaskRequest(BaseModel):
    """The ``POST /tasks`` body: the same two fields a pipeline puts on the poll queue.

    Field names are ``TaskId``, ``Vendor`` and ``Kind`` exactly (as in queue messages); other fields are
    ignored.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_alias=True, validate_by_name=False)

    task_id: str = Field(
        alias="TaskId",
        min_length=1,
        max_length=MAX_TASK_ID_LENGTH,
        pattern=TASK_ID_PATTERN,
        description=TASK_ID_RULE + ".",
        examples=["2b0c4d1e9f"],
    )
    vendor: Vendor = Field(alias="Vendor")
    kind: TaskKind | None = Field(
        default=None,
        alias="Kind",
        description="merge, transcode or snapshot (optional). A Huawei merge or transcode is then never polled: "
        "DescribeMediaTask cannot describe it, and its completion callback (or its deadline) ends it.",
    )

    @field_validator("task_id", mode="before")
    @classmethod
    def _valid_task_id(cls, value: object) -> object:
        # The one TaskId rule of the project (shared with the queue messages) decides, with its own
        # message; the length and pattern above say the same for the OpenAPI document.
        problem = task_id_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class ErrorDetail(BaseModel):
    """What went wrong, for machines (``code``) and people (``message``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(examples=["TASK_NOT_FOUND"])
    message: str


class ErrorResponse(BaseModel):
    """Every error response body: ``{"error": {"code": "...", "message": "..."}}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error: ErrorDetail
