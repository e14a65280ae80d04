"""The one settings mechanism: each variable declared once, read at cold start, every problem in one error.

A settings model is a frozen dataclass built by :func:`settings_model` on :class:`SettingsModel`. Each
field is bound by :func:`setting` to one :class:`Knob` (variable name, :class:`Kind` with its bounds,
description); the field's default is the knob's one default, and a field without one is required::

    @settings_model
    class ApiSettings(SettingsModel):
        SUBJECT = "API settings"
        RELATIONS = (exactly_one("PAGINATION_SECRET_ARN", "PAGINATION_SECRET"),)

        table_name: str = setting(TABLE_NAME)
        secret_cache_seconds: int = setting(SECRET_CACHE_SECONDS, default=DEFAULT_SECRET_CACHE_SECONDS)

``ApiSettings.from_env(os.environ)`` reads every variable and raises one :class:`SettingsError` listing
every problem, so a misconfigured deployment is fixed in one round trip. The rules are the same for
every variable:

- surrounding white space is dropped, and an empty variable counts as unset (templates often pass an
  empty parameter);
- an unset variable takes the field's default; unset and without a default is ``<NAME> is required``;
- a problem names the variable and its rule (``<NAME> must be ...``), never the value, so that a secret
  pasted into the wrong variable cannot reach a log;
- a direct construction (tests, benchmarks) is checked by the same kinds and relations;
- fields declared with ``secret=True`` are left out of ``repr``.

Nothing here reads the environment at import time, and nothing beyond the standard library is imported:
both functions import this at cold start.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, ClassVar, Final, Generic, Self, TypeVar, dataclass_transform, overload

T = TypeVar("T")
M = TypeVar("M", bound="SettingsModel")

_KNOB: Final = "zego_media_tasks.knob"
"""The key of a field's :class:`Knob` in its dataclass metadata."""


class SettingsError(ValueError):
    """The environment (or a direct construction) does not describe usable settings.

    ``problems`` holds every problem, each naming its variable; the message lists them one a line.
    """

    def __init__(self, problems: Iterable[str], subject: str = "settings") -> None:
        self.problems: tuple[str, ...] = tuple(dict.fromkeys(problems))  # in order, each once
        self.subject = subject
        super().__init__(f"invalid {subject}:\n- " + "\n- ".join(self.problems))


# --- kinds: what a variable holds ----------------------------------------------------------------------


class Kind(ABC, Generic[T]):
    """What a variable holds: how its text is read, and which values (of any origin) are allowed."""

    __slots__ = ()

    @property
    @abstractmethod
    def expects(self) -> str:
        """What an allowed value looks like, completing ``"<NAME> must be ..."``."""

    @abstractmethod
    def convert(self, text: str) -> T:
        """The value that ``text`` (stripped, not empty) spells; ``ValueError`` when it spells none."""

    @abstractmethod
    def accepts(self, value: object) -> bool:
        """Whether ``value`` is allowed: its type and its bounds."""

    def refusal(self, value: object) -> str | None:
        """Why ``value`` is refused, completing the variable's name (``"must be ..."``); None if allowed."""
        return None if self.accepts(value) else f"must be {self.expects}"


class Text(Kind[str]):
    """Text, optionally with a rule (a prefix, a length); the text itself is never shown in a problem."""

    __slots__ = ("_expects", "_rule")

    def __init__(self, expects: str = "non-empty text", rule: Callable[[str], bool] | None = None) -> None:
        self._expects = expects
        self._rule = rule

    @property
    def expects(self) -> str:
        return self._expects

    def convert(self, text: str) -> str:
        return text

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and bool(value) and (self._rule is None or self._rule(value))


