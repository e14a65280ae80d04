"""AWS clients and AWS failures, the one way every adapter builds and reads them.

A :class:`LazyClient` builds its boto3 client at first use, never at import or cold start for code
that does not call AWS, once, under a lock, from a private session: boto3's default session is not
safe to build clients from on several threads at once (the local event source runs invocations
concurrently in one process), while the clients themselves are thread-safe and shared. The wiring of
a function builds one ``LazyClient`` per service and hands it to every adapter of that service.

An :class:`AwsAdapter` holds an adapter's ``client`` (built at first use), and :func:`call_aws` turns a
failed call into the adapter's :class:`DependencyUnavailable`, named by :func:`error_code`, so that the
core never sees botocore.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from zego_media_tasks.domain.ports import DependencyUnavailable

ClientT = TypeVar("ClientT")
T = TypeVar("T")

_SESSION_LOCK = threading.Lock()


class LazyClient(Generic[ClientT]):
    """A boto3 client for ``service``, created at the first :meth:`get` (honouring
    ``AWS_ENDPOINT_URL`` and the region of the environment then), or the one given."""

    def __init__(self, service: str, client: ClientT | None = None) -> None:
        self.service = service
        self._client = client
        self._lock = threading.Lock()

    def get(self) -> ClientT:
        """The client, built now if this is the first call."""
        with self._lock:
            if self._client is None:
                import boto3

                with _SESSION_LOCK:
                    self._client = cast(ClientT, boto3.session.Session().client(self.service))  # type: ignore[call-overload]
            return self._client


class AwsAdapter(Generic[ClientT]):
    """The base of an adapter over one AWS service: its client, built at first use (a given
    :class:`LazyClient` is shared as it is)."""

    def __init__(self, service: str, client: ClientT | LazyClient[ClientT] | None) -> None:
        self._client = lazy(service, client)

    @property
    def client(self) -> ClientT:
        """The boto3 client (created at first use)."""
        return self._client.get()


def lazy(service: str, client: ClientT | LazyClient[ClientT] | None) -> LazyClient[ClientT]:
    """``client`` as a :class:`LazyClient` (shared as it is when it already is one)."""
    if isinstance(client, LazyClient):
        return client
    return LazyClient(service, client)


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``ConditionalCheckFailedException``), else the
    exception's type name (``EndpointConnectionError``, ``ReadTimeoutError``)."""
    response: Any = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if isinstance(code, str) and code:
            return code
    return type(error).__name__


def call_aws(operation: str, request: Callable[[], T], failure: type[DependencyUnavailable]) -> T:
    """``request()``'s response; any botocore failure (a ``ClientError`` from AWS, a ``BotoCoreError`` such
    as a timeout) is raised as ``failure(operation, code)``, the adapter's own error, once, here."""
    try:
        return request()
    except (ClientError, BotoCoreError) as error:
        raise failure(operation, error_code(error)) from error
