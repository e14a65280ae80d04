"""make run names a port that is already taken."""

from __future__ import annotations

import socket

import pytest

from devstack.__main__ import UsageError, check_port_free

pytestmark = pytest.mark.integration


def test_a_port_in_use_is_a_usage_error_naming_it() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=f"port {port} is in use"):
            check_port_free(port)
