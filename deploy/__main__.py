"""``python -m deploy [--config-env NAME]``: print the ``sam deploy --parameter-overrides`` tokens.

Prompts (on stderr, answered on stdin) only for the parameters without a default that neither the profile
nor the environment sets, and not at all for those the deployed stack already has (``sam deploy`` keeps a
deployed stack's value of a parameter it is not given); exits 1 with one line when one is missing without a
terminal to ask, or invalid.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from devstack.template import TEMPLATE_PATH, load_template

SAMCONFIG = TEMPLATE_PATH.parent / "samconfig.toml"


class DeployError(Exception):
    """A parameter is missing or invalid; one line."""


def environment_variable(parameter: str) -> str:
    """The variable a parameter can be given in: ``ZegoAppId`` -> ``ZEGO_APP_ID``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", parameter).upper()


def required_parameters(template: Mapping[str, Any]) -> list[str]:
    """The template's parameters without a default, in the template's order."""
    return [name for name, spec in template["Parameters"].items() if "Default" not in spec]


def _profile(samconfig: Path, config_env: str, command: str) -> dict[str, Any]:
    with samconfig.open("rb") as handle:
        config = tomllib.load(handle)
    profile = config.get(config_env, {})
    return {**profile.get("global", {}).get("parameters", {}), **profile.get(command, {}).get("parameters", {})}


def stack_name(samconfig: Path, config_env: str) -> str | None:
    """The stack ``sam deploy`` deploys with the profile."""
    name = _profile(samconfig, config_env, "deploy").get("stack_name")
    return str(name) if name else None


def deployed_parameters(name: str | None) -> frozenset[str]:
    """The parameters the stack ``name`` already has; empty when it does not exist or cannot be read (then
    ``sam deploy`` itself reports why)."""
    if not name:
        return frozenset()
    try:
        stack = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except (BotoCoreError, ClientError):
        return frozenset()
    return frozenset(item["ParameterKey"] for item in stack.get("Parameters", []))


def configured_overrides(samconfig: Path, config_env: str) -> dict[str, str]:
    """The profile's ``deploy.parameters.parameter_overrides`` (a list of ``Key=Value``, or one string)."""
    overrides = _profile(samconfig, config_env, "deploy").get("parameter_overrides", [])
    tokens = overrides.split() if isinstance(overrides, str) else list(overrides)
    pairs = dict(token.split("=", 1) for token in tokens if "=" in token)
    return {key.strip(): value.strip().strip("\"'") for key, value in pairs.items()}


def problem(spec: Mapping[str, Any], value: str) -> str | None:
    """Why the template would refuse ``value`` for the parameter ``spec`` (None: it would not)."""
    if not value or any(character.isspace() for character in value):
        return "must be a non-empty value without white space"
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(pattern, value) is None:
        return str(spec.get("ConstraintDescription", f"must match {pattern}")).strip()
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return "must be a number"
        if not float(spec.get("MinValue", number)) <= number <= float(spec.get("MaxValue", number)):
            return f"must be between {spec.get('MinValue')} and {spec.get('MaxValue')}"
    return None


def overrides(
    template: Mapping[str, Any],
    configured: Mapping[str, str],
    environ: Mapping[str, str],
    ask: Callable[[str, str], str] | None,
    deployed: Collection[str] = (),
) -> dict[str, str]:
    """``configured`` plus each required parameter it lacks, from ``environ`` or ``ask(name, description)``
    (None: nobody to ask), unless the stack has it already (``deployed``); each required value given is
    checked against the template."""
    result = dict(configured)
    for name in required_parameters(template):
        spec = template["Parameters"][name]
        value = result.get(name) or environ.get(environment_variable(name), "")
        if not value and name in deployed:
            continue
        if not value:
            if ask is None:
                raise DeployError(
                    f"{name} has no default: set {environment_variable(name)}, or add {name}=... to "
                    "parameter_overrides in samconfig.toml"
                )
            value = ask(name, " ".join(str(spec.get("Description", "")).split()))
        reason = problem(spec, value.strip())
        if reason is not None:
            raise DeployError(f"{name} {reason}")
        result[name] = value.strip()
    return result


def _asker(stream_in: TextIO, stream_out: TextIO) -> Callable[[str, str], str]:
    def ask(name: str, description: str) -> str:
        stream_out.write(f"{description}\n{name} ({environment_variable(name)}): ")
        stream_out.flush()
        return stream_in.readline().strip()

    return ask


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--config-env", default="default", help="the samconfig.toml profile (default: default)")
    arguments = parser.parse_args(argv)
    ask = _asker(sys.stdin, sys.stderr) if sys.stdin.isatty() else None
    try:
        values = overrides(
            load_template(),
            configured_overrides(SAMCONFIG, arguments.config_env),
            os.environ,
            ask,
            deployed_parameters(stack_name(SAMCONFIG, arguments.config_env)),
        )
    except DeployError as error:
        sys.stderr.write(f"make deploy: {error}\n")
        return 1
    sys.stdout.write(" ".join(f"{name}={value}" for name, value in values.items()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
