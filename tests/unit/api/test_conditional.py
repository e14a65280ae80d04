"""ETag and Cache-Control rules."""

from __future__ import annotations

import pytest

from tests.support.api_events import make_record
from zego_media_tasks.api.conditional import cache_control_for, entity_tag, none_match
from zego_media_tasks.domain.status import TaskStatus, Vendor


def test_the_etag_ignores_key_order_and_is_strong() -> None:
    assert entity_tag({"a": 1, "b": [1, 2]}) == entity_tag({"b": [1, 2], "a": 1})
    assert entity_tag({"a": 1}) != entity_tag({"a": 2})
    assert entity_tag({}).startswith('"')
    assert entity_tag({}).endswith('"')


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ('"x",W/"abc"', True),
        ("*", True),
        ('"abcd"', False),
        ("abc", False),
        (",,,", False),
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert none_match(header, '"abc"') is matches


@pytest.mark.parametrize(
    ("statuses", "single_vendor", "expected"),
    [
        ([TaskStatus.SUCCEEDED], True, "private, max-age=86400, immutable"),
        ([TaskStatus.REJECTED], False, "private, max-age=300"),
        ([TaskStatus.SUCCEEDED, TaskStatus.FAILED], False, "private, max-age=300"),
        ([TaskStatus.SUCCEEDED, TaskStatus.PROCESSING], False, "no-cache"),
        ([TaskStatus.PENDING], True, "no-cache"),
        ([TaskStatus.UNKNOWN], True, "no-cache"),
        ([], True, "no-cache"),
    ],
)
def test_cache_control(statuses: list[TaskStatus], single_vendor: bool, expected: str) -> None:
    vendors = [Vendor.TENCENT, Vendor.HUAWEI]
    records = [make_record("t", vendors[i], status) for i, status in enumerate(statuses)]
    assert cache_control_for(records, single_vendor=single_vendor) == expected
