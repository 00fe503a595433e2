"""Scenario schema of the supply side: suppliers, CDMO lines, packaging, depot."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from sim.scenario.base import Dist, Model, Name, NonNegFloat, PositiveFloat, Probability


class Supplier(Model):
    """A raw-material supplier, replenishing the CDMO's stock of one material by (s, Q)."""

    name: Name
    material: Name = Field(description="material supplied (quantities in kg)")
    lead_time: Dist = Field(description="days from order to delivery")
    order_quantity: PositiveFloat = Field(description="kg per order (Q)")
    reorder_point: NonNegFloat = Field(description="order when inventory position (kg) is at or below this (s)")
    initial_stock: NonNegFloat = Field(0.0, description="kg on hand at time 0")


class _Line(Model):
    name: Name
    cdmo: Name = Field("cdmo", description="the CDMO that runs the line")
    material: Name = Field(description="raw material consumed")
    product: Name = Field("drug_product", description="what the line makes (units)")
    qc_time: Dist = Field(0.0, description="days of QC release testing per lot")
    qc_failure_prob: Probability = Field(0.0, description="probability a lot fails QC and is rejected")
    start: NonNegFloat = Field(0.0, description="day the line starts its campaign")


class BatchLine(_Line):
    """A batch line: one batch at a time, each of *batch_size* units."""

    kind: Literal["batch"]
    batch_size: PositiveFloat = Field(description="units of drug product per batch")
    material_per_batch: NonNegFloat = Field(description="kg of material per batch")
    cycle_time: Dist = Field(description="days per batch, excluding QC")
    batches: int | None = Field(None, ge=0, description="batches in the campaign (none: run to the horizon)")


class ContinuousLine(_Line):
    """A continuous line running at *rate*, released in lots of *lot_size* units."""

    kind: Literal["continuous"]
    rate: PositiveFloat = Field(description="units per day while running")
    lot_size: PositiveFloat = Field(description="units per released lot")
    material_per_unit: NonNegFloat = Field(description="kg of material per unit")
    time_between_failures: Dist | None = Field(None, description="days of operation between breakdowns")
    time_to_repair: Dist | None = Field(None, description="days to repair a breakdown")
    lots: int | None = Field(None, ge=0, description="lots in the run (none: run to the horizon)")

    @model_validator(mode="after")
    def _failures_paired(self):
        if (self.time_between_failures is None) != (self.time_to_repair is None):
            raise ValueError("give both time_between_failures and time_to_repair, or neither")
        return self


Line = Annotated[Union[BatchLine, ContinuousLine], Field(discriminator="kind")]


class Packaging(Model):
    """Packaging and labelling of released drug product into patient kits."""

    units_per_kit: int = Field(ge=1, description="units of drug product per kit")
    time: Dist = Field(description="days to package one released lot")
    packers: int = Field(1, ge=1, description="lots packaged in parallel")
    shelf_life: PositiveFloat = Field(description="days from packaging to kit expiry")


class Depot(Model):
    """The central depot that holds kits and ships them to sites."""

    name: Name = "central"
    initial_kits: int = Field(0, ge=0, description="kits on hand at time 0")
    initial_shelf_life: PositiveFloat = Field(365.0, description="days of shelf life left on the initial kits")
