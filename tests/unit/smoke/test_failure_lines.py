"""``make smoke STACK=...`` that cannot check anything says so in one line and exits 1, never 0: without
credentials, without a region, and for a stack that does not exist (moto's CloudFormation, in process)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from moto import mock_aws
from smoke.__main__ import run

from devstack.emulator import LOCAL_CREDENTIALS

_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment where botocore finds no credentials anywhere (no files, no instance metadata)."""
    for name in _CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _failure(capsys: pytest.CaptureFixture[str], stack: str, region: str | None) -> str:
    out = io.StringIO()
    assert run(stack, region, out=out) == 1
    assert out.getvalue() == "", "nothing was checked, so nothing may look checked"
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_without_credentials_it_fails_with_one_line(no_credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    line = _failure(capsys, "zego-media-tasks", "ap-southeast-1")
    assert line == ("smoke: FAILED no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


def test_without_a_region_it_fails_with_one_line(
    no_credentials: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    line = _failure(capsys, "zego-media-tasks", None)
    assert line == "smoke: FAILED no AWS region: set AWS_DEFAULT_REGION or AWS_REGION (or the profile's region)"


def test_a_stack_that_does_not_exist_fails_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        line = _failure(capsys, "no-such-stack", "us-east-1")
    assert line == "smoke: FAILED stack no-such-stack in us-east-1 does not exist (check STACK and AWS_REGION)"
