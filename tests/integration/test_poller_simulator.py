"""The real poller handler, the real ZEGO client over loopback HTTP to the ZEGO simulator, and moto's
server for DynamoDB and SQS (``AWS_ENDPOINT_URL``).

Most tests drive the poll chain message by message with a fake clock for the poller (no waiting for
SQS delays; the simulator plays its timelines at ``time_scale``); the last ones run with real time
through the local event source mapping, and under concurrent pollers against the simulator's own
20 calls/s limit.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from devstack.event_source import EventSourceSettings, LocalEventSourceMapping
from devstack.lambda_context import LocalLambdaContext
from devstack.resources import ProvisionedStack
from devstack.zego_simulator import ZegoSimulator
from tests.support.clock import FakeClock
from tests.support.poller import (
    QueuedMessage,
    body,
    load_poller_app,
    poller_environment,
    queued_messages,
    record_from_message,
    serialize_moto_dynamodb_writes,
    sqs_event,
    sqs_record,
)
from tests.support.snapshots import sample_snapshot_urls
from tests.support.waiting import wait_for
from zego_media_tasks.domain.backoff import DEFAULT_BACKOFF_BASE_SECONDS
from zego_media_tasks.domain.clock import SystemClock
from zego_media_tasks.domain.lists import THUMBNAILS
from zego_media_tasks.domain.record import TaskRecord
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.poller.wiring import build_runtime
from zego_media_tasks.store.list_objects import ListObjects
from zego_media_tasks.store.task_store import TaskStore

pytestmark = pytest.mark.integration

APP_ID = 1234567890
SECRET = "5ecret-for-the-poller-integration-0f3a"
SUPERSEDED_POLL_LOG = "poll decided, but another copy of the chain wrote first"
"""What the poller logs when its fenced write lost to another copy of the chain (poller/telemetry.py)."""
COMPOSE = "1400341231-ComposeMedia-6fdfc967d7eb12f5e9b27f52519f1afatt0"
TRANSCODE = "1500020831-procedurev2-0bf15cabd8ae471358ed61fcdbb0f78att0"
HUAWEI_SNAPSHOT = "289665200"
HUAWEI_MISSING = "289665299"
BAD_TASK = "1500020831-procedurev2-doesnotexisttt0"

SCENARIO_TASKS: list[dict[str, Any]] = [
    {
        "task_id": COMPOSE,
        "vendor": "Tencent",
        "event": "compose",
        "timeline": [{"status": "WAITING", "seconds": 1}, {"status": "PROCESSING", "seconds": 2}],
        "final": {
            "status": "FINISH",
            "FileId": "5285890813218549789",
            "ReplayUrl": "https://example-vod.zego.im/compose/6fdfc967/output.mp4",
            "RequestId": "6aac31f4-0000-4000-8000-5cc10ce11a49",
        },
    },
    {
        "task_id": TRANSCODE,
        "vendor": "Tencent",
        "event": "transcode",
        "final": {"status": "FAIL", "Message": "source file is corrupted"},
    },
    {
        "task_id": HUAWEI_SNAPSHOT,
        "vendor": "Huawei",
        "event": "SnapshotByTimeOffset",
        "final": {"status": "SUCCEEDED", "FileName": ["snap/289665200_0.jpg"]},
    },
    {"task_id": HUAWEI_MISSING, "vendor": "Huawei", "stays": "NO_TASK"},
    {"task_id": BAD_TASK, "vendor": "Tencent", "event": "transcode", "code": 2, "message": "bad input parameter"},
]


ONE_SECOND_BACKOFF = {"POLL_BACKOFF_BASE_SECONDS": "1", "POLL_BACKOFF_CAP_SECONDS": "1"}
"""The real-time tests' schedule: every next poll one second later."""


def scripted_simulator(tasks: Iterable[dict[str, Any]], time_scale: float) -> ZegoSimulator:
    """A started simulator that answers for ``tasks``, playing their timelines at ``time_scale``."""
    simulator = ZegoSimulator(apps={APP_ID: SECRET}, time_scale=time_scale).start()
    for task in tasks:
        simulator.add_task(task)
    return simulator


