"""Secrets: where a function's secret comes from, and the one reading of a secret's value.

- :class:`SecretSource`: a secret read from Secrets Manager (``<NAME>_ARN``) or, in local runs only,
  given directly (``<NAME>``), exactly one of the two: declared once for the ZEGO ServerSecret, the
  CallbackSecret and the read API's pagination key (its two knobs, their rule and their fields).
- :func:`secret_text_from`: a secret's value is a plain string, or one string member of a JSON object.
  The white-space rule: surrounding white space is dropped, from a plain value and from a JSON member (a
  pasted secret often ends in a newline, and no generated secret begins or ends with a space).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from zego_media_tasks.config.environment import Kind, Knob, Relation, Text, exactly_one, setting
from zego_media_tasks.config.knobs import DEFAULT_SECRET_CACHE_SECONDS, SECRET_CACHE_SECONDS, SECRETS_MANAGER_ARN


@dataclass(frozen=True, slots=True)
class SecretSource:
    """A secret from Secrets Manager (the ARN's knob) or, for local runs only, the value itself (the value's
    knob): exactly one of the two is set; the value is kept out of the settings' ``repr``."""

    arn: Knob[str]
    value: Knob[str]

    @classmethod
    def named(
        cls, variable: str, what: str, *, arn_kind: Kind[str] = SECRETS_MANAGER_ARN, value_kind: Kind[str] | None = None
    ) -> SecretSource:
        """The source read from ``<variable>_ARN`` or ``<variable>``; ``what`` names the secret."""
        return cls(
            Knob(f"{variable}_ARN", arn_kind, f"the Secrets Manager secret holding {what}"),
            Knob(variable, value_kind or Text(), f"{what} itself, for local runs only"),
        )

    @property
    def relation(self) -> Relation:
        """The settings model's rule: exactly one of the two variables is set."""
        return exactly_one(self.arn.variable, self.value.variable)

    def arn_setting(self) -> str | None:
        """The settings field of the ARN (unset: the value is given directly)."""
        return setting(self.arn, default=None)

    def value_setting(self) -> str | None:
        """The settings field of the value itself, kept out of ``repr``."""
        return setting(self.value, default=None, secret=True)


def secret_cache_setting() -> int:
    """The settings field of ``SECRET_CACHE_SECONDS``, with its one default (every function reading a secret)."""
    return setting(SECRET_CACHE_SECONDS, default=DEFAULT_SECRET_CACHE_SECONDS)


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
