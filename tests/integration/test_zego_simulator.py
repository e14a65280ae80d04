"""The ZEGO simulator over real HTTP on loopback: wire format, authentication, rate limit, faults, call log.

Requests are signed here with hashlib directly (not with the project's adapter), so the simulator and
the adapter are checked against ZEGO's documentation independently.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.zego_simulator import FaultSettings, Scenario, ZegoSimulator, busiest_window
from tests.support.fixture_files import ZEGO_RESPONSES
from tests.support.waiting import wait_for
from tests.support.zego_requests import describe_params

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "devstack" / "scenarios" / "demo.json"
APP_ID = 12345
SECRET = "9193cc662a4c0ec135ec71fb57194b38"
OTHER_APP_ID = 67890
OTHER_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TIMEOUT = 5.0  # every request is bounded


def fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ZEGO_RESPONSES / name).read_text())
    return document


COMPOSE = fixture("tencent-compose-finish.json")["Data"]["Tencent"]
HUAWEI = fixture("huawei-snapshot-succeeded.json")["Data"]["Huawei"]


def signed_params(
    task_id: str = COMPOSE["TaskId"],
    vendor: str = "Tencent",
    *,
    app_id: int = APP_ID,
    secret: str = SECRET,
    skew: int = 0,
    **overrides: str,
) -> dict[str, str]:
    timestamp = str(int(time.time()) + skew)
    params = describe_params(
        task_id, vendor, app_id=app_id, secret=secret, timestamp=timestamp, nonce=secrets.token_hex(8)
    )
    params.update(overrides)
    return params


def call(
    simulator: ZegoSimulator, session: requests.Session | None = None, *, timeout: float = TIMEOUT, **kwargs: Any
) -> requests.Response:
    getter = session.get if session is not None else requests.get
    return getter(simulator.url + "/", params=signed_params(**kwargs), timeout=timeout)


@pytest.fixture
def simulator() -> Iterator[ZegoSimulator]:
    scenario = Scenario.from_dict(
        {
            "tasks": [
                {
                    "task_id": COMPOSE["TaskId"],
                    "vendor": "Tencent",
                    "event": "compose",
                    "final": {
                        "status": "FINISH",
                        **{k: COMPOSE[k] for k in ("FileId", "ReplayUrl", "RequestId")},
                    },
                },
                {
                    "task_id": HUAWEI["TaskId"],
                    "vendor": "Huawei",
                    "final": {"status": "SUCCEEDED", **{k: HUAWEI[k] for k in ("CreateTime", "EndTime", "FileName")}},
                },
            ]
        }
    )
    with ZegoSimulator(scenario, apps={APP_ID: SECRET, OTHER_APP_ID: OTHER_SECRET}, time_scale=0.02) as running:
        yield running


# --- wire format ---------------------------------------------------------------------------------


def test_a_signed_call_gets_code_0_and_the_scripted_payload(simulator: ZegoSimulator) -> None:
    response = call(simulator)

    body = response.json()
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert (body["Code"], body["Message"]) == (0, "success")
    assert re.fullmatch(r"\d{19}", body["RequestId"])
    assert body["Data"] == {"Tencent": COMPOSE}


def test_huawei_answers_have_the_documented_shape(simulator: ZegoSimulator) -> None:
    succeeded = call(simulator, task_id=HUAWEI["TaskId"], vendor="Huawei").json()
    unknown = call(simulator, task_id="289665299", vendor="Huawei").json()

    assert succeeded["Data"] == {"Huawei": HUAWEI}
    assert unknown["Data"] == fixture("huawei-no-task.json")["Data"]


def test_unknown_tencent_tasks_are_code_2(simulator: ZegoSimulator) -> None:
    body = call(simulator, task_id="1400000000-ComposeMedia-unknowntt0").json()

    assert body["Code"] == 2
    assert "Data" not in body


def test_timelines_advance_in_real_time_scaled(simulator: ZegoSimulator) -> None:
    simulator.add_task(
        {
            "task_id": "scaled",
            "vendor": "Tencent",
            "event": "transcode",
            "timeline": [{"status": "WAITING", "seconds": 5}, {"status": "PROCESSING", "seconds": 5}],
            "final": {"status": "FAIL", "Message": "source file is corrupted"},
        }
    )
    seen: list[str] = []

    def finished() -> bool:
        block = call(simulator, task_id="scaled").json()["Data"]["Tencent"]
        seen.append(block["Status"])
        return bool(block["Status"] == "FAIL" and block["Message"] == "source file is corrupted")

    wait_for(finished, timeout=5.0, every=0.02)  # 10 scenario seconds at time_scale 0.02: 0.2 s
    order = ["WAITING", "PROCESSING", "FAIL"]
    assert seen[0] == "WAITING"
    assert [order.index(status) for status in seen] == sorted(order.index(status) for status in seen)


# --- authentication ------------------------------------------------------------------------------


def test_a_skewed_timestamp_is_code_100000004(simulator: ZegoSimulator) -> None:
    assert call(simulator, skew=-601).json()["Code"] == 100000004


def test_a_bad_signature_is_code_100000005(simulator: ZegoSimulator) -> None:
    assert call(simulator, secret="not-the-secret").json()["Code"] == 100000005


def test_a_wrong_app_id_is_code_7(simulator: ZegoSimulator) -> None:
    body = call(simulator, app_id=11111).json()

    assert set(body) == set(fixture("error-auth-failed.json"))
    assert (body["Code"], body["Message"]) == (7, "auth failed")


# --- rate limit ----------------------------------------------------------------------------------


def hammer(
    simulator: ZegoSimulator, *, calls: int | None = None, seconds: float = 0.0, workers: int = 8, **kwargs: Any
) -> list[tuple[float, float, int]]:
    """Requests as fast as ``workers`` keep-alive connections allow, ``calls`` in all or for ``seconds``:
    (sent, received, Code) per call, on this process's monotonic clock."""
    deadline = time.monotonic() + seconds
    remaining = [calls if calls is not None else 0]
    lock = threading.Lock()

    def more() -> bool:
        if calls is None:
            return time.monotonic() < deadline
        with lock:
            remaining[0] -= 1
            return remaining[0] >= 0

    def worker(_: int) -> list[tuple[float, float, int]]:
        results = []
        with requests.Session() as session:
            while more():
                sent = time.monotonic()
                code = call(simulator, session, **kwargs).json()["Code"]
                results.append((sent, time.monotonic(), code))
        return results

    with ThreadPoolExecutor(workers) as pool:
        return [result for part in pool.map(worker, range(workers)) for result in part]


