"""The API's JSON shapes: camelCase field names, ISO 8601 UTC timestamps, one model per shape.

These models are the contract: routes declare them as response models, so Powertools validates every
response against them and the OpenAPI document is generated from them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from zego_media_tasks.domain.messages import MAX_TASK_ID_LENGTH, task_id_problem
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor

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


class TaskLastError(_CamelModel):
    """The most recent failed DescribeMediaTask call (or rejection) for a task."""

    kind: str = Field(description="THROTTLED, TRANSIENT, REJECTED, CONFIGURATION or MALFORMED.")
    code: str = Field(description="ZEGO's Code, HTTP_<status>, TIMEOUT, CONNECTION, BAD_RESPONSE, ...")
    message: str
    at: Timestamp


class Task(_CamelModel):
    """One tracked task for one vendor: what ZEGO last said about it and how we are polling it."""

    task_id: str = Field(description="ZEGO's TaskId.")
    vendor: Vendor
    status: TaskStatus = Field(
        description="The normalized status. SUCCEEDED, FAILED, CANCELED, NOT_FOUND, TIMED_OUT and REJECTED "
        "are terminal: a record in one of them never changes again."
    )
    vendor_status: str | None = Field(description="The vendor's own status, verbatim.")
    event: str | None
    file_id: str | None
    replay_url: str | None
    thumbnail_urls: list[str]
    file_names: list[str]
    message: str | None
    vendor_request_id: str | None
    zego_request_id: str | None
    vendor_created_at: Timestamp | None
    vendor_ended_at: Timestamp | None
    first_seen_at: Timestamp = Field(description="When we started tracking the task.")
    last_polled_at: Timestamp | None
    status_changed_at: Timestamp
    completed_at: Timestamp | None = Field(description="When the task reached a terminal status.")
    deadline_at: Timestamp = Field(description="After this moment polling stops and the task is TIMED_OUT.")
    poll_count: int = Field(ge=0, description="DescribeMediaTask calls made for this task.")
    next_poll_at: Timestamp | None
    last_error: TaskLastError | None
    raw: dict[str, Any] | None = Field(description="The vendor block exactly as ZEGO returned it.")

    @classmethod
    def from_record(cls, record: TaskRecord) -> Task:
        """The representation of a stored record (internal fields such as the generation are left out)."""
        error = record.last_error
        return cls(
            task_id=record.task_id,
            vendor=record.vendor,
            status=record.status,
            vendor_status=record.vendor_status,
            event=record.event,
            file_id=record.file_id,
            replay_url=record.replay_url,
            thumbnail_urls=list(record.thumbnail_urls),
            file_names=list(record.file_names),
            message=record.message,
            vendor_request_id=record.vendor_request_id,
            zego_request_id=record.zego_request_id,
            vendor_created_at=record.vendor_created_at,
            vendor_ended_at=record.vendor_ended_at,
            first_seen_at=record.first_seen_at,
            last_polled_at=record.last_polled_at,
            status_changed_at=record.status_changed_at,
            completed_at=record.completed_at,
            deadline_at=record.deadline_at,
            poll_count=record.poll_count,
            next_poll_at=record.next_poll_at,
            last_error=(
                TaskLastError(kind=error.kind, code=error.code, message=error.message, at=error.at) if error else None
            ),
            raw=dict(record.raw) if record.raw is not None else None,
        )


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


class RegisterTaskRequest(BaseModel):
    """The ``POST /tasks`` body: the same two fields a pipeline puts on the poll queue.

    Field names are ``TaskId`` and ``Vendor`` exactly (as in queue messages); other fields are ignored.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_alias=True, validate_by_name=False)

    task_id: str = Field(
        alias="TaskId",
        min_length=1,
        max_length=MAX_TASK_ID_LENGTH,
        pattern=r"^[!-.0-~]+$",
        description="1-256 printable ASCII characters, no white space, no '/'.",
        examples=["2b0c4d1e9f"],
    )
    vendor: Vendor = Field(alias="Vendor")

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
