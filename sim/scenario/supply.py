"""Scenario schema of the supply side: suppliers, CDMO lines, packaging, depot.

A line makes one product or several (``products``), each from a bill of materials
(raw materials and/or another line's product), planned in campaigns.  The short
single-product form of the foundation (``material`` + ``material_per_batch``,
``batches``) is still accepted: :func:`line_products` turns either form into
the list of products the runtime works from.
"""
from __future__ import annotations

from typing import ClassVar, Iterable, Literal

from pydantic import Field, model_validator

from sim.scenario.base import Dist, FieldError, Model, Name, NonNegFloat, PositiveFloat, Probability
from sim.scenario.plans import PLANS, FixedPlan, ForecastPlan, OrderUpToPlan, Plan, PlanSpec, StockPlan  # noqa: F401 - supply schema
from sim.scenario.tech_transfer import TechTransfer, TransferStage  # noqa: F401 - part of the supply schema
from sim.scenario.kinds import family
from sim.scenario.materials import Disruption, Fraction, SupplierCapacity
from sim.scenario.storage_room import StorageRoom


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


MIN_LOT_DAYS = 1e-4
"""Shortest time a continuous line may take per lot (about 9 s): more lots than that are too many events."""




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


class ProductSpec(Model):
    product: Name = Field(description="what is made (units)")
    bom: dict[Name, NonNegFloat] = Field(default_factory=dict, description="material -> quantity consumed")
    plan: Plan = FixedPlan()
    tech_transfer: TechTransfer | None = None

    def units_per_lot(self) -> float:  # pragma: no cover - every kind defines it
        """Nominal units of one batch (lot)."""
        raise NotImplementedError

    def expected_output(self) -> float:
        """Expected units of one batch (lot) before QC: what make-to-forecast divides demand by."""
        return self.units_per_lot()

    def material_per_lot(self, material: str) -> float:
        """Quantity of *material* one batch (lot) consumes."""
        return self.bom.get(material, 0.0)

    def bom_basis(self) -> float:
        """Units of product the BOM quantities are given per (a whole batch on a batch line)."""
        return self.units_per_lot()

    def ideal_time(self) -> float:  # pragma: no cover - every kind defines it
        """Nominal days of operation per batch (lot): OEE performance's yardstick."""
        raise NotImplementedError


class BatchProduct(ProductSpec):
    """A product made on a batch line; its BOM is per batch."""

    batch_size: PositiveFloat = Field(description="nominal units per batch")
    cycle_time: Dist = Field(description="days per batch, excluding QC (its flow time through the line)")
    yield_fraction: Dist = Field(1.0, description="fraction of batch_size obtained")
    takt_time: Dist | None = Field(
        None, description="days the line's first (bottleneck) suite holds a batch; the batch then moves on "
        "through the other suites for the rest of its cycle time while the next batch starts, so flow "
        "time and capacity are separate (none: one batch at a time, start to finish)")

    def units_per_lot(self) -> float:
        return self.batch_size

    @model_validator(mode="after")
    def _takes_time(self):
        if not 0 < self.yield_fraction.mean_value <= 1:
            raise FieldError("yield_fraction", f"expected a fraction of the batch size above 0 and at most 1 "
                                               f"(a mean); got a mean of {self.yield_fraction.mean_value:g}")
        if self.cycle_time.mean_value <= 0:
            raise FieldError("cycle_time", "expected a batch to take time (a mean above 0 days); "
                                           "batches of no duration would repeat forever at one instant")
        if self.takt_time is not None and self.takt_time.mean_value < MIN_LOT_DAYS:
            raise FieldError("takt_time", f"expected a batch to hold the first suite at least {MIN_LOT_DAYS:g} days "
                                          "(a mean); batch starts at one instant would repeat forever")
        return self

    def expected_output(self) -> float:
        return self.batch_size * self.yield_fraction.mean_value

    def ideal_time(self) -> float:
        return (self.takt_time or self.cycle_time).mean_value


class ContinuousProduct(ProductSpec):
    """A product made on a continuous line; its BOM is per unit."""

    rate: PositiveFloat = Field(description="units per day while running")
    lot_size: PositiveFloat = Field(description="units per released lot")

    def units_per_lot(self) -> float:
        return self.lot_size

    @model_validator(mode="after")
    def _takes_time(self):
        if self.lot_size / self.rate < MIN_LOT_DAYS:
            raise FieldError("lot_size", f"expected a lot to take at least {MIN_LOT_DAYS:g} days at the rate "
                                         f"({self.rate:g} a day): lots of {self.lot_size:g} would be too many "
                                         "events to simulate")
        return self

    def material_per_lot(self, material: str) -> float:
        return self.bom.get(material, 0.0) * self.lot_size  # the BOM is per unit

    def bom_basis(self) -> float:
        return 1.0

    def ideal_time(self) -> float:
        return self.lot_size / self.rate


