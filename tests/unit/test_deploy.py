"""``make deploy``'s parameters (``python -m deploy``): the samconfig profile's overrides, plus only the
template parameters without a default, from their environment variable or asked for, checked before
``sam deploy`` runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from deploy.__main__ import (
    SAMCONFIG,
    DeployError,
    configured_overrides,
    deployed_parameters,
    environment_variable,
    overrides,
    required_parameters,
    stack_name,
)
from moto import mock_aws

from devstack.emulator import LOCAL_CREDENTIALS
from devstack.template import load_template

APP_ID = "1234567890"
SECRET_ARN = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:zego/server-secret-AbCdEf"
WITHOUT_SUFFIX = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:zego"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def test_only_the_zego_app_id_and_the_server_secret_arn_have_no_default(template: dict[str, Any]) -> None:
    assert required_parameters(template) == ["ZegoAppId", "ZegoServerSecretArn"]


def test_each_required_parameter_is_given_in_the_variable_the_functions_read_it_from(
    template: dict[str, Any],
) -> None:
    fed = {
        value["Ref"]: variable
        for resource in template["Resources"].values()
        for variable, value in resource.get("Properties", {}).get("Environment", {}).get("Variables", {}).items()
        if isinstance(value, dict) and "Ref" in value
    }
    for name in required_parameters(template):
        assert environment_variable(name) == fed[name]


def test_the_committed_profile_sets_nothing_so_both_are_asked_for(template: dict[str, Any]) -> None:
    asked: list[str] = []

    def ask(name: str, description: str) -> str:
        asked.append(name)
        assert description, "the prompt explains the parameter"
        return {"ZegoAppId": APP_ID, "ZegoServerSecretArn": f" {SECRET_ARN}\n"}[name]

    values = overrides(template, configured_overrides(SAMCONFIG, "default"), {}, ask)
    assert asked == ["ZegoAppId", "ZegoServerSecretArn"]
    assert values == {"ZegoAppId": APP_ID, "ZegoServerSecretArn": SECRET_ARN}


def test_the_profile_and_the_environment_answer_before_anyone_is_asked(
    template: dict[str, Any], tmp_path: Path
) -> None:
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(
        'version = 0.1\n[prod.deploy.parameters]\nparameter_overrides = ["ZegoAppId=42", "ApiAuthMode=API_KEY"]\n'
    )

    def never(name: str, description: str) -> str:
        raise AssertionError(f"asked for {name}")

    values = overrides(template, configured_overrides(samconfig, "prod"), {"ZEGO_SERVER_SECRET_ARN": SECRET_ARN}, never)
    assert values == {"ZegoAppId": "42", "ApiAuthMode": "API_KEY", "ZegoServerSecretArn": SECRET_ARN}


def test_a_profile_may_give_its_overrides_as_one_string(tmp_path: Path) -> None:
    samconfig = tmp_path / "samconfig.toml"
    overrides_line = f'parameter_overrides = "ZegoAppId={APP_ID} ZegoServerSecretArn={SECRET_ARN}"'
    samconfig.write_text(f"version = 0.1\n[default.deploy.parameters]\n{overrides_line}\n")
    assert configured_overrides(samconfig, "default") == {"ZegoAppId": APP_ID, "ZegoServerSecretArn": SECRET_ARN}


def test_without_a_terminal_a_missing_value_is_one_clear_error(template: dict[str, Any]) -> None:
    with pytest.raises(DeployError, match=r"^ZegoAppId has no default: set ZEGO_APP_ID, or add ZegoAppId=\.\.\."):
        overrides(template, {}, {}, None)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ZEGO_APP_ID": "zego", "ZEGO_SERVER_SECRET_ARN": SECRET_ARN}, "ZegoAppId must be a number"),
        ({"ZEGO_APP_ID": "0", "ZEGO_SERVER_SECRET_ARN": SECRET_ARN}, "ZegoAppId must be between 1 and 4294967295"),
        (
            {
                "ZEGO_APP_ID": APP_ID,
                "ZEGO_SERVER_SECRET_ARN": "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:zego",
            },
            "ZegoServerSecretArn the complete ARN of an existing Secrets Manager secret",
        ),
        ({"ZEGO_APP_ID": "12 34", "ZEGO_SERVER_SECRET_ARN": SECRET_ARN}, "ZegoAppId must be a non-empty value"),
    ],
)
def test_a_value_the_template_would_refuse_stops_before_the_deploy(
    template: dict[str, Any], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(DeployError, match=f"^{message}"):
        overrides(template, {}, environ, None)


def test_a_deployed_stack_keeps_its_values_so_nothing_is_asked_again(template: dict[str, Any]) -> None:
    def never(name: str, description: str) -> str:
        raise AssertionError(f"asked for {name}")

    assert overrides(template, {"ApiAuthMode": "API_KEY"}, {}, never, {"ZegoAppId", "ZegoServerSecretArn"}) == {
        "ApiAuthMode": "API_KEY"
    }


def test_the_deployed_parameters_are_read_from_cloudformation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {**LOCAL_CREDENTIALS, "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    body = {
        "Parameters": {"ZegoAppId": {"Type": "String"}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    }
    with mock_aws():
        boto3.client("cloudformation").create_stack(
            StackName="zego-media-tasks",
            TemplateBody=json.dumps(body),
            Parameters=[{"ParameterKey": "ZegoAppId", "ParameterValue": APP_ID}],
        )
        assert deployed_parameters(stack_name(SAMCONFIG, "default")) == {"ZegoAppId"}
        assert deployed_parameters("not-deployed-yet") == frozenset()
