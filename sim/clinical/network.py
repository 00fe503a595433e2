"""The clinical distribution network built from a scenario: depots, lanes, trials, sites.

Central depot -> regional depots -> sites, or depot -> patients' homes for
direct-to-patient sites.  One lane per (depot, country) pair, so every site
of a country shares its lane's dispatch calendar and customs; legacy
``regions`` get a lane of their own from the central depot.  Customs apply to
shipments from a depot in another country than the destination.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from sim.core.context import Context
from sim.core.distributions import Deterministic, _Spec
from sim.clinical.depot import DepotNode
from sim.clinical.inventory import KitPlan, resolve_kit_types
from sim.clinical.lanes import Lane
from sim.clinical.sites import SiteNode
from sim.clinical.trial import TrialNode
from sim.scenario.clinical import Country, LaneSpec, Trial, per_kit

ALWAYS_REPORTED = ("visits.dosed", "visits.not_dosed", "visits.dosed_on_time", "visits.missed_dispensing",
                   "visits.out_of_stock", "patients.not_dosed", "dispensed.kits", "shipped.kits", "shipments",
                   "cost.shipping", "lost.kits", "destroyed.kits", "expired.depot", "expired.sites")
"""Counters created up front so every replication reports them, zero or not."""


@dataclass
class SiteGroupPlan:
    """A group of sites with everything resolved: where they are supplied from and how."""

    label: str  # sites are named <trial>.<label>-NN
    count: int
    rate: _Spec
    arrivals: str
    cap: int | None
    startup: _Spec
    direct_to_patient: bool
    depot: DepotNode
    lane: Lane
    home_lane: Lane | None


class ClinicalNetwork:
    """Every clinical-side node of one replication, and their statistics."""

    def __init__(self, ctx: Context, sc: Any) -> None:
        self.ctx = ctx
        self.scenario = sc
        self.kit_plans: list[KitPlan] = resolve_kit_types(sc.kit_types, sc.packaging, sc.depot)
        self._cold = {k.material for k in self.kit_plans if k.cold_chain}
        for name in ALWAYS_REPORTED:
            ctx.counter(name)
        net = sc.network
        self.countries: dict[str, Country] = {c.name: c for c in net.countries}
        self.lanes: dict[str, Lane] = {}
        self.central = DepotNode(ctx, sc.depot.name, self.kit_plans, net.central_country)
        for plan in self.kit_plans:
            self.central.stock_initial(plan, plan.initial_stock, plan.initial_shelf_life)
        self.depots: dict[str, DepotNode] = {self.central.name: self.central}
        for d in net.depots:
            parent = self.depots[d.supplied_from or self.central.name]
            lane = self._lane(f"{parent.name}->{d.name}", d.lane, self._customs(parent, d.country), to_depot=True)
            node = DepotNode(ctx, d.name, self.kit_plans, d.country, parent, lane, d)
            for plan in self.kit_plans:
                node.stock_initial(plan, per_kit(d.initial_kits, plan.name), d.initial_shelf_life)
            self.depots[d.name] = node
        for node in self.depots.values():
            node.review()
        kits = [k.name for k in self.kit_plans]
        self.trials: list[TrialNode] = []
        self.sites: list[SiteNode] = []
        for t in sc.trials:
            trial = TrialNode(ctx, t, kits)
            self.trials.append(trial)
            numbers: dict[str, int] = {}
            for g in self._groups(t):
                for _ in range(g.count):
                    numbers[g.label] = numbers.get(g.label, 0) + 1
                    self.sites.append(SiteNode(ctx, f"{t.name}.{g.label}-{numbers[g.label]:02d}", trial, g, self))

    # -- building ------------------------------------------------------------------------
    def _lane(self, name: str, spec: LaneSpec, customs: _Spec | None, to_depot: bool = False) -> Lane:
        """The lane called *name*, shared by every site group it serves.  A depot's supply lane is never
        shared: a country named like a depot (``central->X`` both ways) would silently ship over the
        depot's lane, with its times, costs and random streams, so it is refused."""
        lane = self.lanes.get(name)
        if lane is None:
            lane = self.lanes[name] = Lane(self.ctx, name, spec, customs, self._cold.__contains__, to_depot)
        elif to_depot or lane.to_depot:
            raise ValueError(f"lane {name!r} would serve both a depot and sites: rename the depot or the country")
        return lane

    def _customs(self, source: DepotNode, country: str | None) -> _Spec | None:
        if country is None or country == source.country:
            return None
        return self.countries[country].customs

    def _groups(self, t: Trial) -> Iterable[SiteGroupPlan]:
        for r in t.regions:
            lane = self._lane(f"{t.name}.{r.name}", LaneSpec(transit_time=r.transit_time), None)
            yield SiteGroupPlan(r.name, r.sites, Deterministic(value=r.enrollment_rate), "poisson", None,
                                r.activation, False, self.central, lane, None)
        for g in t.sites:
            c = self.countries[g.country]
            depot = self.depots[c.depot or self.central.name]
            customs = self._customs(depot, c.name)
            lane = self._lane(f"{depot.name}->{c.name}", c.lane, customs)
            home = self._lane(f"{depot.name}->{c.name}.home", c.home_lane or c.lane, customs) \
                if g.direct_to_patient else None
            yield SiteGroupPlan(c.name, g.count, g.recruitment_rate, g.arrivals, g.cap, g.startup or c.site_startup,
                                g.direct_to_patient, depot, lane, home)

    # -- queries -------------------------------------------------------------------------
    def usable_upstream(self, kit: str, min_expiry: float) -> float:
        """Usable kits of *kit* at any depot (what a missed visit is measured against)."""
        return sum(d.usable(kit, min_expiry) for d in self.depots.values())

    def holders(self) -> list[Any]:
        return [*self.depots.values(), *self.lanes.values(), *self.sites]

    def metrics(self) -> dict[str, float]:
        ctx = self.ctx
        m: dict[str, float] = {}
        for t in self.trials:
            m.update(t.metrics())
        for s in self.sites:
            m.update(s.metrics())
        total = {n: c.total for n, c in ctx.counters.items()}
        produced = sum(ctx.ledger.inflows.get((k.material, r), 0.0)
                       for k in self.kit_plans for r in ("packed", "initial"))
        dispensed = total.get("dispensed.kits", 0.0)
        m["kits.produced"] = produced
        m["overage"] = produced / dispensed if dispensed else math.nan
        m["stockouts"] = sum(s.stockouts for s in self.sites)
        for kind in ("not_dosed", "missed_dispensing", "out_of_stock"):
            m[f"risk.{kind}"] = float(total.get(f"visits.{kind}", 0.0) > 0)
        return m
