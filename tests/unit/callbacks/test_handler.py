"""functions/callbacks/app.py as Lambda runs it: API Gateway REST proxy events in, proxy responses out.

The entry point is loaded by path (``devstack.handlers``), configured from the environment at its first
invocation, over moto; only its clock is the test's, so the test can sign with a timestamp the receiver
accepts. The log lines are read through the handler's own Powertools formatter, the metrics from the
EMF blobs on stdout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from devstack.handlers import load_function_module
from devstack.lambda_context import LocalLambdaContext
from tests.support.clock import FakeClock
from tests.support.powertools_logs import LogLines, captured_log_lines
from tests.support.zego_callbacks import (
    CALLBACK_SECRET,
    NONCE,
    TENCENT_MERGE,
    callback_event,
    form_body,
    json_body,
    signed,
    tencent_compose,
)
from zego_media_tasks.callbacks.settings import CallbackSettings
from zego_media_tasks.callbacks.wiring import build_receiver
from zego_media_tasks.config.environment import SettingsError
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.store.task_store import TaskStore
from zego_media_tasks.zego.callbacks import DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES_LIMIT

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def app_module(receiver_env: dict[str, str], clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of the entry point with the function's environment; the receiver it builds from that
    environment reads the test's clock."""
    for name, value in receiver_env.items():
        monkeypatch.setenv(name, value)
    module = load_function_module("callbacks", "callbacks_app_under_test")
    # Powertools configures a named logger once per process and leaves it alone after: a local stack that an
    # earlier test ran under this service name (at WARNING) would otherwise keep the level this test sets.
    module.logger.setLevel(receiver_env["POWERTOOLS_LOG_LEVEL"])
    monkeypatch.setattr(module, "build_receiver", lambda settings: build_receiver(settings, clock=clock))
    return module


