"""TaskRecord <-> DynamoDB item mapping: lossless, index keys derived, unknown attributes kept."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from zego_media_tasks.domain.record import LastError, TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.store.items import MAX_RAW_JSON_BYTES, key_of, record_from_item, record_to_item


def _full_record() -> TaskRecord:
    return TaskRecord(
        task_id="1500030200-procedurev2-afc1tt0",
        vendor=Vendor.TENCENT,
        status=TaskStatus.SUCCEEDED,
        generation=4,
        first_seen_at="2026-11-23T12:00:00.000Z",
        deadline_at="2026-11-24T12:00:00.000Z",
        status_changed_at="2026-11-23T12:01:00.000Z",
        vendor_status="FINISH",
        event="SampleSnapshot",
        file_id="1397757897438985100",
        thumbnail_urls=("http://a/0.jpg", "http://a/2.jpg"),
        message=None,
        vendor_request_id="474284b3",
        zego_request_id="3574501647605445341",
        raw={"Status": "FINISH", "Ratio": 0.5, "Nested": {"": None}},
        last_polled_at="2026-11-23T12:01:00.000Z",
        completed_at="2026-11-23T12:01:00.000Z",
        poll_count=4,
        attempt=3,
        last_error=LastError(kind="TRANSIENT", code="HTTP_503", message="busy", at="2026-11-23T12:00:30.000Z"),
        expires_at=1790000000,
        updated_at="2026-11-23T12:01:00.000Z",
    )


def test_a_record_survives_the_round_trip() -> None:
    record = _full_record()
    assert record_from_item(record_to_item(record)) == record


def test_index_keys_are_derived_from_status_and_vendor() -> None:
    item = record_to_item(_full_record())
    assert (item["status"], item["vendor"]) == ("SUCCEEDED", "Tencent")
    assert item["statusChangedAt"] == "2026-11-23T12:01:00.000Z"
    assert item["expiresAt"] == 1790000000
    assert "vendorStatusKey" not in item  # the retired ByVendorStatus index's key is no longer written


def test_the_retired_vendor_status_key_is_dropped_on_read_not_carried() -> None:
    # Given an item an earlier version wrote, with the key of the index it no longer has
    record = _full_record()
    old_item = {**record_to_item(record), "vendorStatusKey": "Tencent#SUCCEEDED"}
    # Then it reads as the same record, and writing that record back leaves the attribute out
    assert record_from_item(old_item) == record
    assert "vendorStatusKey" not in record_to_item(record_from_item(old_item))


def test_empty_values_are_left_out_of_the_item() -> None:
    item = record_to_item(_full_record())
    assert "message" not in item
    assert "fileNames" not in item
    assert "replayUrl" not in item


def test_numbers_read_back_as_decimal_become_ints_and_unknown_attributes_are_kept() -> None:
    item = record_to_item(_full_record())
    item["pollCount"] = Decimal(4)
    item["generation"] = Decimal(4)
    item["futureAttribute"] = "kept"
    record = record_from_item(item)
    assert record.poll_count == 4
    assert record.generation == 4
    assert record.extra == {"futureAttribute": "kept"}
    assert record_to_item(record)["futureAttribute"] == "kept"


def test_an_unknown_stored_status_reads_as_unknown_instead_of_failing() -> None:
    item = record_to_item(_full_record())
    item["status"] = "SOMETHING_NEW"
    assert record_from_item(item).status is TaskStatus.UNKNOWN


def test_key_of_names_both_key_attributes() -> None:
    assert key_of("t1", Vendor.HUAWEI) == {"taskId": "t1", "vendor": "Huawei"}


def test_an_oversize_raw_block_is_replaced_by_a_marker_so_the_item_stays_writable() -> None:
    huge = replace(_full_record(), raw={"ThumbnailsUrl": ["http://x/" + "a" * 100] * 1000})
    item = record_to_item(huge)
    assert len(item["rawJson"]) < MAX_RAW_JSON_BYTES
    assert record_from_item(item).raw == {"truncated": True, "sizeBytes": len(json.dumps(huge.raw, sort_keys=True))}
