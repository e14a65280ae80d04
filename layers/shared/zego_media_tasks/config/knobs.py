"""The variables several functions read, declared once, and the model of the two that every function keeping
task records reads; each function's own are declared with its model."""

from __future__ import annotations

from typing import Final

from zego_media_tasks.config.environment import Knob, SettingsModel, Text, WholeNumber, setting, settings_model

MIN_TASK_DEADLINE_SECONDS: Final = 60
MAX_TASK_DEADLINE_SECONDS: Final = 30 * 86_400
DEFAULT_SECRET_CACHE_SECONDS: Final = 300
MAX_SECRET_CACHE_SECONDS: Final = 86_400

SQS_QUEUE_URL: Final = Text("an SQS queue URL", lambda text: text.startswith(("https://", "http://")))
SECRETS_MANAGER_ARN: Final = Text(
    "a Secrets Manager ARN (arn:...:secretsmanager:...)",
    lambda text: text.startswith("arn:") and ":secretsmanager:" in text,
)

TABLE_NAME: Final = Knob("TABLE_NAME", Text(), "the tasks table")
LISTS_BUCKET_NAME: Final = Knob(
    "LISTS_BUCKET_NAME",
    Text(),
    "the bucket holding the complete thumbnail and file-name lists too long for a record (unset: such a "
    "list cannot be stored or read, and its write or read fails as a dependency failure)",
)
QUEUE_URL: Final = Knob(
    "QUEUE_URL",
    SQS_QUEUE_URL,
    "the poll queue (the API sends registrations to it; the poller re-enqueues onto it)",
)
TASK_DEADLINE_SECONDS: Final = Knob(
    "TASK_DEADLINE_SECONDS",
    WholeNumber(MIN_TASK_DEADLINE_SECONDS, MAX_TASK_DEADLINE_SECONDS),
    "how long after first seen a task is polled before it ends TIMED_OUT, seconds",
)
TERMINAL_RECORD_TTL_DAYS: Final = Knob(
    "TERMINAL_RECORD_TTL_DAYS", WholeNumber(1, 3650), "days a finished task's record is kept (DynamoDB TTL)"
)
SECRET_CACHE_SECONDS: Final = Knob(
    "SECRET_CACHE_SECONDS",
    WholeNumber(0, MAX_SECRET_CACHE_SECONDS),
    "how long a function instance caches a secret read from Secrets Manager, seconds (0: at every use)",
)


@settings_model
class RecordStoreSettings(SettingsModel):
    """Where task records live: the base of the settings of every function that reads or writes them."""

    table_name: str = setting(TABLE_NAME)
    lists_bucket_name: str | None = setting(LISTS_BUCKET_NAME, default=None)