@pytest.fixture
def invoke(app_module: ModuleType) -> Invoke:
    context = LocalLambdaContext(function_name="CallbackFunction")

    def run(event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = app_module.lambda_handler(event, context)
        return response

    return run


@pytest.fixture
def log_lines(app_module: ModuleType) -> Iterator[LogLines]:
    """The handler's log lines as JSON, formatted by its own Powertools formatter at logging time."""
    with captured_log_lines(app_module.logger) as lines:
        yield lines


def emf_blobs(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if '"_aws"' in line]


def metric_dimensions(blobs: list[dict[str, Any]], name: str) -> list[list[str]]:
    """The dimension sets ``name`` was emitted with, one per blob holding it."""
    found: list[list[str]] = []
    for blob in blobs:
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            if name in (metric["Name"] for metric in directive["Metrics"]):
                found.extend(sorted(dimensions) for dimensions in directive["Dimensions"])
    return found


def body_of(response: dict[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(response["body"])
    return parsed


def test_a_signed_json_callback_is_applied(invoke: Invoke, clock: FakeClock, receiver_env: dict[str, str]) -> None:
    response = invoke(callback_event(json_body(signed(tencent_compose(), at=clock.now()))))
    assert response["statusCode"] == 200
    assert body_of(response) == {"outcome": "CREATED"}
    assert response["headers"]["Content-Type"] == "application/json"
    record = TaskStore(receiver_env["TABLE_NAME"]).get(TENCENT_MERGE, Vendor.TENCENT)
    assert record is not None
    assert record.status is TaskStatus.SUCCEEDED


def test_a_base64_encoded_body_is_decoded_first(invoke: Invoke, clock: FakeClock) -> None:
    fields = signed(tencent_compose(), at=clock.now())
    response = invoke(callback_event(json_body(fields), base64_encoded=True))
    assert (response["statusCode"], body_of(response)) == (200, {"outcome": "CREATED"})


def test_a_base64_encoded_form_body_is_decoded_first(invoke: Invoke, clock: FakeClock) -> None:
    fields = signed(tencent_compose(), at=clock.now())
    event = callback_event(form_body(fields), content_type="application/x-www-form-urlencoded", base64_encoded=True)
    assert invoke(event)["statusCode"] == 200


@pytest.mark.parametrize("over", [0, 1], ids=["at-the-bound", "one-byte-over"])
def test_a_body_at_the_default_bound_is_read_and_one_byte_more_is_413(
    invoke: Invoke, clock: FakeClock, receiver_env: dict[str, str], over: int
) -> None:
    # Given a signed callback padded to the default bound (CALLBACK_MAX_BODY_BYTES unset), or one byte more
    assert "CALLBACK_MAX_BODY_BYTES" not in receiver_env
    fields = signed(tencent_compose(padding=""), at=clock.now())
    fields["padding"] = "x" * (DEFAULT_MAX_BODY_BYTES + over - len(json_body(fields)))
    body = json_body(fields)
    assert len(body.encode()) == DEFAULT_MAX_BODY_BYTES + over

    response = invoke(callback_event(body))

    # Then at the bound it is read and applied; one byte over, it is refused for its size and nothing is written
    record = TaskStore(receiver_env["TABLE_NAME"]).get(TENCENT_MERGE, Vendor.TENCENT)
    if over:
        assert (response["statusCode"], body_of(response)["error"]["code"]) == (413, "OVERSIZE")
        assert record is None
    else:
        assert (response["statusCode"], body_of(response)) == (200, {"outcome": "CREATED"})
        assert record is not None
        assert record.status is TaskStatus.SUCCEEDED


def test_the_body_bound_can_be_raised_to_4_mib_and_no_further(receiver_env: dict[str, str]) -> None:
    # 4 MiB of callback still fits Lambda's 6 MB synchronous event, base64 and headers included
    assert MAX_BODY_BYTES_LIMIT == 4 * 1024 * 1024
    settings = CallbackSettings.from_env({**receiver_env, "CALLBACK_MAX_BODY_BYTES": str(MAX_BODY_BYTES_LIMIT)})
    assert settings.max_body_bytes == MAX_BODY_BYTES_LIMIT
    with pytest.raises(SettingsError) as caught:
        CallbackSettings.from_env({**receiver_env, "CALLBACK_MAX_BODY_BYTES": str(MAX_BODY_BYTES_LIMIT + 1)})
    assert "CALLBACK_MAX_BODY_BYTES" in str(caught.value)


def test_a_body_flagged_base64_that_is_not_is_unparseable(invoke: Invoke) -> None:
    event = callback_event("{not base64}")
    event["isBase64Encoded"] = True
    response = invoke(event)
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == "NOT_PARSEABLE"


def test_the_content_type_header_is_found_whatever_its_case(invoke: Invoke, clock: FakeClock) -> None:
    fields = signed(tencent_compose(), at=clock.now())
    event = callback_event(form_body(fields), content_type=None, headers={"content-type": "text/plain"})
    assert invoke(event)["statusCode"] == 200


def test_an_event_without_body_or_headers_is_400(invoke: Invoke) -> None:
    event = callback_event(None, content_type=None)
    event["headers"] = None
    response = invoke(event)
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == "NOT_PARSEABLE"


def test_a_refusal_answers_the_error_envelope(invoke: Invoke, clock: FakeClock) -> None:
    response = invoke(callback_event(json_body(signed(tencent_compose(), at=clock.now(), secret="wrong"))))
    assert response["statusCode"] == 401
    assert body_of(response) == {"error": {"code": "BAD_SIGNATURE", "message": "signature does not match"}}
    assert response["headers"]["Cache-Control"] == "no-store"


def test_the_table_unavailable_answers_503_with_retry_after(
    invoke: Invoke, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    response = invoke(callback_event(json_body(signed(tencent_compose(), at=clock.now()))))
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "2"
    assert body_of(response)["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_the_receiver_is_built_once_per_instance(app_module: ModuleType, invoke: Invoke) -> None:
    invoke(callback_event("{}"))
    first = app_module.receiver()
    invoke(callback_event("{}"))
    assert app_module.receiver() is first


def test_a_misconfigured_environment_fails_loudly_at_the_first_invocation(
    app_module: ModuleType, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZEGO_CALLBACK_SECRET")
    monkeypatch.delenv("TABLE_NAME")
    with pytest.raises(SettingsError) as caught:
        invoke(callback_event("{}"))
    assert "TABLE_NAME is required" in str(caught.value)
    assert "exactly one of ZEGO_CALLBACK_SECRET_ARN and ZEGO_CALLBACK_SECRET must be set" in str(caught.value)


def test_a_rejection_is_logged_with_its_reason_and_counted_by_reason(
    invoke: Invoke, clock: FakeClock, log_lines: LogLines, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke(callback_event(json_body(signed(tencent_compose(), at=clock.now(), secret="wrong"))))

    [line] = [line for line in log_lines() if line["message"] == "callback rejected"]
    assert (line["level"], line["reason"], line["status_code"]) == ("WARNING", "BAD_SIGNATURE", 401)
    blobs = emf_blobs(capsys.readouterr().out)
    [by_reason] = [blob for blob in blobs if "Reason" in blob and "CallbacksRejected" in blob]
    assert by_reason["Reason"] == "BAD_SIGNATURE"
    # Counted by reason, and also in total under the service alone: the dimension set the template's
    # CallbacksRejectedAlarm watches (a metric with more dimensions is another metric to CloudWatch).
    assert sorted(metric_dimensions(blobs, "CallbacksRejected")) == [["Reason", "service"], ["service"]]


def test_an_applied_callback_is_logged_and_counted_with_its_transition(
    invoke: Invoke, clock: FakeClock, log_lines: LogLines, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke(callback_event(json_body(signed(tencent_compose(), at=clock.now()))))
    [line] = [line for line in log_lines() if line["message"] == "callback applied"]
    assert (line["outcome"], line["task_id"], line["vendor"], line["status"]) == (
        "CREATED",
        TENCENT_MERGE,
        "Tencent",
        "SUCCEEDED",
    )
    blobs = emf_blobs(capsys.readouterr().out)
    [accepted] = [blob for blob in blobs if "CallbacksAccepted" in blob]
    assert accepted["Outcome"] == "CREATED"
    [transition] = [blob for blob in blobs if "Transitions" in blob]
    assert (transition["From"], transition["To"]) == ("NEW", "SUCCEEDED")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda fields: {**fields, "signature": fields["signature"][::-1]}, id="bad-signature"),
        pytest.param(lambda fields: {**fields, "appid": "42"}, id="wrong-appid"),
        pytest.param(lambda fields: {**fields, "event": "unknown"}, id="unknown-event"),
        pytest.param(lambda fields: fields, id="applied"),
    ],
)
def test_no_secret_signature_or_nonce_reaches_a_log_line_or_a_metric(
    invoke: Invoke,
    clock: FakeClock,
    log_lines: LogLines,
    capsys: pytest.CaptureFixture[str],
    tamper: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    nonce = f"{NONCE}-9f8e7d6c"  # distinctive, so that finding it anywhere means it leaked
    fields = tamper(signed(tencent_compose(), at=clock.now(), nonce=nonce))

    invoke(callback_event(json_body(fields)))

    lines = log_lines()
    output = capsys.readouterr().out
    # The test ran: the cold-start line and the callback's own line were logged, and metrics emitted
    assert [line["message"] for line in lines][:1] == ["callback receiver configured"]
    assert len(lines) == 2
    assert emf_blobs(output)
    for text in (json.dumps(lines), output):
        for value in (CALLBACK_SECRET, fields["signature"], nonce):
            assert value not in text


def test_the_settings_repr_leaves_the_callback_secret_out(receiver_env: dict[str, str]) -> None:
    assert CALLBACK_SECRET not in repr(CallbackSettings.from_env(receiver_env))
