"""GET /tasks: listing by status through the indexes, newest change first, with signed page tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api_events import header, json_body, list_tasks_event, make_record, sample
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor

Call = Callable[[dict[str, Any]], dict[str, Any]]
Seed = Callable[..., TaskRecord]


def _at(minute: int) -> str:
    return f"2026-11-23T10:{minute:02d}:00.000Z"


@pytest.fixture
def seven_processing(seed: Seed) -> list[str]:
    """Seven PROCESSING tasks (four Tencent, three Huawei) changed a minute apart, plus noise."""
    ids = []
    for minute in range(7):
        vendor = Vendor.TENCENT if minute % 2 == 0 else Vendor.HUAWEI
        seed(make_record(f"p-{minute}", vendor, TaskStatus.PROCESSING, _at(minute)))
        ids.append(f"p-{minute}")
    seed(make_record("s-1", Vendor.TENCENT, TaskStatus.SUCCEEDED, _at(30)))
    return ids


def _all_pages(call: Call, **query: str) -> tuple[list[list[str]], list[str | None]]:
    pages: list[list[str]] = []
    tokens: list[str | None] = []
    token: str | None = None
    while True:
        params = dict(query)
        if token:
            params["nextToken"] = token
        response = call(list_tasks_event(**params))
        assert response["statusCode"] == 200, response["body"]
        body = json_body(response)
        pages.append([task["taskId"] for task in body["tasks"]])
        token = body["nextToken"]
        tokens.append(token)
        if token is None:
            return pages, tokens


def test_the_sample_event_lists_one_vendor_newest_first(call: Call, seven_processing: list[str]) -> None:
    response = call(sample("apigw-list-tasks.json"))  # status=PROCESSING&vendor=Tencent&limit=50
    assert response["statusCode"] == 200
    body = json_body(response)
    assert [t["taskId"] for t in body["tasks"]] == ["p-6", "p-4", "p-2", "p-0"]
    assert body["nextToken"] is None
    assert header(response, "Cache-Control") == "no-cache"


def test_pages_cover_every_task_once_newest_first(call: Call, seven_processing: list[str]) -> None:
    pages, tokens = _all_pages(call, status="PROCESSING", limit="3")
    assert pages[:3] == [["p-6", "p-5", "p-4"], ["p-3", "p-2", "p-1"], ["p-0"]]
    assert [task for page in pages for task in page] == list(reversed(seven_processing))
    assert tokens[-1] is None
    assert all(tokens[:-1])


def test_pages_through_the_vendor_index(call: Call, seven_processing: list[str]) -> None:
    pages, _ = _all_pages(call, status="PROCESSING", vendor="Huawei", limit="2")
    assert [task for page in pages for task in page] == ["p-5", "p-3", "p-1"]
    assert pages[0] == ["p-5", "p-3"]


def test_a_status_with_no_tasks_is_an_empty_page(call: Call, seven_processing: list[str]) -> None:
    body = json_body(call(list_tasks_event(status="CANCELED")))
    assert body == {"tasks": [], "nextToken": None}


def test_limit_defaults_to_50(call: Call, seed: Seed) -> None:
    for i in range(51):
        seed(make_record(f"w-{i:02d}", status=TaskStatus.WAITING, changed_at=f"2026-11-23T10:00:{i:02d}.000Z"))
    body = json_body(call(list_tasks_event(status="WAITING")))
    assert len(body["tasks"]) == 50
    assert body["nextToken"] is not None


def test_status_is_required(call: Call) -> None:
    response = call(list_tasks_event())
    assert response["statusCode"] == 400
    assert json_body(response) == {
        "error": {"code": "INVALID_STATUS", "message": "query parameter status: Field required"}
    }


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"status": "processing"}, "INVALID_STATUS"),
        ({"status": "DONE"}, "INVALID_STATUS"),
        ({"status": "PROCESSING", "vendor": "Akamai"}, "INVALID_VENDOR"),
        ({"status": "PROCESSING", "limit": "0"}, "INVALID_LIMIT"),
        ({"status": "PROCESSING", "limit": "101"}, "INVALID_LIMIT"),
        ({"status": "PROCESSING", "limit": "ten"}, "INVALID_LIMIT"),
        ({"status": "PROCESSING", "limit": "1.5"}, "INVALID_LIMIT"),
        ({"status": "PROCESSING", "nextToken": ""}, "INVALID_NEXT_TOKEN"),
        ({"status": "PROCESSING", "nextToken": "x" * 2049}, "INVALID_NEXT_TOKEN"),
    ],
)
def test_invalid_parameters_are_400(call: Call, query: dict[str, str], code: str) -> None:
    response = call(list_tasks_event(**query))
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == code


def test_limit_bounds_are_accepted(call: Call, seven_processing: list[str]) -> None:
    assert len(json_body(call(list_tasks_event(status="PROCESSING", limit="1")))["tasks"]) == 1
    assert len(json_body(call(list_tasks_event(status="PROCESSING", limit="100")))["tasks"]) == 7


# --- tokens ----------------------------------------------------------------------------------------------


def _first_token(call: Call, **query: str) -> str:
    token = json_body(call(list_tasks_event(**query)))["nextToken"]
    assert isinstance(token, str)
    return token


def _assert_invalid_token(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 400
    assert json_body(response) == {
        "error": {
            "code": "INVALID_NEXT_TOKEN",
            "message": "nextToken is not valid for this query; start again without nextToken",
        }
    }


def test_a_token_is_opaque(call: Call, seven_processing: list[str]) -> None:
    token = _first_token(call, status="PROCESSING", limit="2")
    assert "p-5" not in token
    assert "PROCESSING" not in token


def test_a_token_with_an_edited_key_is_400(call: Call, seven_processing: list[str]) -> None:
    # Given a valid token whose payload is re-encoded with another position
    token = _first_token(call, status="PROCESSING", limit="2")
    payload_text, mac = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(payload_text + "=" * (-len(payload_text) % 4)))
    payload["k"]["taskId"] = "p-0"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode() + "." + mac
    # Then it is refused
    _assert_invalid_token(call(list_tasks_event(status="PROCESSING", limit="2", nextToken=forged)))


@pytest.mark.parametrize("position", [0, 5, -1])
def test_a_token_with_one_character_changed_is_400(call: Call, seven_processing: list[str], position: int) -> None:
    token = _first_token(call, status="PROCESSING", limit="2")
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    _assert_invalid_token(call(list_tasks_event(status="PROCESSING", limit="2", nextToken="".join(chars))))


@pytest.mark.parametrize(
    "other_query",
    [
        {"status": "SUCCEEDED"},
        {"status": "PROCESSING", "vendor": "Tencent"},
    ],
)
def test_a_token_from_another_listing_is_400(
    call: Call, seven_processing: list[str], other_query: dict[str, str]
) -> None:
    token = _first_token(call, status="PROCESSING", limit="2")
    _assert_invalid_token(call(list_tasks_event(**other_query, nextToken=token)))


def test_a_vendor_token_is_refused_without_the_vendor(call: Call, seven_processing: list[str]) -> None:
    token = _first_token(call, status="PROCESSING", vendor="Tencent", limit="1")
    _assert_invalid_token(call(list_tasks_event(status="PROCESSING", nextToken=token)))


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "!!!.???", "e30.e30", ".", "eyJ2IjoxfQ.", "\u00e9\u00e9.\u00e9"])
def test_malformed_tokens_are_400(call: Call, garbage: str) -> None:
    _assert_invalid_token(call(list_tasks_event(status="PROCESSING", nextToken=garbage)))


def test_changing_the_limit_between_pages_is_allowed(call: Call, seven_processing: list[str]) -> None:
    token = _first_token(call, status="PROCESSING", limit="2")
    body = json_body(call(list_tasks_event(status="PROCESSING", limit="10", nextToken=token)))
    assert [t["taskId"] for t in body["tasks"]] == ["p-4", "p-3", "p-2", "p-1", "p-0"]
