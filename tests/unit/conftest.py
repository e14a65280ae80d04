"""Unit tests cannot reach any network: every socket is refused (Unix sockets stay allowed).

AWS, where a unit test needs it, is moto's in-process ``mock_aws``: boto3 calls never open a socket.
"""

from __future__ import annotations

from collections.abc import Iterator

# The X-Ray SDK creates its UDP emitter socket object when first imported (Powertools' Tracer imports it
# even with tracing disabled). Importing it here, at collection time, keeps that out of the tests.
import aws_xray_sdk.core  # noqa: F401
import pytest
from moto import mock_aws
from pytest_socket import disable_socket, enable_socket

from devstack.resources import ProvisionedStack, provision


@pytest.fixture(autouse=True)
def _no_network() -> object:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture
def moto_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProvisionedStack]:
    """The template's tables and queues in moto's in-process mock."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield provision(prefix="unit")
