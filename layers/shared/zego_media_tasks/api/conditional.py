"""HTTP caching rules for task representations: strong ETags, ``If-None-Match`` and ``Cache-Control``.

A terminal record never changes again, so a response made only of terminal records may be cached. The
API is authenticated (SigV4 or an API key), so responses are ``private``: a browser or client cache
may keep them, a shared cache must not serve them to somebody else. A response for one (TaskId, vendor)
pair is the record itself and is cached for a day, ``immutable`` (records expire by TTL some time after
becoming terminal, so "forever" would outlive them); the all-vendors view of a TaskId can still grow (the same
TaskId may be registered for the other vendor later), so it is cached only briefly. Anything not yet
terminal is ``no-cache``: it may be stored but must be revalidated, and the ETag makes that cheap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from zego_media_tasks.domain.record import TaskRecord

TERMINAL_MAX_AGE_SECONDS = 86_400
TERMINAL_SET_MAX_AGE_SECONDS = 300
NO_CACHE = "no-cache"
NO_STORE = "no-store"


def entity_tag(body: Any) -> str:
    """A strong ETag for a JSON-serializable body: a hash of its canonical JSON form."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(canonical.encode("utf-8")).hexdigest() + '"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when ``If-None-Match`` matches ``etag``, so the answer is 304.

    Per RFC 9110 (13.1.2) the comparison is weak: ``W/"x"`` matches ``"x"``; ``*`` matches any current
    representation. Malformed members simply do not match.
    """
    if not if_none_match:
        return False
    members = [member.strip() for member in if_none_match.split(",")]
    if "*" in members:
        return True
    wanted = _opaque(etag)
    return any(_opaque(member) == wanted for member in members if member)


def cache_control_for(records: Sequence[TaskRecord], *, single_vendor: bool) -> str:
    """``Cache-Control`` for a response made of ``records`` (see the module docstring)."""
    if not records or not all(record.terminal for record in records):
        return NO_CACHE
    if single_vendor:
        return f"private, max-age={TERMINAL_MAX_AGE_SECONDS}, immutable"
    return f"private, max-age={TERMINAL_SET_MAX_AGE_SECONDS}"
