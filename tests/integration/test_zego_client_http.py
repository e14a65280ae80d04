"""ZegoClient over real HTTP on loopback, against a stub that checks every signature on its own.

The stub recomputes ``md5(AppId + SignatureNonce + ServerSecret + Timestamp)`` with hashlib (it does not
use our signer) and answers ``Code 100000005`` when it does not match, as ZEGO would. Each test scripts
the stub's answer: a fixture body, an HTTP status, a hang, a dropped connection.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.fixture_files import ZEGO_RESPONSES
from tests.support.zego_contract import DECISIVE_HTTP_STATUSES
from tests.support.zego_requests import request_signature
from zego_media_tasks.domain.outcome import OutcomeKind
from zego_media_tasks.domain.status import TaskStatus, Vendor
from zego_media_tasks.zego.client import ZegoClient
from zego_media_tasks.zego.settings import ZegoSettings, build_client

pytestmark = pytest.mark.integration

APP_ID = 1234567890
SECRET = "S3CR3T-integration-71c0a9e2f4"
READ_TIMEOUT = 0.3
HANG_SECONDS = 3.0
"""Far longer than READ_TIMEOUT; the stub gives up earlier when the test ends."""

TENCENT_TASK = "1500020831-procedurev2-58ed61fcdbb0f78a0bf15cabd8ae4713tt0"
HUAWEI_TASK = "289665200"


@dataclass
class Seen:
    """One request as the stub received it."""

    params: dict[str, str]
    raw_path: str
    headers: dict[str, str]
    client_port: int
    signature_valid: bool


Behaviour = Callable[["StubHandler"], None]


@dataclass
class StubState:
    behaviour: Behaviour
    secret: str = SECRET
    seen: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.state = StubState(behaviour=serve_fixture("tencent-transcode-processing.json"))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so that connection reuse is observable
    timeout = 10  # an idle keep-alive connection is dropped after this
    server: StubServer

    def do_GET(self) -> None:
        state = self.server.state
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        valid = independent_signature_check(params, state.secret)
        state.seen.append(
            Seen(
                params=params,
                raw_path=self.path,
                headers=dict(self.headers.items()),
                client_port=self.client_address[1],
                signature_valid=valid,
            )
        )
        try:
            if not valid:
                self.send_body(200, json.dumps({"Code": 100000005, "Message": "signature wrong"}).encode())
            else:
                state.behaviour(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up first (timeouts)

    def send_body(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: test output should show assertions, not access logs."""


def independent_signature_check(params: dict[str, str], secret: str) -> bool:
    """ZEGO's rule, recomputed here without our signer."""
    try:
        expected = request_signature(params["AppId"], params["SignatureNonce"], secret, params["Timestamp"])
    except KeyError:
        return False
    return params.get("Signature") == expected and params.get("SignatureVersion") == "2.0"


def serve_fixture(name: str, status: int = 200) -> Behaviour:
    body = (ZEGO_RESPONSES / name).read_bytes()
    return lambda handler: handler.send_body(status, body)


def serve_bytes(status: int, body: bytes, content_type: str = "text/html") -> Behaviour:
    return lambda handler: handler.send_body(status, body, content_type)


def hang_before_headers(handler: StubHandler) -> None:
    handler.server.state.release.wait(HANG_SECONDS)
    handler.close_connection = True


def hang_mid_body(handler: StubHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "4096")
    handler.end_headers()
    handler.wfile.write(b'{"Code": 0, "Data": {')
    handler.wfile.flush()
    handler.server.state.release.wait(HANG_SECONDS)
    handler.close_connection = True


def drop_connection(handler: StubHandler) -> None:
    handler.close_connection = True  # no status line at all: the socket just closes


def redirect(handler: StubHandler) -> None:
    handler.send_response(302)
    handler.send_header("Location", handler.server.endpoint + "/elsewhere")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


@pytest.fixture(scope="module")
def server() -> Iterator[StubServer]:
    stub = StubServer()
    thread = threading.Thread(target=stub.serve_forever, name="zego-stub", daemon=True)
    thread.start()
    yield stub
    stub.state.release.set()
    stub.shutdown()
    stub.server_close()
    thread.join(timeout=5)


@pytest.fixture
def stub(server: StubServer) -> Iterator[StubServer]:
    server.state = StubState(behaviour=serve_fixture("tencent-transcode-processing.json"))
    yield server
    server.state.release.set()  # free any handler still hanging


def client_for(endpoint: str, *, secret: str = SECRET, is_test: bool | None = None) -> ZegoClient:
    settings = ZegoSettings(
        app_id=APP_ID,
        server_secret=secret,
        endpoint=endpoint,
        is_test=is_test,
        connect_timeout=1.0,
        read_timeout=READ_TIMEOUT,
    )
    return build_client(settings)


@pytest.fixture
def client(stub: StubServer) -> Iterator[ZegoClient]:
    zego = client_for(stub.endpoint)
    yield zego
    zego.close()


# --- the wire format ----------------------------------------------------------------------------------


def test_signed_request_is_accepted_and_parsed(stub: StubServer, client: ZegoClient) -> None:
    outcome = client.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.SUCCESS
    assert outcome.snapshot is not None
    assert outcome.snapshot.status is TaskStatus.PROCESSING
    assert outcome.zego_request_id == "3574501647605445342"
    (seen,) = stub.state.seen
    assert seen.signature_valid
    assert seen.raw_path.startswith("/?Action=DescribeMediaTask&")
    assert seen.params["TaskId"] == TENCENT_TASK
    assert seen.params["Vendor"] == "Tencent"
    assert seen.params["AppId"] == str(APP_ID)
    assert re.fullmatch(r"[0-9a-f]{16}", seen.params["SignatureNonce"])
    assert abs(int(seen.params["Timestamp"]) - time.time()) < 60
    assert "IsTest" not in seen.params


