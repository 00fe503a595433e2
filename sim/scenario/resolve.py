"""The scenario in canonical form: every short form expanded and every default decided, once.

A scenario file may say things briefly — a line's single product on the line itself, a material
whose only supplier carries the (s, Q) policy, no kit types (one kit packed from any product),
legacy ``regions`` instead of site groups, no seed.  :func:`resolve` turns a validated
:class:`~sim.scenario.schema.Scenario` into a :class:`ResolvedScenario` in which none of that is
left to decide: the model's builders, the make-to-forecast plan and the figures read this, so a
default is decided in one place and a short form is expanded once per replication, not wherever
it is needed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from sim.core.distributions import Deterministic, Distribution
from sim.scenario.clinical import LEGACY_KIT, KitType, LaneSpec, Relabel
from sim.scenario.forecast import forecast_batches, last_batch_share
from sim.scenario.phasing import phased_campaigns
from sim.scenario.materials import Material, ReorderPoint
from sim.scenario.schema import Scenario
from sim.scenario.supply import Depot, Packaging, Supplier, line_products, made_and_consumed


KIT_PREFIX = "kit:"
"""Every kit type is a material of its own in the ledger: ``kit:<name>``."""


def experiment_seed(scenario: Scenario, seed: int | None = None) -> int:
    """The seed an experiment uses: the one given, else the scenario's own."""
    return scenario.seed if seed is None else seed


@dataclass(frozen=True)
class KitPlan:
    """A kit type with every default resolved (units, shelf life, initial stock)."""

    name: str
    product: str | None  # None: packed from any product
    units_per_kit: int
    shelf_life: float
    pack_share: float = 1.0
    cold_chain: bool = False
    initial_stock: int = 0
    initial_shelf_life: float = 365.0
    relabel: Relabel | None = None
    temperature: str = "15-25C"  # storage class (site capacity is per class)
    sourcing: Any = None  # bought in ready to use (a comparator) instead of packed

    def packed_from(self, product: str) -> bool:
        """Whether packaging packs *product* into this kit type."""
        return self.sourcing is None and self.product in (None, product)

    @property
    def material(self) -> str:
        """Ledger material of this kit type: every kit type is a material of its own."""
        return KIT_PREFIX + self.name


def kit_plans(kit_types: list[KitType], packaging: Packaging, depot: Depot) -> list[KitPlan]:
    """Kit plans from the scenario; with no kit types, the one legacy kit packed from any product."""
    if not kit_types:
        return [KitPlan(LEGACY_KIT, None, packaging.units_per_kit, packaging.shelf_life,
                        initial_stock=depot.initial_kits, initial_shelf_life=depot.initial_shelf_life)]
    return [KitPlan(k.name, k.product,
                    k.units_per_kit or packaging.units_per_kit,
                    k.shelf_life or packaging.shelf_life,
                    k.pack_share, k.cold_chain,
                    depot.initial_kits if k.initial_stock is None else k.initial_stock,
                    k.initial_shelf_life or depot.initial_shelf_life,
                    k.relabel, k.temperature, k.sourcing)
            for k in kit_types]


def implicit_material(supplier: Supplier) -> Material:
    """The short form: a material whose one supplier carries an (s, Q) policy."""
    return Material(name=supplier.material, policy=ReorderPoint(
        kind="sQ", reorder_point=supplier.reorder_point, order_quantity=supplier.order_quantity))


@dataclass(frozen=True)
class LaneRoute:
    """A shipping lane by name (its random streams are keyed by the name), with what it needs."""

    name: str
    spec: LaneSpec
    customs: Distribution | None  # None: no border crossed


@dataclass(frozen=True)
class SiteGroupPlan:
    """A group of sites with everything resolved: where they are supplied from and how."""

    trial: str
    label: str  # sites are named <trial>.<label>-NN
    count: int
    rate: Distribution
    arrivals: str
    cap: int | None
    startup: Distribution
    direct_to_patient: bool
    depot: str
    lane: LaneRoute
    home_lane: LaneRoute | None
    cro: str | None = None  # the CRO whose CRAs start these sites up
    country: str | None = None  # a declared country (site groups; legacy regions have none)
    capacity: Any = None  # kits a site stores: an int for all, or per temperature class
    resupply: Any = None  # the group's own resupply policy (None: the trial's)
    min_shelf_life: float = 0.0  # the country's rule: shelf life a kit needs when shipped to its sites
    initial_kits: Any = 0  # kits on each site's shelf at day 0 (PerKit)
    initial_shelf_life: float = 365.0

    def site_names(self, first: int) -> list[str]:
        """Names of this group's sites, numbered from *first* within the trial's label."""
        return [f"{self.trial}.{self.label}-{n:02d}" for n in range(first, first + self.count)]


@dataclass(frozen=True)
class DepotPlan:
    """A regional depot with its supplying depot and lane resolved."""

    name: str
    parent: str
    lane: LaneRoute


