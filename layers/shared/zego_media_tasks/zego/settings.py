"""The ZEGO adapter's configuration, read from the environment once at cold start, and its wiring.

- ``ZEGO_APP_ID`` (required): the project's AppId, a uint32.
- ``ZEGO_ENDPOINT``: API base URL, default ``https://rtc-api.zego.im`` (regional hosts: see
  :mod:`zego_media_tasks.zego.client`).
- ``ZEGO_IS_TEST``: ``true``/``false``, only for projects created on or before 2021-11-16; unset: not sent.
- ``ZEGO_CONNECT_TIMEOUT_SECONDS`` (default 3.05), ``ZEGO_READ_TIMEOUT_SECONDS`` (default 10).
- ``ZEGO_MAX_RESPONSE_BYTES`` (default 8388608, 65536 to 67108864): the largest answer read; a larger one
  ends CONFIGURATION ``RESPONSE_TOO_LARGE`` (the message is redriven once the bound is raised).
- ``ZEGO_SERVER_SECRET_ARN``: a Secrets Manager secret holding the ServerSecret, either as a plain
  string or as a JSON object with key ``ServerSecret``.
- ``ZEGO_SERVER_SECRET``: the ServerSecret itself, for local runs only.
- ``SECRET_CACHE_SECONDS`` (default 300): how long Powertools caches the secret. A call ZEGO refuses for
  authentication reads it afresh at once (at most once a minute per instance) and is retried once, so a
  rotated ServerSecret is used within one failed call.

Exactly one of ``ZEGO_SERVER_SECRET_ARN`` and ``ZEGO_SERVER_SECRET`` must be set. Declared with
:mod:`zego_media_tasks.config.environment` (white space around a value dropped, an empty variable unset,
every problem in one :class:`~zego_media_tasks.config.environment.SettingsError`); the bounds are the
client's own (:data:`~zego_media_tasks.zego.client.MAX_APP_ID`,
:data:`~zego_media_tasks.zego.client.MAX_TIMEOUT_SECONDS`, :func:`~zego_media_tasks.zego.client.endpoint_problem`).
Nothing here reads the environment at import time, and the secret itself is fetched lazily, at the
first call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

from requests.adapters import BaseAdapter

from zego_media_tasks.config.environment import (
    Flag,
    Knob,
    Number,
    SettingsModel,
    Text,
    WholeNumber,
    setting,
    settings_model,
)
from zego_media_tasks.config.secrets import SecretShapeError, SecretSource, secret_cache_setting, secret_text_from
from zego_media_tasks.zego.client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_ENDPOINT,
    DEFAULT_READ_TIMEOUT,
    MAX_APP_ID,
    MAX_BODY_BYTES,
    MAX_BODY_BYTES_LIMIT,
    MAX_TIMEOUT_SECONDS,
    MIN_BODY_BYTES,
    SecretProvider,
    SecretUnavailableError,
    ZegoClient,
    endpoint_problem,
)

SECRET_JSON_KEY: Final = "ServerSecret"  # noqa: S105 -- a JSON key name, not a secret
MIN_SECRET_REFRESH_SECONDS: Final = 60.0
"""At most one forced read of a secret per instance this often (:class:`SecretsManagerSecret`)."""

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


class Endpoint(Text):
    """A ZEGO API base URL, as :func:`~zego_media_tasks.zego.client.endpoint_problem` allows it."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("an https:// base URL (http:// only to a loopback host)")

    def refusal(self, value: object) -> str | None:
        if not isinstance(value, str):
            return f"must be {self.expects}"
        problem = endpoint_problem(value)
        return None if problem is None else f"is not usable: {problem}"


ZEGO_APP_ID: Final = Knob("ZEGO_APP_ID", WholeNumber(1, MAX_APP_ID), "the ZEGO project's AppId")
SERVER_SECRET: Final = SecretSource.named("ZEGO_SERVER_SECRET", "the ServerSecret")
ZEGO_ENDPOINT: Final = Knob("ZEGO_ENDPOINT", Endpoint(), "the ZEGO server API base URL")
ZEGO_IS_TEST: Final = Knob(
    "ZEGO_IS_TEST", Flag(), "IsTest, for projects created on or before 2021-11-16 (unset: not sent)"
)
CALL_TIMEOUT: Final = Number(0, MAX_TIMEOUT_SECONDS, low_inclusive=False, unit="seconds")
"""What either timeout of one DescribeMediaTask call may be (the client's bound)."""
ZEGO_CONNECT_TIMEOUT_SECONDS: Final = Knob(
    "ZEGO_CONNECT_TIMEOUT_SECONDS", CALL_TIMEOUT, "connect timeout of one DescribeMediaTask call"
)
ZEGO_MAX_RESPONSE_BYTES: Final = Knob(
    "ZEGO_MAX_RESPONSE_BYTES",
    WholeNumber(MIN_BODY_BYTES, MAX_BODY_BYTES_LIMIT),
    "the largest DescribeMediaTask answer read, bytes (a larger one is a configuration error)",
)
ZEGO_READ_TIMEOUT_SECONDS: Final = Knob(
    "ZEGO_READ_TIMEOUT_SECONDS", CALL_TIMEOUT, "read timeout of one DescribeMediaTask call"
)


