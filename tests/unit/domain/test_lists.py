"""domain/lists.py: a long list's first page stays in the record, the complete list goes to a
content-addressed object; the record stays a small item whatever the list's length."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from boto3.dynamodb.types import TypeSerializer

from tests.support.api_events import make_record
from tests.support.snapshots import sample_snapshot_urls
from zego_media_tasks.domain.lists import (
    FILE_NAMES,
    INLINE_LIST_BYTES,
    MAX_TEXT_CHARS,
    OBJECT_PREFIX,
    THUMBNAILS,
    decode_list,
    entry_bytes,
    first_page,
    split_lists,
)
from zego_media_tasks.domain.polling import PollingPolicy
from zego_media_tasks.domain.reconciliation import decide_callback
from zego_media_tasks.domain.snapshot import TaskSnapshot
from zego_media_tasks.domain.state_change import state_change
from zego_media_tasks.domain.status import TaskKind, TaskStatus, Vendor
from zego_media_tasks.store.items import record_from_item, record_to_item

DYNAMODB_ITEM_LIMIT = 400 * 1024
URLS = tuple(sample_snapshot_urls(10_000))
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _item_bytes(record: object) -> int:
    serializer = TypeSerializer()
    wire = {name: serializer.serialize(value) for name, value in record_to_item(record).items()}  # type: ignore[arg-type]
    return len(json.dumps(wire, ensure_ascii=False).encode("utf-8"))


def test_a_small_record_is_left_as_it_is_with_its_own_count() -> None:
    record = make_record("t", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS[:3])
    split = split_lists(record)
    assert split.objects == ()
    assert split.record == record
    assert (record.thumbnail_count, record.thumbnails_truncated, record.thumbnails_object) == (3, False, None)


def test_a_long_list_keeps_its_first_page_and_names_the_object_with_all_of_it() -> None:
    # Given a record with 10,000 snapshot URLs (about 1.3 MB)
    record = make_record("t", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS)
    # When it is split
    split = split_lists(record)
    # Then the record holds a first page within the budget, the full count, the flag and the key
    page = split.record.thumbnail_urls
    assert 0 < len(page) < len(URLS)
    assert page == URLS[: len(page)]
    assert sum(entry_bytes(url) for url in page) <= INLINE_LIST_BYTES
    assert sum(entry_bytes(url) for url in URLS[: len(page) + 1]) > INLINE_LIST_BYTES  # the longest such page
    assert (split.record.thumbnail_count, split.record.thumbnails_truncated) == (len(URLS), True)
    [stored] = split.objects
    assert split.record.thumbnails_object == stored.key
    assert stored.key.startswith(f"{OBJECT_PREFIX}Tencent/t/thumbnails-")
    assert decode_list(THUMBNAILS, stored.body()) == URLS
    # And the item is far under DynamoDB's 400 KB
    assert _item_bytes(record) > DYNAMODB_ITEM_LIMIT
    assert _item_bytes(split.record) < DYNAMODB_ITEM_LIMIT // 2


def test_the_object_key_depends_on_the_content_only_so_a_rewrite_is_the_same_object() -> None:
    record = make_record("t", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS)
    again = split_lists(replace(record, poll_count=9, generation=7))
    other = split_lists(replace(record, thumbnail_urls=URLS[1:]))
    assert again.objects == split_lists(record).objects
    assert other.objects[0].key != again.objects[0].key


def test_a_record_read_back_with_a_cut_list_passes_through_unchanged() -> None:
    split = split_lists(make_record("t", status=TaskStatus.SUCCEEDED, thumbnail_urls=URLS))
    stored = record_from_item(record_to_item(split.record))
    assert (stored.thumbnail_count, stored.thumbnails_truncated) == (len(URLS), True)
    assert split_lists(stored) == type(split)(stored, ())


def test_a_single_entry_over_the_budget_leaves_an_empty_first_page() -> None:
    huge = "https://vod.example/" + "x" * (INLINE_LIST_BYTES + 10)
    split = split_lists(make_record("t", thumbnail_urls=(huge,)))
    assert split.record.thumbnail_urls == ()
    assert (split.record.thumbnail_count, split.record.thumbnails_truncated) == (1, True)
    assert decode_list(THUMBNAILS, split.objects[0].body()) == (huge,)


def test_huawei_file_names_are_split_the_same_way() -> None:
    names = tuple(f"record/pickrecord/{n}.jpg" for n in range(10_000))
    split = split_lists(make_record("h", Vendor.HUAWEI, TaskStatus.SUCCEEDED, file_names=names))
    assert (split.record.file_name_count, split.record.file_names_truncated) == (len(names), True)
    [stored] = split.objects
    assert stored.key.startswith(f"{OBJECT_PREFIX}Huawei/h/file-names-")
    assert decode_list(FILE_NAMES, stored.body()) == names


def test_a_record_made_with_another_complete_list_counts_it_again() -> None:
    record = make_record("t", thumbnail_urls=URLS[:3])
    assert replace(record, thumbnail_urls=URLS[:5]).thumbnail_count == 5


@pytest.mark.parametrize("max_entries", [None, 2])
def test_first_page_respects_bytes_and_entries(max_entries: int | None) -> None:
    values = ("aaaa", "bbbb", "cccc")
    assert first_page(values, 2 * entry_bytes("aaaa"), max_entries) == ("aaaa", "bbbb")
    assert first_page(values, 10_000, max_entries) == (values if max_entries is None else values[:2])


def _callback_snapshot(**fields: object) -> TaskSnapshot:
    return TaskSnapshot(task_id="t", vendor=Vendor.TENCENT, status=TaskStatus.SUCCEEDED, **fields)  # type: ignore[arg-type]


def test_a_callback_without_pictures_leaves_a_cut_list_and_its_object_as_they_are() -> None:
    stored = split_lists(make_record("t", status=TaskStatus.PROCESSING, thumbnail_urls=URLS)).record
    decided = decide_callback(
        stored, _callback_snapshot(file_id="f"), kind=TaskKind.SNAPSHOT, now=NOW, policy=PollingPolicy()
    )
    assert decided.decision is not None
    record = decided.decision.record
    assert (record.thumbnail_urls, record.thumbnail_count, record.thumbnails_truncated, record.thumbnails_object) == (
        stored.thumbnail_urls,
        len(URLS),
        True,
        stored.thumbnails_object,
    )


def test_a_callback_with_pictures_replaces_the_list_with_its_count_and_drops_the_old_object() -> None:
    stored = split_lists(make_record("t", status=TaskStatus.PROCESSING, thumbnail_urls=URLS)).record
    decided = decide_callback(
        stored, _callback_snapshot(thumbnail_urls=URLS[:2]), kind=TaskKind.SNAPSHOT, now=NOW, policy=PollingPolicy()
    )
    assert decided.decision is not None
    record = decided.decision.record
    assert (record.thumbnail_urls, record.thumbnail_count, record.thumbnails_truncated, record.thumbnails_object) == (
        URLS[:2],
        2,
        False,
        None,
    )


def test_the_state_change_event_of_a_cut_list_gives_the_full_count_and_stays_small() -> None:
    pending = make_record("t", status=TaskStatus.PROCESSING)
    done = split_lists(replace(pending, status=TaskStatus.SUCCEEDED, sequence=2, thumbnail_urls=URLS)).record
    change = state_change(pending, done)
    assert change is not None
    assert (change.detail["thumbnailCount"], change.detail["thumbnailsTruncated"]) == (len(URLS), True)
    assert change.detail["thumbnailUrls"] == list(URLS[: len(change.detail["thumbnailUrls"])])
    assert len(change.detail_json().encode("utf-8")) < 256 * 1024


def test_a_vendor_text_longer_than_any_documented_one_is_cut_to_the_text_bound() -> None:
    record = make_record("t", status=TaskStatus.SUCCEEDED, file_id="f" * (MAX_TEXT_CHARS + 1), message="ok")
    split = split_lists(record)
    assert (split.record.file_id, split.record.message) == ("f" * MAX_TEXT_CHARS, "ok")
    assert split.objects == ()
