"""Lambda event filtering as devstack.event_filter evaluates it, and the publisher's filter in the template.

The template's patterns must let through exactly the writes the publisher turns into a state-change
event (``domain.state_change.state_change``): every status change, from every status a record can
leave, and no write that leaves the status alone.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from devstack.event_filter import matches, passes, stream_record, template_patterns
from tests.support.decisions import FIRST_SEEN, NOW, POLICY, TASK, TENCENT
from zego_media_tasks.domain.polling import open_record, with_status
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.state_change import state_change
from zego_media_tasks.domain.status import TERMINAL_STATUSES, TaskStatus
from zego_media_tasks.store.items import record_to_item

PATTERNS = template_patterns("PublisherFunction", "DynamoDB")


@pytest.mark.parametrize(
    ("pattern", "record", "expected"),
    [
        ({"a": ["x"]}, {"a": "x"}, True),
        ({"a": ["x"]}, {"a": "y"}, False),
        ({"a": ["x"]}, {}, False),
        ({"a": [{"anything-but": ["x"]}]}, {"a": "y"}, True),
        ({"a": [{"anything-but": ["x"]}]}, {"a": "x"}, False),
        ({"a": [{"anything-but": ["x"]}]}, {}, False),
        ({"a": [{"exists": False}]}, {}, True),
        ({"a": [{"exists": True}]}, {}, False),
        ({"a": {"b": ["x"]}}, {"a": {"b": "x"}}, True),
        ({"a": {"b": ["x"]}}, {"a": "x"}, False),
    ],
)
def test_a_pattern_matches_as_lambda_filters(
    pattern: dict[str, object], record: dict[str, object], expected: bool
) -> None:
    assert matches(pattern, record) is expected


def test_without_patterns_everything_passes() -> None:
    assert passes((), {"eventName": "MODIFY"})


def _record(status: TaskStatus) -> TaskRecord:
    return with_status(open_record(None, TASK, TENCENT, FIRST_SEEN, POLICY), status, NOW)


def test_the_publisher_is_handed_exactly_the_writes_that_change_a_status() -> None:
    assert PATTERNS, "the publisher's stream event has no filter"
    pending = open_record(None, TASK, TENCENT, FIRST_SEEN, POLICY)
    writes: list[tuple[TaskRecord | None, TaskRecord | None]] = [(None, pending), (pending, None)]
    leaving = [status for status in TaskStatus if status not in TERMINAL_STATUSES]
    for status in leaving:
        before = _record(status) if status is not TaskStatus.PENDING else pending
        writes.append((before, replace(before, generation=before.generation + 1, vendor_status="still")))
        writes += [(before, with_status(before, other, NOW)) for other in TaskStatus if other is not status]
    for old, new in writes:
        record = stream_record(record_to_item(old) if old else None, record_to_item(new) if new else None)
        expected = state_change(old, new) is not None
        assert passes(PATTERNS, record) is expected, (old and old.status, new and new.status)
    # Every status a record can leave has its pattern (a terminal one never changes)
    assert len(PATTERNS) == 1 + len(leaving)
