"""Checked records without pydantic: stdlib dataclasses whose fields are checked on construction.

Why not pydantic for these: the consent and callback functions build settings, connection and
consent records on every cold start, and an advertiser waits on those two. Importing pydantic
costs about 50 ms there and each model class a few more, which alone put the cold start above its
budget (docs/decisions.md, "Cold starts"). Everything those functions touch is a ``Record``; the
admin API's payloads, the work queue's message and the stack's ``cdk.json`` model keep pydantic
(OpenAPI, richer messages), where nobody waits on an import.

A ``Record`` subclass declares its fields like a keyword-only dataclass (``frozen=True`` as a class
keyword). Its field annotations are the contract:

- ``str``, ``int`` (a whole ``Decimal`` from DynamoDB too, never a ``bool``), ``float``, ``bool``;
- ``datetime`` (also from its ISO 8601 text, as ``to_json`` writes it);
- a ``StrEnum`` (also from its value), another ``Record`` (also from a mapping);
- ``X | None``, ``tuple[X, ...]``, ``list[X]``, ``dict[K, V]``;
- ``Annotated[X, rule, ...]``: each rule is a callable that takes the checked value and returns it
  (possibly normalised) or raises ``ValueError`` (not called for a None that ``X | None``
  allows); ``Before(fn)`` runs on the raw value, ahead of the type check.

A failure raises ``RecordError`` naming the record, the field and the rule: never the value,
which can be a secret (a PKCE verifier) or an advertiser's data.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Literal, Self

Check = Callable[[Any], Any]


class RecordError(ValueError):
    """A record's field is missing, unknown or breaks its rule. ``field`` names it."""

    def __init__(self, record: str, field: str, problem: str) -> None:
        super().__init__(f"{record}.{field}: {problem}")
        self.field = field
        self.problem = problem


class Before:
    """A rule that runs on the raw value, ahead of the type check (e.g. ``""`` means unset)."""

    __slots__ = ("normalise",)

    def __init__(self, normalise: Check) -> None:
        self.normalise = normalise


def pattern(regex: str, description: str) -> Check:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {description}")
        return value

    return check


class Length:
    """A string's length rule (its bounds readable, so a test can compare them with the stack's)."""

    __slots__ = ("max_length", "min_length")

    def __init__(self, min_length: int = 0, max_length: int | None = None) -> None:
        self.min_length, self.max_length = min_length, max_length

    def __call__(self, value: str) -> str:
        if len(value) < self.min_length:
            plural = "s" if self.min_length != 1 else ""
            raise ValueError(f"must have at least {self.min_length} character{plural}")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"must have at most {self.max_length} characters")
        return value


class Bounds:
    """A number's range rule (bounds readable, like ``Length``)."""

    __slots__ = ("ge", "gt", "le")

    def __init__(self, *, ge: float | None = None, gt: float | None = None, le: float | None = None) -> None:
        self.ge, self.gt, self.le = ge, gt, le

    def __call__(self, value: float) -> float:
        if self.ge is not None and value < self.ge:
            raise ValueError(f"must be at least {self.ge:g}")
        if self.gt is not None and value <= self.gt:
            raise ValueError(f"must be greater than {self.gt:g}")
        if self.le is not None and value > self.le:
            raise ValueError(f"must be at most {self.le:g}")
        return value


class WrongTypeError(ValueError):
    """A value of the wrong kind (not a rule broken): becomes a RecordError naming the field;
    a caller of ``checker`` can tell it from a broken rule."""


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise WrongTypeError("must be a string")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise WrongTypeError("must be true or false")


def _to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise WrongTypeError("must be a whole number")


def _to_float(value: Any) -> float:
    # NaN would pass every Bounds rule (each comparison with it is false): refused, as infinity.
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
    raise WrongTypeError("must be a finite number")


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise WrongTypeError("must be an ISO 8601 date and time") from None
    raise WrongTypeError("must be a date and time")


_SCALARS: dict[Any, Check] = {
    str: _to_str,
    bool: _to_bool,
    int: _to_int,
    float: _to_float,
    datetime: _to_datetime,
}


def _enum_check(enum: type[Enum]) -> Check:
    allowed = ", ".join(str(member.value) for member in enum)

    def check(value: Any) -> Enum:
        if isinstance(value, enum):
            return value
        try:
            return enum(value)
        except ValueError:
            raise WrongTypeError(f"must be one of {allowed}") from None

    return check


