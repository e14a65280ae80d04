"""The one reading of a secret's value: a plain string, or one string member of a JSON object.

Used for the ZEGO ServerSecret and for the read API's pagination key alike. The white-space rule:
surrounding white space is dropped, from a plain value and from a JSON member (a pasted secret often
ends in a newline, and no generated secret begins or ends with a space).
"""

from __future__ import annotations

import json


class SecretShapeError(ValueError):
    """The secret's value has no usable shape. The message completes "the secret ..." and never holds
    the value; each caller turns it into its own error."""


def secret_text_from(value: object, json_key: str) -> str:
    """The secret in a Secrets Manager value: the text itself, or the ``json_key`` member of a JSON object.

    ``value`` may be text, UTF-8 bytes, or an already decoded JSON object (a ``dict``); text starting
    with ``{`` is read as JSON. Raises :class:`SecretShapeError` for anything else, and for an empty
    secret.
    """
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretShapeError("is binary, not UTF-8 text") from None
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise SecretShapeError("starts with '{' but is not valid JSON") from None
    if isinstance(value, dict):
        value = value.get(json_key)
        if not isinstance(value, str):
            raise SecretShapeError(f"is a JSON object without a string {json_key!r}")
    if not isinstance(value, str):
        raise SecretShapeError("is not text")
    secret = value.strip()
    if not secret:
        raise SecretShapeError("is empty")
    return secret