@dataclass(frozen=True)
class ResolvedScenario:
    """What the model is built from; ``spec`` keeps the validated scenario for everything that
    needs no resolving (horizon, line and lane parameters, ...)."""

    spec: Scenario
    seed: int
    products: Mapping[str, tuple]  # line name -> the products it makes (BatchProduct / ContinuousProduct)
    materials: tuple[Material, ...]  # every supplied raw material with its policy, in supplier order
    intermediates: frozenset[str]  # products made by one line and consumed by another
    forecast: Mapping[tuple[str, str], int]  # (line, product) -> GMP batches of make-to-forecast plans
    phasing: Mapping[tuple[str, str], tuple[tuple[float, int], ...]]  # (line, product) -> (start, batches) per campaign
    kit_plans: tuple[KitPlan, ...]
    depots: tuple[DepotPlan, ...]  # regional depots in declaration order
    site_groups: tuple[SiteGroupPlan, ...]  # every trial's groups: legacy regions first, then site groups
    last_batch: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (line, product) -> share of
    # the nominal size made by the last batch of a make-to-forecast plan with min_batch (partial last batch)


def _customs(sc: Scenario, depot_country: dict[str, str | None], source: str, country: str | None):
    if country is None or country == depot_country[source]:
        return None
    return next(c.customs for c in sc.network.countries if c.name == country)


def _depots(sc: Scenario) -> tuple[list[DepotPlan], dict[str, str | None]]:
    central = sc.depot.name
    country = {central: sc.network.central_country}
    plans = []
    for d in sc.network.depots:
        parent = d.supplied_from or central
        plans.append(DepotPlan(d.name, parent, LaneRoute(f"{parent}->{d.name}", d.lane,
                                                         _customs(sc, country, parent, d.country))))
        country[d.name] = d.country
    return plans, country


def _site_groups(sc: Scenario, depot_country: dict[str, str | None]) -> list[SiteGroupPlan]:
    central = sc.depot.name
    countries = {c.name: c for c in sc.network.countries}
    out = []
    for t in sc.trials:
        for r in t.regions:
            lane = LaneRoute(f"{t.name}.{r.name}", LaneSpec(transit_time=r.transit_time), None)
            out.append(SiteGroupPlan(t.name, r.name, r.sites, Deterministic(value=r.enrollment_rate), "poisson",
                                     None, r.activation, False, central, lane, None, r.cro or t.cro))
        for g in t.sites:
            c = countries[g.country]
            depot = c.depot or central
            customs = _customs(sc, depot_country, depot, c.name)
            lane = LaneRoute(f"{depot}->{c.name}", c.lane, customs)
            home = LaneRoute(f"{depot}->{c.name}.home", c.home_lane or c.lane, customs) if g.direct_to_patient else None
            out.append(SiteGroupPlan(t.name, c.name, g.count, g.recruitment_rate, g.arrivals, g.cap,
                                     g.startup_in(c), g.direct_to_patient, depot, lane, home, g.cro or t.cro,
                                     c.name, g.capacity, g.resupply, c.min_shelf_life, g.initial_kits,
                                     g.initial_shelf_life))
    return out


def resolve(scenario: Scenario, seed: int | None = None) -> ResolvedScenario:
    """The canonical form of a validated scenario (cheap: no simulation, no file access)."""
    sc = scenario
    products = {line.name: tuple(line_products(line)) for line in sc.lines}
    declared = {m.name: m for m in sc.materials}
    materials = []
    for name in dict.fromkeys(s.material for s in sc.suppliers):
        first = next(s for s in sc.suppliers if s.material == name)
        materials.append(declared.get(name) or implicit_material(first))
    made, consumed = made_and_consumed(p for prods in products.values() for p in prods)
    mtf = any(p.plan.derives_from_demand for prods in products.values() for p in prods)
    depots, depot_country = _depots(sc)
    needs: dict[tuple[str, str], float] = {}
    forecast = forecast_batches(sc, needs) if mtf else {}
    last = {key: last_batch_share(needs[key], n, plan.min_batch) for key, n in forecast.items()
            for plan in [_plan_of(products, key)] if getattr(plan, "min_batch", None) is not None}
    return ResolvedScenario(
        spec=sc, seed=experiment_seed(sc, seed), products=products, materials=tuple(materials),
        intermediates=frozenset(made & consumed), forecast=forecast,
        phasing=phased_campaigns(sc, forecast) if mtf else {},
        kit_plans=tuple(kit_plans(sc.kit_types, sc.packaging, sc.depot)), depots=tuple(depots),
        site_groups=tuple(_site_groups(sc, depot_country)), last_batch=last)


def _plan_of(products: Mapping[str, tuple], key: tuple[str, str]):
    """The plan of product *key* = (line, product)."""
    return next(p.plan for p in products[key[0]] if p.product == key[1])
