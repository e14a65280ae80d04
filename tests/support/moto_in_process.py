"""The template's resources in moto's in-process mock (``mock_aws``): boto3 calls never open a socket, and
nothing can reach real AWS (dummy credentials, no endpoint). For unit and fuzz tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from moto import mock_aws

from devstack.emulator import LOCAL_CREDENTIALS, LOCAL_REGION
from devstack.resources import ProvisionedStack, provision


@contextmanager
def provisioned_in_process(patch: pytest.MonkeyPatch, prefix: str) -> Iterator[ProvisionedStack]:
    """The template's tables and queues in moto's in-process mock while the block runs; ``patch`` sets the
    environment boto3 reads (and undoes it when the caller's patch ends)."""
    patch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {"AWS_DEFAULT_REGION": LOCAL_REGION, "AWS_REGION": LOCAL_REGION, **LOCAL_CREDENTIALS}.items():
        patch.setenv(name, value)
    with mock_aws():
        yield provision(prefix=prefix)
