"""Shared building blocks of the scenario schema."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sim.distributions import Distribution, coerce_number


class Model(BaseModel):
    """Base of every scenario section: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


Dist = Annotated[Distribution, BeforeValidator(coerce_number)]
"""A distribution field; a bare number means ``{dist: deterministic, value: number}``."""

Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")]
Probability = Annotated[float, Field(ge=0.0, lt=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]


def require_unique(what: str, names: list[str]) -> None:
    """Names are how scenarios refer to things (and how random streams are keyed): no repeats."""
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ValueError(f"{what}: name {n!r} is used twice")
        seen.add(n)
