"""One fixed-width timestamp format, so stored strings sort in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from zego_media_tasks.domain.timestamps import from_epoch, from_iso, to_iso


def test_format_is_fixed_width_utc_with_milliseconds() -> None:
    assert to_iso(datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)) == "2026-01-02T03:04:05.006Z"


def test_other_offsets_are_converted_to_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert to_iso(datetime(2026, 1, 2, 8, 0, tzinfo=shanghai)) == "2026-01-02T00:00:00.000Z"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_iso(datetime(2026, 1, 2))  # noqa: DTZ001 - the point of the test


def test_round_trip_and_lexicographic_order_follow_time() -> None:
    earlier = datetime(2026, 1, 2, 3, 4, 5, 999000, tzinfo=UTC)
    later = earlier + timedelta(milliseconds=1)
    assert from_iso(to_iso(earlier)) == earlier
    assert to_iso(earlier) < to_iso(later)


def test_offsetless_strings_are_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        from_iso("2026-01-02T03:04:05")


def test_from_epoch_is_utc() -> None:
    assert to_iso(from_epoch(1615186943)) == "2021-03-08T07:02:23.000Z"
