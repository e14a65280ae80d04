"""Unit tests cannot reach any network: every socket is refused (Unix sockets stay allowed).

AWS, where a unit test needs it, is moto's in-process ``mock_aws``: boto3 calls never open a socket. Time,
where it matters, is a ``FakeClock`` the test moves (the ``clock`` fixture).
"""

from __future__ import annotations

from collections.abc import Iterator

# The X-Ray SDK creates its UDP emitter socket object when first imported (Powertools' Tracer imports it
# even with tracing disabled). Importing it here, at collection time, keeps that out of the tests.
import aws_xray_sdk.core  # noqa: F401
import pytest
from pytest_socket import disable_socket, enable_socket

from devstack.resources import ProvisionedStack
from tests.support.clock import FakeClock
from tests.support.moto_in_process import provisioned_in_process
from zego_media_tasks.store.task_store import TaskStore


@pytest.fixture(autouse=True)
def _no_network() -> object:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture
def moto_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProvisionedStack]:
    """The template's tables and queues in moto's in-process mock."""
    with provisioned_in_process(monkeypatch, prefix="unit") as stack:
        yield stack


@pytest.fixture
def task_store(moto_stack: ProvisionedStack) -> TaskStore:
    """The stack's tasks table through its store adapter."""
    return TaskStore(moto_stack.table_names["TasksTable"])


@pytest.fixture
def clock() -> FakeClock:
    """The clock a test moves by hand, injected wherever the code under test reads the time."""
    return FakeClock()
