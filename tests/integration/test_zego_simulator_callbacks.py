"""ZEGO simulator completion callbacks over real HTTP on loopback: a tiny receiver, ZEGO's retries.

The receiver is a stdlib ``http.server`` scripted with the HTTP statuses it answers; signatures are
checked here with hashlib directly. ``time_scale=0.01`` plays ZEGO's 62-second retry schedule in 0.62 s.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from devstack.zego_simulator import CallbackRecord, CallbackSettings, Scenario, ZegoSimulator
from tests.support.zego_callbacks import zego_signature
from tests.support.zego_requests import describe_params

pytestmark = pytest.mark.integration

APP_ID = 12345
SERVER_SECRET = "9193cc662a4c0ec135ec71fb57194b38"
CALLBACK_SECRET = "c411bac4-5ec2-e7c0-ffee-ba5e5ec2e7c0"
TIME_SCALE = 0.01
TIMEOUT = 5.0  # every wait is bounded
COMPOSE_ID = "1400341231-ComposeMedia-6fdfc967d7eb12f5e9b27f52519f1afatt0"
HUAWEI_MERGE_ID = "289665201"
HUAWEI_MERGE: dict[str, Any] = {
    "task_id": HUAWEI_MERGE_ID,
    "vendor": "Huawei",
    "event": "compose",
    "timeline": [{"status": "PROCESSING", "seconds": 10}],
    "final": {"status": "SUCCEEDED", "ReplayUrl": "https://obs.test/merge.mp4"},
}
SCENARIO = Scenario.from_dict(
    {
        "tasks": [
            {
                "task_id": COMPOSE_ID,
                "vendor": "Tencent",
                "event": "compose",
                "timeline": [{"status": "PROCESSING", "seconds": 10}],
                "final": {"status": "FINISH", "FileId": "5285890813218549789", "ReplayUrl": "https://vod.test/o.mp4"},
            },
        ]
    }
)


@dataclass(frozen=True)
class Received:
    monotonic: float
    path: str
    content_type: str
    body: dict[str, str]


class Receiver:
    """A callback receiver on loopback answering ``statuses`` in turn (the last one repeats); with
    ``hang``, it holds every request until closed."""

    def __init__(self, *statuses: int, hang: bool = False) -> None:
        self.statuses = list(statuses) or [200]
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.got_request = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver._lock:
                    receiver.received.append(
                        Received(time.monotonic(), self.path, self.headers.get("Content-Type", ""), body)
                    )
                    statuses = receiver.statuses
                    status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
                receiver.got_request.set()
                if hang:
                    receiver._release.wait(TIMEOUT)
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/callbacks/zego"

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    opened: list[Receiver] = []
    yield opened
    for receiver in opened:
        receiver.close()


def simulator_for(receiver: Receiver, scenario: Scenario = SCENARIO, **settings: Any) -> ZegoSimulator:
    callbacks = CallbackSettings(url=receiver.url, secret=CALLBACK_SECRET, **settings)
    return ZegoSimulator(scenario, apps={APP_ID: SERVER_SECRET}, time_scale=TIME_SCALE, callbacks=callbacks)


def describe(simulator: ZegoSimulator, task_id: str, vendor: str = "Tencent") -> dict[str, Any]:
    params = describe_params(
        task_id,
        vendor,
        app_id=APP_ID,
        secret=SERVER_SECRET,
        timestamp=str(int(time.time())),
        nonce=secrets.token_hex(8),
    )
    answer: dict[str, Any] = requests.get(simulator.url + "/", params=params, timeout=TIMEOUT).json()
    return answer


def signed_by_zego(body: dict[str, str]) -> bool:
    return body["signature"] == zego_signature(CALLBACK_SECRET, body["timestamp"], body["nonce"])


def outcome_seen(outcome: str) -> Callable[[list[CallbackRecord]], bool]:
    """A ``wait_for`` condition: some record has ``outcome``."""
    return lambda records: any(record.outcome == outcome for record in records)


def statuses(records: list[CallbackRecord]) -> list[int | None]:
    return [record.http_status for record in records]


def test_a_receiver_answering_500_twice_then_200_gets_the_callback_on_the_third_try(
    receivers: list[Receiver],
) -> None:
    receivers.append(receiver := Receiver(500, 500, 200))
    with simulator_for(receiver) as simulator:
        describe(simulator, COMPOSE_ID)  # the first query starts the 10-scenario-second timeline

        assert simulator.callback_log.wait_for(outcome_seen("delivered"), TIMEOUT)

        records = simulator.callback_log.records()
    assert statuses(records) == [500, 500, 200]
    assert [(record.attempt, record.outcome) for record in records] == [(1, "retry"), (2, "retry"), (3, "delivered")]
    first, second, third = receiver.received
    assert first.body == second.body == third.body
    assert (first.path, first.content_type) == ("/callbacks/zego", "application/json")
    assert signed_by_zego(first.body)
    assert (first.body["event"], first.body["task_id"], first.body["code"]) == ("compose", COMPOSE_ID, "0")
    assert "vendor" not in first.body
    # 2 and 4 scenario seconds after the previous try, at time_scale 0.01
    assert second.monotonic - first.monotonic >= 2 * TIME_SCALE * 0.9
    assert third.monotonic - second.monotonic >= 4 * TIME_SCALE * 0.9


def test_a_receiver_answering_401_is_tried_6_times_then_the_callback_is_dropped(receivers: list[Receiver]) -> None:
    receivers.append(receiver := Receiver(401))
    with simulator_for(receiver) as simulator:
        describe(simulator, COMPOSE_ID)

        assert simulator.callback_log.wait_for(outcome_seen("dropped"), TIMEOUT)
        # the whole schedule is 62 scenario seconds (0.62 s): proof that nothing follows the drop
        assert not simulator.callback_log.wait_for(lambda records: len(records) > 6, 62 * TIME_SCALE)

        records = simulator.callback_log.records()
    assert statuses(records) == [401] * 6
    assert [record.attempt for record in records] == [1, 2, 3, 4, 5, 6]
    assert [record.outcome for record in records] == ["retry"] * 5 + ["dropped"]
    assert len(receiver.received) == 6


def test_a_huawei_merge_in_the_scenario_runs_from_simulator_start_to_its_compose_callback(
    receivers: list[Receiver],
) -> None:
    receivers.append(receiver := Receiver(200))
    started = time.monotonic()
    with simulator_for(receiver, Scenario.from_dict({"tasks": [HUAWEI_MERGE]})) as simulator:
        # nobody queries it: DescribeMediaTask cannot see a Huawei merge
        assert simulator.callback_log.wait_for(outcome_seen("delivered"), TIMEOUT)
        answer = describe(simulator, HUAWEI_MERGE_ID, vendor="Huawei")

    assert answer["Data"]["Huawei"]["Status"] == "NO_TASK"
    (received,) = receiver.received
    assert received.monotonic - started >= 10 * TIME_SCALE * 0.9
    assert set(received.body) == {"appid", "event", "task_id", "replay_url", "code", "timestamp", "nonce", "signature"}
    assert (received.body["event"], received.body["task_id"]) == ("compose", HUAWEI_MERGE_ID)
    assert received.body["replay_url"] == "https://obs.test/merge.mp4"
    assert signed_by_zego(received.body)


def test_a_huawei_merge_added_at_run_time_answers_no_task_before_and_after_its_callback(
    receivers: list[Receiver],
) -> None:
    receivers.append(receiver := Receiver(200))
    with simulator_for(receiver) as simulator:
        simulator.add_task({**HUAWEI_MERGE, "task_id": "289665202"})

        before = describe(simulator, "289665202", vendor="Huawei")
        assert simulator.callback_log.wait_for(outcome_seen("delivered"), TIMEOUT)
        after = describe(simulator, "289665202", vendor="Huawei")

    assert before["Data"]["Huawei"]["Status"] == after["Data"]["Huawei"]["Status"] == "NO_TASK"
    assert [received.body["task_id"] for received in receiver.received] == ["289665202"]


def test_describe_media_task_never_waits_for_a_hanging_receiver(receivers: list[Receiver]) -> None:
    receivers.append(receiver := Receiver(hang=True))
    with simulator_for(receiver, timeout_seconds=1.0) as simulator:
        simulator.add_task({"task_id": "now", "vendor": "Tencent", "event": "compose", "final": {"status": "FINISH"}})
        describe(simulator, "now")  # ends at once: its callback hangs in the receiver from here on
        assert receiver.got_request.wait(TIMEOUT)

        started = time.monotonic()
        answers = [describe(simulator, COMPOSE_ID)["Code"] for _ in range(5)]
        elapsed = time.monotonic() - started
        assert simulator.callback_log.wait_for(bool, TIMEOUT)
        stopping = time.monotonic()
    stopped_in = time.monotonic() - stopping

    assert answers == [0] * 5
    assert elapsed < 1.0
    assert simulator.callback_log.records()[0].error == "timeout"
    assert stopped_in < 1.0 + 1.0  # a try in flight ends within the timeout


def test_the_callback_secret_is_never_logged(receivers: list[Receiver], caplog: pytest.LogCaptureFixture) -> None:
    receivers.append(receiver := Receiver(500, 200))
    caplog.set_level(logging.DEBUG, logger="devstack.zego_simulator")
    with simulator_for(receiver) as simulator:
        describe(simulator, COMPOSE_ID)
        assert simulator.callback_log.wait_for(outcome_seen("delivered"), TIMEOUT)

    callback_lines = [line for line in caplog.messages if "callback" in line]
    assert len(callback_lines) >= 3  # it did log: the start and both tries
    assert CALLBACK_SECRET not in caplog.text
    assert receiver.received[0].body["signature"] not in caplog.text
