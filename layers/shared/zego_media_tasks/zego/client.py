"""The ZEGO server-API client: one signed ``DescribeMediaTask`` GET per call, every ending a CallOutcome.

Endpoint. The default is ZEGO's unified address ``https://rtc-api.zego.im``. Regional addresses answer
the same API and are preferred close to the caller (see :data:`REGIONAL_ENDPOINTS`):

- ``https://rtc-api-sha.zego.im`` Shanghai
- ``https://rtc-api-hkg.zego.im`` Hong Kong
- ``https://rtc-api-fra.zego.im`` Frankfurt
- ``https://rtc-api-lax.zego.im`` California
- ``https://rtc-api-bom.zego.im`` Mumbai
- ``https://rtc-api-sgp.zego.im`` Singapore

Only ``https://`` is accepted, except ``http://`` to a loopback host (127.0.0.0/8, ``::1``,
``localhost``) for the local simulator.

Behaviour worth knowing:

- No retries here (the transport is mounted with ``max_retries=0``): the poller owns retry timing and
  the shared rate limit, and a hidden retry would spend a slot it did not reserve.
- Redirects are not followed (ZEGO's API does not redirect, and following one would send a valid
  signature to another host); a 3xx answer is TRANSIENT ``HTTP_3xx``.
- The server secret comes from an injected provider at each call, so a rotated secret is picked up
  when the provider's cache expires, or sooner: a call refused for authentication (Code 7 or
  100000005) forces one fresh read (``secret_refresh``, at most once a minute per instance) and, when a
  secret other than the refused one is then in hand (that read brought it, or another call's read did
  meanwhile), is made once more, the one retry of this client. The secret is never logged,
  never put in a URL, never in a repr; logged URLs show ``Signature=***``; exception texts from
  ``requests`` (which embed the URL) are never logged or stored, only their type names.
- Bodies over the answer bound (``max_body_bytes``, default :data:`MAX_BODY_BYTES`) are not read into
  memory: the call ends CONFIGURATION ``RESPONSE_TOO_LARGE``.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Final
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from zego_media_tasks import __version__
from zego_media_tasks.domain.clock import SystemClock
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.ports import Clock
from zego_media_tasks.domain.status import Vendor
from zego_media_tasks.zego.responses import (
    BAD_RESPONSE,
    CONNECTION,
    SECRET_UNAVAILABLE,
    TIMEOUT,
    interpret_response,
    truncate_message,
)
from zego_media_tasks.zego.signing import SignedAuth, new_nonce, signed_auth

logger = logging.getLogger(__name__)
_SIGNATURE = re.compile(r"(Signature=)[^&\s\"']+")


class _MaskSignatures(logging.Filter):
    """urllib3 logs each request line at DEBUG, query string included: mask the replayable signature."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Signature=" in message:
            record.msg, record.args = _SIGNATURE.sub(r"\1***", message), None
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_MaskSignatures())

DEFAULT_ENDPOINT: Final = "https://rtc-api.zego.im"
REGIONAL_ENDPOINTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Shanghai": "https://rtc-api-sha.zego.im",
        "Hong Kong": "https://rtc-api-hkg.zego.im",
        "Frankfurt": "https://rtc-api-fra.zego.im",
        "California": "https://rtc-api-lax.zego.im",
        "Mumbai": "https://rtc-api-bom.zego.im",
        "Singapore": "https://rtc-api-sgp.zego.im",
    }
)
DEFAULT_CONNECT_TIMEOUT: Final = 3.05
"""Slightly above a multiple of 3 s, the TCP retransmission window (as the requests docs advise)."""
DEFAULT_READ_TIMEOUT: Final = 10.0
MAX_TIMEOUT_SECONDS: Final = 900.0
"""No call can outlive a Lambda invocation (15 minutes at most)."""
MAX_APP_ID: Final = 2**32 - 1
MAX_BODY_BYTES: Final = 8 * 1024 * 1024
"""The default bound of an answer: 8 MiB holds about 55,000 snapshot URLs of 150 bytes (a SampleSnapshot
of 15 hours at one frame a second); most answers are a few KiB. It bounds memory against a broken or
hostile peer: the poller holds the body, its parse and the list objects at once, about 5 x the body
(docs/benchmarks.md, section 9; docs/architecture.md, "Answers and records of any size")."""
MIN_BODY_BYTES: Final = 64 * 1024
MAX_BODY_BYTES_LIMIT: Final = 64 * 1024 * 1024
"""The largest bound a configuration may choose (with PollerMemorySize raised to match)."""
RESPONSE_TOO_LARGE: Final = "RESPONSE_TOO_LARGE"
"""The ``CallError.code`` of an answer over the bound: CONFIGURATION, since only raising the bound
(``ZEGO_MAX_RESPONSE_BYTES``) lets the task progress; the message keeps its generation and heads for
the DLQ, to be redriven once the bound is raised, and the task is never marked from a cut answer."""
ACTION: Final = "DescribeMediaTask"

