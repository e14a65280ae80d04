"""Request signing, ``SignatureVersion=2.0``: md5(AppId + SignatureNonce + ServerSecret + Timestamp)."""

from __future__ import annotations

import re

from zego_media_tasks.zego.signing import SIGNATURE_VERSION, new_nonce, sign, signed_auth

# ZEGO's published test vector.
APP_ID = 12345
NONCE = "4fd24687296dd9f3"
SECRET = "9193cc662a4c0ec135ec71fb57194b38"
TIMESTAMP = 1615186943
SIGNATURE = "43e5cfcca828314675f91b001390566a"


def test_sign_reproduces_zegos_test_vector() -> None:
    assert sign(APP_ID, NONCE, SECRET, TIMESTAMP) == SIGNATURE


def test_signature_is_32_lowercase_hex_characters() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", sign(4294967295, "ABCDEF0123456789", "Secret", 0))


def test_every_signed_input_changes_the_signature() -> None:
    variants = {
        sign(APP_ID + 1, NONCE, SECRET, TIMESTAMP),
        sign(APP_ID, "4fd24687296dd9f4", SECRET, TIMESTAMP),
        sign(APP_ID, NONCE, SECRET[:-1] + "9", TIMESTAMP),
        sign(APP_ID, NONCE, SECRET, TIMESTAMP + 1),
    }
    assert SIGNATURE not in variants
    assert len(variants) == 4


def test_new_nonce_is_16_lowercase_hex_characters() -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", new_nonce())


def test_new_nonce_is_fresh_on_every_call() -> None:
    nonces = {new_nonce() for _ in range(1000)}
    assert len(nonces) == 1000


def test_signed_auth_carries_exactly_the_values_it_signed() -> None:
    auth = signed_auth(APP_ID, SECRET, nonce=NONCE, timestamp=TIMESTAMP)

    assert auth.query_params() == {
        "AppId": "12345",
        "SignatureNonce": NONCE,
        "Timestamp": "1615186943",
        "SignatureVersion": SIGNATURE_VERSION,
        "Signature": SIGNATURE,
    }
    assert SIGNATURE_VERSION == "2.0"


def test_signed_auth_repr_shows_neither_secret_nor_signature() -> None:
    text = repr(signed_auth(APP_ID, SECRET, nonce=NONCE, timestamp=TIMESTAMP))

    assert SECRET not in text
    assert SIGNATURE not in text
    assert NONCE in text