class LineSpec(Model):
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
        if self.time_between_failures is not None and self.time_between_failures.mean_value <= 0:
            raise FieldError("time_between_failures", "expected a mean above 0 days: a line that fails after "
                                                      "no time at all never runs")
        return self

    # The single-product short form, per kind: fields that describe the product, the one that says
    # how much of ``material`` each batch or unit takes, and the one that counts batches or lots.
    PRODUCT: ClassVar[type[ProductSpec]]
    PRODUCT_FIELDS: ClassVar[tuple[str, ...]] = ()  # required in the short form
    OPTIONAL_PRODUCT_FIELDS: ClassVar[tuple[str, ...]] = ()
    MATERIAL_FIELD: ClassVar[str]
    COUNT_FIELD: ClassVar[str]

    def short_form_fields(self) -> list[str]:
        """Single-product fields given on the line (they may not be mixed with ``products``)."""
        names = ("material", "bom", "plan", "tech_transfer", *self.PRODUCT_FIELDS, *self.OPTIONAL_PRODUCT_FIELDS,
                 self.MATERIAL_FIELD, self.COUNT_FIELD)
        return [n for n in names if getattr(self, n) is not None]

    def product_specs(self) -> list[ProductSpec]:
        """The products the line makes, from ``products`` or from the single-product fields."""
        if self.products is not None:
            return list(self.products)
        bom = dict(self.bom or {})
        if self.material is not None:
            bom[self.material] = bom.get(self.material, 0.0) + (getattr(self, self.MATERIAL_FIELD) or 0.0)
        plan = self.plan if self.plan is not None else FixedPlan(batches=getattr(self, self.COUNT_FIELD))
        fields = {"product": self.product, "bom": bom, "plan": plan, "tech_transfer": self.tech_transfer}
        fields.update({f: getattr(self, f) for f in self.PRODUCT_FIELDS})
        fields.update({f: getattr(self, f) for f in self.OPTIONAL_PRODUCT_FIELDS if getattr(self, f) is not None})
        return [self.PRODUCT.model_validate(fields)]

    def kind_problems(self, where: str, products: list[ProductSpec]) -> list[str]:
        """Cross-field problems particular to this kind of line (field paths under *where*)."""
        return []


class BatchLine(LineSpec):
    """A batch line: one batch at a time, or overlapping batches with a takt time."""

    kind: Literal["batch"]
    batch_size: PositiveFloat | None = Field(None, description="units of drug product per batch")
    material_per_batch: NonNegFloat | None = Field(None, description="kg of material per batch")
    cycle_time: Dist | None = Field(None, description="days per batch, excluding QC")
    yield_fraction: Dist | None = Field(None, description="fraction of batch_size obtained")
    takt_time: Dist | None = Field(None, description="days the first suite holds a batch (overlapping batches)")
    batches: int | None = Field(None, ge=0, le=100_000, description="batches in the campaign (none: run to the horizon)")
    products: list[BatchProduct] | None = Field(None, description="several products sharing the line")

    PRODUCT = BatchProduct
    PRODUCT_FIELDS = ("batch_size", "cycle_time")
    OPTIONAL_PRODUCT_FIELDS = ("yield_fraction", "takt_time")
    MATERIAL_FIELD = "material_per_batch"
    COUNT_FIELD = "batches"


class ResidenceTimeDiversion(Model):
    """Diversion sized from the line's residence-time distribution (RTD), as ICH Q13 describes it.

    An upset at the inlet lasting ``upset`` days leaves the line spread over the RTD, modelled as
    ``tanks`` stirred tanks in series (1: one well-mixed vessel; many: close to plug flow) with mean
    ``mean_residence_time``.  The output is diverted from the RTD's ``tolerance``/2 quantile after the
    upset begins to its 1 - ``tolerance``/2 quantile after it ends, so that at most ``tolerance`` of the
    disturbed material stays in the kept product."""

    mean_residence_time: PositiveFloat = Field(description="days material spends in the line on average "
                                                           "(minutes: divide by 1,440)")
    tanks: int = Field(1, ge=1, le=1000, description="stirred tanks in series that model the RTD")
    tolerance: Probability = Field(0.01, gt=0, description="share of the disturbed material allowed to "
                                                           "remain in the kept product")
    upset: NonNegFloat = Field(0.0, description="days the upset lasts at the inlet")

    def window(self) -> float:
        """Days of output diverted per disturbance."""
        from scipy.special import gammaincinv  # once per scenario, not per draw
        scale = self.mean_residence_time / self.tanks
        half = self.tolerance / 2
        early, late = (float(gammaincinv(self.tanks, q)) * scale for q in (half, 1 - half))
        return self.upset + late - early