# CONFIGURATION needs an operator; throttling is routine at the shared 20/s limit; the rest is retried.
_LOG_LEVEL_BY_KIND: Final[Mapping[OutcomeKind, int]] = MappingProxyType(
    {
        OutcomeKind.CONFIGURATION: logging.ERROR,
        OutcomeKind.REJECTED: logging.WARNING,
        OutcomeKind.TRANSIENT: logging.WARNING,
        OutcomeKind.THROTTLED: logging.INFO,
        OutcomeKind.SUCCESS: logging.DEBUG,
    }
)

SecretProvider = Callable[[], str]
"""Returns the current ZEGO ServerSecret; called once per request (cache inside the provider)."""
SecretRefresh = Callable[[], bool]
"""Forces one fresh read of the secret past the provider's cache; True when it brought a different secret
(a retry may then succeed), False otherwise (the same secret, unreadable, or refreshed too recently)."""
AUTH_FAILURE_CODES: Final = frozenset({"7", "100000005"})
"""ZEGO's Codes for a failed authentication and a wrong signature: what a rotated ServerSecret gives."""


class SecretUnavailableError(Exception):
    """Raised by a secret provider that cannot produce a usable secret. The message never holds it.

    ``permanent`` is True when only an operator can fix it (no such secret, access denied, wrong
    shape): the call then ends as CONFIGURATION; otherwise (throttling, network) as TRANSIENT.
    """

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


def endpoint_problem(endpoint: str) -> str | None:
    """None when ``endpoint`` is acceptable, else why not (never mentions anything but the endpoint)."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        return f"endpoint {endpoint!r} is not a valid URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"endpoint {endpoint!r} must be an https:// URL with a host"
    if parts.username is not None or parts.password is not None:
        return "endpoint must not contain credentials"
    if parts.query or parts.fragment:
        return f"endpoint {endpoint!r} must not have a query or fragment"
    if port == 0:
        return f"endpoint {endpoint!r} must not use port 0"
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return (
            f"endpoint {endpoint!r} uses http://, which is allowed only for loopback hosts "
            "(127.0.0.0/8, ::1, localhost); use https://"
        )
    return None


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_id_problem(app_id: int) -> str | None:
    """None for a valid ZEGO AppId (a positive uint32), else why not."""
    if isinstance(app_id, bool) or not isinstance(app_id, int) or not 1 <= app_id <= MAX_APP_ID:
        return f"AppId must be an integer from 1 to {MAX_APP_ID}"
    return None


def timeout_problem(name: str, seconds: float) -> str | None:
    """None for a usable timeout (positive, finite, at most 900 s), else why not."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return f"{name} must be a number of seconds"
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT_SECONDS:
        return f"{name} must be greater than 0 and at most {MAX_TIMEOUT_SECONDS:g} seconds"
    return None