@settings_model
class ZegoSettings(SettingsModel):
    """Validated ZEGO adapter settings; construction raises ``SettingsError`` listing every problem."""

    SUBJECT = "ZEGO settings"
    RELATIONS = (SERVER_SECRET.relation,)

    app_id: int = setting(ZEGO_APP_ID)
    server_secret_arn: str | None = SERVER_SECRET.arn_setting()
    server_secret: str | None = SERVER_SECRET.value_setting()
    endpoint: str = setting(ZEGO_ENDPOINT, default=DEFAULT_ENDPOINT)
    is_test: bool | None = setting(ZEGO_IS_TEST, default=None)
    connect_timeout: float = setting(ZEGO_CONNECT_TIMEOUT_SECONDS, default=DEFAULT_CONNECT_TIMEOUT)
    read_timeout: float = setting(ZEGO_READ_TIMEOUT_SECONDS, default=DEFAULT_READ_TIMEOUT)
    max_response_bytes: int = setting(ZEGO_MAX_RESPONSE_BYTES, default=MAX_BODY_BYTES)
    secret_cache_seconds: int = secret_cache_setting()


def build_client(settings: ZegoSettings, *, transport: BaseAdapter | None = None) -> ZegoClient:
    """A :class:`ZegoClient` wired to the configured secret source (read lazily, at the first call).

    ``transport`` replaces the default HTTP transport (tests only).
    """
    provider = secret_provider(settings.server_secret_arn, settings.server_secret, settings.secret_cache_seconds)
    return ZegoClient(
        app_id=settings.app_id,
        secret_provider=provider,
        secret_refresh=provider.refresh if isinstance(provider, SecretsManagerSecret) else None,
        endpoint=settings.endpoint,
        is_test=settings.is_test,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        transport=transport,
        max_body_bytes=settings.max_response_bytes,
    )


def secret_provider(
    secret_arn: str | None, secret: str | None, max_age: int, *, json_key: str = SECRET_JSON_KEY
) -> SecretProvider:
    """The configured source of a ZEGO secret: Secrets Manager (:func:`secrets_manager_provider`) when
    ``secret_arn`` is set, else ``secret`` itself (local runs); the settings allow exactly one of them."""
    if secret_arn is not None:
        return secrets_manager_provider(secret_arn, max_age, json_key=json_key)
    return static_secret_provider(secret or "")


def secrets_manager_provider(secret_arn: str, max_age: int, *, json_key: str = SECRET_JSON_KEY) -> SecretProvider:
    """A provider reading a ZEGO secret (the ServerSecret; with ``json_key="CallbackSecret"`` the
    CallbackSecret) from Secrets Manager, cached by Powertools for ``max_age`` s: a
    :class:`SecretsManagerSecret`.

    Errors become :class:`SecretUnavailableError` (permanent for access/existence/shape problems).
    """
    return SecretsManagerSecret(secret_arn, max_age, json_key=json_key)


class SecretsManagerSecret:
    """A ZEGO secret in Secrets Manager, read through Powertools' cache (``max_age`` s) at each call, and
    read afresh on demand (:meth:`refresh`, after ZEGO refused a signature), at most once every
    ``min_refresh_seconds`` in this instance, so that a secret that stays wrong never hammers Secrets
    Manager."""

    def __init__(
        self,
        secret_arn: str,
        max_age: int,
        *,
        json_key: str = SECRET_JSON_KEY,
        min_refresh_seconds: float = MIN_SECRET_REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._arn = secret_arn
        self._max_age = max_age
        self._json_key = json_key
        self._min_refresh_seconds = min_refresh_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._refreshed_at: float | None = None
        self._last: str | None = None

    def __repr__(self) -> str:
        return f"SecretsManagerSecret({self._arn!r}, max_age={self._max_age})"  # never the value

    def __call__(self) -> str:
        """The secret, from the cache while it is younger than ``max_age``."""
        return self._read(force=False)

    def refresh(self) -> bool:
        """Read the secret past the cache; True when that gave another secret than the last one given.

        False without reading when the last forced read is less than ``min_refresh_seconds`` old, and when
        the read fails (the caller's failure stands)."""
        with self._lock:
            now = self._monotonic()
            if self._refreshed_at is not None and now - self._refreshed_at < self._min_refresh_seconds:
                return False
            self._refreshed_at = now
            before = self._last
        try:
            return self._read(force=True) != before
        except SecretUnavailableError:
            return False

    def _read(self, *, force: bool) -> str:
        # Imported here: unit tests and the cold-start path need neither boto3 nor Powertools until
        # the first call actually needs the secret.
        from aws_lambda_powertools.utilities import parameters

        try:
            if force:
                value = parameters.get_secret(self._arn, max_age=self._max_age, force_fetch=True)
            else:
                value = parameters.get_secret(self._arn, max_age=self._max_age)
        except Exception as exc:
            raise _secrets_manager_error(exc) from None
        secret = server_secret_from(value, self._json_key)
        self._last = secret
        return secret


def static_secret_provider(server_secret: str) -> SecretProvider:
    """A provider for a secret given directly (``ZEGO_SERVER_SECRET``, local runs)."""

    def provide() -> str:
        return server_secret

    return provide


def server_secret_from(value: object, json_key: str = SECRET_JSON_KEY) -> str:
    """The ServerSecret from a Secrets Manager value: a plain string, or a JSON object with
    ``ServerSecret`` (:func:`~zego_media_tasks.config.secrets.secret_text_from`; surrounding white space
    is dropped, as a pasted secret often ends in a newline). Raises :class:`SecretUnavailableError`,
    permanent, never showing the value."""
    try:
        return secret_text_from(value, json_key)
    except SecretShapeError as error:
        raise SecretUnavailableError(f"the ZEGO secret {error}", permanent=True) from None


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
