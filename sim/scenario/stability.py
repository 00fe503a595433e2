"""Schema of what keeps kits usable or not over time: shelf-life extensions as stability data accrue
(relabelling) and temperature excursions of cold storage.  Part of the clinical schema
(:mod:`sim.scenario.clinical`); the runtimes are :mod:`sim.clinical.relabel` and
:mod:`sim.clinical.storage`."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.base import Dist, FieldError, Model, Name, NonNegFloat, PositiveFloat, Share

MAX_EXTENSIONS = 100
"""Relabellings a kit may have: more would be a loop, not a stability programme."""


class Relabel(Model):
    """Relabelling at depots to extend shelf life as stability data accrue."""

    lead: PositiveFloat = Field(description="relabel kits this many days before they expire")
    extension: PositiveFloat = Field(ge=1.0, description="days added to the expiry at each relabelling")
    max_extension: PositiveFloat | None = Field(None, description="total days a kit can gain (default: one extension)")
    available_from: NonNegFloat = Field(0.0, description="day the stability time point that supports the "
                                                         "extension is available; no relabelling before it")
    hold: Dist = Field(0.0, description="days the kits are on QA hold during the relabel campaign")
    cost_per_kit: NonNegFloat = Field(0.0, description="cost of relabelling one kit")
    lines: list[Name] | None = Field(None, description="extend only kits made by these lines (campaigns): the "
                                     "batches the stability data cover (default: every kit of the type)")
    made_between: tuple[NonNegFloat, NonNegFloat] | None = Field(
        None, description="[first, last] day of manufacture of the batches covered: with lines, names the "
        "batches the stability data support (default: every batch)")
    at_sites: bool = Field(False, description="relabel at sites too, where allowed (e.g. EU sites under a "
                                              "documented procedure); otherwise only at depots")

    @model_validator(mode="after")
    def _few_extensions(self):
        if self.made_between is not None and self.made_between[0] > self.made_between[1]:
            raise FieldError("made_between", f"expected [first, last] with first <= last; got "
                                             f"{list(self.made_between)}")
        if self.max_extension is not None and self.max_extension > MAX_EXTENSIONS * self.extension:
            raise FieldError("max_extension", f"expected at most {MAX_EXTENSIONS} extensions of {self.extension:g} "
                                              f"days; got {self.max_extension:g} days")
        return self


class StorageExcursions(Model):
    """Temperature excursions of cold storage (a fridge or cold room failing) at every depot and site."""

    interval: Dist = Field(description="days between excursions at each storage point (e.g. exponential)")
    assessment: Dist = Field(0.0, description="days the cold-chain kits on hand are quarantined for QA")
    release_prob: Share = Field(0.0, description="probability QA releases them; otherwise destroyed")
    at: Literal["sites", "depots", "both"] = Field("sites", description="which storage points can fail: site "
                                                   "fridges, depot cold rooms (usually alarmed, backed up), or both")

    @model_validator(mode="after")
    def _rare_enough(self):
        if self.interval.mean_value < 1.0:
            raise FieldError("interval", "expected a mean of at least a day between failures of one storage "
                                         f"point; got {self.interval.mean_value:g}")
        return self