def set_poller_environment(
    monkeypatch: pytest.MonkeyPatch,
    stack: ProvisionedStack,
    simulator: ZegoSimulator,
    *,
    secret: str = SECRET,
    **overrides: str,
) -> dict[str, str]:
    """The poller's environment for ``stack`` and ``simulator``, set in the process as Lambda would."""
    values = poller_environment(
        stack, ZEGO_APP_ID=str(APP_ID), ZEGO_SERVER_SECRET=secret, ZEGO_ENDPOINT=simulator.url, **overrides
    )
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def send_poll_messages(stack: ProvisionedStack, tasks: Iterable[tuple[str, Vendor]]) -> None:
    """A pipeline's first poll message for each task, on the real poll queue."""
    sqs = boto3.client("sqs")
    for task_id, vendor in tasks:
        sqs.send_message(QueueUrl=stack.queue_urls["PollQueue"], MessageBody=body(task_id, vendor))


def all_reached(store: TaskStore, expected: Mapping[tuple[str, Vendor], TaskStatus]) -> bool:
    """Whether every task's record exists and holds its expected status."""
    return all((record := store.get(*key)) is not None and record.status is status for key, status in expected.items())


@pytest.fixture
def simulator() -> Iterator[ZegoSimulator]:
    # time_scale 0.001: a 3 s scenario timeline passes in 3 ms of real time.
    with scripted_simulator(SCENARIO_TASKS, time_scale=0.001) as running:
        yield running


