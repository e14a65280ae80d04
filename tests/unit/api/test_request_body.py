"""Reading the registration body: the order of checks decides the status (415, then 413, then 400)."""

from __future__ import annotations

import pytest

from zego_media_tasks.api.errors import PayloadTooLargeError, UnsupportedMediaTypeError
from zego_media_tasks.api.request_body import MAX_BODY_BYTES, is_json_media_type, read_registration
from zego_media_tasks.domain.status import Vendor


@pytest.mark.parametrize(
    ("content_type", "is_json"),
    [
        (None, True),
        ("", True),
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ("application/merge-patch+json", True),
        ("text/json", False),
        ("application/jsonx", False),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
    ],
)
def test_json_media_types(content_type: str | None, is_json: bool) -> None:
    assert is_json_media_type(content_type) is is_json


def test_a_valid_body_is_read() -> None:
    request = read_registration('{"TaskId": "t-1", "Vendor": "Huawei"}', is_base64_encoded=False, content_type=None)
    assert (request.task_id, request.vendor) == ("t-1", Vendor.HUAWEI)


def test_media_type_is_checked_before_size() -> None:
    with pytest.raises(UnsupportedMediaTypeError):
        read_registration("x" * (MAX_BODY_BYTES * 4), is_base64_encoded=False, content_type="text/plain")


def test_size_is_checked_before_parsing() -> None:
    with pytest.raises(PayloadTooLargeError):
        read_registration("{" * (MAX_BODY_BYTES + 1), is_base64_encoded=False, content_type="application/json")


def test_size_counts_bytes_not_characters() -> None:
    body = '{"TaskId": "t", "Vendor": "Tencent", "p": "' + "é" * (MAX_BODY_BYTES // 2) + '"}'
    assert len(body) < MAX_BODY_BYTES < len(body.encode())
    with pytest.raises(PayloadTooLargeError):
        read_registration(body, is_base64_encoded=False, content_type=None)
