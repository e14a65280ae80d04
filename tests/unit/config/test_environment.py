"""The settings mechanism: one declaration per variable, every problem in one error, checked construction."""

from __future__ import annotations

import math

import pytest

from zego_media_tasks.config.environment import (
    Flag,
    Knob,
    Number,
    Relation,
    SettingsError,
    SettingsModel,
    Text,
    WholeNumber,
    exactly_one,
    knobs,
    setting,
    settings_model,
)

SECRET = "do-not-print-4f1c9e0b7a"

NAME = Knob("SAMPLE_NAME", Text(), "a required name")
COUNT = Knob("SAMPLE_COUNT", WholeNumber(1, 10), "a bounded whole number")
RATIO = Knob("SAMPLE_RATIO", Number(0, 1, low_inclusive=False), "a number above 0, at most 1")
ENABLED = Knob("SAMPLE_ENABLED", Flag(), "an optional flag")
KEY_ARN = Knob("SAMPLE_KEY_ARN", Text("an ARN", lambda text: text.startswith("arn:")), "where the key lives")
KEY = Knob("SAMPLE_KEY", Text(), "the key itself")


def _low_below_high(count: int, ratio: float) -> list[str]:
    return [] if count * ratio <= 5 else ["SAMPLE_COUNT x SAMPLE_RATIO must not exceed 5"]


@settings_model
class Sample(SettingsModel):
    SUBJECT = "sample settings"
    RELATIONS = (
        exactly_one(KEY_ARN.variable, KEY.variable),
        Relation((COUNT.variable, RATIO.variable), _low_below_high),
    )

    name: str = setting(NAME)
    count: int = setting(COUNT, default=3)
    ratio: float = setting(RATIO, default=0.5)
    enabled: bool | None = setting(ENABLED, default=None)
    key_arn: str | None = setting(KEY_ARN, default=None)
    key: str | None = setting(KEY, default=None, secret=True)


def test_unset_variables_take_the_declared_defaults() -> None:
    assert Sample.from_env({"SAMPLE_NAME": "n", "SAMPLE_KEY": SECRET}) == Sample(name="n", key=SECRET)


def test_values_are_read_with_surrounding_white_space_dropped() -> None:
    settings = Sample.from_env(
        {
            "SAMPLE_NAME": " n\n",
            "SAMPLE_COUNT": " 7 ",
            "SAMPLE_RATIO": "0.25",
            "SAMPLE_ENABLED": "TRUE",
            "SAMPLE_KEY_ARN": "arn:x",
        }
    )
    assert (settings.name, settings.count, settings.ratio, settings.enabled, settings.key_arn) == (
        "n",
        7,
        0.25,
        True,
        "arn:x",
    )


def test_an_empty_variable_counts_as_unset() -> None:
    settings = Sample.from_env({"SAMPLE_NAME": "n", "SAMPLE_COUNT": "", "SAMPLE_ENABLED": " ", "SAMPLE_KEY": SECRET})
    assert (settings.count, settings.enabled) == (3, None)


def test_one_error_lists_every_problem_in_declaration_order_then_the_relations() -> None:
    with pytest.raises(SettingsError) as caught:
        Sample.from_env({"SAMPLE_COUNT": "11", "SAMPLE_RATIO": "0", "SAMPLE_ENABLED": "yes"})
    assert caught.value.problems == (
        "SAMPLE_NAME is required",
        "SAMPLE_COUNT must be a whole number from 1 to 10",
        "SAMPLE_RATIO must be a number more than 0 and at most 1",
        "SAMPLE_ENABLED must be 'true' or 'false'",
        "exactly one of SAMPLE_KEY_ARN and SAMPLE_KEY must be set",
    )
    assert str(caught.value) == "invalid sample settings:\n- " + "\n- ".join(caught.value.problems)
    assert isinstance(caught.value, ValueError)