@pytest.fixture
def environment(stack: ProvisionedStack, simulator: ZegoSimulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    return set_poller_environment(monkeypatch, stack, simulator)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(environment: dict[str, str], clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The real handler with the real ZEGO client; only the poller's clock and jitter are injected."""
    module: ModuleType = load_poller_app("poller_app_integration")
    monkeypatch.setattr(
        module, "build_runtime", lambda environ: build_runtime(environ, clock=clock, random_source=random.Random(5))
    )
    return module


class Chain:
    """Drives the poll chain: invokes the handler and delivers the messages it queues, in order."""

    def __init__(self, app: ModuleType, stack: ProvisionedStack, clock: FakeClock) -> None:
        self.app = app
        self.stack = stack
        self.clock = clock
        self.seen: set[str] = set()
        self.context = LocalLambdaContext(function_name="PollerFunction")

    def invoke(self, event: dict[str, Any]) -> list[str]:
        response = self.app.lambda_handler(event, self.context)
        return [item["itemIdentifier"] for item in response["batchItemFailures"]]

    def send_first(self, first_body: str) -> list[str]:
        """Invoke with a pipeline's first message, stamped now; returns the failed item ids."""
        return self.invoke(sqs_event([sqs_record(first_body, sent_at=self.clock.now())]))

    def deliver(self, message: QueuedMessage) -> list[str]:
        """Invoke with a queued message once its delay has passed; returns the failed item ids."""
        self.clock.advance(message.delay_seconds)
        queue_arn = self.stack.queue_arns["PollQueue"]
        return self.invoke(sqs_event([record_from_message(message, queue_arn, self.clock.now())]))

    def new_messages(self) -> list[QueuedMessage]:
        fresh = [m for m in queued_messages(self.stack.queue_urls["PollQueue"]) if m.message_id not in self.seen]
        self.seen.update(m.message_id for m in fresh)
        return fresh

    def run(self, first_body: str, max_hops: int = 30) -> list[QueuedMessage]:
        """Deliver ``first_body``, then each queued message after its delay, until none is queued."""
        assert self.send_first(first_body) == []
        return self.follow(max_hops)

    def follow(self, max_hops: int = 30) -> list[QueuedMessage]:
        """Deliver each newly queued message after its delay, one live chain, until none is queued."""
        sent: list[QueuedMessage] = []
        for _ in range(max_hops):
            queued = self.new_messages()
            if not queued:
                return sent
            [message] = queued  # one live chain: never two next messages
            sent.append(message)
            time.sleep(0.005)  # let the simulator's (scaled) timeline move on
            assert self.deliver(message) == []
        raise AssertionError("the chain did not end")

    def record(self, task_id: str, vendor: Vendor) -> TaskRecord:
        found = TaskStore(self.stack.table_names["TasksTable"]).get(task_id, vendor)
        assert found is not None
        return found


@pytest.fixture
def chain(app: ModuleType, stack: ProvisionedStack, clock: FakeClock) -> Chain:
    return Chain(app, stack, clock)


def test_a_compose_task_is_followed_to_success_with_its_output(chain: Chain, simulator: ZegoSimulator) -> None:
    hops = chain.run(body(COMPOSE, Vendor.TENCENT))
    record = chain.record(COMPOSE, Vendor.TENCENT)
    assert record.status is TaskStatus.SUCCEEDED
    assert (record.vendor_status, record.event) == ("FINISH", "compose")
    assert record.file_id == "5285890813218549789"
    assert record.replay_url == "https://example-vod.zego.im/compose/6fdfc967/output.mp4"
    assert record.vendor_request_id == "6aac31f4-0000-4000-8000-5cc10ce11a49"
    assert record.zego_request_id
    assert record.poll_count == len(hops) + 1 == len(simulator.call_log.records())
    assert record.generation == len(hops) + 1
    assert all(1 <= hop.delay_seconds <= 120 for hop in hops)


def test_a_failed_transcode_is_failed_with_the_vendor_message(chain: Chain) -> None:
    assert chain.run(body(TRANSCODE, Vendor.TENCENT)) == []
    record = chain.record(TRANSCODE, Vendor.TENCENT)
    assert (record.status, record.message) == (TaskStatus.FAILED, "source file is corrupted")


def test_a_huawei_snapshot_succeeds_with_its_file_names(chain: Chain) -> None:
    chain.run(body(HUAWEI_SNAPSHOT, Vendor.HUAWEI))
    record = chain.record(HUAWEI_SNAPSHOT, Vendor.HUAWEI)
    assert record.status is TaskStatus.SUCCEEDED
    assert record.file_names == ("snap/289665200_0.jpg",)
    assert record.vendor_created_at is not None


def test_huawei_no_task_becomes_not_found_once_the_grace_period_is_over(chain: Chain, clock: FakeClock) -> None:
    first_seen = clock.now()
    hops = chain.run(body(HUAWEI_MISSING, Vendor.HUAWEI), max_hops=40)
    record = chain.record(HUAWEI_MISSING, Vendor.HUAWEI)
    assert (record.status, record.vendor_status) == (TaskStatus.NOT_FOUND, "NO_TASK")
    assert clock.now() - first_seen >= timedelta(seconds=300)
    assert len(hops) >= 3


def test_a_task_zego_rejects_is_terminal_rejected(chain: Chain) -> None:
    assert chain.run(body(BAD_TASK, Vendor.TENCENT)) == []
    record = chain.record(BAD_TASK, Vendor.TENCENT)
    assert record.status is TaskStatus.REJECTED
    assert record.last_error is not None
    assert (record.last_error.kind, record.last_error.code) == ("REJECTED", "2")


def test_zego_throttling_is_retried_shortly_without_counting_an_attempt(chain: Chain, simulator: ZegoSimulator) -> None:
    simulator.configure_faults(code_6_rate=1.0)
    assert chain.send_first(body(COMPOSE, Vendor.TENCENT)) == []
    record = chain.record(COMPOSE, Vendor.TENCENT)
    assert (record.status, record.attempt, record.poll_count) == (TaskStatus.PENDING, 0, 1)
    assert record.last_error is not None
    assert (record.last_error.kind, record.last_error.code) == ("THROTTLED", "6")
    [message] = chain.new_messages()
    assert 1 <= message.delay_seconds <= 3


def test_server_errors_back_off_and_keep_the_status(chain: Chain, simulator: ZegoSimulator) -> None:
    simulator.configure_faults(http_5xx_rate=1.0)
    assert chain.send_first(body(COMPOSE, Vendor.TENCENT)) == []
    record = chain.record(COMPOSE, Vendor.TENCENT)
    assert (record.status, record.attempt) == (TaskStatus.PENDING, 1)
    assert record.last_error is not None
    assert record.last_error.kind == "TRANSIENT"
    assert record.last_error.code.startswith("HTTP_5")
    [message] = chain.new_messages()
    assert 1 <= message.delay_seconds <= DEFAULT_BACKOFF_BASE_SECONDS  # within the first jitter window
    # and once ZEGO recovers the task carries on to its end
    simulator.clear_faults()
    assert chain.deliver(message) == []
    assert chain.record(COMPOSE, Vendor.TENCENT).status in (TaskStatus.WAITING, TaskStatus.PROCESSING)


def _app_on_clock(name: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``functions/poller/app.py`` freshly loaded as ``name``, its runtime built on the test's clock."""
    module = load_poller_app(name)
    monkeypatch.setattr(module, "build_runtime", lambda environ: build_runtime(environ, clock=clock))
    return module


def _assert_held_for_configuration(stack: ProvisionedStack, task_id: str, code: str) -> None:
    """A poll ZEGO refused for our configuration: the record is untouched (PENDING, generation 0) but for
    its last error, and no next message is queued (the failed item is the live one)."""
    held = TaskStore(stack.table_names["TasksTable"]).get(task_id, Vendor.TENCENT)
    assert held is not None
    assert (held.status, held.generation) == (TaskStatus.PENDING, 0)
    assert held.last_error is not None
    assert (held.last_error.kind, held.last_error.code) == ("CONFIGURATION", code)
    assert queued_messages(stack.queue_urls["PollQueue"]) == []


def test_a_wrong_secret_fails_the_item_and_marks_nothing_terminal(
    stack: ProvisionedStack, simulator: ZegoSimulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_poller_environment(monkeypatch, stack, simulator, secret="not-the-secret")
    module = _app_on_clock("poller_app_wrong_secret", clock, monkeypatch)
    record = sqs_record(body(COMPOSE, Vendor.TENCENT), sent_at=clock.now())
    response = module.lambda_handler(sqs_event([record]), LocalLambdaContext(function_name="PollerFunction"))
    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    _assert_held_for_configuration(stack, COMPOSE, "100000005")


def test_malformed_messages_go_to_the_dead_letter_queue_over_real_sqs(chain: Chain, stack: ProvisionedStack) -> None:
    bad = sqs_record('{"TaskId": "x", "Vendor": "Azure"}', sent_at=chain.clock.now())
    assert chain.invoke(sqs_event([bad])) == []
    messages = boto3.client("sqs").receive_message(
        QueueUrl=stack.queue_urls["PollDeadLetterQueue"], MessageAttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    [parked] = messages
    assert parked["Body"] == '{"TaskId": "x", "Vendor": "Azure"}'
    assert parked["MessageAttributes"]["ErrorReason"]["StringValue"] == "UNKNOWN_VENDOR"
    assert parked["MessageAttributes"]["SourceMessageId"]["StringValue"] == bad["messageId"]


# --- real time ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def polling_event_source(
    app: ModuleType, stack: ProvisionedStack, settings: EventSourceSettings, **options: Any
) -> Iterator[LocalEventSourceMapping]:
    """The local event source mapping feeding the poll queue to ``app``'s handler, stopped on exit."""
    mapping = LocalEventSourceMapping(app.lambda_handler, stack.queue_urls["PollQueue"], settings, **options).start()
    try:
        yield mapping
    finally:
        mapping.stop()


def test_the_local_event_source_follows_tasks_to_their_end_in_real_time(
    stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the real handler, real clock, one-second backoff and the local event source mapping, and
    # a simulator playing the compose task's 3 s timeline in about 1 s
    expected = {
        (COMPOSE, Vendor.TENCENT): TaskStatus.SUCCEEDED,
        (HUAWEI_SNAPSHOT, Vendor.HUAWEI): TaskStatus.SUCCEEDED,
        (TRANSCODE, Vendor.TENCENT): TaskStatus.FAILED,
    }
    store = TaskStore(stack.table_names["TasksTable"])
    with scripted_simulator(SCENARIO_TASKS, time_scale=0.3) as simulator:
        set_poller_environment(monkeypatch, stack, simulator, **ONE_SECOND_BACKOFF)
        module = load_poller_app("poller_app_real_time")
        send_poll_messages(stack, expected)
        settings = EventSourceSettings(batch_size=10, batching_window_seconds=0.1, maximum_concurrency=2)
        with polling_event_source(module, stack, settings) as mapping:
            # Then every task reaches its terminal state
            wait_for(lambda: all_reached(store, expected), timeout=30, every=0.1)
    assert mapping.stats.reported_failures == 0


def test_concurrent_pollers_stay_under_zego_limit(
    stack: ProvisionedStack, simulator: ZegoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 60 tasks arriving at once and four instances polling them concurrently with the real clock
    serialize_moto_dynamodb_writes(monkeypatch)
    # At the default ceiling, ZEGO's own 20/s: the pacing leaves room for the calls' varying delay
    # between slot and arrival (docs/architecture.md, "Why the ceiling holds at arrival").
    set_poller_environment(monkeypatch, stack, simulator)
    task_ids = [f"bench-{n:03d}" for n in range(60)]
    for task_id in task_ids:
        simulator.add_task({"task_id": task_id, "vendor": "Tencent", "event": "transcode", "stays": "PROCESSING"})
    module = load_poller_app("poller_app_concurrency")
    batches = [task_ids[i : i + 10] for i in range(0, 60, 10)]
    responses: list[dict[str, Any]] = []
    lock = threading.Lock()

    def instance(batch: list[str]) -> None:
        # These instances run on the real clock (the limiter must pace real calls), so the messages
        # are stamped by it too.
        now = SystemClock().now()
        event = sqs_event([sqs_record(body(task_id, Vendor.TENCENT), sent_at=now) for task_id in batch])
        response = module.lambda_handler(event, LocalLambdaContext(function_name="PollerFunction"))
        with lock:
            responses.append(response)

    # When they run
    threads = [threading.Thread(target=instance, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then ZEGO never saw more than its limit in any second, never throttled us, and every task is
    # either polled or deferred (rate limiter saturated) with exactly one next message each
    assert all(response == {"batchItemFailures": []} for response in responses)
    assert simulator.call_log.max_in_window(1.0) <= 20
    assert simulator.call_log.max_in_window(1.0, codes=[6]) == 0
    queued = queued_messages(stack.queue_urls["PollQueue"])
    assert sorted(m.body["TaskId"] for m in queued) == task_ids
    store = TaskStore(stack.table_names["TasksTable"])
    polled = [r for r in (store.get(t, Vendor.TENCENT) for t in task_ids) if r is not None and r.poll_count]
    assert len(polled) == len(simulator.call_log.records())


def test_duplicates_in_a_batch_and_redeliveries_keep_one_chain_over_the_real_stack(
    chain: Chain, simulator: ZegoSimulator
) -> None:
    # Given the same pipeline message twice in one batch
    first = sqs_record(body(COMPOSE, Vendor.TENCENT), sent_at=chain.clock.now())
    twin = sqs_record(body(COMPOSE, Vendor.TENCENT), sent_at=chain.clock.now())
    assert chain.invoke(sqs_event([first, twin])) == []
    # Then ZEGO was asked once and one next message is queued
    assert len(simulator.call_log.records()) == 1
    [next_message] = chain.new_messages()
    assert next_message.body["Generation"] == 1
    # And a redelivery of the first message (a crash after the write, before the ack) is dropped
    assert chain.invoke(sqs_event([first])) == []
    assert len(simulator.call_log.records()) == 1
    assert chain.new_messages() == []
    assert chain.record(COMPOSE, Vendor.TENCENT).generation == 1


def test_invocations_that_crash_before_acknowledging_never_fork_or_lose_a_chain(
    aws_env: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a queue whose crashed batches come back after 2 s, and an event source that "dies" after
    # half of its invocations, having done the work but before deleting anything
    from devstack.resources import provision

    stack = provision(prefix="chaos", parameter_overrides={"PollVisibilityTimeoutSeconds": 2})
    tasks = {
        (COMPOSE, Vendor.TENCENT): TaskStatus.SUCCEEDED,
        (TRANSCODE, Vendor.TENCENT): TaskStatus.FAILED,
        (HUAWEI_SNAPSHOT, Vendor.HUAWEI): TaskStatus.SUCCEEDED,
    }
    store = TaskStore(stack.table_names["TasksTable"])
    caplog.set_level(logging.INFO, logger="poller")

    def all_final_and_queue_drained() -> bool:
        return all_reached(store, tasks) and not queued_messages(stack.queue_urls["PollQueue"])

    with scripted_simulator(SCENARIO_TASKS[:3], time_scale=0.3) as simulator:
        set_poller_environment(monkeypatch, stack, simulator, **ONE_SECOND_BACKOFF)
        module = load_poller_app("poller_app_chaos")
        send_poll_messages(stack, tasks)
        settings = EventSourceSettings(batch_size=5, batching_window_seconds=0.1, maximum_concurrency=2)
        with polling_event_source(module, stack, settings, crash_rate=0.5, seed=11) as mapping:
            # When the tasks have run to their end and every leftover message has been consumed
            wait_for(all_final_and_queue_drained, timeout=60, every=0.1)

    # Then every ZEGO call is accounted for: in its record, or, when a redelivered copy of a message still
    # in flight (2 s visibility on a loaded machine) ran too, by a write that its fence refused
    records = [store.get(*key) for key in tasks]
    recorded = sum(r.poll_count for r in records if r is not None)
    superseded = sum(r.getMessage() == SUPERSEDED_POLL_LOG for r in caplog.records)
    assert recorded <= len(simulator.call_log.records()) <= recorded + superseded
    assert mapping.stats.crashes_injected > 0


# --- answers of any size (issue 12): a 10,000-URL snapshot over real HTTP, and one over the bound -----

LONG_SNAPSHOT = "1500020831-procedurev2-sampleSnapshot10000tt0"
LONG_URLS = sample_snapshot_urls(10_000)


def _long_snapshot(simulator: ZegoSimulator) -> None:
    simulator.add_task(
        {
            "task_id": LONG_SNAPSHOT,
            "vendor": "Tencent",
            "event": "SampleSnapshot",
            "final": {"status": "FINISH", "ThumbnailsUrl": LONG_URLS},
        }
    )


def test_a_10000_url_snapshot_answer_is_stored_across_the_record_and_the_lists_bucket(
    chain: Chain, simulator: ZegoSimulator, stack: ProvisionedStack
) -> None:
    _long_snapshot(simulator)
    chain.run(body(LONG_SNAPSHOT, Vendor.TENCENT))
    record = chain.record(LONG_SNAPSHOT, Vendor.TENCENT)
    assert (record.status, record.thumbnail_count, record.thumbnails_truncated) == (TaskStatus.SUCCEEDED, 10_000, True)
    assert record.thumbnails_object is not None
    stored = ListObjects(stack.bucket_names["TaskListsBucket"]).get(THUMBNAILS, record.thumbnails_object)
    assert stored == tuple(LONG_URLS)


def test_an_answer_over_the_bound_holds_the_task_until_the_bound_is_raised_and_the_message_redriven(
    stack: ProvisionedStack, simulator: ZegoSimulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a 1.3 MB answer and a poller that reads at most 64 KiB
    _long_snapshot(simulator)
    set_poller_environment(monkeypatch, stack, simulator, ZEGO_MAX_RESPONSE_BYTES="65536")
    module = _app_on_clock("poller_app_small_bound", clock, monkeypatch)
    record = sqs_record(body(LONG_SNAPSHOT, Vendor.TENCENT), sent_at=clock.now())
    context = LocalLambdaContext(function_name="PollerFunction")
    # When it polls: the item fails (SQS retries it, then the DLQ keeps it), nothing is decided
    assert module.lambda_handler(sqs_event([record]), context) == {
        "batchItemFailures": [{"itemIdentifier": record["messageId"]}]
    }
    _assert_held_for_configuration(stack, LONG_SNAPSHOT, "RESPONSE_TOO_LARGE")
    # Then, the bound raised, the same message (redriven) ends the task as ZEGO said
    monkeypatch.delenv("ZEGO_MAX_RESPONSE_BYTES")  # back to the default, 8 MiB
    raised = _app_on_clock("poller_app_default_bound", clock, monkeypatch)
    assert raised.lambda_handler(sqs_event([record]), context) == {"batchItemFailures": []}
    ended = TaskStore(stack.table_names["TasksTable"]).get(LONG_SNAPSHOT, Vendor.TENCENT)
    assert ended is not None
    assert (ended.status, ended.thumbnail_count) == (TaskStatus.SUCCEEDED, 10_000)
