"""DescribeMediaTask requests as ZEGO expects them, for the client's and the simulator's tests: ZEGO's
documented signature rule written out independently of the code under test (MD5 over the AppId, the nonce,
the ServerSecret and the timestamp, lowercase hex), and a request's signed query parameters."""

from __future__ import annotations

import hashlib


def request_signature(app_id: int | str, nonce: str, secret: str, timestamp: str) -> str:
    """ZEGO's request ``Signature``."""
    return hashlib.md5(f"{app_id}{nonce}{secret}{timestamp}".encode(), usedforsecurity=False).hexdigest()


def describe_params(
    task_id: str, vendor: str, *, app_id: int, secret: str, timestamp: str, nonce: str
) -> dict[str, str]:
    """The query of a DescribeMediaTask request for ``task_id``, signed at ``timestamp`` with ``nonce``."""
    return {
        "Action": "DescribeMediaTask",
        "TaskId": task_id,
        "Vendor": vendor,
        "AppId": str(app_id),
        "SignatureNonce": nonce,
        "Timestamp": timestamp,
        "SignatureVersion": "2.0",
        "Signature": request_signature(app_id, nonce, secret, timestamp),
    }