class ContinuousLine(LineSpec):
    """A continuous line running at *rate*, released in lots of *lot_size* units."""

    kind: Literal["continuous"]
    rate: PositiveFloat | None = Field(None, description="units per day while running")
    lot_size: PositiveFloat | None = Field(None, description="units per released lot")
    material_per_unit: NonNegFloat | None = Field(None, description="kg of material per unit")
    lots: int | None = Field(None, ge=0, le=100_000, description="lots in the run (none: run to the horizon)")
    products: list[ContinuousProduct] | None = Field(None, description="several products sharing the line")
    startup_time: Dist = Field(0.0, description="days of start-up; the off-spec output is diverted")
    shutdown_time: Dist = Field(0.0, description="days of shut-down at the end of a run")
    restart_after_stop: bool = Field(True, description="a breakdown or maintenance stop needs a new start-up")
    disturbance_diversion: NonNegFloat | ResidenceTimeDiversion = Field(
        0.0, description="output diverted around each breakdown, taken from the lot being made: days of "
        "output, or the window that the line's residence-time distribution gives (ICH Q13 diversion)")
    idle_shutdown: NonNegFloat | None = Field(
        None, description="days a running line waits for material before it shuts down (then it pays the "
        "shut-down, and a start-up with its diverted output on restart); none: it idles running")
    release: Literal["real_time", "end_of_run"] = Field(
        "real_time", description="real_time: each lot released after qc_time (RTRT); "
                                 "end_of_run: lots wait for the end of the run, then QC testing")

    PRODUCT = ContinuousProduct
    PRODUCT_FIELDS = ("rate", "lot_size")
    MATERIAL_FIELD = "material_per_unit"
    COUNT_FIELD = "lots"

    def kind_problems(self, where: str, products: list[ProductSpec]) -> list[str]:
        out = []
        if self.qc_lab is not None and self.release == "real_time":
            out.append(f"{where}.release: real-time release does not use a QC lab; "
                       f"use release: end_of_run or drop qc_lab {self.qc_lab!r}")
        if self.release == "end_of_run":
            for p in products:
                if p.plan.runs_forever():
                    out.append(f"{where}.release: end-of-run release needs runs of finite length; "
                               f"give {p.product!r} a number of lots or a plan.campaign")
        return out


LINES = family("line", "kind")
LINES.add(BatchLine, ContinuousLine)
Line = LINES.union()
"""A CDMO line: one of the registered kinds (``kind``); see :mod:`sim.scenario.kinds`."""


for _cls in (BatchProduct, ContinuousProduct):
    PLANS.hold(_cls, "plan")
for _cls in (BatchLine, ContinuousLine):
    PLANS.hold(_cls, "plan", lambda u: u | None)


def line_products(line: LineSpec) -> list[ProductSpec]:
    """The products *line* makes (see :meth:`LineSpec.product_specs`)."""
    return line.product_specs()


def made_and_consumed(products: Iterable[ProductSpec]) -> tuple[set[str], set[str]]:
    """The products *products* make, and the materials their bills of materials consume: made and
    consumed is an intermediate, made and not consumed reaches packaging."""
    products = list(products)
    return ({p.product for p in products},
            {m for p in products for m, q in p.bom.items() if q > 0})


class Packaging(Model):
    """Packaging and labelling of released drug product into patient kits."""

    units_per_kit: int = Field(ge=1, description="units of drug product per kit")
    time: Dist = Field(description="days to package one released lot")
    packers: int = Field(1, ge=1, description="lots packaged in parallel")
    shelf_life: PositiveFloat = Field(description="days from the drug product's date of manufacture (its batch "
                                                  "start) to kit expiry; packaging does not restart it")


class Depot(Model):
    """The central depot that holds kits and ships them to sites."""

    name: Name = "central"
    initial_kits: int = Field(0, ge=0, description="kits on hand at time 0")
    initial_shelf_life: PositiveFloat = Field(365.0, description="days of shelf life left on the initial kits")
    storage: StorageRoom | None = Field(None, description="storage capacity (none: unlimited)")