def test_a_relation_is_checked_once_its_variables_are_usable() -> None:
    environ = {"SAMPLE_NAME": "n", "SAMPLE_KEY": SECRET, "SAMPLE_COUNT": "10", "SAMPLE_RATIO": "1"}
    with pytest.raises(SettingsError) as caught:
        Sample.from_env(environ)
    assert caught.value.problems == ("SAMPLE_COUNT x SAMPLE_RATIO must not exceed 5",)

    # A variable's own problem is reported alone, not again through a relation over it.
    with pytest.raises(SettingsError) as caught:
        Sample.from_env({**environ, "SAMPLE_COUNT": "ten"})
    assert caught.value.problems == ("SAMPLE_COUNT must be a whole number from 1 to 10",)


@pytest.mark.parametrize(
    ("text", "accepted"),
    [("7", True), ("+7", False), ("7.0", False), ("1_0", False), ("\u0667", False), ("-1", False), ("0", False)],
)
def test_whole_numbers_are_ascii_digits_within_the_bounds(text: str, accepted: bool) -> None:
    environ = {"SAMPLE_NAME": "n", "SAMPLE_KEY": SECRET, "SAMPLE_COUNT": text}
    if accepted:
        assert Sample.from_env(environ).count == int(text)
    else:
        with pytest.raises(SettingsError, match="SAMPLE_COUNT must be a whole number from 1 to 10"):
            Sample.from_env(environ)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "0", "1.5", "half"])
def test_numbers_are_finite_and_within_the_bounds(text: str) -> None:
    with pytest.raises(SettingsError, match="SAMPLE_RATIO must be a number more than 0 and at most 1"):
        Sample.from_env({"SAMPLE_NAME": "n", "SAMPLE_KEY": SECRET, "SAMPLE_RATIO": text})


def test_direct_construction_is_checked_by_the_same_rules() -> None:
    with pytest.raises(SettingsError) as caught:
        Sample(name="", count=True, ratio=math.nan, enabled=None)
    assert caught.value.problems == (
        "SAMPLE_NAME must be non-empty text",
        "SAMPLE_COUNT must be a whole number from 1 to 10",
        "SAMPLE_RATIO must be a number more than 0 and at most 1",
        "exactly one of SAMPLE_KEY_ARN and SAMPLE_KEY must be set",
    )


def test_no_problem_and_no_repr_shows_a_value() -> None:
    settings = Sample.from_env({"SAMPLE_NAME": "n", "SAMPLE_KEY": SECRET})
    with pytest.raises(SettingsError) as caught:
        Sample.from_env({"SAMPLE_NAME": "n", "SAMPLE_COUNT": SECRET, "SAMPLE_KEY_ARN": SECRET, "SAMPLE_KEY": SECRET})
    # The error really lists the refused variables (so the absence below means something).
    assert {problem.split()[0] for problem in caught.value.problems} == {"SAMPLE_COUNT", "SAMPLE_KEY_ARN"}
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(settings)
    assert settings.key == SECRET


def test_knobs_lists_each_fields_variable_in_declaration_order() -> None:
    assert [knob.variable for knob in knobs(Sample).values()] == [
        "SAMPLE_NAME",
        "SAMPLE_COUNT",
        "SAMPLE_RATIO",
        "SAMPLE_ENABLED",
        "SAMPLE_KEY_ARN",
        "SAMPLE_KEY",
    ]


def test_models_are_frozen_and_slotted() -> None:
    settings = Sample(name="n", key=SECRET)
    with pytest.raises(AttributeError):
        settings.name = "m"  # type: ignore[misc]
    assert not hasattr(settings, "__dict__")


def test_a_relation_over_an_undeclared_variable_is_a_declaration_error() -> None:
    with pytest.raises(TypeError, match="SAMPLE_OTHER"):

        @settings_model
        class Broken(SettingsModel):
            RELATIONS = (exactly_one("SAMPLE_NAME", "SAMPLE_OTHER"),)

            name: str = setting(NAME)
