"""Scenario schema of the supply side: suppliers, CDMO lines, packaging, depot.

A line makes one product or several (``products``), each from a bill of materials
(raw materials and/or another line's product), planned in campaigns.  The short
single-product form of the foundation (``material`` + ``material_per_batch``,
``batches``) is still accepted: :func:`line_products` turns either form into
the list of products the runtime works from.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from sim.scenario.base import Dist, FieldError, Model, Name, NonNegFloat, PositiveFloat, Probability
from sim.scenario.materials import Disruption, Fraction, SupplierCapacity


class Supplier(Model):
    """A raw-material supplier.

    Without a ``materials`` entry for its material, the supplier's own (s, Q)
    fields (``reorder_point``, ``order_quantity``) are the replenishment policy.
    """

    name: Name
    material: Name = Field(description="material supplied (quantities in kg)")
    lead_time: Dist = Field(description="days from dispatch to delivery, quoted per order")
    order_quantity: PositiveFloat | None = Field(None, description="kg per order (Q) when the material has no policy")
    reorder_point: NonNegFloat | None = Field(None, description="order when inventory position (kg) is at or below this (s)")
    initial_stock: NonNegFloat = Field(0.0, description="kg on hand at time 0")
    on_time_prob: Fraction = Field(1.0, description="probability an order arrives by its quoted date")
    late_delay: Dist = Field(0.0, description="extra days when an order is late")
    in_full_prob: Fraction = Field(1.0, description="probability an order arrives in full")
    partial_fraction: Fraction = Field(0.5, description="share delivered first when not in full")
    backorder_delay: Dist = Field(14.0, description="days after the first part until the remainder arrives")
    min_order_quantity: NonNegFloat = Field(0.0, description="kg: smaller orders are raised to this (MOQ)")
    capacity: SupplierCapacity | None = Field(None, description="dispatch capacity; none: unlimited")
    disruptions: Disruption | None = Field(None, description="random outages; none: never")
    unit_cost: NonNegFloat = Field(0.0, description="purchase cost per kg")


class TechTransfer(Model):
    """Technology transfer of a product to a line: repeated until it succeeds, then qualification batches."""

    duration: Dist = Field(description="days per transfer attempt")
    failure_prob: Probability = Field(0.0, description="probability an attempt fails and must be repeated")
    engineering_batches: int = Field(0, ge=0, description="non-GMP batches (lots) made and scrapped")
    ppq_batches: int = Field(0, ge=0, description="process-performance-qualification batches (released if they pass QC)")


class Plan(Model):
    """How many batches (lots, on a continuous line) to make, and when."""

    policy: Literal["fixed", "make_to_forecast", "make_to_stock"] = "fixed"
    batches: int | None = Field(None, ge=0, description="fixed: batches in all (none: run to the horizon)")
    campaign: int | None = Field(None, ge=1, description="batches per campaign (none: all in one campaign)")
    overage: NonNegFloat = Field(0.0, description="make_to_forecast: fraction added to the forecast")
    trials: list[Name] | None = Field(None, description="make_to_forecast: trials served (default: all)")
    reorder_point: NonNegFloat | None = Field(None, description="make_to_stock: units of downstream stock "
                                                                  "at or below which a campaign is started")
    review_period: PositiveFloat = Field(7.0, description="make_to_stock: days between stock reviews")

    @model_validator(mode="after")
    def _needs(self):
        if self.policy == "make_to_stock":
            for f in ("reorder_point", "campaign"):
                if getattr(self, f) is None:
                    raise FieldError(f, "required by policy make_to_stock")
        return self


class Maintenance(Model):
    """Planned maintenance after every *interval* days of operation."""

    interval: PositiveFloat = Field(description="days of operation between maintenance stops")
    duration: Dist = Field(description="days per maintenance stop")


class Slot(Model):
    """A window of line capacity reserved by the sponsor; the line makes our products only inside slots."""

    start: NonNegFloat
    end: PositiveFloat

    @model_validator(mode="after")
    def _order(self):
        if self.end <= self.start:
            raise FieldError("end", f"expected after start ({self.start:g}); got {self.end:g}")
        return self


class LineCosts(Model):
    """Costs of running a line (any currency)."""

    batch: NonNegFloat = Field(0.0, description="per batch (per lot on a continuous line)")
    unit: NonNegFloat = Field(0.0, description="per unit made")
    changeover: NonNegFloat = Field(0.0, description="per changeover / cleaning")
    rework: NonNegFloat = Field(0.0, description="per reworked lot")
    holding: NonNegFloat = Field(0.0, description="per unit of work in progress per day")


class _Product(Model):
    product: Name = Field(description="what is made (units)")
    bom: dict[Name, NonNegFloat] = Field(default_factory=dict, description="material -> quantity consumed")
    plan: Plan = Plan()
    tech_transfer: TechTransfer | None = None


class BatchProduct(_Product):
    """A product made on a batch line; its BOM is per batch."""

    batch_size: PositiveFloat = Field(description="nominal units per batch")
    cycle_time: Dist = Field(description="days per batch, excluding QC")
    yield_fraction: Dist = Field(1.0, description="fraction of batch_size obtained")


class ContinuousProduct(_Product):
    """A product made on a continuous line; its BOM is per unit."""

    rate: PositiveFloat = Field(description="units per day while running")
    lot_size: PositiveFloat = Field(description="units per released lot")


class _Line(Model):
    name: Name
    cdmo: Name = Field("cdmo", description="the CDMO that runs the line")
    material: Name | None = Field(None, description="single-product form: the one raw material consumed")
    product: Name = Field("drug_product", description="single-product form: what the line makes (units)")
    bom: dict[Name, NonNegFloat] | None = Field(None, description="single-product form: bill of materials")
    plan: Plan | None = None
    tech_transfer: TechTransfer | None = None
    qc_time: Dist = Field(0.0, description="days of QC release testing per lot (when no lab is named)")
    qc_failure_prob: Probability = Field(0.0, description="probability a lot fails QC (when no lab is named)")
    qc_lab: Name | None = Field(None, description="shared QC lab that tests this line's lots")
    qc_tests: list[Name] | None = Field(None, description="tests each lot needs in that lab (default: all)")
    deviation_prob: Probability = Field(0.0, description="probability a lot has a deviation to investigate")
    investigation_time: Dist = Field(0.0, description="days a deviation adds to the QC hold")
    rework_prob: Probability = Field(0.0, description="probability a failed lot is reworked rather than rejected")
    rework_time: Dist = Field(0.0, description="days of rework (off line) before the retest")
    rework_yield: Fraction = Field(1.0, description="fraction of a lot recovered by rework")
    changeover: Dist = Field(0.0, description="days of cleaning between campaigns of the same product")
    product_changeover: Dist | None = Field(None, description="days of changeover to another product (default: changeover)")
    time_between_failures: Dist | None = Field(None, description="days of operation between breakdowns")
    time_to_repair: Dist | None = Field(None, description="days to repair a breakdown")
    maintenance: Maintenance | None = None
    slots: list[Slot] = Field(default_factory=list, description="reserved capacity windows (none: always)")
    ship_time: Dist = Field(0.0, description="days to ship released lots to the next stage")
    costs: LineCosts = LineCosts()
    start: NonNegFloat = Field(0.0, description="day the line starts its campaign")

    @model_validator(mode="after")
    def _failures_paired(self):
        pair = ("time_between_failures", "time_to_repair")
        for given, missing in (pair, pair[::-1]):
            if getattr(self, given) is not None and getattr(self, missing) is None:
                raise FieldError(missing, f"required with {given} (give both, or neither)")
        return self


class BatchLine(_Line):
    """A batch line: one batch at a time."""

    kind: Literal["batch"]
    batch_size: PositiveFloat | None = Field(None, description="units of drug product per batch")
    material_per_batch: NonNegFloat | None = Field(None, description="kg of material per batch")
    cycle_time: Dist | None = Field(None, description="days per batch, excluding QC")
    yield_fraction: Dist | None = Field(None, description="fraction of batch_size obtained")
    batches: int | None = Field(None, ge=0, description="batches in the campaign (none: run to the horizon)")
    products: list[BatchProduct] | None = Field(None, description="several products sharing the line")


class ContinuousLine(_Line):
    """A continuous line running at *rate*, released in lots of *lot_size* units."""

    kind: Literal["continuous"]
    rate: PositiveFloat | None = Field(None, description="units per day while running")
    lot_size: PositiveFloat | None = Field(None, description="units per released lot")
    material_per_unit: NonNegFloat | None = Field(None, description="kg of material per unit")
    lots: int | None = Field(None, ge=0, description="lots in the run (none: run to the horizon)")
    products: list[ContinuousProduct] | None = Field(None, description="several products sharing the line")
    startup_time: Dist = Field(0.0, description="days of start-up; the off-spec output is diverted")
    shutdown_time: Dist = Field(0.0, description="days of shut-down at the end of a run")
    restart_after_stop: bool = Field(True, description="a breakdown or maintenance stop needs a new start-up")
    release: Literal["real_time", "end_of_run"] = Field(
        "real_time", description="real_time: each lot released after qc_time (RTRT); "
                                 "end_of_run: lots wait for the end of the run, then QC testing")


Line = Annotated[Union[BatchLine, ContinuousLine], Field(discriminator="kind")]


_SHORT_FORM = {"batch": ("batch_size", "cycle_time", "yield_fraction", "material_per_batch", "batches"),
               "continuous": ("rate", "lot_size", "material_per_unit", "lots")}
PRODUCT_FIELDS = {"batch": ("batch_size", "cycle_time"), "continuous": ("rate", "lot_size")}


def short_form_fields(line: BatchLine | ContinuousLine) -> list[str]:
    """Single-product fields given on *line* (they may not be mixed with ``products``)."""
    names = ("material", "bom", "plan", "tech_transfer") + _SHORT_FORM[line.kind]
    return [n for n in names if getattr(line, n) is not None]


def line_products(line: BatchLine | ContinuousLine) -> list[BatchProduct | ContinuousProduct]:
    """The products *line* makes, from ``products`` or from the single-product fields."""
    if line.products is not None:
        return list(line.products)
    bom = dict(line.bom or {})
    per = line.material_per_batch if line.kind == "batch" else line.material_per_unit
    if line.material is not None:
        bom[line.material] = bom.get(line.material, 0.0) + (per or 0.0)
    count = line.batches if line.kind == "batch" else line.lots
    plan = line.plan if line.plan is not None else Plan(batches=count)
    fields = {"product": line.product, "bom": bom, "plan": plan, "tech_transfer": line.tech_transfer}
    if line.kind == "batch":
        fields.update(batch_size=line.batch_size, cycle_time=line.cycle_time)
        if line.yield_fraction is not None:
            fields["yield_fraction"] = line.yield_fraction
        return [BatchProduct.model_validate(fields)]
    fields.update(rate=line.rate, lot_size=line.lot_size)
    return [ContinuousProduct.model_validate(fields)]


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
