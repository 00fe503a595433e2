"""Shared building blocks of the scenario schema."""
from __future__ import annotations

import typing
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from sim.core.distributions import Distribution, coerce_number


class Model(BaseModel):
    """Base of every scenario section: unknown fields are errors, not silently ignored, and every number
    is finite (``.inf`` or ``.nan`` in a scenario is a mistake that would corrupt a run silently) and a
    number (``horizon: true`` is not one day)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False, defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None and \
                not _admits_bool(cls.model_fields[info.field_name].annotation):
            raise ValueError("a number or a name, not true / false")
        return value


def _admits_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    return any(_admits_bool(a) for a in typing.get_args(annotation))


Dist = Annotated[Distribution, BeforeValidator(coerce_number)]
"""A distribution field; a bare number means ``{dist: deterministic, value: number}``."""

NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NAME_PATTERN)]
Probability = Annotated[float, Field(ge=0.0, lt=1.0)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
"""A fraction or probability that may be 1 (a confirmation, a release, a recovered share)."""
MAX_QUANTITY = 1e12
"""Quantities (days, units, kg, money) beyond this are not meaningful, and sums of them lose the
precision the conservation check needs."""


def _not_huge(v: float) -> float:
    # a validator, not Field(le=...): a field's own le (enrollment_rate <= 1000) must not be overridden
    if v > MAX_QUANTITY:
        raise ValueError(f"at most {MAX_QUANTITY:g} (larger quantities are not meaningful)")
    return v


PositiveFloat = Annotated[float, Field(gt=0.0), AfterValidator(_not_huge)]
NonNegFloat = Annotated[float, Field(ge=0.0), AfterValidator(_not_huge)]


NAME_RULE = "a name of letters, digits, '_', '.' and '-' (no spaces, at most 100 characters)"
"""What :data:`Name` accepts, in words (error messages)."""


class FieldError(ValueError):
    """A model validator's problem with one of the model's fields: the error names
    ``<model path>.<field>`` rather than the model, and *message* is shown as it is."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def duplicate_names(what: str, names: list[str]) -> list[str]:
    """One problem per name used more than once (each repeat reported once)."""
    seen: set[str] = set()
    out = []
    for n in names:
        if n in seen:
            out.append(f"{what}: name {n!r} is used twice")
        seen.add(n)
    return list(dict.fromkeys(out))


def require_unique(what: str, names: list[str]) -> None:
    """Names are how scenarios refer to things (and how random streams are keyed): no repeats."""
    problems = duplicate_names(what, names)
    if problems:
        raise ValueError(problems[0])