def test_the_secret_never_travels(stub: StubServer, client: ZegoClient) -> None:
    client.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    (seen,) = stub.state.seen
    assert SECRET not in seen.raw_path
    assert SECRET not in json.dumps(seen.headers)


def test_huawei_task(stub: StubServer, client: ZegoClient) -> None:
    stub.state.behaviour = serve_fixture("huawei-snapshot-succeeded.json")

    outcome = client.describe_media_task(HUAWEI_TASK, Vendor.HUAWEI)

    assert outcome.snapshot is not None
    assert outcome.snapshot.status is TaskStatus.SUCCEEDED
    assert outcome.snapshot.vendor_ended_at == "2024-11-18T06:54:30.000Z"
    assert stub.state.seen[0].params["Vendor"] == "Huawei"


def test_each_call_is_signed_afresh_over_one_kept_alive_connection(stub: StubServer, client: ZegoClient) -> None:
    for _ in range(3):
        assert client.describe_media_task(TENCENT_TASK, Vendor.TENCENT).kind is OutcomeKind.SUCCESS

    nonces = {seen.params["SignatureNonce"] for seen in stub.state.seen}
    ports = {seen.client_port for seen in stub.state.seen}
    assert len(nonces) == 3
    assert all(seen.signature_valid for seen in stub.state.seen)
    assert len(ports) == 1  # one Session, one pooled connection


def test_is_test_is_sent_when_configured(stub: StubServer) -> None:
    with client_for(stub.endpoint, is_test=True) as zego:
        zego.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    assert stub.state.seen[0].params["IsTest"] == "true"


def test_wrong_secret_is_a_configuration_problem(stub: StubServer) -> None:
    with client_for(stub.endpoint, secret="not-the-secret") as zego:
        outcome = zego.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    assert not stub.state.seen[0].signature_valid
    assert outcome.kind is OutcomeKind.CONFIGURATION
    assert outcome.error is not None
    assert outcome.error.code == "100000005"


# --- answers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "code"),
    [
        ("error-too-frequent.json", OutcomeKind.THROTTLED, "6"),
        ("error-auth-failed.json", OutcomeKind.CONFIGURATION, "7"),
        ("edge-cases/tencent-mismatched-task-id.json", OutcomeKind.TRANSIENT, "BAD_RESPONSE"),
    ],
)
def test_zego_error_bodies(stub: StubServer, client: ZegoClient, name: str, kind: OutcomeKind, code: str) -> None:
    stub.state.behaviour = serve_fixture(name)

    outcome = client.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    assert outcome.kind is kind
    assert outcome.error is not None
    assert outcome.error.code == code


@pytest.mark.parametrize(("status", "kind"), sorted(DECISIVE_HTTP_STATUSES.items()))
def test_http_statuses(stub: StubServer, client: ZegoClient, status: int, kind: OutcomeKind) -> None:
    stub.state.behaviour = serve_bytes(status, (ZEGO_RESPONSES / "edge-cases" / "gateway-error.html").read_bytes())

    outcome = client.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    assert outcome.kind is kind
    assert outcome.error is not None
    assert outcome.error.code == f"HTTP_{status}"


def test_non_json_body(stub: StubServer, client: ZegoClient) -> None:
    stub.state.behaviour = serve_bytes(200, b"<html>maintenance</html>")

    outcome = client.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == "BAD_RESPONSE"


def test_redirect_is_not_followed(stub: StubServer, client: ZegoClient) -> None:
    stub.state.behaviour = redirect

    outcome = client.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    assert outcome.error is not None
    assert outcome.error.code == "HTTP_302"
    assert len(stub.state.seen) == 1


# --- the network failing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("behaviour", [hang_before_headers, hang_mid_body], ids=["before-headers", "mid-body"])
def test_hang_longer_than_the_read_timeout_is_a_timeout(
    stub: StubServer, client: ZegoClient, behaviour: Behaviour
) -> None:
    stub.state.behaviour = behaviour
    started = time.monotonic()

    outcome = client.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    elapsed = time.monotonic() - started
    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == "TIMEOUT"
    assert READ_TIMEOUT <= elapsed < HANG_SECONDS


def test_client_recovers_after_a_timeout(stub: StubServer, client: ZegoClient) -> None:
    stub.state.behaviour = hang_before_headers
    client.describe_media_task(TENCENT_TASK, Vendor.TENCENT)
    stub.state.release.set()
    stub.state.behaviour = serve_fixture("tencent-transcode-processing.json")

    assert client.describe_media_task(TENCENT_TASK, Vendor.TENCENT).kind is OutcomeKind.SUCCESS


def test_dropped_connection_is_not_retried(stub: StubServer, client: ZegoClient) -> None:
    stub.state.behaviour = drop_connection

    outcome = client.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == "CONNECTION"
    assert len(stub.state.seen) == 1


def test_refused_connection() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    # The port is free again: nothing listens there.
    with client_for(f"http://127.0.0.1:{closed_port}") as zego:
        outcome = zego.describe_media_task(TENCENT_TASK, Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.error is not None
    assert outcome.error.code == "CONNECTION"
