"""ZEGO server-API request signing (``SignatureVersion=2.0``).

``Signature = md5(str(AppId) + SignatureNonce + ServerSecret + str(Timestamp))`` as 32 lowercase hex
characters. Every call gets a fresh nonce and timestamp, and the values signed are exactly the values
sent: :class:`SignedAuth` carries both, so they cannot drift apart.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

SIGNATURE_VERSION = "2.0"
NONCE_BYTES = 8
"""ZEGO's examples use 8 random bytes as 16 hex characters."""


def new_nonce() -> str:
    """A fresh ``SignatureNonce``: 16 lowercase hex characters from the OS CSPRNG."""
    return secrets.token_hex(NONCE_BYTES)


def sign(app_id: int, nonce: str, server_secret: str, timestamp: int) -> str:
    """The ``Signature`` for one request, as ZEGO computes it."""
    material = f"{app_id}{nonce}{server_secret}{timestamp}".encode()
    # MD5 is ZEGO's choice of algorithm, not ours; it is used here as a keyed digest, not for storage.
    return hashlib.md5(material, usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedAuth:
    """The common authentication parameters of one request. Holds no secret."""

    app_id: int
    nonce: str
    timestamp: int
    # A signature is replayable until its timestamp expires (10 minutes), so keep it out of reprs.
    signature: str = field(repr=False)

    def query_params(self) -> dict[str, str]:
        """The parameters as they go into the query string, in ZEGO's documented order."""
        return {
            "AppId": str(self.app_id),
            "SignatureNonce": self.nonce,
            "Timestamp": str(self.timestamp),
            "SignatureVersion": SIGNATURE_VERSION,
            "Signature": self.signature,
        }


def signed_auth(app_id: int, server_secret: str, *, nonce: str, timestamp: int) -> SignedAuth:
    """Sign ``nonce`` and ``timestamp`` for ``app_id``; the result carries exactly the values signed."""
    return SignedAuth(
        app_id=app_id,
        nonce=nonce,
        timestamp=timestamp,
        signature=sign(app_id, nonce, server_secret, timestamp),
    )
