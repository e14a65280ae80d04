"""The normalized status vocabulary and each vendor's mapping onto it."""

from __future__ import annotations

import pytest

from tests.support.zego_contract import DOCUMENTED_VENDOR_STATUSES, OTHER_VENDORS_WORDS
from zego_media_tasks.domain.status import (
    TERMINAL_STATUSES,
    TaskStatus,
    Vendor,
    is_terminal,
    normalize_vendor_status,
    parse_vendor,
)


@pytest.mark.parametrize(("vendor", "raw", "expected"), DOCUMENTED_VENDOR_STATUSES)
def test_every_documented_vendor_status_maps_to_the_vocabulary(vendor: Vendor, raw: str, expected: TaskStatus) -> None:
    assert normalize_vendor_status(vendor, raw) is expected


@pytest.mark.parametrize(
    ("vendor", "raw"),
    [
        *OTHER_VENDORS_WORDS,
        (Vendor.TENCENT, "PAUSED"),
        (Vendor.TENCENT, ""),
        (Vendor.HUAWEI, None),
    ],
)
def test_unrecognised_vendor_statuses_are_unknown_not_an_error(vendor: Vendor, raw: str | None) -> None:
    assert normalize_vendor_status(vendor, raw) is TaskStatus.UNKNOWN


def test_matching_tolerates_case_and_white_space() -> None:
    assert normalize_vendor_status(Vendor.TENCENT, " finish ") is TaskStatus.SUCCEEDED


def test_terminal_set_is_exactly_the_documented_one() -> None:
    assert {s.value for s in TERMINAL_STATUSES} == {
        "SUCCEEDED",
        "FAILED",
        "CANCELED",
        "NOT_FOUND",
        "TIMED_OUT",
        "REJECTED",
    }
    for status in (TaskStatus.PENDING, TaskStatus.WAITING, TaskStatus.PROCESSING, TaskStatus.UNKNOWN):
        assert not is_terminal(status)


@pytest.mark.parametrize(("value", "expected"), [("Tencent", Vendor.TENCENT), ("Huawei", Vendor.HUAWEI)])
def test_parse_vendor_accepts_the_exact_spellings(value: str, expected: Vendor) -> None:
    assert parse_vendor(value) is expected


@pytest.mark.parametrize("value", ["tencent", "HUAWEI", "Aliyun", "", None, 1, ["Tencent"]])
def test_parse_vendor_refuses_anything_else(value: object) -> None:
    assert parse_vendor(value) is None