def assert_client_saw_at_most_20_per_second(results: list[tuple[float, float, int]]) -> None:
    """A Code-0 answer received at r was admitted in [r - rtt, r]; so answers received within any
    window of 1 s minus the longest round trip were admitted within one second: at most 20. (On a machine
    so busy that a loopback round trip took a second or more, that window is empty and says nothing; the
    simulator's own log, checked by every caller, still does.)"""
    longest = max(received - sent for sent, received, _ in results)
    received_ok = [received for _, received, code in results if code == 0]
    if longest < 1.0:
        assert busiest_window(received_ok, 1.0 - longest)[0] <= 20


def test_a_burst_beyond_20_calls_is_answered_code_6(simulator: ZegoSimulator) -> None:
    results = hammer(simulator, calls=100)

    codes = [code for _, _, code in results]
    assert set(codes) == {0, 6}
    assert 1 <= codes.count(0) <= 20 * (1 + int(max(r for _, r, _ in results) - min(s for s, _, _ in results)))
    assert simulator.call_log.max_in_window(1.0, codes={0}) <= 20
    assert_client_saw_at_most_20_per_second(results)


def test_sustained_calls_get_at_most_20_answers_in_any_second(simulator: ZegoSimulator) -> None:
    results = hammer(simulator, seconds=2.2, workers=4)

    codes = [code for _, _, code in results]
    stats = simulator.call_log.stats()
    assert stats.busiest_window_code_0 == 20  # the limit is reached, never exceeded
    assert 40 <= codes.count(0) <= 60  # three windows started within 2.2 s
    assert stats.code_6_share > 0
    assert_client_saw_at_most_20_per_second(results)


def test_the_limit_is_per_app_id_and_frees_up_after_a_second(simulator: ZegoSimulator) -> None:
    hammer(simulator, calls=30)
    last_admitted = max(r.monotonic for r in simulator.call_log.records() if r.code == 0)

    assert call(simulator).json()["Code"] == 6
    assert call(simulator, app_id=OTHER_APP_ID, secret=OTHER_SECRET).json()["Code"] == 0
    time.sleep(max(0.0, last_admitted + 1.05 - time.monotonic()))  # bounded: at most ~1 s
    assert call(simulator).json()["Code"] == 0


# --- faults --------------------------------------------------------------------------------------


def test_http_5xx_faults_answer_an_error_page(simulator: ZegoSimulator) -> None:
    simulator.configure_faults(http_5xx_rate=1.0)

    responses = [call(simulator) for _ in range(10)]

    assert {r.status_code for r in responses} <= {500, 502, 503}
    for response in responses:
        with pytest.raises(requests.JSONDecodeError):
            response.json()


def test_latency_delays_every_answer(simulator: ZegoSimulator) -> None:
    simulator.configure_faults(latency_seconds=0.3)

    started = time.monotonic()
    good = call(simulator)
    rejected = call(simulator, secret="wrong")
    elapsed = time.monotonic() - started

    assert (good.json()["Code"], rejected.json()["Code"]) == (0, 100000005)
    assert elapsed >= 0.6


def test_a_hang_outlasts_the_client_timeout_and_does_not_delay_stop() -> None:
    simulator = ZegoSimulator(apps={APP_ID: SECRET}, faults=FaultSettings(hang_rate=1.0, hang_seconds=30)).start()
    try:
        with pytest.raises(requests.Timeout):
            call(simulator, timeout=0.3)
    finally:
        started = time.monotonic()
        simulator.stop()
        stop_took = time.monotonic() - started

    assert stop_took < 2.0
    [record] = simulator.call_log.records()
    assert (record.fault, record.http_status, record.code) == ("hang", None, None)


