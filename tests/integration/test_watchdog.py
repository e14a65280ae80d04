"""The watchdog against the real stack: moto's server for the tasks table and the poll queue, the real poller
handler with the real ZEGO client over loopback to the simulator, and the real watchdog handler, each with
the same fake clock. A task whose poll message is deleted is revived and followed to its end with one chain;
a chain that was alive after all is not doubled: its copy collapses at the generation fence."""

# ruff: noqa: F811 - the chain's fixtures are imported from the poller's integration tests and named as parameters

from __future__ import annotations

from types import ModuleType

import boto3
import pytest

from devstack.handlers import load_function_module
from devstack.lambda_context import LocalLambdaContext
from devstack.resources import ProvisionedStack
from devstack.zego_simulator import ZegoSimulator
from tests.integration.test_poller_simulator import (  # noqa: F401 - fixtures
    COMPOSE,
    Chain,
    app,
    chain,
    clock,
    environment,
    simulator,
)
from tests.support.clock import FakeClock
from tests.support.poller import body
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.domain.watch import epoch_seconds
from zego_media_tasks.watchdog.settings import WatchdogSettings
from zego_media_tasks.watchdog.wiring import build_watchdog

pytestmark = pytest.mark.integration

GRACE = 900
STUCK = "1500020831-procedurev2-stuckinprocessingtt0"


@pytest.fixture
def watchdog(stack: ProvisionedStack, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The real watchdog handler, with the test's clock."""
    monkeypatch.setenv("WATCHDOG_GRACE_SECONDS", str(GRACE))
    monkeypatch.setenv("POLL_VISIBILITY_TIMEOUT_SECONDS", "180")
    monkeypatch.setenv("POLL_MAX_RECEIVE_COUNT", "5")
    module = load_function_module("watchdog", "watchdog_app_integration")
    monkeypatch.setattr(module, "build_watchdog", lambda settings: build_watchdog(settings, clock=clock))
    return module


def run_watchdog(module: ModuleType) -> dict[str, int]:
    result: dict[str, int] = module.lambda_handler({}, LocalLambdaContext(function_name="WatchdogFunction"))
    return result


def past_the_grace(chain: Chain, clock: FakeClock, task_id: str = COMPOSE) -> None:
    """Move the clock until the task's record is overdue by more than the grace, as the index sees it."""
    record = chain.record(task_id, Vendor.TENCENT)
    assert record.watch_at is not None
    clock.advance(record.watch_at - epoch_seconds(clock.now()) + GRACE + 1)


def test_a_task_whose_message_was_deleted_is_revived_and_ends_with_one_chain(
    chain: Chain, stack: ProvisionedStack, clock: FakeClock, watchdog: ModuleType
) -> None:
    # Given a task polled once, whose next poll message is then deleted (a purge)
    assert chain.send_first(body(COMPOSE, Vendor.TENCENT)) == []
    [_lost] = chain.new_messages()
    boto3.client("sqs").purge_queue(QueueUrl=stack.queue_urls["PollQueue"])
    stuck = chain.record(COMPOSE, Vendor.TENCENT)
    # When the watchdog runs before the grace has passed, it leaves the task alone
    assert run_watchdog(watchdog)["chainsRevived"] == 0
    assert chain.new_messages() == []
    # and once the grace has passed, it re-enqueues the task at its current generation
    past_the_grace(chain, clock)
    assert run_watchdog(watchdog) == {"chainsRevived": 1, "recordsExamined": 1}
    [revived] = chain.new_messages()
    assert (revived.body["TaskId"], revived.body["Generation"]) == (COMPOSE, stuck.generation)
    # Then the revived chain is the one live chain, followed to the task's end
    assert chain.deliver(revived) == []
    hops = chain.follow()
    record = chain.record(COMPOSE, Vendor.TENCENT)
    assert record.status is TaskStatus.SUCCEEDED
    assert record.generation == stuck.generation + 1 + len(hops)
    # and a run after the end finds nothing to revive
    assert run_watchdog(watchdog) == {"chainsRevived": 0, "recordsExamined": 0}


def test_a_chain_that_was_alive_after_all_is_not_doubled(
    chain: Chain, simulator: ZegoSimulator, clock: FakeClock, watchdog: ModuleType
) -> None:
    # Given a task still processing, whose next poll message is queued but so late that the watchdog takes
    # it for lost
    simulator.add_task({"task_id": STUCK, "vendor": "Tencent", "event": "transcode", "stays": "PROCESSING"})
    assert chain.send_first(body(STUCK, Vendor.TENCENT)) == []
    [live] = chain.new_messages()
    past_the_grace(chain, clock, STUCK)
    assert run_watchdog(watchdog)["chainsRevived"] == 1
    [copy] = chain.new_messages()
    assert copy.body["Generation"] == live.body["Generation"]
    # When the live message arrives, then the revived copy
    assert chain.deliver(live) == []
    [next_hop] = chain.new_messages()
    polled = chain.record(STUCK, Vendor.TENCENT)
    assert chain.deliver(copy) == []
    # Then the copy collapsed at the fence: it polled nothing and sent nothing; the one chain goes on
    assert chain.new_messages() == []
    after = chain.record(STUCK, Vendor.TENCENT)
    assert (after.generation, after.poll_count) == (polled.generation, polled.poll_count)
    assert chain.deliver(next_hop) == []
    [_one] = chain.new_messages()


def test_the_watchdog_refuses_a_grace_shorter_than_a_live_messages_failed_receives() -> None:
    with pytest.raises(ValueError, match="WATCHDOG_GRACE_SECONDS must be at least"):
        WatchdogSettings.from_env(
            {
                "TABLE_NAME": "tasks",
                "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/poll",
                "WATCHDOG_GRACE_SECONDS": "899",
                "POLL_VISIBILITY_TIMEOUT_SECONDS": "180",
                "POLL_MAX_RECEIVE_COUNT": "5",
            }
        )
