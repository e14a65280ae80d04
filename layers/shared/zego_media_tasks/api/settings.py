"""The API function's configuration, read from the environment once per Lambda instance (cold start).

- ``TABLE_NAME`` (required): the tasks table.
- ``QUEUE_URL`` (required): the poll queue, for registrations.
- ``TASK_DEADLINE_SECONDS`` (default 86400): how long a registered task is polled before TIMED_OUT.
- ``PAGINATION_SECRET_ARN``: a Secrets Manager secret holding the ``nextToken`` HMAC key, either as a
  plain string or as a JSON object with key ``PaginationSecret``; read through Powertools' parameters
  utility, cached for ``SECRET_CACHE_SECONDS`` (default 300), fetched only when a listing needs it.
- ``PAGINATION_SECRET``: the key itself, for local runs only.
- ``CORS_ALLOW_ORIGIN`` (unset: CORS off): one origin allowed to call the API from a browser.

Exactly one of ``PAGINATION_SECRET_ARN`` and ``PAGINATION_SECRET`` must be set; an empty variable counts
as unset. Every problem is reported in one error, so a misconfigured deployment is fixed in one round.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from zego_media_tasks.api.errors import ServiceUnavailableError

DEFAULT_TASK_DEADLINE_SECONDS: Final = 86_400
MIN_TASK_DEADLINE_SECONDS: Final = 60
MAX_TASK_DEADLINE_SECONDS: Final = 30 * 86_400
DEFAULT_SECRET_CACHE_SECONDS: Final = 300
MIN_SECRET_LENGTH: Final = 32
"""Characters; an HMAC-SHA256 key shorter than the digest weakens it."""
SECRET_JSON_KEY: Final = "PaginationSecret"  # noqa: S105  # a JSON key name, not a secret


class ApiSettingsError(ValueError):
    """The environment does not describe a usable API; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid API configuration: " + "; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Everything the API needs from its environment (names in :meth:`from_env`)."""

    table_name: str
    queue_url: str
    task_deadline_seconds: int = DEFAULT_TASK_DEADLINE_SECONDS
    pagination_secret_arn: str | None = None
    # Kept out of repr, so that logging the settings can never print it.
    pagination_secret: str | None = field(default=None, repr=False)
    secret_cache_seconds: int = DEFAULT_SECRET_CACHE_SECONDS
    cors_allow_origin: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ApiSettings:
        """Read and validate ``environ`` (pass ``os.environ``); :class:`ApiSettingsError` lists every
        problem."""
        problems: list[str] = []

        def value(name: str) -> str | None:
            text = environ.get(name, "").strip()
            return text or None

        def whole_number(name: str, default: int, low: int, high: int) -> int:
            text = value(name)
            if text is None:
                return default
            if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
                problems.append(f"{name} must be a whole number from {low} to {high}")
                return default
            return int(text)

        table_name = value("TABLE_NAME")
        if table_name is None:
            problems.append("TABLE_NAME is required")
        queue_url = value("QUEUE_URL")
        if queue_url is None:
            problems.append("QUEUE_URL is required")
        elif not queue_url.startswith(("https://", "http://")):
            problems.append("QUEUE_URL must be an SQS queue URL")
        deadline = whole_number(
            "TASK_DEADLINE_SECONDS",
            DEFAULT_TASK_DEADLINE_SECONDS,
            MIN_TASK_DEADLINE_SECONDS,
            MAX_TASK_DEADLINE_SECONDS,
        )
        cache_seconds = whole_number("SECRET_CACHE_SECONDS", DEFAULT_SECRET_CACHE_SECONDS, 0, 86_400)
        secret_arn = value("PAGINATION_SECRET_ARN")
        # The secret's own spaces are part of it; only "unset" is decided on the stripped text.
        secret = environ.get("PAGINATION_SECRET") if value("PAGINATION_SECRET") else None
        if (secret_arn is None) == (secret is None):
            problems.append("exactly one of PAGINATION_SECRET_ARN and PAGINATION_SECRET must be set")
        elif secret is not None and len(secret) < MIN_SECRET_LENGTH:
            problems.append(f"PAGINATION_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        if problems or table_name is None or queue_url is None:
            raise ApiSettingsError(problems)
        return cls(
            table_name=table_name,
            queue_url=queue_url,
            task_deadline_seconds=deadline,
            pagination_secret_arn=secret_arn,
            pagination_secret=secret,
            secret_cache_seconds=cache_seconds,
            cors_allow_origin=value("CORS_ALLOW_ORIGIN"),
        )

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


def pagination_key_from(secret_value: str | bytes) -> bytes:
    """The HMAC key in a secret's value: the plain string, or the ``PaginationSecret`` member of a JSON
    object. A key that is too short is refused (:class:`ServiceUnavailableError`; the message never
    holds the secret)."""
    text = secret_value.decode("utf-8", "replace") if isinstance(secret_value, bytes) else secret_value
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        member = document.get(SECRET_JSON_KEY) if isinstance(document, dict) else None
        if not isinstance(member, str):
            raise ServiceUnavailableError("the pagination secret has an unexpected shape")
        text = member
    if len(text) < MIN_SECRET_LENGTH:
        raise ServiceUnavailableError("the pagination secret is too short")
    return text.encode()