def body_bound_problem(max_bytes: int) -> str | None:
    """None for a usable answer bound (:data:`MIN_BODY_BYTES` to :data:`MAX_BODY_BYTES_LIMIT`), else why not."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
        return "the answer bound must be a whole number of bytes"
    if not MIN_BODY_BYTES <= max_bytes <= MAX_BODY_BYTES_LIMIT:
        return f"the answer bound must be from {MIN_BODY_BYTES} to {MAX_BODY_BYTES_LIMIT} bytes"
    return None


class ZegoClient:
    """Calls ZEGO's ``DescribeMediaTask``; implements :class:`~zego_media_tasks.domain.ports.TaskDescriber`.

    Build it once per Lambda execution environment: it keeps one ``requests.Session`` (and so its
    pooled TLS connections) across invocations.
    """

    def __init__(
        self,
        *,
        app_id: int,
        secret_provider: SecretProvider,
        secret_refresh: SecretRefresh | None = None,
        endpoint: str = DEFAULT_ENDPOINT,
        is_test: bool | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        clock: Clock | None = None,
        nonce_factory: Callable[[], str] = new_nonce,
        transport: BaseAdapter | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        """Validate the configuration (``ValueError`` listing every problem) and open a session.

        ``clock`` and ``nonce_factory`` exist for tests. ``transport`` replaces the default
        ``HTTPAdapter(max_retries=0)``; tests use it to answer without a network.
        """
        problems = [
            problem
            for problem in (
                app_id_problem(app_id),
                endpoint_problem(endpoint),
                timeout_problem("connect timeout", connect_timeout),
                timeout_problem("read timeout", read_timeout),
                body_bound_problem(max_body_bytes),
            )
            if problem is not None
        ]
        if problems:
            raise ValueError("invalid ZEGO client configuration: " + "; ".join(problems))
        self._app_id = app_id
        self._secret_provider = secret_provider
        self._secret_refresh = secret_refresh
        self._endpoint = endpoint.rstrip("/")
        self._url = self._endpoint + "/"
        self._is_test = is_test
        self._timeout = (float(connect_timeout), float(read_timeout))
        self._max_body_bytes = max_body_bytes
        self._clock: Clock = clock or SystemClock()
        self._nonce_factory = nonce_factory
        self._session = requests.Session()
        adapter = transport if transport is not None else HTTPAdapter(max_retries=0)
        # Mounted for both schemes so that no default adapter (with its own settings) is ever used.
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({"Accept": "application/json", "User-Agent": f"zego-media-tasks/{__version__}"})

    @property
    def endpoint(self) -> str:
        """The base URL requests go to, without a trailing slash."""
        return self._endpoint

    def __repr__(self) -> str:
        # Spelled out so that no attribute (the provider, the session) can ever leak into a log line.
        return (
            f"ZegoClient(endpoint={self._endpoint!r}, app_id={self._app_id}, is_test={self._is_test!r}, "
            f"connect_timeout={self._timeout[0]}, read_timeout={self._timeout[1]})"
        )

    def __enter__(self) -> ZegoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections. The client must not be used afterwards."""
        self._session.close()

    def request_params(self, task_id: str, vendor: Vendor, auth: SignedAuth) -> dict[str, str]:
        """The query parameters of one call, in the order they are sent."""
        params = {"Action": ACTION, "TaskId": task_id, "Vendor": vendor.value, **auth.query_params()}
        if self._is_test is not None:
            params["IsTest"] = "true" if self._is_test else "false"
        return params

    def masked_url(self, params: Mapping[str, str]) -> str:
        """The request URL as it may be logged: ``Signature`` replaced by ``***``."""
        shown = {name: ("***" if name == "Signature" else value) for name, value in params.items()}
        return f"{self._url}?{urlencode(shown, safe='*')}"

    def describe_media_task(self, task_id: str, vendor: Vendor) -> CallOutcome:
        """Ask ZEGO about one task. Never raises for network, vendor or secret-provider failures."""
        started = self._clock.monotonic()
        secret = self._server_secret()
        outcome, http_status = self._call(task_id, vendor, secret)
        if _refused_authentication(outcome) and self._another_secret_than(secret):
            # The ServerSecret was rotated: the call is made once more with the secret now in hand.
            logger.warning(
                "ZEGO refused our signature; the secret was read again and the call is retried",
                extra={"zego_task_id": task_id, "zego_code": outcome.error.code if outcome.error else None},
            )
            outcome, http_status = self._call(task_id, vendor, self._server_secret())
        self._log_outcome(outcome, task_id, vendor, http_status, started)
        return outcome

    def _another_secret_than(self, refused: str | CallOutcome) -> bool:
        """Whether a secret other than the ``refused`` one is now in hand: one fresh read brought one, or one
        came meanwhile, through another call's fresh read (calls on other threads share the provider) while
        this instance's last fresh read is too recent for another."""
        if self._secret_refresh is None:
            return False
        if self._secret_refresh():
            return True
        current = self._server_secret()
        return isinstance(current, str) and isinstance(refused, str) and current != refused

    def _call(self, task_id: str, vendor: Vendor, secret: str | CallOutcome) -> tuple[CallOutcome, int | None]:
        if isinstance(secret, CallOutcome):
            return secret, None
        # Fresh nonce and timestamp per call; the same SignedAuth object is signed and sent.
        auth = signed_auth(
            self._app_id,
            secret,
            nonce=self._nonce_factory(),
            timestamp=int(self._clock.now().timestamp()),
        )
        params = self.request_params(task_id, vendor, auth)
        logger.debug("ZEGO request", extra={"zego_url": self.masked_url(params), "zego_task_id": task_id})
        try:
            with self._session.get(
                self._url, params=params, timeout=self._timeout, allow_redirects=False, stream=True
            ) as response:
                http_status = response.status_code
                body = _read_capped(response, self._max_body_bytes)
        except requests.exceptions.Timeout as exc:
            return self._timed_out(exc), None
        except requests.exceptions.ConnectionError as exc:
            # A read timeout while streaming the body surfaces as ConnectionError(ReadTimeoutError).
            if exc.args and isinstance(exc.args[0], ReadTimeoutError):
                return self._timed_out(exc), None
            return CallOutcome.failure(
                OutcomeKind.TRANSIENT, CONNECTION, f"connection to ZEGO failed ({type(exc).__name__})"
            ), None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            return CallOutcome.failure(
                OutcomeKind.TRANSIENT, BAD_RESPONSE, f"unreadable response body ({type(exc).__name__})"
            ), None
        except requests.exceptions.RequestException as exc:
            return CallOutcome.failure(
                OutcomeKind.TRANSIENT, CONNECTION, f"request to ZEGO failed ({type(exc).__name__})"
            ), None
        if body is None:
            if 200 <= http_status <= 299:
                return CallOutcome.failure(
                    OutcomeKind.CONFIGURATION,
                    RESPONSE_TOO_LARGE,
                    f"response body larger than {self._max_body_bytes} bytes (ZEGO_MAX_RESPONSE_BYTES); raise "
                    "the bound and redrive the poll DLQ",
                ), http_status
            body = b""  # the status alone decides (see responses.interpret_response)
        return interpret_response(http_status, body, task_id=task_id, vendor=vendor), http_status

    def _server_secret(self) -> str | CallOutcome:
        try:
            secret = self._secret_provider()
        except SecretUnavailableError as exc:
            kind = OutcomeKind.CONFIGURATION if exc.permanent else OutcomeKind.TRANSIENT
            return CallOutcome.failure(kind, SECRET_UNAVAILABLE, truncate_message(str(exc)))
        except Exception as exc:
            # The provider is injected code: only its exception type is safe to repeat.
            return CallOutcome.failure(
                OutcomeKind.TRANSIENT,
                SECRET_UNAVAILABLE,
                f"the secret provider failed ({type(exc).__name__})",
            )
        if not isinstance(secret, str) or not secret:
            return CallOutcome.failure(
                OutcomeKind.CONFIGURATION, SECRET_UNAVAILABLE, "the secret provider returned no secret"
            )
        return secret

    def _timed_out(self, exc: Exception) -> CallOutcome:
        connect, read = self._timeout
        limit = connect if isinstance(exc, requests.exceptions.ConnectTimeout) else read
        return CallOutcome.failure(
            OutcomeKind.TRANSIENT, TIMEOUT, f"no answer from ZEGO within {limit:g} s ({type(exc).__name__})"
        )

    def _log_outcome(
        self, outcome: CallOutcome, task_id: str, vendor: Vendor, http_status: int | None, started: float
    ) -> None:
        fields: dict[str, object] = {
            "zego_task_id": task_id,
            "zego_vendor": vendor.value,
            "zego_outcome": outcome.kind.value,
            "zego_request_id": outcome.zego_request_id,
            "zego_http_status": http_status,
            "zego_elapsed_ms": round((self._clock.monotonic() - started) * 1000),
        }
        if outcome.error is None:
            logger.debug("ZEGO DescribeMediaTask succeeded", extra=fields)
            return
        fields["zego_code"] = outcome.error.code
        fields["zego_message"] = outcome.error.message
        logger.log(_LOG_LEVEL_BY_KIND[outcome.kind], "ZEGO DescribeMediaTask failed", extra=fields)


def _refused_authentication(outcome: CallOutcome) -> bool:
    """ZEGO refused the call's signature or authentication (:data:`AUTH_FAILURE_CODES`)."""
    return (
        outcome.kind is OutcomeKind.CONFIGURATION
        and outcome.error is not None
        and outcome.error.code in AUTH_FAILURE_CODES
    )


def _read_capped(response: requests.Response, max_bytes: int) -> bytes | None:
    """The body, or None when it exceeds ``max_bytes`` (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
