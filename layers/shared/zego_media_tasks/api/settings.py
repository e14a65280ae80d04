"""The API function's configuration, read from the environment once per Lambda instance (cold start).

- ``TABLE_NAME`` (required): the tasks table.
- ``QUEUE_URL`` (required): the poll queue, for registrations.
- ``LISTS_BUCKET_NAME``: the bucket of the lists too long for a record (``GET .../thumbnails`` reads it).
- ``TASK_DEADLINE_SECONDS`` (default 86400): how long a registered task is polled before TIMED_OUT.
- ``PAGINATION_SECRET_ARN``: a Secrets Manager secret holding the ``nextToken`` HMAC key, either as a
  plain string or as a JSON object with key ``PaginationSecret``; read through Powertools' parameters
  utility, cached for ``SECRET_CACHE_SECONDS`` (default 300), fetched only when a listing needs it.
- ``PAGINATION_SECRET``: the key itself, for local runs only.
- ``CORS_ALLOW_ORIGIN`` (unset: CORS off): one origin allowed to call the API from a browser.

Exactly one of ``PAGINATION_SECRET_ARN`` and ``PAGINATION_SECRET`` must be set. Declared with
:mod:`zego_media_tasks.config.environment`, so the rules are those of every variable: white space
around a value is dropped, an empty variable counts as unset, every problem is reported in one
:class:`~zego_media_tasks.config.environment.SettingsError`. The key, from either source, has its
surrounding white space dropped (:func:`zego_media_tasks.config.secrets.secret_text_from`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from zego_media_tasks.api.errors import ServiceUnavailableError
from zego_media_tasks.config.environment import Knob, Text, setting, settings_model
from zego_media_tasks.config.knobs import QUEUE_URL, TASK_DEADLINE_SECONDS, RecordStoreSettings
from zego_media_tasks.config.secrets import SecretShapeError, SecretSource, secret_cache_setting, secret_text_from
from zego_media_tasks.domain.polling import DEFAULT_TASK_DEADLINE_SECONDS

MIN_SECRET_LENGTH: Final = 32
"""Characters; an HMAC-SHA256 key shorter than the digest weakens it."""
SECRET_JSON_KEY: Final = "PaginationSecret"  # noqa: S105  # a JSON key name, not a secret

PAGINATION_SECRET: Final = SecretSource.named(
    "PAGINATION_SECRET",
    "the nextToken HMAC key",
    arn_kind=Text(),
    value_kind=Text(f"at least {MIN_SECRET_LENGTH} characters", lambda text: len(text) >= MIN_SECRET_LENGTH),
)
CORS_ALLOW_ORIGIN: Final = Knob(
    "CORS_ALLOW_ORIGIN", Text(), "one origin allowed to call the API from a browser (unset: CORS off)"
)


@settings_model
class ApiSettings(RecordStoreSettings):
    """Everything the API needs from its environment (each field's variable is its knob's)."""

    SUBJECT = "API settings"
    RELATIONS = (PAGINATION_SECRET.relation,)

    queue_url: str = setting(QUEUE_URL)
    task_deadline_seconds: int = setting(TASK_DEADLINE_SECONDS, default=DEFAULT_TASK_DEADLINE_SECONDS)
    pagination_secret_arn: str | None = PAGINATION_SECRET.arn_setting()
    pagination_secret: str | None = PAGINATION_SECRET.value_setting()
    secret_cache_seconds: int = secret_cache_setting()
    cors_allow_origin: str | None = setting(CORS_ALLOW_ORIGIN, default=None)

    def pagination_key(self) -> Callable[[], bytes]:
        """A provider of the ``nextToken`` HMAC key: the local secret, or Secrets Manager (cached by
        Powertools; failures become :class:`ServiceUnavailableError`)."""
        if self.pagination_secret is not None:
            key = self.pagination_secret.encode()
            return lambda: key
        arn = self.pagination_secret_arn or ""
        max_age = self.secret_cache_seconds

        def from_secrets_manager() -> bytes:
            # Imported here: GET /tasks/{taskId} and registration never need the secret or this import.
            from aws_lambda_powertools.utilities import parameters

            try:
                raw = parameters.get_secret(arn, max_age=max_age)
            except Exception:  # every SDK/Powertools failure ends here, once
                raise ServiceUnavailableError("the pagination secret cannot be read") from None
            return pagination_key_from(raw)

        return from_secrets_manager


def pagination_key_from(secret_value: object) -> bytes:
    """The HMAC key in a secret's value: the plain string, or the ``PaginationSecret`` member of a JSON
    object (:func:`~zego_media_tasks.config.secrets.secret_text_from`). An unusable or too short key is
    refused (:class:`ServiceUnavailableError`; the message never holds the secret)."""
    try:
        key = secret_text_from(secret_value, SECRET_JSON_KEY)
    except SecretShapeError:
        raise ServiceUnavailableError("the pagination secret has an unexpected shape") from None
    if len(key) < MIN_SECRET_LENGTH:
        raise ServiceUnavailableError("the pagination secret is too short")
    return key.encode()
