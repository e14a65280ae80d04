"""ZEGO simulator wire contract without sockets: verification, return codes, rate limit, fault order."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import pytest

from devstack.zego_simulator.faults import Fault, FaultInjector, FaultSettings
from devstack.zego_simulator.scenario import Scenario, TaskBook
from devstack.zego_simulator.server import CallLog, ZegoService, sign
from tests.support.clock import FakeClock
from tests.support.simulator_tasks import COMPOSE
from tests.support.zego_requests import describe_params

APP_ID = 12345
SECRET = "9193cc662a4c0ec135ec71fb57194b38"
OTHER_APP_ID = 67890
OTHER_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def make_service(
    clock: FakeClock, *, faults: FaultSettings | None = None, rate_limit: int | None = 20, **kwargs: Any
) -> ZegoService:
    return ZegoService(
        TaskBook(Scenario(tasks=(COMPOSE,))),
        {APP_ID: SECRET, OTHER_APP_ID: OTHER_SECRET},
        rate_limit=rate_limit,
        faults=FaultInjector(faults),
        call_log=CallLog(),
        monotonic=clock.monotonic,
        wall_clock=lambda: clock.now().timestamp(),
        **kwargs,
    )


def signed_query(
    clock: FakeClock,
    *,
    app_id: int = APP_ID,
    secret: str = SECRET,
    skew: int = 0,
    drop: tuple[str, ...] = (),
    extra: dict[str, str] | None = None,
    **overrides: str,
) -> str:
    timestamp = str(int(clock.now().timestamp()) + skew)
    params = describe_params(
        COMPOSE.task_id, "Tencent", app_id=app_id, secret=secret, timestamp=timestamp, nonce="4fd24687296dd9f3"
    )
    params.update(extra or {})
    params.update(overrides)
    return urlencode({name: value for name, value in params.items() if name not in drop})


# --- signature -----------------------------------------------------------------------------------


def test_signature_matches_zegos_documented_vector() -> None:
    assert sign(12345, "4fd24687296dd9f3", SECRET, 1615186943) == "43e5cfcca828314675f91b001390566a"


# --- a good call ---------------------------------------------------------------------------------


def test_a_signed_call_gets_code_0_with_the_scripted_vendor_block(clock: FakeClock) -> None:
    reply = make_service(clock).handle("/", signed_query(clock))

    body = reply.json()
    assert (reply.http_status, reply.content_type) == (200, "application/json; charset=utf-8")
    assert (body["Code"], body["Message"]) == (0, "success")
    assert body["RequestId"].isdigit()
    assert len(body["RequestId"]) == 19
    assert list(body["Data"]) == ["Tencent"]
    assert body["Data"]["Tencent"]["Status"] == "PROCESSING"


def test_the_task_timeline_runs_on_the_injected_clock(clock: FakeClock) -> None:
    service = make_service(clock)
    service.handle("/", signed_query(clock))
    clock.advance(10)

    block = service.handle("/", signed_query(clock)).json()["Data"]["Tencent"]

    assert (block["Status"], block["FileId"]) == ("FINISH", "5285890813218549789")


def test_is_test_is_accepted(clock: FakeClock) -> None:
    assert make_service(clock).handle("/", signed_query(clock, IsTest="false")).json()["Code"] == 0


# --- verification --------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["AppId", "SignatureNonce", "Timestamp", "SignatureVersion", "Signature"])
def test_a_missing_common_parameter_is_code_2(clock: FakeClock, missing: str) -> None:
    body = make_service(clock).handle("/", signed_query(clock, drop=(missing,))).json()

    assert body["Code"] == 2
    assert missing in body["Message"]
    assert "Data" not in body


@pytest.mark.parametrize(
    ("overrides", "drop", "expected"),
    [
        ({"Action": "DescribeMediaTasks"}, (), "Action"),
        ({}, ("Action",), "Action"),
        ({}, ("TaskId",), "TaskId"),
        ({"Vendor": "Aliyun"}, (), "Vendor"),
        ({}, ("Vendor",), "Vendor"),
        ({"AppId": "abc"}, (), "AppId"),
        ({"Timestamp": "soon"}, (), "Timestamp"),
        ({"IsTest": "yes"}, (), "IsTest"),
    ],
)
def test_bad_parameters_are_code_2(
    clock: FakeClock, overrides: dict[str, str], drop: tuple[str, ...], expected: str
) -> None:
    body = make_service(clock).handle("/", signed_query(clock, drop=drop, extra=overrides)).json()

    assert body["Code"] == 2
    assert expected in body["Message"]


def test_an_unknown_app_id_is_code_7_auth_failed(clock: FakeClock) -> None:
    body = make_service(clock).handle("/", signed_query(clock, app_id=11111)).json()

    assert (body["Code"], body["Message"]) == (7, "auth failed")
    assert "Data" not in body


def test_a_signature_version_other_than_2_0_is_code_7(clock: FakeClock) -> None:
    body = make_service(clock).handle("/", signed_query(clock, SignatureVersion="1.0")).json()

    assert body["Code"] == 7


@pytest.mark.parametrize(("skew", "code"), [(600, 0), (-600, 0), (601, 100000004), (-601, 100000004)])
def test_timestamps_more_than_600_s_away_have_expired(clock: FakeClock, skew: int, code: int) -> None:
    assert make_service(clock).handle("/", signed_query(clock, skew=skew)).json()["Code"] == code


def test_a_max_skew_can_be_configured(clock: FakeClock) -> None:
    service = make_service(clock, max_skew_seconds=30)

    assert service.handle("/", signed_query(clock, skew=31)).json()["Code"] == 100000004


@pytest.mark.parametrize(
    "signature",
    ["0" * 32, "43E5CFCCA828314675F91B001390566A", "short", "é" * 32],
)
def test_a_wrong_signature_is_code_100000005(clock: FakeClock, signature: str) -> None:
    body = make_service(clock).handle("/", signed_query(clock, Signature=signature)).json()

    assert body["Code"] == 100000005


def test_a_signature_made_with_another_apps_secret_is_wrong(clock: FakeClock) -> None:
    query = signed_query(clock, secret=OTHER_SECRET)

    assert make_service(clock).handle("/", query).json()["Code"] == 100000005


def test_each_configured_app_id_uses_its_own_secret(clock: FakeClock) -> None:
    query = signed_query(clock, app_id=OTHER_APP_ID, secret=OTHER_SECRET)

    assert make_service(clock).handle("/", query).json()["Code"] == 0


def test_other_paths_are_http_404(clock: FakeClock) -> None:
    reply = make_service(clock).handle("/v1/", signed_query(clock))

    assert (reply.http_status, reply.code) == (404, None)


@pytest.mark.parametrize(
    ("apps", "expected"),
    [({}, "at least one AppId"), ({-1: "s"}, "uint32"), ({2**32: "s"}, "uint32"), ({1: ""}, "non-empty")],
)
def test_the_app_configuration_is_validated(apps: dict[int, str], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        ZegoService(TaskBook(), apps)


# --- rate limit ----------------------------------------------------------------------------------


def test_the_21st_call_in_one_second_is_code_6_and_the_next_second_is_ok(clock: FakeClock) -> None:
    service = make_service(clock)
    codes = []
    for _ in range(20):
        codes.append(service.handle("/", signed_query(clock)).json()["Code"])
        clock.advance(0.01)

    throttled = service.handle("/", signed_query(clock)).json()
    clock.advance(1.0)
    after = service.handle("/", signed_query(clock)).json()

    assert codes == [0] * 20
    assert throttled == {"Code": 6, "Message": "request too frequent", "RequestId": throttled["RequestId"], "Data": {}}
    assert after["Code"] == 0


def test_the_window_slides_rather_than_resetting_on_second_boundaries(clock: FakeClock) -> None:
    service = make_service(clock)
    for _ in range(10):
        service.handle("/", signed_query(clock))
    clock.advance(0.6)
    for _ in range(10):
        service.handle("/", signed_query(clock))
    clock.advance(0.5)  # 1.1 s after the first ten: they left the window, the second ten did not

    codes = [service.handle("/", signed_query(clock)).json()["Code"] for _ in range(11)]

    assert codes == [0] * 10 + [6]


def test_calls_refused_by_the_limiter_do_not_count(clock: FakeClock) -> None:
    service = make_service(clock)
    for _ in range(20):
        service.handle("/", signed_query(clock))
    clock.advance(0.5)
    refused = [service.handle("/", signed_query(clock)).json()["Code"] for _ in range(30)]
    clock.advance(0.5)

    codes = [service.handle("/", signed_query(clock)).json()["Code"] for _ in range(20)]

    assert set(refused) == {6}
    assert codes == [0] * 20


def test_calls_failing_authentication_do_not_count(clock: FakeClock) -> None:
    service = make_service(clock)
    for _ in range(50):
        service.handle("/", signed_query(clock, Signature="0" * 32))

    codes = [service.handle("/", signed_query(clock)).json()["Code"] for _ in range(20)]

    assert codes == [0] * 20


def test_the_limit_is_per_app_id(clock: FakeClock) -> None:
    service = make_service(clock)
    for _ in range(21):
        service.handle("/", signed_query(clock))

    other = service.handle("/", signed_query(clock, app_id=OTHER_APP_ID, secret=OTHER_SECRET)).json()

    assert other["Code"] == 0


def test_the_limit_can_be_changed_or_switched_off(clock: FakeClock) -> None:
    five = make_service(clock, rate_limit=5)
    unlimited = make_service(clock, rate_limit=None)

    assert [five.handle("/", signed_query(clock)).json()["Code"] for _ in range(6)] == [0] * 5 + [6]
    assert {unlimited.handle("/", signed_query(clock)).json()["Code"] for _ in range(100)} == {0}


def test_throttled_answers_can_use_http_429(clock: FakeClock) -> None:
    service = make_service(clock, rate_limit=1, throttle_http_status=429)
    service.handle("/", signed_query(clock))

    reply = service.handle("/", signed_query(clock))

    assert (reply.http_status, reply.code) == (429, 6)


# --- faults come after authentication ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query_overrides", "app_id", "code"),
    [({"Signature": "0" * 32}, APP_ID, 100000005), ({}, 11111, 7), ({"Action": "X"}, APP_ID, 2)],
)
def test_authentication_answers_are_not_subject_to_faults(
    clock: FakeClock, query_overrides: dict[str, str], app_id: int, code: int
) -> None:
    service = make_service(clock, faults=FaultSettings(http_5xx_rate=0.5, hang_rate=0.5))

    replies = [service.handle("/", signed_query(clock, app_id=app_id, extra=query_overrides)) for _ in range(20)]

    assert {(r.http_status, r.code, r.fault) for r in replies} == {(200, code, None)}


def test_latency_delays_every_answer_including_rejections(clock: FakeClock) -> None:
    service = make_service(clock, faults=FaultSettings(latency_seconds=0.4))

    good = service.handle("/", signed_query(clock))
    bad = service.handle("/", signed_query(clock, Signature="0" * 32))

    assert (good.delay_seconds, bad.delay_seconds) == (0.4, 0.4)


def test_an_injected_http_error_is_not_json(clock: FakeClock) -> None:
    reply = make_service(clock, faults=FaultSettings(http_5xx_rate=1.0)).handle("/", signed_query(clock))

    assert reply.http_status in (500, 502, 503)
    assert (reply.code, reply.fault) == (None, Fault.HTTP_5XX)
    assert not reply.content_type.startswith("application/json")


def test_an_injected_hang_holds_the_request(clock: FakeClock) -> None:
    reply = make_service(clock, faults=FaultSettings(hang_rate=1.0, hang_seconds=12)).handle("/", signed_query(clock))

    assert (reply.fault, reply.hang_seconds, reply.code) == (Fault.HANG, 12, None)


def test_injected_malformed_json_is_http_200_that_does_not_parse(clock: FakeClock) -> None:
    reply = make_service(clock, faults=FaultSettings(malformed_json_rate=1.0)).handle("/", signed_query(clock))

    assert (reply.http_status, reply.code, reply.fault) == (200, None, Fault.MALFORMED_JSON)
    assert reply.body.startswith(b'{"Code":0')
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        reply.json()


@pytest.mark.parametrize(("knob", "code"), [("code_1000_rate", 1000), ("code_6_rate", 6)])
def test_injected_codes_replace_the_answer(clock: FakeClock, knob: str, code: int) -> None:
    service = make_service(clock, faults=FaultSettings(**{knob: 1.0}))

    body = service.handle("/", signed_query(clock)).json()

    assert body["Code"] == code
    assert body.get("Data") == ({} if code == 6 else None)


def test_injected_code_6_does_not_advance_the_task_timeline(clock: FakeClock) -> None:
    service = make_service(clock, faults=FaultSettings(code_6_rate=1.0))
    service.handle("/", signed_query(clock))
    clock.advance(20)
    service.faults.replace_settings(FaultSettings())

    assert service.handle("/", signed_query(clock)).json()["Data"]["Tencent"]["Status"] == "PROCESSING"


# --- call log ------------------------------------------------------------------------------------


def test_recorded_calls_hold_what_was_asked_and_answered_but_no_secret(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service(clock)
    caplog.set_level(logging.DEBUG, logger="devstack.zego_simulator")
    reply = service.handle("/", signed_query(clock))

    record = service.record(reply, 0.002)

    assert service.call_log.records() == [record]
    assert (record.app_id, record.task_id, record.vendor, record.action) == (
        str(APP_ID),
        COMPOSE.task_id,
        "Tencent",
        "DescribeMediaTask",
    )
    assert (record.code, record.http_status, record.fault, record.latency_seconds) == (0, 200, None, 0.002)
    assert record.monotonic == clock.monotonic()
    assert SECRET not in repr(record.as_dict()) + caplog.text + repr(service)
    assert caplog.records


def test_a_call_without_an_answer_is_recorded_without_code_or_status(clock: FakeClock) -> None:
    service = make_service(clock, faults=FaultSettings(hang_rate=1.0))

    record = service.record(service.handle("/", signed_query(clock)), 30.0, answered=False)

    assert (record.code, record.http_status, record.fault) == (None, None, "hang")


def test_the_given_call_log_is_the_one_written_even_while_empty(clock: FakeClock) -> None:
    log = CallLog()
    service = ZegoService(
        TaskBook(),
        {APP_ID: SECRET},
        call_log=log,
        monotonic=clock.monotonic,
        wall_clock=lambda: clock.now().timestamp(),
    )

    service.record(service.handle("/", signed_query(clock)), 0.0)

    assert service.call_log is log
    assert [record.code for record in log.records()] == [2]  # unknown Tencent task