def _instance_check(kind: type) -> Check:
    def check(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        raise WrongTypeError(f"must be a {kind.__name__}")

    return check


def _compile(annotation: Any, *, optional: bool = False) -> Check:
    """One function that checks (and where documented, converts) a value against ``annotation``;
    ``optional``: it sits in an ``X | None``, so a ``Before`` rule may turn a value into None."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        inner = _compile(args[0])
        before = [rule.normalise for rule in args[1:] if isinstance(rule, Before)]
        after = [rule for rule in args[1:] if not isinstance(rule, Before)]

        def annotated(value: Any) -> Any:
            for rule in before:
                value = rule(value)
            if value is None and optional:
                return None
            value = inner(value)
            if value is None:  # an optional field left unset: nothing for its rules to check
                return None
            for rule in after:
                value = rule(value)
            return value

        return annotated
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in args if arg is not type(None)]
        if len(options) != 1 or len(args) != 2:
            raise TypeError(f"only 'X | None' unions are supported, not {annotation}")
        checked = _compile(options[0], optional=True)
        return lambda value: None if value is None else checked(value)
    if origin in (tuple, list):
        if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
            raise TypeError(f"only tuple[X, ...] is supported, not {annotation}")
        item = _compile(args[0])
        container: Callable[[Any], Any] = tuple if origin is tuple else list

        def sequence(value: Any) -> Any:
            if not isinstance(value, (list, tuple)):
                raise WrongTypeError("must be a list")
            return container(item(v) for v in value)

        return sequence
    if origin is dict:
        key, val = _compile(args[0]), _compile(args[1])

        def mapping(value: Any) -> Any:
            if not isinstance(value, Mapping):
                raise WrongTypeError("must be an object")
            return {key(k): val(v) for k, v in value.items()}

        return mapping
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _enum_check(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Record):
        record = annotation

        def nested(value: Any) -> Any:
            if isinstance(value, record):
                return value
            if isinstance(value, Mapping):
                return record.from_mapping(value)
            raise WrongTypeError(f"must be an object ({record.__name__})")

        return nested
    if isinstance(annotation, type):
        return _instance_check(annotation)
    raise TypeError(f"unsupported field type {annotation!r}")


def checker(annotation: Any) -> Check:
    """The check of one annotation on its own, for a caller outside a record (the stack's
    pydantic config reuses the brand's field rules this way). Raises ``ValueError``."""
    return _compile(annotation)


_MISSING: Any = dataclasses.MISSING


class _FieldSpec:
    """One declared field: its default (or factory) and whether its repr shows it."""

    __slots__ = ("default", "factory", "name", "shown")

    def __init__(self, name: str, default: Any, factory: Any, shown: bool) -> None:
        self.name, self.default, self.factory, self.shown = name, default, factory, shown


class _Schema:
    """A record class's fields with their checks (type hints resolved on first use)."""

    __slots__ = ("checks", "hints", "names", "ordered", "required")

    def __init__(self, cls: type[Record]) -> None:
        specs = cls.__record_fields__
        self.hints = typing.get_type_hints(cls, include_extras=True)
        self.names = frozenset(spec.name for spec in specs)
        self.ordered = tuple(spec.name for spec in specs)
        self.required = tuple(s.name for s in specs if s.default is _MISSING and s.factory is _MISSING)
        self.checks = tuple((spec.name, _compile(self.hints[spec.name])) for spec in specs)


_SCHEMAS: dict[type, _Schema] = {}


def _schema(cls: type[Record]) -> _Schema:
    """Worked out on a class's first use: a cold start pays it once per class."""
    schema = _SCHEMAS.get(cls)
    if schema is None:
        schema = _SCHEMAS[cls] = _Schema(cls)
    return schema


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


@typing.dataclass_transform(kw_only_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
class Record:
    """Base of the checked records: ``class X(Record)`` or ``class X(Record, frozen=True)`` with
    annotated fields, defaults and ``dataclasses.field(default_factory=..., repr=False)``, as a
    keyword-only dataclass would take them. Not ``@dataclass`` itself, on purpose: it generates
    each class's methods by compiling source at import (about 0.4 ms a class, 15 ms of the
    callback's cold start); these methods are written once here instead.
    """

    __record_fields__: ClassVar[tuple[_FieldSpec, ...]] = ()
    __record_frozen__: ClassVar[bool] = False
    # A mutable record is unhashable; a frozen one gets _hash (set per class below).
    __hash__ = None  # type: ignore[assignment]

    def __init_subclass__(cls, *, frozen: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        bases = [base for base in cls.__mro__[1:] if issubclass(base, Record) and base is not Record]
        if any(base.__record_frozen__ for base in bases) and not frozen:
            raise TypeError(f"{cls.__name__}: a record that extends a frozen one must be frozen=True")
        specs: dict[str, _FieldSpec] = {}
        for base in reversed(bases):
            specs.update((spec.name, spec) for spec in base.__record_fields__)
        for name, annotation in inspect.get_annotations(cls).items():
            if _is_class_var(annotation):
                continue
            default = cls.__dict__.get(name, _MISSING)
            if isinstance(default, dataclasses.Field):
                spec = _FieldSpec(name, default.default, default.default_factory, bool(default.repr))
                if spec.default is _MISSING:
                    delattr(cls, name)  # no class attribute standing in for a missing value
                else:
                    setattr(cls, name, spec.default)
            else:
                spec = _FieldSpec(name, default, _MISSING, True)
            specs.pop(name, None)  # a redeclared field moves to its new place, as in a dataclass
            specs[name] = spec
        cls.__record_fields__ = tuple(specs.values())
        cls.__record_frozen__ = frozen
        # Equal records of a frozen class hash alike; a mutable record is unhashable.
        cls.__hash__ = Record._hash if frozen else None  # type: ignore[assignment]
        if frozen:
            cls.__setattr__ = _frozen_setattr  # type: ignore[method-assign]
            cls.__delattr__ = _frozen_delattr  # type: ignore[method-assign]

    def __init__(self, **values: Any) -> None:
        cls = type(self)
        schema = _schema(cls)
        unknown = values.keys() - schema.names
        if unknown:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {min(unknown)!r}")
        for spec, (field, check) in zip(cls.__record_fields__, schema.checks, strict=True):
            if field in values:
                value = values[field]
            elif spec.factory is not _MISSING:
                value = spec.factory()
            elif spec.default is not _MISSING:
                value = spec.default
            else:
                raise TypeError(f"{cls.__name__}() missing required keyword argument {field!r}")
            try:
                value = check(value)
            except RecordError as exc:  # a nested record: keep its path, drop its record name
                raise RecordError(cls.__name__, f"{field}.{exc.field}", exc.problem) from None
            except ValueError as exc:
                raise RecordError(cls.__name__, field, str(exc)) from None
            object.__setattr__(self, field, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, spec.name) for spec in self.__record_fields__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def _hash(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{s.name}={getattr(self, s.name)!r}" for s in self.__record_fields__ if s.shown)
        return f"{type(self).__name__}({shown})"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, extra: Literal["forbid", "ignore"] = "forbid") -> Self:
        """The record from stored or parsed data: unknown keys are refused (or left out with
        ``extra="ignore"``), missing required ones named."""
        schema = _schema(cls)
        names = schema.names
        if extra == "forbid":
            unknown = sorted(str(key) for key in data if key not in names)
            if unknown:
                raise RecordError(cls.__name__, unknown[0], "is not a field of this record")
        for required in schema.required:
            if required not in data:
                raise RecordError(cls.__name__, required, "is required")
        return cls(**{key: value for key, value in data.items() if key in names})

    def values(self) -> dict[str, Any]:
        """Field -> value, in declaration order (the values themselves, not copies)."""
        return {spec.name: getattr(self, spec.name) for spec in self.__record_fields__}

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied, checked like a new record."""
        return type(self)(**{**self.values(), **changes})

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values: enums as their values, times as ISO 8601 (``Z`` for UTC), nested
        records as objects, tuples as lists. ``from_mapping`` reads it back."""
        return {name: _json_value(value) for name, value in self.values().items()}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """In declaration order."""
        return _schema(cls).ordered

    @classmethod
    def required_fields(cls) -> tuple[str, ...]:
        return _schema(cls).required

    @classmethod
    def field_defaults(cls) -> dict[str, Any]:
        """Field -> default, for the fields that have a plain default (not a factory)."""
        return {s.name: s.default for s in cls.__record_fields__ if s.default is not _MISSING}

    @classmethod
    def annotations(cls) -> dict[str, Any]:
        """Every field's resolved annotation (``Annotated`` rules included)."""
        schema = _schema(cls)
        return {name: schema.hints[name] for name in schema.ordered}


def _json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {_json_value(k): _json_value(v) for k, v in value.items()}
    return value
