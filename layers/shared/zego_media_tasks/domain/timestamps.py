"""One timestamp format everywhere: ISO 8601 UTC with milliseconds and a ``Z``.

Fixed width, so that stored strings sort lexicographically in time order (the status index relies on it).
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_iso(moment: datetime) -> str:
    """``2026-11-23T10:00:00.123Z`` for an aware datetime (naive ones are refused)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC datetime")
    utc = moment.astimezone(UTC)
    # Four-digit year always (strftime drops the padding before year 1000 on glibc).
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def from_iso(text: str) -> datetime:
    """Parse a timestamp written by :func:`to_iso` (or any ISO 8601 string with an offset)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {text!r}")
    return moment.astimezone(UTC)


def from_epoch(seconds: float) -> datetime:
    """An aware UTC datetime for a Unix time in seconds."""
    return datetime.fromtimestamp(seconds, tz=UTC)
