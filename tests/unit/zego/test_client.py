"""ZegoClient over a canned transport: the request on the wire, and how every ending becomes an outcome."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from urllib3 import HTTPConnectionPool
from urllib3.exceptions import ReadTimeoutError

from tests.support.clock import FakeClock
from tests.support.fixture_files import ZEGO_RESPONSES
from tests.support.snapshots import sample_snapshot_urls
from tests.support.zego_contract import DECISIVE_HTTP_STATUSES
from tests.support.zego_requests import request_signature
from tests.unit.zego.canned_transport import Canned, CannedTransport, Step
from zego_media_tasks.domain.outcome import CallOutcome, OutcomeKind
from zego_media_tasks.domain.ports import TaskDescriber
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.zego.client import (
    DEFAULT_ENDPOINT,
    MAX_BODY_BYTES,
    MAX_BODY_BYTES_LIMIT,
    MIN_BODY_BYTES,
    REGIONAL_ENDPOINTS,
    RESPONSE_TOO_LARGE,
    SecretUnavailableError,
    ZegoClient,
)

TASK_ID = "1500020831-procedurev2-58ed61fcdbb0f78a0bf15cabd8ae4713tt0"
SECRET = "S3CR3T-distinctive-9f2c41d7e0b8a6"  # appears nowhere but in the provider

# ZEGO's published signing vector, used end to end.
VECTOR_APP_ID = 12345
VECTOR_NONCE = "4fd24687296dd9f3"
VECTOR_SECRET = "9193cc662a4c0ec135ec71fb57194b38"
VECTOR_TIMESTAMP = 1615186943
VECTOR_SIGNATURE = "43e5cfcca828314675f91b001390566a"


def fixture(name: str) -> bytes:
    return (ZEGO_RESPONSES / name).read_bytes()


def ok() -> Canned:
    return Canned(body=fixture("tencent-transcode-processing.json"))


def make_client(
    *steps: Step,
    secret_provider: Callable[[], str] = lambda: SECRET,
    clock: FakeClock | None = None,
    **options: object,
) -> tuple[ZegoClient, CannedTransport]:
    transport = CannedTransport(*(steps or (ok(),)))
    client = ZegoClient(
        app_id=options.pop("app_id", 1234567890),  # type: ignore[arg-type]
        secret_provider=secret_provider,
        clock=clock or FakeClock(),
        transport=transport,
        **options,  # type: ignore[arg-type]
    )
    return client, transport


def query(request_url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(request_url).query, keep_blank_values=True))


def md5_signature(params: dict[str, str], secret: str) -> str:
    return request_signature(params["AppId"], params["SignatureNonce"], secret, params["Timestamp"])


# --- the request ------------------------------------------------------------------------------------


def test_client_is_a_task_describer() -> None:
    client, _ = make_client()
    describer: TaskDescriber = client  # checked by mypy

    assert describer.describe_media_task(TASK_ID, Vendor.TENCENT).kind is OutcomeKind.SUCCESS


def test_request_url_with_zegos_signing_vector() -> None:
    client, transport = make_client(
        app_id=VECTOR_APP_ID,
        secret_provider=lambda: VECTOR_SECRET,
        clock=FakeClock(datetime.fromtimestamp(VECTOR_TIMESTAMP, tz=UTC)),
        nonce_factory=lambda: VECTOR_NONCE,
    )

    client.describe_media_task("1234567890", Vendor.TENCENT)

    assert transport.last_url == (
        "https://rtc-api.zego.im/?Action=DescribeMediaTask&TaskId=1234567890&Vendor=Tencent&AppId=12345"
        "&SignatureNonce=4fd24687296dd9f3&Timestamp=1615186943&SignatureVersion=2.0"
        f"&Signature={VECTOR_SIGNATURE}"
    )
    assert transport.sent[-1].request.method == "GET"


def test_request_is_signed_with_the_values_it_sends() -> None:
    client, transport = make_client()

    client.describe_media_task(TASK_ID, Vendor.HUAWEI)

    params = query(transport.last_url)
    assert params["Signature"] == md5_signature(params, SECRET)
    assert params["Vendor"] == "Huawei"
    assert params["TaskId"] == TASK_ID
    assert params["AppId"] == "1234567890"
    assert re.fullmatch(r"[0-9a-f]{16}", params["SignatureNonce"])


def test_the_secret_is_never_sent() -> None:
    client, transport = make_client()

    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    request = transport.sent[-1].request
    assert SECRET not in (request.url or "")
    assert SECRET not in json.dumps(dict(request.headers))
    assert request.body is None


def test_every_call_has_a_fresh_nonce_and_timestamp() -> None:
    clock = FakeClock()
    client, transport = make_client(clock=clock)

    client.describe_media_task(TASK_ID, Vendor.TENCENT)
    clock.advance(2)
    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    first, second = (query(sent.request.url or "") for sent in transport.sent)
    assert first["SignatureNonce"] != second["SignatureNonce"]
    assert int(second["Timestamp"]) == int(first["Timestamp"]) + 2
    assert first["Signature"] != second["Signature"]
    assert int(first["Timestamp"]) == int(clock.now().timestamp()) - 2


def test_task_id_is_url_encoded() -> None:
    client, transport = make_client()
    odd_task_id = "a+b&c=d%e#f?g"

    client.describe_media_task(odd_task_id, Vendor.TENCENT)

    assert query(transport.last_url)["TaskId"] == odd_task_id


@pytest.mark.parametrize(("is_test", "expected"), [(True, "true"), (False, "false"), (None, None)])
def test_is_test_is_sent_only_when_configured(is_test: bool | None, expected: str | None) -> None:
    client, transport = make_client(is_test=is_test)

    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert query(transport.last_url).get("IsTest") == expected


@pytest.mark.parametrize(
    ("endpoint", "prefix"),
    [
        ("https://rtc-api-fra.zego.im", "https://rtc-api-fra.zego.im/?Action="),
        ("https://rtc-api-fra.zego.im/", "https://rtc-api-fra.zego.im/?Action="),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/?Action="),
        ("http://localhost:8080/zego/", "http://localhost:8080/zego/?Action="),
    ],
)
def test_request_goes_to_the_configured_endpoint(endpoint: str, prefix: str) -> None:
    client, transport = make_client(endpoint=endpoint)

    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert transport.last_url.startswith(prefix)


def test_default_endpoint_is_the_unified_address() -> None:
    client, transport = make_client()

    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert DEFAULT_ENDPOINT == "https://rtc-api.zego.im"
    assert transport.last_url.startswith("https://rtc-api.zego.im/?")


def test_regional_endpoints_are_documented_and_accepted() -> None:
    hosts = {urlsplit(url).hostname for url in REGIONAL_ENDPOINTS.values()}

    assert hosts == {f"rtc-api-{region}.zego.im" for region in ("sha", "hkg", "fra", "lax", "bom", "sgp")}
    for url in REGIONAL_ENDPOINTS.values():
        assert make_client(endpoint=url)[0].endpoint == url


def test_timeouts_default_to_connect_3_05_and_read_10_seconds() -> None:
    client, transport = make_client()

    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert transport.sent[-1].timeout == (3.05, 10.0)


def test_configured_timeouts_are_used() -> None:
    client, transport = make_client(connect_timeout=1, read_timeout=0.3)

    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert transport.sent[-1].timeout == (1.0, 0.3)


def test_requests_ask_for_json_and_name_the_client() -> None:
    client, transport = make_client()

    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    headers = transport.sent[-1].request.headers
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("zego-media-tasks/")


# --- answers ------------------------------------------------------------------------------------------


def test_success_answer_becomes_a_snapshot() -> None:
    client, _ = make_client(ok())

    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.SUCCESS
    assert outcome.snapshot is not None
    assert outcome.snapshot.status is TaskStatus.PROCESSING
    assert outcome.zego_request_id == "3574501647605445342"


@pytest.mark.parametrize(("status", "kind"), sorted(DECISIVE_HTTP_STATUSES.items()))
def test_http_status_becomes_its_outcome(status: int, kind: OutcomeKind) -> None:
    client, _ = make_client(Canned(status=status, body=b"<html>error</html>", reason="Error"))

    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert outcome.kind is kind
    assert outcome.error is not None
    assert outcome.error.code == f"HTTP_{status}"


def test_zego_error_code_in_http_200_wins() -> None:
    client, _ = make_client(Canned(body=fixture("error-auth-failed.json")))

    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.CONFIGURATION
    assert outcome.error is not None
    assert (outcome.error.code, outcome.error.message) == ("7", "auth failed")
    assert outcome.zego_request_id == "2237080460466033500"


def test_redirect_is_not_followed() -> None:
    client, transport = make_client(
        Canned(status=302, headers={"Location": "https://elsewhere.example/"}, reason="Found"), ok()
    )

    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert len(transport.sent) == 1
    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == "HTTP_302"


def test_a_body_over_the_bound_is_a_configuration_error_naming_the_bound() -> None:
    # Only a larger bound lets the task progress: the poller holds the message (DLQ, redrive), and no
    # cut answer ever decides the task.
    client, _ = make_client(Canned(body=b" " * (MAX_BODY_BYTES + 1)))

    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.CONFIGURATION
    assert outcome.error is not None
    assert outcome.error.code == RESPONSE_TOO_LARGE
    assert str(MAX_BODY_BYTES) in outcome.error.message
    assert "ZEGO_MAX_RESPONSE_BYTES" in outcome.error.message


def test_a_snapshot_answer_of_ten_thousand_urls_is_read_whole() -> None:
    urls = sample_snapshot_urls(10_000)
    block = {"TaskId": TASK_ID, "Event": "SampleSnapshot", "Status": "FINISH", "ThumbnailsUrl": urls}
    body = json.dumps({"Code": 0, "Message": "success", "RequestId": "r", "Data": {"Tencent": block}}).encode()
    assert len(body) > 1024 * 1024  # over the former 1 MiB cap
    client, _ = make_client(Canned(body=body))

    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.SUCCESS
    assert outcome.snapshot is not None
    assert outcome.snapshot.thumbnail_urls == tuple(urls)


def test_the_bound_is_the_configured_one() -> None:
    document = fixture("tencent-transcode-processing.json")
    bound = 64 * 1024
    at_bound, _ = make_client(Canned(body=document + b" " * (bound - len(document))), max_body_bytes=bound)
    over, _ = make_client(Canned(body=document + b" " * (bound + 1 - len(document))), max_body_bytes=bound)

    assert at_bound.describe_media_task(TASK_ID, Vendor.TENCENT).kind is OutcomeKind.SUCCESS
    outcome = over.describe_media_task(TASK_ID, Vendor.TENCENT)
    assert outcome.error is not None
    assert outcome.error.code == RESPONSE_TOO_LARGE


@pytest.mark.parametrize("bound", [0, MIN_BODY_BYTES - 1, MAX_BODY_BYTES_LIMIT + 1])
def test_an_unusable_bound_is_refused_at_construction(bound: int) -> None:
    with pytest.raises(ValueError, match="answer bound"):
        make_client(max_body_bytes=bound)


def test_oversized_error_page_is_still_decided_by_its_status() -> None:
    client, _ = make_client(Canned(status=429, body=b"x" * (MAX_BODY_BYTES + 1)))

    assert client.describe_media_task(TASK_ID, Vendor.TENCENT).kind is OutcomeKind.THROTTLED


def test_body_of_exactly_the_limit_is_read() -> None:
    document = fixture("tencent-transcode-processing.json")
    padded = document + b" " * (MAX_BODY_BYTES - len(document))
    client, _ = make_client(Canned(body=padded))

    assert client.describe_media_task(TASK_ID, Vendor.TENCENT).kind is OutcomeKind.SUCCESS


# --- transport failures --------------------------------------------------------------------------------

URL_IN_ERROR = f"https://rtc-api.zego.im/?Action=DescribeMediaTask&Signature=0123abcd&Secret={SECRET}"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (requests.exceptions.ConnectTimeout(f"connect timeout {URL_IN_ERROR}"), "TIMEOUT"),
        (requests.exceptions.ReadTimeout(f"read timeout {URL_IN_ERROR}"), "TIMEOUT"),
        (
            requests.exceptions.ConnectionError(
                ReadTimeoutError(HTTPConnectionPool("rtc-api.zego.im"), URL_IN_ERROR, "Read timed out.")
            ),
            "TIMEOUT",
        ),
        (requests.exceptions.ConnectionError(f"Max retries exceeded with url: {URL_IN_ERROR}"), "CONNECTION"),
        (requests.exceptions.SSLError(f"certificate verify failed {URL_IN_ERROR}"), "CONNECTION"),
        (requests.exceptions.ProxyError(f"proxy {URL_IN_ERROR}"), "CONNECTION"),
        (requests.exceptions.ChunkedEncodingError(f"broken {URL_IN_ERROR}"), "BAD_RESPONSE"),
        (requests.exceptions.ContentDecodingError(f"gzip {URL_IN_ERROR}"), "BAD_RESPONSE"),
        (requests.exceptions.RequestException(f"other {URL_IN_ERROR}"), "CONNECTION"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_transport_failure_is_transient_and_never_repeats_the_url(
    error: Exception, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = make_client(error)

    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == code
    assert "Signature=0123abcd" not in outcome.error.message
    assert "http" not in outcome.error.message
    assert "0123abcd" not in caplog.text
    assert SECRET not in caplog.text


def test_timeout_message_names_the_limit_that_expired() -> None:
    client, _ = make_client(requests.exceptions.ConnectTimeout(), connect_timeout=2.5)

    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert outcome.error is not None
    assert "2.5 s" in outcome.error.message


def test_failure_does_not_poison_the_next_call() -> None:
    client, _ = make_client(requests.exceptions.ConnectionError("reset"), ok())

    first = client.describe_media_task(TASK_ID, Vendor.TENCENT)
    second = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert (first.kind, second.kind) == (OutcomeKind.TRANSIENT, OutcomeKind.SUCCESS)


# --- the secret provider -------------------------------------------------------------------------------


def test_secret_is_not_read_at_construction() -> None:
    calls: list[int] = []

    def provider() -> str:
        calls.append(1)
        return SECRET

    client, _ = make_client(secret_provider=provider)
    assert calls == []

    client.describe_media_task(TASK_ID, Vendor.TENCENT)
    assert calls == [1]


def test_a_rotated_secret_is_used_by_the_next_call() -> None:
    secrets = iter(["old-secret", "new-secret"])
    client, transport = make_client(secret_provider=lambda: next(secrets))

    client.describe_media_task(TASK_ID, Vendor.TENCENT)
    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    first, second = (query(sent.request.url or "") for sent in transport.sent)
    assert first["Signature"] == md5_signature(first, "old-secret")
    assert second["Signature"] == md5_signature(second, "new-secret")


@pytest.mark.parametrize(("in_hand", "requests_sent"), [(["old-secret", "new-secret"], 2), (["old-secret"], 1)])
def test_a_refused_call_is_retried_when_another_secret_came_meanwhile(in_hand: list[str], requests_sent: int) -> None:
    # Given a client whose fresh read is refused as too recent (another call on another thread just made one,
    # and it brought the new secret into the shared cache), or whose secret stays the same
    held = iter(in_hand)
    current = {"secret": next(held)}

    def provider() -> str:
        secret = current["secret"]
        current["secret"] = next(held, secret)
        return secret

    refreshes: list[bool] = []

    def refresh() -> bool:
        refreshes.append(False)
        return False

    client, transport = make_client(
        Canned(body=fixture("error-auth-failed.json")), ok(), secret_provider=provider, secret_refresh=refresh
    )

    # When ZEGO refuses the call signed with the old secret
    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    # Then the call is made once more with the new secret, and succeeds; with no other secret, it is not
    assert refreshes == [False]
    assert len(transport.sent) == requests_sent
    last = query(transport.sent[-1].request.url or "")
    assert last["Signature"] == md5_signature(last, in_hand[-1])
    assert outcome.kind is (OutcomeKind.SUCCESS if requests_sent == 2 else OutcomeKind.CONFIGURATION)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (SecretUnavailableError("no such secret", permanent=True), OutcomeKind.CONFIGURATION),
        (SecretUnavailableError("throttled", permanent=False), OutcomeKind.TRANSIENT),
        (RuntimeError(f"boom {SECRET}"), OutcomeKind.TRANSIENT),
    ],
)
def test_secret_provider_failure_becomes_an_outcome_without_a_request(
    error: Exception, kind: OutcomeKind, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def provider() -> str:
        raise error

    client, transport = make_client(secret_provider=provider)

    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert outcome.kind is kind
    assert outcome.error is not None
    assert outcome.error.code == "SECRET_UNAVAILABLE"
    assert SECRET not in outcome.error.message
    assert SECRET not in caplog.text
    assert transport.sent == []


def test_empty_secret_is_a_configuration_problem() -> None:
    client, transport = make_client(secret_provider=lambda: "")

    outcome = client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.CONFIGURATION
    assert transport.sent == []


# --- the secret never leaks ----------------------------------------------------------------------------


@pytest.fixture
def every_kind_of_ending() -> list[Step]:
    return [
        ok(),
        Canned(body=fixture("error-auth-failed.json")),
        Canned(status=503, body=b"down"),
        Canned(body=b"not json"),
        requests.exceptions.ReadTimeout(URL_IN_ERROR),
        requests.exceptions.ConnectionError(URL_IN_ERROR),
    ]


def test_secret_and_signatures_never_reach_logs_reprs_or_outcomes(
    every_kind_of_ending: list[Step], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="zego_media_tasks")
    client, transport = make_client(*every_kind_of_ending)
    outcomes: list[CallOutcome] = []

    for _ in every_kind_of_ending:
        outcomes.append(client.describe_media_task(TASK_ID, Vendor.TENCENT))

    signatures = [query(sent.request.url or "")["Signature"] for sent in transport.sent]
    logged = caplog.text + " ".join(repr(record.__dict__) for record in caplog.records)
    visible = [logged, repr(client), str(client), *(repr(outcome) for outcome in outcomes)]
    for text in visible:
        assert SECRET not in text
        for signature in signatures:
            assert signature not in text
    assert "Signature=***" in logged
    assert len(caplog.records) >= len(every_kind_of_ending)


def test_masked_url_hides_only_the_signature() -> None:
    client, _ = make_client(endpoint="https://rtc-api-hkg.zego.im")

    url = client.masked_url({"Action": "DescribeMediaTask", "TaskId": "t 1", "Signature": "0123abcd"})

    assert url == "https://rtc-api-hkg.zego.im/?Action=DescribeMediaTask&TaskId=t+1&Signature=***"


@pytest.mark.parametrize(
    ("step", "level"),
    [
        (Canned(body=fixture("error-auth-failed.json")), logging.ERROR),
        (Canned(body=fixture("error-too-frequent.json")), logging.INFO),
        (Canned(status=503), logging.WARNING),
        (ok(), logging.DEBUG),
    ],
)
def test_outcome_log_level_says_who_must_act(step: Step, level: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="zego_media_tasks")
    client, _ = make_client(step)

    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert caplog.records[-1].levelno == level


def test_repr_names_the_endpoint_and_app_id_only() -> None:
    client, _ = make_client()

    assert repr(client) == (
        "ZegoClient(endpoint='https://rtc-api.zego.im', app_id=1234567890, is_test=None, "
        "connect_timeout=3.05, read_timeout=10.0)"
    )


def test_failures_are_logged_with_their_outcome_and_request_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="zego_media_tasks")
    client, _ = make_client(Canned(body=fixture("error-auth-failed.json")))

    client.describe_media_task(TASK_ID, Vendor.TENCENT)

    record = caplog.records[-1]
    assert record.levelno == logging.ERROR
    assert record.__dict__["zego_outcome"] == "CONFIGURATION"
    assert record.__dict__["zego_code"] == "7"
    assert record.__dict__["zego_request_id"] == "2237080460466033500"
    assert record.__dict__["zego_task_id"] == TASK_ID


# --- construction --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8080",
        "http://127.10.20.30",
        "http://[::1]:9000",
        "http://localhost:1234",
        "http://LOCALHOST",
        "https://rtc-api.zego.im",
        "https://10.0.0.5:8443",
    ],
)
def test_accepted_endpoints(endpoint: str) -> None:
    client, _ = make_client(endpoint=endpoint)

    assert client.endpoint == endpoint.rstrip("/")


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("http://rtc-api.zego.im", "loopback"),
        ("http://10.0.0.5:8080", "loopback"),
        ("http://128.0.0.1", "loopback"),
        ("http://localhost.example.com", "loopback"),
        ("http://[::2]", "loopback"),
        ("ftp://rtc-api.zego.im", "https://"),
        ("rtc-api.zego.im", "https://"),
        ("https://", "https://"),
        ("https://user:pw@rtc-api.zego.im", "credentials"),
        ("https://rtc-api.zego.im/?x=1", "query"),
        ("https://rtc-api.zego.im:99999", "valid URL"),
        ("https://rtc-api.zego.im:0", "port 0"),
    ],
)
def test_refused_endpoints(endpoint: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        make_client(endpoint=endpoint)


@pytest.mark.parametrize("app_id", [0, -1, 2**32, True])
def test_app_id_must_be_a_positive_uint32(app_id: int) -> None:
    with pytest.raises(ValueError, match="AppId"):
        make_client(app_id=app_id)


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf"), 901])
def test_timeouts_must_be_positive_and_bounded(seconds: float) -> None:
    with pytest.raises(ValueError, match="read timeout"):
        make_client(read_timeout=seconds)
    with pytest.raises(ValueError, match="connect timeout"):
        make_client(connect_timeout=seconds)


def test_every_construction_problem_is_listed_at_once() -> None:
    with pytest.raises(ValueError, match="AppId") as raised:
        make_client(app_id=0, endpoint="http://example.com", read_timeout=0)

    assert "loopback" in str(raised.value)
    assert "read timeout" in str(raised.value)


def test_close_releases_the_transport() -> None:
    client, transport = make_client()

    with client:
        client.describe_media_task(TASK_ID, Vendor.TENCENT)

    assert transport.closed
