"""A ``requests`` transport adapter that answers from a script instead of a network.

It replaces the transport (what ``HTTPAdapter`` does over sockets), not any of our code: the client
builds, signs and sends real ``PreparedRequest`` objects through a real ``requests.Session``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from typing_extensions import override

TimeoutArg = float | tuple[float, float] | tuple[float, None] | None


@dataclass(frozen=True)
class Canned:
    """One scripted HTTP answer."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    reason: str = "OK"


Step = Canned | BaseException


@dataclass
class SentRequest:
    """What the client handed to the transport."""

    request: PreparedRequest
    timeout: TimeoutArg
    stream: bool


class CannedTransport(BaseAdapter):
    """Answers each request with the next scripted step (the last one repeats)."""

    def __init__(self, *steps: Step) -> None:
        super().__init__()
        if not steps:
            raise ValueError("script at least one answer")
        self._steps = list(steps)
        self.sent: list[SentRequest] = []
        self.closed = False

    @override
    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: TimeoutArg = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        self.sent.append(SentRequest(request=request, timeout=timeout, stream=stream))
        step = self._steps.pop(0) if len(self._steps) > 1 else self._steps[0]
        if isinstance(step, BaseException):
            raise step
        response = Response()
        response.status_code = step.status
        response.reason = step.reason
        response.headers = CaseInsensitiveDict(step.headers)
        response.raw = io.BytesIO(step.body)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    @override
    def close(self) -> None:
        self.closed = True

    @property
    def last_url(self) -> str:
        """The URL of the most recent request."""
        return self.sent[-1].request.url or ""
