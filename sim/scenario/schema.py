"""The top-level scenario: run settings plus the supply and clinical sections."""
from __future__ import annotations

from pydantic import Field, model_validator

from sim.scenario.base import FieldError, Model, Name, NonNegFloat, PositiveFloat, require_unique
from sim.scenario.clinical import KitType, Network, Trial
from sim.scenario.clinical_check import check_clinical
from sim.scenario.adaptive import interim_problems
from sim.scenario.cro import CRO, cro_problems
from sim.scenario.gates import Recall, recall_problems
from sim.scenario.labels import Labels, label_problems
from sim.scenario.markets import Market
from sim.scenario.materials import Material, QCLab
from sim.scenario.supply import LINES, Depot, Line, Packaging, Supplier
from sim.scenario.supply_check import plan_problems, supply_problems


MAX_PERIODS = 100_000
"""Reporting periods a run may keep per series (a daily series over 270 years); memory budget."""


class Scenario(Model):
    """A complete scenario. Times are in days."""

    name: Name = "scenario"
    description: str = ""
    horizon: PositiveFloat = Field(description="days simulated")
    warmup: NonNegFloat = Field(0.0, description="days discarded from statistics")
    period: PositiveFloat = Field(7.0, description="days per reporting period (time series)")
    seed: int = Field(20261123, ge=0, description="experiment seed")
    replications: int = Field(10, ge=1)
    suppliers: list[Supplier] = Field(min_length=1)
    lines: list[Line] = Field(min_length=1)
    materials: list[Material] = Field(default_factory=list, description="raw-material policies and sourcing")
    qc_labs: list[QCLab] = Field(default_factory=list, description="shared QC laboratories")
    packaging: Packaging
    depot: Depot = Depot()
    trials: list[Trial] = Field(min_length=1)
    kit_types: list[KitType] = Field(default_factory=list, description="patient kits (default: one kit type 'kit')")
    network: Network = Field(default_factory=Network, description="countries, regional depots, lanes")
    cros: list[CRO] = Field(default_factory=list, description="contract research organisations: CRAs for site "
                            "start-up and monitoring")
    recalls: list[Recall] = Field(default_factory=list, description="batch recalls that withdraw kits everywhere")
    markets: list[Market] = Field(default_factory=list, description="outside demand at stock points (a "
                                  "commercial market, a distributor, another customer of an intermediate)")
    labels: Labels | None = Field(None, description="label groups, the packaging plan, pooling and just-in-time "
                                  "labelling (default: one label valid in every country)")

    @model_validator(mode="after")
    def _cross_references(self):
        if self.warmup >= self.horizon:
            raise FieldError("warmup", f"expected shorter than horizon ({self.horizon:g}); got {self.warmup:g}")
        if self.horizon / self.period > MAX_PERIODS:
            raise FieldError("period", f"expected at least horizon / {MAX_PERIODS:,} = {self.horizon / MAX_PERIODS:.3g} "
                                       f"days: every series keeps one value per period, and {self.horizon / self.period:,.0f} "
                                       f"periods would not fit in memory; got {self.period:g}")
        require_unique("suppliers", [s.name for s in self.suppliers])
        require_unique("lines", [l.name for l in self.lines])
        require_unique("trials", [t.name for t in self.trials])
        problems = supply_problems(self)
        if problems:
            raise ValueError("\n  - ".join(problems))
        check_clinical(self)
        problems = cro_problems(self) + interim_problems(self) + recall_problems(self) + label_problems(self)
        if problems:
            raise ValueError("\n  - ".join(problems))
        problems = plan_problems(self)  # derived from the trials: only once their references hold
        if problems:
            raise ValueError("\n  - ".join(problems))
        return self


LINES.hold(Scenario, "lines", lambda u: list[u])
