"""The emulator's dispatcher finds a request's backend without listing moto's package per request
(devstack.emulator.speed_up_dispatch), and still routes every service as before."""

from __future__ import annotations

import os

import boto3
import pytest

from devstack.emulator import AwsEmulator

pytestmark = pytest.mark.integration


def _one_request_per_service() -> None:
    assert boto3.client("dynamodb").list_tables()["TableNames"] == []
    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []
    assert boto3.client("events").list_event_buses()["EventBuses"]


def test_requests_are_routed_without_listing_motos_package(
    aws_env: AwsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import moto

    package = os.path.dirname(moto.__file__)
    # The first request of a service loads its model once (moto looks for models of its own then).
    _one_request_per_service()
    listings: list[str] = []
    original = os.listdir

    def counted(path: str) -> list[str]:
        listings.append(path)
        return original(path)

    monkeypatch.setattr(os, "listdir", counted)
    _one_request_per_service()
    assert package not in listings
