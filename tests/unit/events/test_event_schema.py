"""docs/state-change-event.schema.json is generated from the code and describes exactly what it publishes.

Events as published end to end (moto's EventBridge, a rule, a queue) are validated against the same
document by tests/integration/test_delivered_events.py and tests/e2e/test_state_change_events.py.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.records import every_field_set
from tests.support.state_change_events import check_document, schema_violations
from zego_media_tasks.domain.polling import with_status
from zego_media_tasks.domain.record import TaskRecord, pending_record
from zego_media_tasks.domain.state_change import DETAIL_TYPE, MAX_LISTED_URLS, StateChange, state_change
from zego_media_tasks.domain.status import ChangeSource, TaskKind, TaskStatus, Vendor
from zego_media_tasks.domain.timestamps import to_iso
from zego_media_tasks.events.publisher import EventPublisher
from zego_media_tasks.events.schema import DETAIL_MEMBERS, DOCUMENT_PATH, event_schema, main, schema_json

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ARCHITECTURE = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"


def _delivered(change: StateChange) -> dict[str, Any]:
    """The event a rule's target receives for ``change``: EventBridge's envelope around the entry."""
    entry = EventPublisher("tasks-bus", "zego-media-tasks", client=object(), sleep=lambda _: None).entry(change)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "123456789012",
        "time": "2026-11-23T12:00:01Z",
        "region": "eu-west-1",
        "resources": entry["Resources"],
        "detail": json.loads(entry["Detail"]),
    }


def _pending() -> TaskRecord:
    return pending_record(
        "t-1", Vendor.HUAWEI, now=NOW, first_seen_at=to_iso(NOW), deadline_at=to_iso(NOW + timedelta(days=1))
    )


def _changes() -> dict[str, StateChange]:
    """One change of each shape the code can publish."""
    pending = _pending()
    full = replace(every_field_set(TaskRecord), status=TaskStatus.SUCCEEDED, completed_by=ChangeSource.CALLBACK)
    many = replace(full, thumbnail_urls=tuple(f"https://cdn.example/{n}.jpg" for n in range(MAX_LISTED_URLS + 5)))
    huge = replace(full, file_names=tuple("x" * 60_000 for _ in range(5)), thumbnail_urls=("y" * 150_000,))
    found = {
        "registration": state_change(None, pending),
        "poll": state_change(pending, with_status(pending, TaskStatus.PROCESSING, NOW + timedelta(seconds=5))),
        "every field set": state_change(pending, full),
        "a list cut to its first entries": state_change(pending, many),
        "lists too large to carry at all": state_change(pending, huge),
        "a record a callback created": state_change(None, replace(full, kind=TaskKind.MERGE, sequence=2)),
    }
    assert all(change is not None for change in found.values())
    return {name: change for name, change in found.items() if change is not None}


def test_the_committed_document_is_the_one_the_code_generates() -> None:
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == schema_json(), (
        "stale: run python -m zego_media_tasks.events.schema"
    )
    assert main(["--check"]) == 0


def test_a_stale_document_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text("{}\n", encoding="utf-8")
    assert main(["--check", "--output", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err


def test_the_document_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    check_document()


@pytest.mark.parametrize("shape", list(_changes()))
def test_every_shape_of_event_the_code_publishes_validates(shape: str) -> None:
    assert schema_violations(_delivered(_changes()[shape])) == []


@pytest.mark.parametrize("shape", list(_changes()))
def test_the_detail_members_are_exactly_the_keys_the_code_produces(shape: str) -> None:
    detail_schema = event_schema()["$defs"]["detail"]
    produced = list(_changes()[shape].detail)
    assert list(detail_schema["properties"]) == produced
    assert detail_schema["required"] == produced
    assert detail_schema["additionalProperties"] is False


def test_the_vocabularies_are_the_codes_enums() -> None:
    definitions = event_schema()["$defs"]
    assert definitions["status"]["enum"] == [status.value for status in TaskStatus]
    assert definitions["vendor"]["enum"] == [vendor.value for vendor in Vendor]
    assert definitions["changeSource"]["enum"] == [source.value for source in ChangeSource]
    assert definitions["kind"]["enum"] == [kind.value for kind in TaskKind]
    assert event_schema()["properties"]["detail-type"] == {"const": DETAIL_TYPE}


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("status", "DONE"),
        ("vendor", "Aliyun"),
        ("source", "WEBHOOK"),
        ("sequence", 0),
        ("eventId", "not-a-uuid"),
        ("statusChangedAt", "yesterday"),
        ("thumbnailUrls", ["u"] * (MAX_LISTED_URLS + 1)),
    ],
)
def test_an_event_outside_the_contract_is_refused(member: str, value: object) -> None:
    event = _delivered(_changes()["every field set"])
    event["detail"][member] = value
    assert schema_violations(event) != []


def test_an_event_with_a_member_the_schema_does_not_know_is_refused() -> None:
    event = _delivered(_changes()["registration"])
    event["detail"]["surprise"] = True
    assert schema_violations(event) == ["detail: Additional properties are not allowed ('surprise' was unexpected)"]


def test_the_architecture_document_explains_every_detail_member() -> None:
    section = ARCHITECTURE.read_text(encoding="utf-8").split("## State-change events", 1)[1].split("\n## ", 1)[0]
    explained = set(re.findall(r"^\| `([A-Za-z]+)`", section, flags=re.MULTILINE))
    assert explained >= set(DETAIL_MEMBERS), sorted(set(DETAIL_MEMBERS) - explained)
