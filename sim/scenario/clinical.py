"""Scenario schema of the clinical side: trials, regions of sites, resupply."""
from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import Dist, Model, Name, NonNegFloat, PositiveFloat


class Resupply(Model):
    """Trigger / resupply (min-max) policy on a site's kit inventory position."""

    trigger: int = Field(ge=0, description="ship when usable kits on hand + in transit fall to this")
    level: int = Field(ge=1, description="ship up to this many kits")
    do_not_ship: NonNegFloat = Field(0.0, description="days of shelf life a kit must have left to be shipped")
    do_not_dispense: NonNegFloat = Field(0.0, description="days of shelf life a kit must have left to be dispensed")

    @model_validator(mode="after")
    def _levels(self):
        if self.level <= self.trigger:
            raise ValueError(f"level ({self.level}) must exceed trigger ({self.trigger})")
        return self


class Region(Model):
    """A group of sites sharing start-up time, recruitment rate and shipping lane."""

    name: Name
    sites: int = Field(ge=1, description="number of sites")
    activation: Dist = Field(description="days from study start to site activation")
    enrollment_rate: PositiveFloat = Field(description="patients per site per day (Poisson)")
    transit_time: Dist = Field(description="days from depot dispatch to site receipt")


class Trial(Model):
    """A clinical trial: patients, visit schedule and the sites that run it."""

    name: Name
    target_patients: int = Field(ge=1, description="patients to randomise; enrollment stops there")
    visits: list[NonNegFloat] = Field(min_length=1, description="dosing-visit days after randomisation")
    kits_per_visit: int = Field(1, ge=1, description="kits dispensed at each dosing visit")
    dosing_window: NonNegFloat = Field(0.0, description="days a patient can wait for a kit before the dose is missed")
    resupply: Resupply
    regions: list[Region] = Field(min_length=1)

    @field_validator("visits")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if any(b <= a for a, b in zip(v, v[1:])):
            raise ValueError("visit days must be strictly increasing")
        return v
