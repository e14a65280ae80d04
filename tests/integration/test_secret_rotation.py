"""A rotated ZEGO ServerSecret is used within one failed call: the real ZEGO client reading its secret from
Secrets Manager (moto's server) through Powertools' cache, against the simulator over loopback, which
refuses the old secret with Code 100000005 once the secret is rotated in the console."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devstack.emulator import AwsEmulator
from devstack.zego_simulator import ZegoSimulator
from zego_media_tasks.domain.outcome import OutcomeKind
from zego_media_tasks.domain.status import Vendor
from zego_media_tasks.zego.client import ZegoClient
from zego_media_tasks.zego.settings import ZegoSettings, build_client

pytestmark = pytest.mark.integration

APP_ID = 1234567890
TASK = "1500020831-procedurev2-0bf15cabd8ae471358ed61fcdbb0f78att0"
OLD, NEW, LATER = "old-secret-0f3a8c1d", "new-secret-7be21a94", "console-only-secret-5d0e"


@pytest.fixture
def simulator() -> Iterator[ZegoSimulator]:
    with ZegoSimulator(apps={APP_ID: OLD}).start() as running:
        running.add_task({"task_id": TASK, "vendor": "Tencent", "event": "transcode", "stays": "PROCESSING"})
        yield running


@pytest.fixture
def secret_arn(aws_env: AwsEmulator) -> str:
    arn: str = boto3.client("secretsmanager").create_secret(
        Name="zego-server-secret", SecretString=f'{{"ServerSecret": "{OLD}"}}'
    )["ARN"]
    return arn


@pytest.fixture
def secret_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Each Secrets Manager read through Powertools, as its ``force_fetch`` flag (cache hits included).

    Powertools keeps its default secrets provider, and that provider's client for this test's emulator, for
    the whole process: it is dropped before and after, so that no later test reads through it."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    reads: list[bool] = []
    original = parameters.get_secret

    def counting(name: str, **options: Any) -> Any:
        reads.append(bool(options.get("force_fetch")))
        return original(name, **options)

    monkeypatch.setattr(parameters, "get_secret", counting)
    yield reads
    parameters.clear_caches()  # type: ignore[no-untyped-call]


@pytest.fixture
def client(simulator: ZegoSimulator, secret_arn: str, secret_reads: list[bool]) -> Iterator[ZegoClient]:
    settings = ZegoSettings(
        app_id=APP_ID, server_secret_arn=secret_arn, endpoint=simulator.url, secret_cache_seconds=300
    )
    with build_client(settings) as built:
        yield built


def rotate_in_secrets_manager(arn: str, secret: str) -> None:
    boto3.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=f'{{"ServerSecret": "{secret}"}}')


def codes(simulator: ZegoSimulator) -> list[int | None]:
    return [record.code for record in simulator.call_log.records()]


def test_the_new_secret_is_used_within_one_failed_call(
    client: ZegoClient, simulator: ZegoSimulator, secret_arn: str, secret_reads: list[bool]
) -> None:
    # Given a client that read the secret once and cached it for 300 s
    assert client.describe_media_task(TASK, Vendor.TENCENT).kind is OutcomeKind.SUCCESS
    # When the secret is rotated, in Secrets Manager and at ZEGO
    rotate_in_secrets_manager(secret_arn, NEW)
    simulator.service.rotate_secret(APP_ID, NEW)
    # Then the next call fails once with the cached secret, reads it afresh and succeeds with the new one
    assert client.describe_media_task(TASK, Vendor.TENCENT).kind is OutcomeKind.SUCCESS
    assert codes(simulator) == [0, 100000005, 0]
    assert secret_reads.count(True) == 1
    # and the calls after it use the new secret from the cache, with no further forced read
    assert client.describe_media_task(TASK, Vendor.TENCENT).kind is OutcomeKind.SUCCESS
    assert codes(simulator) == [0, 100000005, 0, 0]
    assert secret_reads.count(True) == 1


def test_a_secret_that_stays_wrong_is_a_configuration_error_and_does_not_hammer_secrets_manager(
    client: ZegoClient, simulator: ZegoSimulator, secret_reads: list[bool]
) -> None:
    # Given the secret rotated at ZEGO only (Secrets Manager still holds the old one)
    simulator.service.rotate_secret(APP_ID, LATER)
    # When calls keep failing
    outcomes = [client.describe_media_task(TASK, Vendor.TENCENT) for _ in range(5)]
    # Then each is a configuration error, the secret was read afresh once (it did not change, so no call was
    # repeated) and not again within the minute
    assert {(outcome.kind, outcome.error.code if outcome.error else None) for outcome in outcomes} == {
        (OutcomeKind.CONFIGURATION, "100000005")
    }
    assert codes(simulator) == [100000005] * 5
    assert secret_reads.count(True) == 1
