"""Scenario schema of treatment arms: randomisation weight and kits per visit, or weight-based dose levels."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from sim.scenario.base import FieldError, Model, Name, PositiveFloat


class DoseLevel(Model):
    """A dose band of an arm (weight-based dosing): the share of the arm's patients in it and their kits."""

    name: Name
    share: PositiveFloat = Field(description="relative share of the arm's patients (e.g. of a weight band)")
    kits: dict[Name, Annotated[int, Field(ge=0)]] = Field(description="kits per dosing visit by kit type")


class Arm(Model):
    """A treatment arm: its share of randomisation and the kits each dosing visit needs."""

    name: Name
    ratio: PositiveFloat = Field(1.0, description="randomisation weight: whole numbers (2:1) or fractions summing to 1")
    kits: dict[Name, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, description="kits per dosing visit by kit type (blinded: no substitution)")
    dose_levels: list[DoseLevel] = Field(default_factory=list, description="weight-based dosing: each patient's "
                                         "level drawn at randomisation by share, its kits instead of kits")

    @model_validator(mode="after")
    def _kits_or_levels(self):
        if self.dose_levels and self.kits:
            raise FieldError("dose_levels", "give kits or dose_levels (each with its kits), not both")
        return self

    def kit_mix(self) -> dict[str, float]:
        """Expected kits per visit of a patient of this arm (dose levels weighted by share)."""
        if not self.dose_levels:
            return dict(self.kits)
        total = sum(d.share for d in self.dose_levels)
        mix: dict[str, float] = {}
        for d in self.dose_levels:
            for k, n in d.kits.items():
                mix[k] = mix.get(k, 0.0) + n * d.share / total
        return mix
