"""The state-change events benchmark's bookkeeping: stream records the real publisher reads, the counts
per task, the delays of delivered events, and a figures block that says what was measured."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from bench.events import (
    HANDLER_ENVIRONMENT,
    _CountingClient,
    _handle,
    _Invocations,
    _publisher_handler,
    delay_figures,
    delay_scenario,
    publication_block,
    sample_writes,
    stream_record,
    stubbed_events_client,
)
from bench.polling_efficiency import Publication, TaskTrace
from bench.report import events_block

from tests.support.publisher import CollectingPublisher
from zego_media_tasks.events.service import Published, PublisherService


def test_the_simulated_writes_become_stream_records_the_real_publisher_reads() -> None:
    changed, unchanged = sample_writes(5)
    service = PublisherService(CollectingPublisher())
    # A write that changed the status is published with its own sequence, the others are not
    for number, (old, new) in enumerate(changed[:6]):
        result = service.handle(stream_record(old, new, number))
        assert result.outcome is Published.PUBLISHED
        assert result.change is not None
        assert result.change.detail["sequence"] == new.sequence
    for number, (old, new) in enumerate(unchanged[:6]):
        assert service.handle(stream_record(old, new, 100 + number)).outcome is Published.UNCHANGED
    # and each task's registration is an INSERT without an old image
    registration = stream_record(*changed[0], 0)
    assert registration["eventName"] == "INSERT"
    assert "OldImage" not in registration["dynamodb"]


def test_the_real_handler_publishes_through_boto3_without_a_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the publisher handler, configured as the benchmark runs it, with a boto3 EventBridge client
    # whose HTTP send is stubbed
    for name, value in HANDLER_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    changed, unchanged = sample_writes(3)
    client = _CountingClient(stubbed_events_client())
    handler = _publisher_handler(client)
    writes = [*changed[:4], *unchanged[:4]]
    records = [stream_record(old, new, n) for n, (old, new) in enumerate(writes)]
    # When a batch of four changes and four unchanged writes is handled (any failure raises)
    cpu, _written = _handle(handler, records, batch_size=100)
    # Then one PutEvents call per change, and no socket was opened (unit tests refuse them)
    assert client.calls == 4
    assert cpu > 0


def _trace(kind: str, polls: int, events: int, records: int, *, by_callback: bool = False) -> TaskTrace:
    publication = Publication(stream_records=records, events=events, billed_events=events, largest_event_bytes=900)
    return TaskTrace(kind, polls, 1.0, sized=False, ended_by_callback=by_callback, publication=publication)


def test_the_publication_block_counts_per_task_and_per_kind() -> None:
    traces = [
        _trace("snapshot", 3, 3, 4),
        _trace("snapshot", 5, 3, 6),
        _trace("merge", 9, 3, 10, by_callback=True),
        _trace("transcode", 40, 4, 41),
    ]
    block = publication_block(traces)
    assert block["events_per_task"]["mean"] == pytest.approx(13 / 4, abs=0.001)
    assert block["events_per_task"]["by_kind"] == {"snapshot": 3.0, "merge": 3.0, "transcode": 4.0}
    assert block["stream_records_per_task"]["mean"] == pytest.approx(61 / 4, abs=0.001)
    assert block["zego_calls_per_task"] == pytest.approx(57 / 4, abs=0.001)
    assert block["by_kind"]["snapshot"]["stream_records_per_task"] == 5.0
    assert block["ended_by_callback"] == 1
    with pytest.raises(ValueError, match="publication"):
        publication_block([replace(traces[0], publication=None)])


def test_every_other_delay_task_is_ended_by_its_callback() -> None:
    plan = delay_scenario(4)
    fates = [spec.callback.fate if spec.callback else None for spec in plan.tasks]
    assert [fate.value if fate else None for fate in fates] == ["lost", "send", "lost", "send"]
    assert {spec.vendor.value for spec in plan.tasks} == {"Tencent"}


def _delivered(sent: float, sequence: int, *, terminal: bool = False, task: str = "t1") -> tuple[float, dict[str, Any]]:
    detail = {
        "eventId": f"{task}-{sequence}",
        "taskId": task,
        "vendor": "Tencent",
        "sequence": sequence,
        "terminal": terminal,
        "source": "POLL",
        "statusChangedAt": f"2026-11-24T00:00:0{sequence}.000Z",
    }
    return sent, {"detail": detail}


def test_delays_are_counted_once_per_event_from_its_change_to_its_delivery() -> None:
    base = datetime(2026, 11, 24, tzinfo=UTC).timestamp()
    invocations = _Invocations()
    invocations.started[("t1", "Tencent", 1)] = base + 1.8
    invocations.durations.append(0.5)
    delivered = [
        _delivered(base + 2.5, 1),
        _delivered(base + 2.9, 1),  # a redelivery: counted once, from its first delivery
        _delivered(base + 3.25, 2, terminal=True),
    ]
    figures = delay_figures(delivered, invocations, tasks=1, spacing=0.4)
    assert (figures["events_delivered"], figures["events_unique"], figures["events_expected"]) == (3, 2, 2)
    assert figures["delay_seconds"]["count"] == 2
    assert figures["delay_seconds"]["max"] == pytest.approx(1.5)  # sequence 1: written at 1 s, delivered at 2.5 s
    assert figures["write_to_invocation_seconds"]["p50"] == pytest.approx(0.8)
    assert figures["invocation_to_queue_seconds"]["p50"] == pytest.approx(0.7)
    assert figures["publisher_seconds_per_event"] == 0.25  # half a second of invocation for two events
    assert figures["local_stream_source"]["batching_window_seconds"] == 1.0  # the template's


def test_the_figures_block_names_the_local_stream_sources_timing() -> None:
    spread = {"count": 60, "mean": 1.3, "p50": 1.2, "p95": 2.1, "p99": 2.4, "max": 2.6}
    regime = {
        "records_per_invocation": 1.0,
        "usage_per_task": {"publisher_invocations": 14.5, "publisher_gb_seconds": 0.01},
        "usd_per_million_tasks": {
            "stream": 0.0,
            "publisher_lambda": 3.0,
            "publisher_logs": 1.0,
            "put_events": 3.0,
            "total": 7.0,
        },
    }
    section = {
        "simulation": {
            "pull_only": {
                "tasks": 10,
                "events_per_task": {"mean": 3.0, "by_kind": {"snapshot": 3.0, "merge": 3.0, "transcode": 3.0}},
                "stream_records_per_task": {"mean": 14.5},
                "zego_calls_per_task": 13.5,
                "billed_events_per_task": 3.0,
                "largest_event_entry_bytes": 1100,
            }
        },
        "publish_delay": {
            "tasks": 24,
            "registration_spacing_seconds": 0.4,
            "events_unique": 60,
            "events_expected": 60,
            "events_delivered": 60,
            "by_source": {"POLL": 60},
            "delay_seconds": spread,
            "write_to_invocation_seconds": spread,
            "invocation_to_queue_seconds": spread,
            "records_per_invocation": {"count": 30, "mean": 2.0, "max": 5.0},
            "local_stream_source": {
                "idle_read_interval_seconds": 0.25,
                "batching_window_seconds": 1.0,
                "batch_size": 100,
            },
        },
        "publisher_cpu": {"published_without_boto3_batch_100": {"cpu_ms_per_record": 0.4}},
        "costs": {
            "prices": {
                "as_of": "2026-11-24",
                "dynamodb_streams_lambda_reads_per_million": 0.0,
                "lambda_per_million_requests": 0.2,
                "lambda_arm_per_gb_second": 0.0000133334,
                "cloudwatch_logs_per_gb": 0.5,
                "eventbridge_per_million_events": 1.0,
            },
            "assumptions": {
                "memory_mb": 256,
                "cpu_scale": 6.91,
                "cpu_seconds_per_unchanged_record": 0.00025,
                "cpu_seconds_per_published_record": 0.0018,
                "cpu_seconds_per_invocation": 0.0001,
                "put_events_seconds": 0.03,
                "log_bytes_per_published_record": 575,
                "log_bytes_per_unchanged_record": 5,
                "log_bytes_per_invocation": 235,
                "lambda_platform_log_bytes_per_invocation": 300,
                "zego_calls_per_second": 20,
                "batching_window_seconds": 1,
                "shards": 1,
            },
            "per_scenario": {
                "pull_only": {
                    "writes_per_second_at_zego_ceiling": 21.5,
                    "low_traffic": regime,
                    "zego_ceiling": regime,
                    "full_batches": regime,
                }
            },
        },
    }
    block = events_block(section)
    assert "reads every 0.25 s when idle, batching window 1 s from the first record read" in block
    assert "| pull-only | **3.00** |" in block
    assert "| 60 | 1.20 | 2.10 |" in block
    assert block.count("**$7.00**") == 3
