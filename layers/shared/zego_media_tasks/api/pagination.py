"""The ``nextToken`` of ``GET /tasks``: opaque to clients, tamper-evident, bound to its query.

Format: ``<payload>.<mac>``, both unpadded base64url. ``payload`` is compact JSON
``{"v": 1, "k": <LastEvaluatedKey as a flat object of strings>}``; ``mac`` is HMAC-SHA256 under the
pagination secret over a domain label, the query (status and vendor) and the payload bytes. So a token
cannot be forged or edited without the secret, and a token issued for one listing (say
``status=FAILED``) fails verification when presented to another (``status=SUCCEEDED``, or the same
status with a vendor). Any failure is one error, :class:`InvalidNextTokenError` (a 400): the client is
not told which check failed.

The same tokens page through a record's long lists (:class:`RecordListQuery`: bound to the list, the
TaskId and the vendor; the payload holds the offset and which copy of the list it counts in).

Tokens do not expire; rotating the secret invalidates every outstanding token (clients restart the
listing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from zego_media_tasks.api.errors import ErrorCode, InvalidRequestError
from zego_media_tasks.domain.status import TaskStatus, Vendor

TOKEN_VERSION = 1
LISTING_INDEX = "ByStatus"
"""The index a listing token's key belongs to (``store.items.STATUS_INDEX``; bound into the MAC)."""
MAX_TOKEN_LENGTH = 2048
"""Longer than any token we issue (a key holds a TaskId of at most 256 characters and a few short
attributes); anything longer is refused before decoding."""
_MAX_KEY_ATTRIBUTES = 8
_MAX_KEY_VALUE_LENGTH = 1024
_DOMAIN = b"zego-media-tasks/nextToken/v1"
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class InvalidNextTokenError(InvalidRequestError):
    """The token is malformed, was modified, or belongs to another query."""

    def __init__(self) -> None:
        super().__init__(
            "nextToken is not valid for this query; start again without nextToken",
            ErrorCode.INVALID_NEXT_TOKEN,
        )


class TokenQuery(Protocol):
    """What a token can be bound to."""

    def binding(self) -> bytes:
        """The bytes identifying the query inside the MAC."""
        ...


@dataclass(frozen=True, slots=True)
class ListingQuery:
    """What a token is bound to: the listing it continues."""

    status: TaskStatus
    vendor: Vendor | None

    def binding(self) -> bytes:
        """The bytes identifying this query inside the MAC, with the index its keys belong to: a token
        issued when a vendor's listing read the retired ``ByVendorStatus`` index holds a key of that index,
        and fails verification (a 400) instead of reaching DynamoDB."""
        return f"{self.status.value}\x00{self.vendor.value if self.vendor else ''}\x00{LISTING_INDEX}".encode()


@dataclass(frozen=True, slots=True)
class RecordListQuery:
    """A walk through one list of one record (``GET /tasks/{taskId}/thumbnails?vendor=``); its binding
    starts with ``list``, which no status does, so a listing's token never continues a list or back."""

    list_name: str
    task_id: str
    vendor: Vendor

    def binding(self) -> bytes:
        """The bytes identifying this walk inside the MAC."""
        return f"list\x00{self.list_name}\x00{self.vendor.value}\x00{self.task_id}".encode()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Canonical form only: otherwise the unused low bits of the last character could be changed
    # without changing the bytes, and one token would have several spellings.
    if _b64encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


class PageTokenCodec:
    """Encodes a DynamoDB LastEvaluatedKey into a token and back, verifying it on the way back."""

    def __init__(self, key: Callable[[], bytes]) -> None:
        """``key`` returns the HMAC key; it is called per use, so a cached, rotating secret works."""
        self._key = key

    def _mac(self, query: TokenQuery, payload: bytes) -> bytes:
        message = b"\x00".join((_DOMAIN, query.binding(), payload))
        return hmac.new(self._key(), message, hashlib.sha256).digest()

    def encode(self, last_key: Mapping[str, str], query: TokenQuery) -> str:
        """The token continuing ``query`` after ``last_key``."""
        payload = json.dumps({"v": TOKEN_VERSION, "k": dict(last_key)}, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._mac(query, payload))}"

    def decode(self, token: str, query: TokenQuery) -> dict[str, str]:
        """The LastEvaluatedKey carried by ``token``; :class:`InvalidNextTokenError` unless the token
        was issued by us, unmodified, for this very query."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise InvalidNextTokenError()
        payload_text, mac_text = token.split(".")
        try:
            payload = _b64decode(payload_text)
            mac = _b64decode(mac_text)
        except (ValueError, binascii.Error):
            raise InvalidNextTokenError() from None
        if not hmac.compare_digest(mac, self._mac(query, payload)):
            raise InvalidNextTokenError()
        # Authentic from here on; the shape checks guard against our own bugs and old versions.
        try:
            document = json.loads(payload)
        except ValueError:
            raise InvalidNextTokenError() from None
        if not isinstance(document, dict) or document.get("v") != TOKEN_VERSION:
            raise InvalidNextTokenError()
        key = document.get("k")
        if (
            not isinstance(key, dict)
            or not 0 < len(key) <= _MAX_KEY_ATTRIBUTES
            or not all(isinstance(value, str) and len(value) <= _MAX_KEY_VALUE_LENGTH for value in key.values())
        ):
            raise InvalidNextTokenError()
        return {str(name): str(value) for name, value in key.items()}