def test_a_hang_closes_the_connection_without_an_answer(simulator: ZegoSimulator) -> None:
    simulator.configure_faults(hang_rate=1.0, hang_seconds=0.2)

    with pytest.raises(requests.ConnectionError):
        call(simulator, timeout=3.0)


def test_malformed_json_is_http_200_that_does_not_parse(simulator: ZegoSimulator) -> None:
    simulator.configure_faults(malformed_json_rate=1.0)

    response = call(simulator)

    assert response.status_code == 200
    assert response.text.startswith('{"Code":0')
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_code_1000_and_code_6_can_be_injected(simulator: ZegoSimulator) -> None:
    simulator.configure_faults(code_1000_rate=1.0)
    failed = call(simulator).json()
    simulator.configure_faults(code_1000_rate=0.0, code_6_rate=1.0)
    throttled = call(simulator).json()

    assert (failed["Code"], failed.get("Data")) == (1000, None)
    assert (throttled["Code"], throttled["Data"]) == (6, {})


def test_faults_can_be_switched_off_at_run_time(simulator: ZegoSimulator) -> None:
    simulator.configure_faults(http_5xx_rate=1.0)
    assert call(simulator).status_code >= 500

    simulator.clear_faults()

    assert call(simulator).json()["Code"] == 0


def test_fault_rates_with_a_seed_mix_faults_and_answers(simulator: ZegoSimulator) -> None:
    simulator.configure_faults(http_5xx_rate=0.3, code_1000_rate=0.3)

    statuses = [call(simulator).status_code for _ in range(19)]  # under the rate limit

    assert 200 in statuses
    assert any(status >= 500 for status in statuses)
    assert set(simulator.call_log.stats().faults) == {"http_5xx", "code_1000"}


# --- call log ------------------------------------------------------------------------------------


def test_the_call_log_records_every_call(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    with ZegoSimulator(apps={APP_ID: SECRET}, call_log_path=path) as simulator:
        call(simulator, task_id="289665299", vendor="Huawei")
        call(simulator, app_id=11111)
        call(simulator)
        records = simulator.call_log.records()
        stats = simulator.call_log.stats()
        simulator.call_log.clear()
        assert simulator.call_log.records() == []

    assert [(r.app_id, r.task_id, r.vendor, r.code, r.http_status) for r in records] == [
        (str(APP_ID), "289665299", "Huawei", 0, 200),
        ("11111", COMPOSE["TaskId"], "Tencent", 7, 200),
        (str(APP_ID), COMPOSE["TaskId"], "Tencent", 2, 200),
    ]
    assert all(r.latency_seconds >= 0 and r.wall_time > 1.7e9 for r in records)
    assert (stats.total, stats.codes) == (3, {0: 1, 7: 1, 2: 1})
    written = path.read_text()
    assert [json.loads(line)["code"] for line in written.splitlines()] == [0, 7, 2]
    assert SECRET not in written


# --- lifecycle -----------------------------------------------------------------------------------


def test_stop_closes_the_port_and_leaves_no_thread_behind() -> None:
    before = set(threading.enumerate())
    simulator = ZegoSimulator(apps={APP_ID: SECRET})
    with simulator, requests.Session() as session:
        assert call(simulator, session).status_code == 200  # leaves a keep-alive connection open
        port = simulator.port
        started = time.monotonic()
    stop_took = time.monotonic() - started

    assert stop_took < 2.0
    assert set(threading.enumerate()) <= before
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1.0):
        pass
    with pytest.raises(RuntimeError, match="starts once"):
        simulator.start()


def test_stop_does_not_wait_for_idle_keep_alive_connections() -> None:
    simulator = ZegoSimulator(apps={APP_ID: SECRET}).start()
    session = requests.Session()
    try:
        call(simulator, session)
        started = time.monotonic()
        simulator.stop()
        assert time.monotonic() - started < 2.0
    finally:
        session.close()
        simulator.stop()


def test_runs_standalone_from_the_command_line() -> None:
    env = {**os.environ, "ZEGO_SIMULATOR_SECRET": SECRET, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "devstack.zego_simulator", "--port", "0", "--scenario", str(DEMO)]
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [*command, "--app-id", str(APP_ID), "--log-level", "DEBUG"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            try:
                output.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", output[-1])
            url = match.group(1) if match else None
        assert url is not None, "".join(output)

        params = signed_params("289665299", "Huawei")
        body = requests.get(url + "/", params=params, timeout=TIMEOUT).json()
        assert body["Data"]["Huawei"]["Status"] == "NO_TASK"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        finally:
            process.kill()  # no-op once it has exited
            process.wait(timeout=5)
            reader.join(timeout=5)
            if process.stderr is not None:
                process.stderr.close()

    assert process.returncode == 0
    while not lines.empty():
        output.append(lines.get_nowait())
    assert "DescribeMediaTask app_id=12345" in "".join(output)  # the call was logged ...
    assert SECRET not in "".join(output)  # ... and the secret never is
