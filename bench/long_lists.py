"""Benchmark 9, long lists: what a DescribeMediaTask answer of N snapshot URLs costs the poller and the store.

For each N: the answer's bytes; the record item's bytes whole (what DynamoDB refused above 400 KB) and as
stored (its first page inline, ``domain.lists.split_lists``); the list object's bytes; the state-change
event detail's bytes; the poller's peak memory (``tracemalloc``) and CPU from the answer's bytes to the
item and the object (read, parse, decide, split, encode); and the API's CPU for one 1,000-entry page of
the object (decode and cut). Pure CPU and memory: no AWS, no HTTP, so the figures do not depend on moto.

``python -m bench --only long_lists`` (or ``python -m bench.long_lists``, which writes only its key).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from zego_media_tasks.domain.lists import THUMBNAILS, decode_list, first_page, split_lists
from zego_media_tasks.domain.messages import PollRequest
from zego_media_tasks.domain.polling import PollContext, PollingPolicy, decide_outcome
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.state_change import state_change
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.store.items import record_to_item
from zego_media_tasks.zego.client import MAX_BODY_BYTES
from zego_media_tasks.zego.responses import interpret_response

COUNTS = (450, 3_600, 10_000, 55_000)
"""About the inline budget, an hour at one frame a second, the issue's 10,000, and about the 8 MiB bound."""
TASK_ID = "1500020831-procedurev2-0bf15cabd8ae471358ed61fcdbb0f78att0"
BASE = "http://vod-tc-restorefile.zego.im/43b7b075vodtranscq1500030200/93172bfa1397757897438985100"
_SERIALIZER = TypeSerializer()


def _answer(count: int) -> bytes:
    urls = [f"{BASE}/sampleSnapshot/sampleSnapshot_10_{n}.jpg" for n in range(count)]
    block = {"TaskId": TASK_ID, "Event": "SampleSnapshot", "Status": "FINISH", "ThumbnailsUrl": urls}
    return json.dumps({"Code": 0, "Message": "success", "RequestId": "r", "Data": {"Tencent": block}}).encode()


def _item_bytes(record: TaskRecord) -> int:
    wire = {name: _SERIALIZER.serialize(value) for name, value in record_to_item(record).items()}
    return len(json.dumps(wire, ensure_ascii=False).encode("utf-8"))


def _poll(body: bytes) -> tuple[TaskRecord, TaskRecord, list[bytes]]:
    """What the poller does with one answer: (the record whole, as stored, the list objects' bytes)."""
    chunks = [body[start : start + 64 * 1024] for start in range(0, len(body), 64 * 1024)]  # as it is read
    outcome = interpret_response(200, b"".join(chunks), task_id=TASK_ID, vendor=Vendor.TENCENT)
    poll = PollContext(None, PollRequest(TASK_ID, Vendor.TENCENT), datetime.now(UTC), PollingPolicy())
    decision = decide_outcome(poll, outcome, random=random.Random(0))
    split = split_lists(decision.record)
    record_to_item(split.record)
    return decision.record, split.record, [item.body() for item in split.objects]


def _cpu_ms(action: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.process_time()
        action()
        times.append((time.process_time() - started) * 1000)
    return round(statistics.median(times), 1)


def measure(count: int, repeats: int = 3) -> dict[str, Any]:
    """The figures of one answer of ``count`` URLs."""
    body = _answer(count)
    tracemalloc.start()
    whole, stored, objects = _poll(body)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    before = replace(whole, status=TaskStatus.PROCESSING, sequence=0)
    change = state_change(before, stored)
    result: dict[str, Any] = {
        "urls": count,
        "answer_bytes": len(body),
        "item_bytes_whole": _item_bytes(whole),
        "item_bytes_stored": _item_bytes(stored),
        "inline_urls": len(stored.thumbnail_urls),
        "object_bytes": sum(len(item) for item in objects),
        "event_detail_bytes": len(change.detail_json().encode("utf-8")) if change else 0,
        "poller_peak_memory_mib": round(peak / 2**20, 1),
        "poller_peak_memory_per_answer_byte": round(peak / len(body), 1),
        "poller_cpu_ms": _cpu_ms(lambda: _poll(body), repeats),
    }
    if objects:
        result["api_page_cpu_ms"] = _cpu_ms(
            lambda: first_page(decode_list(THUMBNAILS, objects[0])[-1000:], 2**20, 1000), repeats
        )
    return result


def run(quick: bool = False) -> dict[str, Any]:
    """Every count of :data:`COUNTS` (the smaller two only with ``quick``)."""
    counts = COUNTS[:2] if quick else COUNTS
    return {
        "answer_bound_bytes": MAX_BODY_BYTES,
        "answers": [measure(count, repeats=1 if quick else 3) for count in counts],
    }


def main() -> None:
    """Run and write only this benchmark's key of ``bench/results.json``."""
    from bench.common import BENCH_DIR

    path = BENCH_DIR / "results.json"
    section = run(quick="--quick" in sys.argv)
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    results["long_lists"] = section
    path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(json.dumps(section, indent=1))


if __name__ == "__main__":
    main()