class WholeNumber(Kind[int]):
    """A whole number written in ASCII digits, from ``low`` to ``high``."""

    __slots__ = ("high", "low")

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high

    @property
    def expects(self) -> str:
        return f"a whole number from {self.low} to {self.high}"

    def convert(self, text: str) -> int:
        # str.isdigit alone would let other scripts' digits through, and int() would accept "+5" or "1_0".
        if not (text.isascii() and text.isdigit()):
            raise ValueError(text)
        return int(text)

    def accepts(self, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and self.low <= value <= self.high


class Number(Kind[float]):
    """A finite number from ``low`` (or just above it, when ``low_inclusive`` is False) to ``high``."""

    __slots__ = ("high", "low", "low_inclusive", "unit")

    def __init__(self, low: float, high: float, *, low_inclusive: bool = True, unit: str = "") -> None:
        self.low = low
        self.high = high
        self.low_inclusive = low_inclusive
        self.unit = unit

    @property
    def expects(self) -> str:
        number = f"a number of {self.unit}" if self.unit else "a number"
        if self.low_inclusive:
            return f"{number} from {self.low:g} to {self.high:g}"
        return f"{number} more than {self.low:g} and at most {self.high:g}"

    def convert(self, text: str) -> float:
        return float(text)

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return False
        above_low = value >= self.low if self.low_inclusive else value > self.low
        return above_low and value <= self.high


class Flag(Kind[bool]):
    """``true`` or ``false``, in any letter case."""

    __slots__ = ()

    @property
    def expects(self) -> str:
        return "'true' or 'false'"

    def convert(self, text: str) -> bool:
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError(text)
        return lowered == "true"

    def accepts(self, value: object) -> bool:
        return isinstance(value, bool)


# --- knobs and models ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Knob(Generic[T]):
    """One environment variable: its name, what it holds, and what it is for."""

    variable: str
    kind: Kind[T]
    description: str


@dataclass(frozen=True, slots=True)
class Relation:
    """A rule over several variables, checked once each of them has an allowed value (or is unset)."""

    variables: tuple[str, ...]
    problems: Callable[..., Iterable[str]]
    """Called with the variables' values, in order; returns the problems (each naming its variables)."""


def exactly_one(first: str, second: str) -> Relation:
    """Exactly one of two variables must be set (a Secrets Manager ARN, or the secret for local runs)."""

    def problems(first_value: object, second_value: object) -> list[str]:
        if (first_value is None) != (second_value is None):
            return []
        return [f"exactly one of {first} and {second} must be set"]

    return Relation((first, second), problems)


@overload
def setting(knob: Knob[T], *, secret: bool = False) -> T: ...
@overload
def setting(knob: Knob[T], *, default: None, secret: bool = False) -> T | None: ...
@overload
def setting(knob: Knob[T], *, default: T, secret: bool = False) -> T: ...
def setting(knob: Knob[Any], *, default: Any = MISSING, secret: bool = False) -> Any:
    """A settings field read from ``knob``; without ``default`` it is required. ``secret``: kept out of
    ``repr``, so that logging the settings can never print it."""
    return field(default=default, repr=not secret, metadata={_KNOB: knob})


class SettingsModel:
    """The base of a settings model (see the module docstring): ``from_env`` and checked construction."""

    __slots__: tuple[str, ...] = ()  # a model's own are its field names
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    SUBJECT: ClassVar[str] = "settings"
    """What the settings are, for the error message: ``invalid <SUBJECT>: ...``."""
    RELATIONS: ClassVar[tuple[Relation, ...]] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        """Read and check every variable of ``environ`` (pass ``os.environ``); one :class:`SettingsError`
        lists every problem."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        for item in fields(cls):
            knob = _knob(item)
            text = environ.get(knob.variable, "").strip()
            if not text:
                if item.default is MISSING:
                    problems.append(f"{knob.variable} is required")
                else:
                    values[item.name] = item.default
                continue
            try:
                value = knob.kind.convert(text)
            except ValueError:
                problems.append(f"{knob.variable} must be {knob.kind.expects}")
                continue
            if (reason := knob.kind.refusal(value)) is not None:
                problems.append(f"{knob.variable} {reason}")
                continue
            values[item.name] = value
        problems.extend(_relation_problems(cls, values))
        if problems:
            raise SettingsError(problems, cls.SUBJECT)
        return cls(**values)

    def __post_init__(self) -> None:
        """Check a constructed model as :meth:`from_env` checks the environment."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        for item in fields(self):
            knob = _knob(item)
            value = getattr(self, item.name)
            if value is None and item.default is None:
                values[item.name] = None  # unset optional
            elif value is None:
                problems.append(f"{knob.variable} is required")
            elif (reason := knob.kind.refusal(value)) is not None:
                problems.append(f"{knob.variable} {reason}")
            else:
                values[item.name] = value
        problems.extend(_relation_problems(type(self), values))
        if problems:
            raise SettingsError(problems, self.SUBJECT)


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(setting,))
def settings_model(cls: type[M]) -> type[M]:
    """Make ``cls`` (a :class:`SettingsModel`) a frozen, slotted, keyword-only dataclass of its settings."""
    model = dataclass(frozen=True, slots=True, kw_only=True)(cls)
    declared = {_knob(item).variable for item in fields(model)}  # raises for a field without a knob
    for relation in model.RELATIONS:
        if unknown := set(relation.variables) - declared:
            raise TypeError(f"{model.__name__}: a relation names undeclared variables {sorted(unknown)}")
    return model


def knobs(model: type[SettingsModel] | SettingsModel) -> dict[str, Knob[Any]]:
    """The knob of each field of ``model``, by field name, in declaration order."""
    return {item.name: _knob(item) for item in fields(model)}


def _knob(item: Field[Any]) -> Knob[Any]:
    knob = item.metadata.get(_KNOB)
    if not isinstance(knob, Knob):
        raise TypeError(f"settings field {item.name!r} is not declared with setting()")
    return knob


def _relation_problems(model: type[SettingsModel], values: Mapping[str, Any]) -> list[str]:
    """The relations' problems; a relation over a variable without an allowed value is not checked (that
    variable's own problem is reported, and a second, derived one would only confuse)."""
    name_of = {knob.variable: name for name, knob in knobs(model).items()}
    problems: list[str] = []
    for relation in model.RELATIONS:
        names = [name_of[variable] for variable in relation.variables]
        if all(name in values for name in names):
            problems.extend(relation.problems(*(values[name] for name in names)))
    return problems
