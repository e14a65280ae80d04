"""The ZEGO adapter's configuration, read from the environment once at cold start, and its wiring.

- ``ZEGO_APP_ID`` (required): the project's AppId, a uint32.
- ``ZEGO_ENDPOINT``: API base URL, default ``https://rtc-api.zego.im`` (regional hosts: see
  :mod:`zego_media_tasks.zego.client`).
- ``ZEGO_IS_TEST``: ``true``/``false``, only for projects created on or before 2021-11-16; unset: not sent.
- ``ZEGO_CONNECT_TIMEOUT_SECONDS`` (default 3.05), ``ZEGO_READ_TIMEOUT_SECONDS`` (default 10).
- ``ZEGO_SERVER_SECRET_ARN``: a Secrets Manager secret holding the ServerSecret, either as a plain
  string or as a JSON object with key ``ServerSecret``.
- ``ZEGO_SERVER_SECRET``: the ServerSecret itself, for local runs only.
- ``SECRET_CACHE_SECONDS`` (default 300): how long Powertools caches the secret.

Exactly one of ``ZEGO_SERVER_SECRET_ARN`` and ``ZEGO_SERVER_SECRET`` must be set; an empty variable
counts as unset (templates often pass an empty parameter). Nothing here reads the environment at
import time, and the secret itself is fetched lazily, at the first call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from requests.adapters import BaseAdapter

from zego_media_tasks.zego.client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_ENDPOINT,
    DEFAULT_READ_TIMEOUT,
    SecretProvider,
    SecretUnavailableError,
    ZegoClient,
    app_id_problem,
    endpoint_problem,
    timeout_problem,
)

DEFAULT_SECRET_CACHE_SECONDS: Final = 300
SECRET_JSON_KEY: Final = "ServerSecret"  # noqa: S105 -- a JSON key name, not a secret

# Secrets Manager errors that no retry can fix; anything else (throttling, network) is transient.
_PERMANENT_SECRET_ERRORS: Final = frozenset(
    {
        "AccessDeniedException",
        "DecryptionFailure",
        "InvalidParameterException",
        "InvalidRequestException",
        "ResourceNotFoundException",
    }
)


@dataclass(frozen=True, slots=True)
class ZegoSettings:
    """Validated ZEGO adapter settings; construction raises ``ValueError`` listing every problem."""

    app_id: int
    server_secret_arn: str | None = None
    # Kept out of repr/str, so that logging the settings can never print it.
    server_secret: str | None = field(default=None, repr=False)
    endpoint: str = DEFAULT_ENDPOINT
    is_test: bool | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    secret_cache_seconds: int = DEFAULT_SECRET_CACHE_SECONDS

    def __post_init__(self) -> None:
        problems = _problems(
            app_id=self.app_id,
            endpoint=self.endpoint,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            server_secret_arn=self.server_secret_arn,
            server_secret=self.server_secret,
            secret_cache_seconds=self.secret_cache_seconds,
        )
        if problems:
            raise ValueError(_summary(problems))

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ZegoSettings:
        """Read the settings from ``environ`` (pass ``os.environ``); ``ValueError`` lists every problem."""
        problems: list[str] = []

        def value(name: str) -> str | None:
            text = environ.get(name, "").strip()
            return text or None

        app_id: int | None = None
        raw_app_id = value("ZEGO_APP_ID")
        if raw_app_id is None:
            problems.append("ZEGO_APP_ID is required")
        elif not (raw_app_id.isascii() and raw_app_id.isdigit()):
            problems.append("ZEGO_APP_ID must be a decimal integer")
        else:
            app_id = int(raw_app_id)

        is_test: bool | None = None
        raw_is_test = value("ZEGO_IS_TEST")
        if raw_is_test is not None:
            if raw_is_test.lower() not in ("true", "false"):
                problems.append("ZEGO_IS_TEST must be 'true' or 'false'")
            else:
                is_test = raw_is_test.lower() == "true"

        def seconds(name: str, default: float) -> float:
            raw = value(name)
            if raw is None:
                return default
            try:
                return float(raw)
            except ValueError:
                problems.append(f"{name} must be a number of seconds")
                return default  # reported; the default keeps the checks below from repeating it

        connect_timeout = seconds("ZEGO_CONNECT_TIMEOUT_SECONDS", DEFAULT_CONNECT_TIMEOUT)
        read_timeout = seconds("ZEGO_READ_TIMEOUT_SECONDS", DEFAULT_READ_TIMEOUT)

        secret_cache_seconds = DEFAULT_SECRET_CACHE_SECONDS
        raw_cache = value("SECRET_CACHE_SECONDS")
        if raw_cache is not None:
            if raw_cache.isascii() and raw_cache.isdigit():
                secret_cache_seconds = int(raw_cache)
            else:
                problems.append("SECRET_CACHE_SECONDS must be a whole number >= 0")

        endpoint = value("ZEGO_ENDPOINT") or DEFAULT_ENDPOINT
        server_secret_arn = value("ZEGO_SERVER_SECRET_ARN")
        server_secret = value("ZEGO_SERVER_SECRET")
        problems += _problems(
            app_id=app_id,
            endpoint=endpoint,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            server_secret_arn=server_secret_arn,
            server_secret=server_secret,
            secret_cache_seconds=secret_cache_seconds,
        )
        if problems or app_id is None:  # app_id None has been reported as a problem
            raise ValueError(_summary(problems))
        return cls(
            app_id=app_id,
            server_secret_arn=server_secret_arn,
            server_secret=server_secret,
            endpoint=endpoint,
            is_test=is_test,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            secret_cache_seconds=secret_cache_seconds,
        )


def build_client(settings: ZegoSettings, *, transport: BaseAdapter | None = None) -> ZegoClient:
    """A :class:`ZegoClient` wired to the configured secret source (read lazily, at the first call).

    ``transport`` replaces the default HTTP transport (tests only).
    """
    provider: SecretProvider
    if settings.server_secret_arn is not None:
        provider = secrets_manager_provider(settings.server_secret_arn, settings.secret_cache_seconds)
    else:
        provider = static_secret_provider(settings.server_secret or "")
    return ZegoClient(
        app_id=settings.app_id,
        secret_provider=provider,
        endpoint=settings.endpoint,
        is_test=settings.is_test,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        transport=transport,
    )


def secrets_manager_provider(secret_arn: str, max_age: int) -> SecretProvider:
    """A provider reading the ServerSecret from Secrets Manager, cached by Powertools for ``max_age`` s.

    Errors become :class:`SecretUnavailableError` (permanent for access/existence/shape problems).
    """

    def provide() -> str:
        # Imported here: unit tests and the cold-start path need neither boto3 nor Powertools until
        # the first call actually needs the secret.
        from aws_lambda_powertools.utilities import parameters

        try:
            value = parameters.get_secret(secret_arn, max_age=max_age)
        except Exception as exc:
            raise _secrets_manager_error(exc) from None
        return server_secret_from(value)

    return provide


def static_secret_provider(server_secret: str) -> SecretProvider:
    """A provider for a secret given directly (``ZEGO_SERVER_SECRET``, local runs)."""

    def provide() -> str:
        return server_secret

    return provide


def server_secret_from(value: object) -> str:
    """The ServerSecret from a Secrets Manager value: a plain string, or a JSON object with
    ``ServerSecret``. A string starting with ``{`` is read as JSON. Surrounding white space is dropped
    (a pasted secret often ends in a newline). Raises :class:`SecretUnavailableError`, never showing
    the value."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretUnavailableError("the ZEGO secret is binary, not UTF-8 text", permanent=True) from None
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise SecretUnavailableError(
                "the ZEGO secret starts with '{' but is not valid JSON", permanent=True
            ) from None
    if isinstance(value, dict):
        value = value.get(SECRET_JSON_KEY)
        if not isinstance(value, str):
            raise SecretUnavailableError(
                f"the ZEGO secret is a JSON object without a string {SECRET_JSON_KEY!r}", permanent=True
            )
    if not isinstance(value, str) or not value.strip():
        raise SecretUnavailableError("the ZEGO secret is empty", permanent=True)
    return value.strip()


def _secrets_manager_error(exc: Exception) -> SecretUnavailableError:
    # Powertools re-raises botocore's ClientError as GetParameterError; the original is its context.
    original = exc.__cause__ or exc.__context__ or exc
    response = getattr(original, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    reason = code if isinstance(code, str) else type(original).__name__
    return SecretUnavailableError(
        f"cannot read the ZEGO secret from Secrets Manager ({reason})",
        permanent=reason in _PERMANENT_SECRET_ERRORS,
    )


def _problems(
    *,
    app_id: int | None,
    endpoint: str,
    connect_timeout: float,
    read_timeout: float,
    server_secret_arn: str | None,
    server_secret: str | None,
    secret_cache_seconds: int,
) -> list[str]:
    """Semantic checks; ``app_id`` None was missing or unparseable and is already reported."""
    problems: list[str] = []
    if app_id is not None and (problem := app_id_problem(app_id)):
        problems.append(f"ZEGO_APP_ID: {problem}")
    if problem := endpoint_problem(endpoint):
        problems.append(f"ZEGO_ENDPOINT: {problem}")
    if problem := timeout_problem("the timeout", connect_timeout):
        problems.append(f"ZEGO_CONNECT_TIMEOUT_SECONDS: {problem}")
    if problem := timeout_problem("the timeout", read_timeout):
        problems.append(f"ZEGO_READ_TIMEOUT_SECONDS: {problem}")
    if server_secret_arn and server_secret:
        problems.append("set only one of ZEGO_SERVER_SECRET_ARN and ZEGO_SERVER_SECRET, not both")
    elif not server_secret_arn and not server_secret:
        problems.append(
            "one of ZEGO_SERVER_SECRET_ARN (Secrets Manager) or ZEGO_SERVER_SECRET (local runs) is required"
        )
    if server_secret_arn and not (server_secret_arn.startswith("arn:") and ":secretsmanager:" in server_secret_arn):
        problems.append("ZEGO_SERVER_SECRET_ARN must be a Secrets Manager ARN (arn:...:secretsmanager:...)")
    if isinstance(secret_cache_seconds, bool) or not isinstance(secret_cache_seconds, int) or secret_cache_seconds < 0:
        problems.append("SECRET_CACHE_SECONDS must be a whole number >= 0")
    return problems


def _summary(problems: list[str]) -> str:
    return "invalid ZEGO settings:\n- " + "\n- ".join(problems)
