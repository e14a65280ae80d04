"""ZegoSettings from the environment, the secret sources, and build_client's wiring."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.support.zego_requests import request_signature
from tests.unit.zego.canned_transport import Canned, CannedTransport
from zego_media_tasks.config.environment import SettingsError
from zego_media_tasks.domain.outcome import OutcomeKind
from zego_media_tasks.domain.status import Vendor
from zego_media_tasks.zego.client import SecretUnavailableError, ZegoClient
from zego_media_tasks.zego.settings import (
    ZegoSettings,
    build_client,
    secrets_manager_provider,
    server_secret_from,
    static_secret_provider,
)

ARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:zego/server-secret-AbCdEf"
SECRET = "S3CR3T-settings-4b7e19c0d2"
FIXTURE_BODY = json.dumps(
    {"Code": 0, "RequestId": "r", "Data": {"Tencent": {"TaskId": "task-1", "Status": "WAITING"}}}
).encode()


def env(**overrides: str) -> dict[str, str]:
    base = {"ZEGO_APP_ID": "1234567890", "ZEGO_SERVER_SECRET_ARN": ARN}
    base.update(overrides)
    return {name: value for name, value in base.items() if value != "<unset>"}


def problems_of(environ: dict[str, str]) -> str:
    with pytest.raises(SettingsError, match="invalid ZEGO settings") as raised:
        ZegoSettings.from_env(environ)
    return str(raised.value)


# --- from_env ------------------------------------------------------------------------------------------


def test_minimal_environment_takes_the_defaults() -> None:
    settings = ZegoSettings.from_env(env())

    assert settings == ZegoSettings(
        app_id=1234567890,
        server_secret_arn=ARN,
        endpoint="https://rtc-api.zego.im",
        is_test=None,
        connect_timeout=3.05,
        read_timeout=10.0,
        secret_cache_seconds=300,
    )


def test_every_variable_is_read() -> None:
    settings = ZegoSettings.from_env(
        env(
            ZEGO_ENDPOINT="https://rtc-api-sgp.zego.im",
            ZEGO_IS_TEST="TRUE",
            ZEGO_CONNECT_TIMEOUT_SECONDS="1.5",
            ZEGO_READ_TIMEOUT_SECONDS="4",
            SECRET_CACHE_SECONDS="60",
        )
    )

    assert (settings.endpoint, settings.is_test) == ("https://rtc-api-sgp.zego.im", True)
    assert (settings.connect_timeout, settings.read_timeout, settings.secret_cache_seconds) == (1.5, 4.0, 60)


def test_plain_secret_for_local_runs() -> None:
    settings = ZegoSettings.from_env(env(ZEGO_SERVER_SECRET_ARN="<unset>", ZEGO_SERVER_SECRET=SECRET))

    assert settings.server_secret == SECRET
    assert settings.server_secret_arn is None


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("False", False), ("", None)])
def test_is_test_values(raw: str, expected: bool | None) -> None:
    assert ZegoSettings.from_env(env(ZEGO_IS_TEST=raw)).is_test is expected


def test_empty_variables_count_as_unset() -> None:
    settings = ZegoSettings.from_env(
        env(ZEGO_ENDPOINT="", ZEGO_SERVER_SECRET="", ZEGO_READ_TIMEOUT_SECONDS="", SECRET_CACHE_SECONDS=" ")
    )

    assert settings.endpoint == "https://rtc-api.zego.im"
    assert settings.read_timeout == 10.0
    assert settings.secret_cache_seconds == 300


def test_app_id_may_carry_surrounding_white_space() -> None:
    assert ZegoSettings.from_env(env(ZEGO_APP_ID=" 42\n")).app_id == 42


@pytest.mark.parametrize(
    ("overrides", "mentioned"),
    [
        ({"ZEGO_APP_ID": "<unset>"}, "ZEGO_APP_ID is required"),
        ({"ZEGO_APP_ID": ""}, "ZEGO_APP_ID is required"),
        ({"ZEGO_APP_ID": "12a"}, "ZEGO_APP_ID must be a whole number from 1 to 4294967295"),
        ({"ZEGO_APP_ID": "-5"}, "ZEGO_APP_ID must be a whole number from 1 to 4294967295"),
        ({"ZEGO_APP_ID": "1e5"}, "ZEGO_APP_ID must be a whole number from 1 to 4294967295"),
        ({"ZEGO_APP_ID": "١٢٣"}, "ZEGO_APP_ID must be a whole number from 1 to 4294967295"),
        ({"ZEGO_APP_ID": "0"}, "ZEGO_APP_ID must be a whole number from 1 to 4294967295"),
        ({"ZEGO_APP_ID": "4294967296"}, "ZEGO_APP_ID must be a whole number from 1 to 4294967295"),
        ({"ZEGO_ENDPOINT": "http://rtc-api.zego.im"}, "ZEGO_ENDPOINT"),
        ({"ZEGO_ENDPOINT": "rtc-api.zego.im"}, "ZEGO_ENDPOINT"),
        ({"ZEGO_IS_TEST": "yes"}, "ZEGO_IS_TEST must be 'true' or 'false'"),
        ({"ZEGO_CONNECT_TIMEOUT_SECONDS": "abc"}, "ZEGO_CONNECT_TIMEOUT_SECONDS must be a number"),
        ({"ZEGO_CONNECT_TIMEOUT_SECONDS": "0"}, "ZEGO_CONNECT_TIMEOUT_SECONDS must be a number of seconds more than 0"),
        ({"ZEGO_READ_TIMEOUT_SECONDS": "-1"}, "ZEGO_READ_TIMEOUT_SECONDS must be a number of seconds more than 0"),
        ({"ZEGO_READ_TIMEOUT_SECONDS": "nan"}, "ZEGO_READ_TIMEOUT_SECONDS"),
        ({"ZEGO_READ_TIMEOUT_SECONDS": "inf"}, "ZEGO_READ_TIMEOUT_SECONDS"),
        ({"ZEGO_SERVER_SECRET_ARN": "<unset>"}, "one of ZEGO_SERVER_SECRET_ARN"),
        ({"ZEGO_SERVER_SECRET": SECRET}, "exactly one of ZEGO_SERVER_SECRET_ARN and ZEGO_SERVER_SECRET must be set"),
        ({"ZEGO_SERVER_SECRET_ARN": "zego/server-secret"}, "must be a Secrets Manager ARN"),
        ({"ZEGO_SERVER_SECRET_ARN": "arn:aws:ssm:eu-central-1:1:parameter/x"}, "must be a Secrets Manager ARN"),
        ({"SECRET_CACHE_SECONDS": "-1"}, "SECRET_CACHE_SECONDS must be a whole number"),
        ({"SECRET_CACHE_SECONDS": "2.5"}, "SECRET_CACHE_SECONDS must be a whole number"),
    ],
)
def test_each_problem_is_named(overrides: dict[str, str], mentioned: str) -> None:
    assert mentioned in problems_of(env(**overrides))


def test_every_problem_is_listed_at_once() -> None:
    message = problems_of(
        {
            "ZEGO_ENDPOINT": "http://example.com",
            "ZEGO_IS_TEST": "maybe",
            "ZEGO_READ_TIMEOUT_SECONDS": "soon",
            "ZEGO_CONNECT_TIMEOUT_SECONDS": "0",
            "SECRET_CACHE_SECONDS": "forever",
        }
    )

    for name in (
        "ZEGO_APP_ID",
        "ZEGO_ENDPOINT",
        "ZEGO_IS_TEST",
        "ZEGO_READ_TIMEOUT_SECONDS",
        "ZEGO_CONNECT_TIMEOUT_SECONDS",
        "SECRET_CACHE_SECONDS",
        "ZEGO_SERVER_SECRET_ARN",
    ):
        assert name in message
    assert message.count("\n- ") == 7


def test_the_plain_secret_never_appears_in_reprs_or_errors() -> None:
    settings = ZegoSettings.from_env(env(ZEGO_SERVER_SECRET_ARN="<unset>", ZEGO_SERVER_SECRET=SECRET))
    message = problems_of(env(ZEGO_SERVER_SECRET=SECRET, ZEGO_APP_ID=SECRET, ZEGO_IS_TEST=SECRET))

    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in message


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(SettingsError, match="ZEGO_APP_ID") as raised:
        ZegoSettings(app_id=0, read_timeout=0)

    assert "ZEGO_READ_TIMEOUT_SECONDS" in str(raised.value)
    assert "ZEGO_SERVER_SECRET_ARN" in str(raised.value)


# --- secret values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        SECRET,
        f"  {SECRET}\n",
        SECRET.encode(),
        json.dumps({"ServerSecret": SECRET}),
        json.dumps({"ServerSecret": SECRET, "AppId": 1234567890}).encode(),
        {"ServerSecret": SECRET},
    ],
    ids=["plain", "padded", "bytes", "json", "json-bytes", "dict"],
)
def test_secret_value_shapes(value: object) -> None:
    assert server_secret_from(value) == SECRET


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        None,
        b"\xff\xfe" + SECRET.encode(),
        "{" + SECRET,
        json.dumps({"serverSecret": SECRET}),
        json.dumps({"ServerSecret": 12345}),
        json.dumps({"ServerSecret": ""}),
        {"Other": SECRET},
        42,
    ],
)
def test_unusable_secret_values_are_permanent_problems_that_never_show_the_value(value: object) -> None:
    with pytest.raises(SecretUnavailableError) as raised:
        server_secret_from(value)

    assert raised.value.permanent
    assert SECRET not in str(raised.value)


# --- Secrets Manager provider --------------------------------------------------------------------------


@pytest.fixture
def fake_get_secret(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Replace Powertools' get_secret with a JSON secret; the list records (name, kwargs) of every call."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def get_secret(name: str, **kwargs: Any) -> object:
        calls.append((name, kwargs))
        return json.dumps({"ServerSecret": SECRET})

    monkeypatch.setattr(parameters, "get_secret", get_secret)
    return calls


def _raise_like_powertools(error: Exception) -> GetParameterError:
    """Powertools wraps SDK errors without ``from``: the SDK error is the context."""
    try:
        raise error
    except Exception as exc:
        try:
            raise GetParameterError(str(exc))
        except GetParameterError as wrapped:
            return wrapped


def test_secrets_manager_provider_reads_with_the_cache_age(
    fake_get_secret: list[tuple[str, dict[str, Any]]],
) -> None:
    provider = secrets_manager_provider(ARN, max_age=120)

    assert fake_get_secret == []
    assert provider() == SECRET
    assert fake_get_secret == [(ARN, {"max_age": 120})]


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue"), True),
        (ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "GetSecretValue"), True),
        (ClientError({"Error": {"Code": "DecryptionFailure", "Message": "kms"}}, "GetSecretValue"), True),
        (ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "GetSecretValue"), False),
        (ClientError({"Error": {"Code": "InternalServiceError", "Message": "oops"}}, "GetSecretValue"), False),
        (EndpointConnectionError(endpoint_url="https://secretsmanager.eu-central-1.amazonaws.com"), False),
    ],
)
def test_secrets_manager_errors_are_classified(
    monkeypatch: pytest.MonkeyPatch, error: Exception, permanent: bool
) -> None:
    wrapped = _raise_like_powertools(error)

    def get_secret(name: str, **kwargs: Any) -> object:
        raise wrapped

    monkeypatch.setattr(parameters, "get_secret", get_secret)

    with pytest.raises(SecretUnavailableError) as raised:
        secrets_manager_provider(ARN, max_age=300)()

    assert raised.value.permanent is permanent
    assert "Secrets Manager" in str(raised.value)


def test_static_provider_returns_the_secret() -> None:
    assert static_secret_provider(SECRET)() == SECRET


# --- build_client ---------------------------------------------------------------------------------------


def signature_ok(url: str, secret: str) -> bool:
    params = dict(parse_qsl(urlsplit(url).query))
    return params["Signature"] == request_signature(
        params["AppId"], params["SignatureNonce"], secret, params["Timestamp"]
    )


def test_build_client_reads_the_secret_lazily_from_secrets_manager(
    fake_get_secret: list[tuple[str, dict[str, Any]]],
) -> None:
    transport = CannedTransport(Canned(body=FIXTURE_BODY))
    settings = ZegoSettings.from_env(env(SECRET_CACHE_SECONDS="30", ZEGO_IS_TEST="false"))

    client = build_client(settings, transport=transport)
    assert fake_get_secret == []

    outcome = client.describe_media_task("task-1", Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.SUCCESS
    assert fake_get_secret == [(ARN, {"max_age": 30})]
    assert signature_ok(transport.last_url, SECRET)
    assert "IsTest=false" in transport.last_url


def test_build_client_with_a_plain_secret() -> None:
    transport = CannedTransport(Canned(body=FIXTURE_BODY))
    settings = ZegoSettings(app_id=7, server_secret=SECRET, endpoint="http://127.0.0.1:9", read_timeout=0.5)

    client = build_client(settings, transport=transport)
    client.describe_media_task("task-1", Vendor.TENCENT)

    assert isinstance(client, ZegoClient)
    assert transport.last_url.startswith("http://127.0.0.1:9/?")
    assert transport.sent[-1].timeout == (3.05, 0.5)
    assert signature_ok(transport.last_url, SECRET)
    assert SECRET not in repr(client)


def test_build_client_turns_an_access_denied_secret_into_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    wrapped = _raise_like_powertools(
        ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue")
    )

    def get_secret(name: str, **kwargs: Any) -> object:
        raise wrapped

    monkeypatch.setattr(parameters, "get_secret", get_secret)
    transport = CannedTransport(Canned(body=FIXTURE_BODY))
    client = build_client(ZegoSettings.from_env(env()), transport=transport)

    outcome = client.describe_media_task("task-1", Vendor.TENCENT)

    assert outcome.kind is OutcomeKind.CONFIGURATION
    assert outcome.error is not None
    assert outcome.error.code == "SECRET_UNAVAILABLE"
    assert "AccessDeniedException" in outcome.error.message
    assert transport.sent == []
