"""The one reading of a secret's value, shared by the ZEGO ServerSecret and the pagination key."""

from __future__ import annotations

import json

import pytest

from zego_media_tasks.api.errors import ServiceUnavailableError
from zego_media_tasks.api.settings import pagination_key_from
from zego_media_tasks.config.secrets import SecretShapeError, secret_text_from
from zego_media_tasks.zego.settings import server_secret_from

SECRET = "k" * 40
KEY = "ServerSecret"


@pytest.mark.parametrize(
    "value",
    [
        SECRET,
        f" {SECRET}\n",
        SECRET.encode(),
        json.dumps({KEY: SECRET}),
        f'  {{"{KEY}": " {SECRET}\\n"}}',
        {KEY: SECRET},
    ],
    ids=["plain", "padded", "bytes", "json", "padded-json-and-member", "decoded-json"],
)
def test_plain_or_json_secrets_with_surrounding_white_space_dropped(value: object) -> None:
    assert secret_text_from(value, KEY) == SECRET


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "is empty"),
        (" \n", "is empty"),
        (None, "is not text"),
        (b"\xff" + SECRET.encode(), "is binary, not UTF-8 text"),
        ("{" + SECRET, "starts with '{' but is not valid JSON"),
        (json.dumps({"Other": SECRET}), "is a JSON object without a string 'ServerSecret'"),
        (json.dumps({KEY: 5}), "is a JSON object without a string 'ServerSecret'"),
        (json.dumps({KEY: "  "}), "is empty"),
    ],
)
def test_unusable_values_are_refused_without_showing_them(value: object, reason: str) -> None:
    with pytest.raises(SecretShapeError) as caught:
        secret_text_from(value, KEY)
    assert str(caught.value) == reason
    assert SECRET not in str(caught.value)


def test_both_secrets_follow_the_same_white_space_rule() -> None:
    padded = f"\t{SECRET} \n"
    assert server_secret_from(padded) == SECRET
    assert pagination_key_from(json.dumps({"PaginationSecret": padded})) == SECRET.encode()


def test_a_pagination_key_too_short_once_stripped_is_refused() -> None:
    with pytest.raises(ServiceUnavailableError):
        pagination_key_from(" " * 20 + "k" * 31 + " " * 20)
