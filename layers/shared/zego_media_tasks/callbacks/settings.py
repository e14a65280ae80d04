"""The callback receiver's configuration, read from the environment once per Lambda instance.

- ``TABLE_NAME`` (required): the tasks table.
- ``LISTS_BUCKET_NAME``: the bucket of the lists too long for a record (a snapshot callback may bring one).
- ``ZEGO_APP_ID`` (required): our AppId; a callback for another is refused (403).
- ``ZEGO_CALLBACK_SECRET_ARN``: a Secrets Manager secret holding the CallbackSecret (ZEGO console, project
  configuration; not the ServerSecret), as plain text or as a JSON object with key ``CallbackSecret``.
- ``ZEGO_CALLBACK_SECRET``: the CallbackSecret itself, for local runs only. Exactly one of the two.
- ``CALLBACK_MAX_AGE_SECONDS`` (default 300): how far a callback's ``timestamp`` may be from our clock.
- ``CALLBACK_MAX_BODY_BYTES`` (default 2097152, at most 4194304): larger bodies are refused (413). The
  default holds a snapshot callback of 10,000 pictures; the bound keeps an event under Lambda's 6 MB.
- ``TASK_DEADLINE_SECONDS``, ``TERMINAL_RECORD_TTL_DAYS``, ``SECRET_CACHE_SECONDS``: as for the poller
  (a record a callback creates gets the same deadline and TTL).
"""

from __future__ import annotations

from typing import Final

from zego_media_tasks.config.environment import Knob, WholeNumber, setting, settings_model
from zego_media_tasks.config.lifetime import RecordLifetimeSettings
from zego_media_tasks.config.secrets import SecretSource, secret_cache_setting
from zego_media_tasks.zego.callbacks import DEFAULT_MAX_AGE_SECONDS, DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES_LIMIT
from zego_media_tasks.zego.settings import ZEGO_APP_ID

CALLBACK_SECRET_JSON_KEY: Final = "CallbackSecret"  # noqa: S105 - a JSON key name, not a secret
MAX_CALLBACK_AGE_SECONDS: Final = 3600

CALLBACK_SECRET: Final = SecretSource.named("ZEGO_CALLBACK_SECRET", "the CallbackSecret")
CALLBACK_MAX_AGE_SECONDS: Final = Knob(
    "CALLBACK_MAX_AGE_SECONDS",
    WholeNumber(1, MAX_CALLBACK_AGE_SECONDS),
    "how far a callback's signed timestamp may be from our clock, seconds",
)
CALLBACK_MAX_BODY_BYTES: Final = Knob(
    "CALLBACK_MAX_BODY_BYTES",
    WholeNumber(1024, MAX_BODY_BYTES_LIMIT),
    "the largest callback body accepted, bytes",
)


@settings_model
class CallbackSettings(RecordLifetimeSettings):
    """Everything the callback receiver needs from its environment."""

    SUBJECT = "callback receiver settings"
    RELATIONS = (CALLBACK_SECRET.relation,)

    app_id: int = setting(ZEGO_APP_ID)
    callback_secret_arn: str | None = CALLBACK_SECRET.arn_setting()
    callback_secret: str | None = CALLBACK_SECRET.value_setting()
    max_age_seconds: int = setting(CALLBACK_MAX_AGE_SECONDS, default=DEFAULT_MAX_AGE_SECONDS)
    max_body_bytes: int = setting(CALLBACK_MAX_BODY_BYTES, default=DEFAULT_MAX_BODY_BYTES)
    secret_cache_seconds: int = secret_cache_setting()
