"""The nextToken codec: round trip, and every way a token can be wrong ends in the same 400 error."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from zego_media_tasks.api.pagination import LISTING_INDEX, InvalidNextTokenError, ListingQuery, PageTokenCodec
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.store.items import STATUS_INDEX

KEY = b"k" * 32
LAST_KEY = {
    "taskId": "t-1",
    "vendor": "Tencent",
    "status": "PROCESSING",
    "statusChangedAt": "2026-11-23T10:00:00.000Z",
}
QUERY = ListingQuery(TaskStatus.PROCESSING, None)


def codec(key: bytes = KEY) -> PageTokenCodec:
    return PageTokenCodec(lambda: key)


def test_a_token_round_trips() -> None:
    assert codec().decode(codec().encode(LAST_KEY, QUERY), QUERY) == LAST_KEY


def test_tokens_are_deterministic_and_url_safe() -> None:
    token = codec().encode(LAST_KEY, QUERY)
    assert token == codec().encode(dict(reversed(list(LAST_KEY.items()))), QUERY)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@pytest.mark.parametrize(
    "other",
    [
        ListingQuery(TaskStatus.FAILED, None),
        ListingQuery(TaskStatus.PROCESSING, Vendor.TENCENT),
        ListingQuery(TaskStatus.PROCESSING, Vendor.HUAWEI),
    ],
)
def test_a_token_is_bound_to_its_query(other: ListingQuery) -> None:
    token = codec().encode(LAST_KEY, QUERY)
    with pytest.raises(InvalidNextTokenError):
        codec().decode(token, other)


@dataclass(frozen=True)
class EarlierListing:
    """A vendor listing's query as the version with a ``ByVendorStatus`` index bound its tokens."""

    status: TaskStatus
    vendor: Vendor

    def binding(self) -> bytes:
        return f"{self.status.value}\x00{self.vendor.value}".encode()


def test_a_token_of_the_retired_vendor_index_is_refused() -> None:
    # Given a token an earlier version issued for a vendor's listing (its key: ByVendorStatus's attributes)
    earlier = EarlierListing(TaskStatus.PROCESSING, Vendor.HUAWEI)
    token = codec().encode({**LAST_KEY, "vendorStatusKey": "Huawei#PROCESSING"}, earlier)
    # Then the listing it claims to continue refuses it (a 400) rather than passing its key to DynamoDB
    with pytest.raises(InvalidNextTokenError):
        codec().decode(token, ListingQuery(TaskStatus.PROCESSING, Vendor.HUAWEI))


def test_the_listing_index_bound_into_tokens_is_the_store_s() -> None:
    assert LISTING_INDEX == STATUS_INDEX


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = codec(b"x" * 32).encode(LAST_KEY, QUERY)
    with pytest.raises(InvalidNextTokenError):
        codec().decode(token, QUERY)


@pytest.mark.parametrize("task_id", ["t-1", "t-2", "abc", "x" * 40, "#?%"])
def test_every_single_character_change_is_detected(task_id: str) -> None:
    token = codec().encode({**LAST_KEY, "taskId": task_id}, QUERY)
    for position in range(len(token)):
        for replacement in "ABDQgw_.":
            if token[position] == replacement:
                continue
            tampered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(InvalidNextTokenError):
                codec().decode(tampered, QUERY)


def test_the_error_says_what_to_do_and_nothing_else() -> None:
    with pytest.raises(InvalidNextTokenError) as caught:
        codec().decode("nope", QUERY)
    assert caught.value.code == "INVALID_NEXT_TOKEN"
    assert caught.value.message == "nextToken is not valid for this query; start again without nextToken"


@pytest.mark.parametrize("token", ["", ".", "a.b.c", "a b.c", "x" * 3000 + ".y", "é.é", "YQ.YQ", "YQ==.YQ=="])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidNextTokenError):
        codec().decode(token, QUERY)
