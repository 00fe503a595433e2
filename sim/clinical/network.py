"""The clinical distribution network built from the resolved scenario: depots, lanes, trials, sites.

Central depot -> regional depots -> sites, or depot -> patients' homes for
direct-to-patient sites.  One lane per (depot, country) pair, so every site
of a country shares its lane's dispatch calendar and customs; legacy
``regions`` get a lane of their own from the central depot.  Customs apply to
shipments from a depot in another country than the destination (decided when
the scenario is resolved: :mod:`sim.scenario.resolve`).
"""
from __future__ import annotations

import math
from typing import Any

from sim.clinical.cro import CRONode
from sim.clinical.depot import DepotNode
from sim.clinical.storage import ColdStorage
from sim.clinical.labelling import Labelling
from sim.clinical.lanes import Lane
from sim.clinical.recall import Recalls
from sim.clinical.sites import SiteNode
from sim.clinical.sourcing import KitSource
from sim.clinical.trial import TrialNode
from sim.core.context import Context
from sim.scenario.clinical import per_kit
from sim.scenario.resolve import LaneRoute, ResolvedScenario

ALWAYS_REPORTED = ("visits.dosed", "visits.not_dosed", "visits.dosed_on_time", "visits.missed_dispensing",
                   "visits.out_of_stock", "patients.not_dosed", "dispensed.kits", "shipped.kits", "shipments",
                   "cost.shipping", "lost.kits", "destroyed.kits", "expired.depot", "expired.sites")
"""Counters created up front so every replication reports them, zero or not."""
WASTE = ("expired.depot", "expired.sites", "expired.homes", "destroyed.kits", "lost.kits")
"""What ``waste.kits`` adds up: kits that left the chain without reaching a patient."""


class ClinicalNetwork:
    """Every clinical-side node of one replication, and the metrics that span them."""

    def __init__(self, ctx: Context, plan: ResolvedScenario) -> None:
        self.ctx = ctx
        sc = plan.spec
        self.kit_plans = list(plan.kit_plans)
        self._cold = {k.material for k in self.kit_plans if k.cold_chain}
        for name in ALWAYS_REPORTED:
            ctx.counter(name)
        self.lanes: dict[str, Lane] = {}
        self.central = DepotNode(ctx, sc.depot.name, self.kit_plans, sc.network.central_country)
        self.depots: dict[str, DepotNode] = {self.central.name: self.central}
        specs = {d.name: d for d in sc.network.depots}
        for d in plan.depots:
            spec = specs[d.name]
            lane = self._lane(d.lane, to_depot=True)
            self.depots[d.name] = DepotNode(ctx, d.name, self.kit_plans, spec.country, self.depots[d.parent], lane, spec)
        self.trials: list[TrialNode] = []
        self.sites: list[SiteNode] = []
        kits = [k.name for k in self.kit_plans]
        trials = {t.name: TrialNode(ctx, t, kits) for t in sc.trials}
        self.trials = list(trials.values())
        self.cros = {c.name: CRONode(ctx, c) for c in sc.cros}
        approved = {c.name: ctx.sampler(f"country.{c.name}.approval", c.approval)()
                    for c in sc.network.countries if c.approval is not None}
        for d in self.depots.values():
            d.open_at = approved.get(d.country, 0.0) if d.parent is not None else 0.0
        numbers: dict[tuple[str, str], int] = {}
        for g in plan.site_groups:
            first = numbers.get((g.trial, g.label), 0) + 1
            numbers[g.trial, g.label] = first + g.count - 1
            lane, home = self._lane(g.lane), self._lane(g.home_lane) if g.home_lane is not None else None
            for name in g.site_names(first):
                self.sites.append(SiteNode(ctx, name, trials[g.trial], g, self.depots[g.depot], lane, home,
                                           self.usable_upstream, self.cros.get(g.cro), approved.get(g.country, 0.0)))
        temperature = {k.name: k.temperature for k in self.kit_plans}
        rooms = [(self.central, sc.depot.storage), *((self.depots[d.name], specs[d.name].storage) for d in plan.depots)]
        for depot, room in rooms:
            if room is not None:
                depot.set_room(room, temperature)
        for site in self.sites:
            cap = site.group.capacity
            if cap is not None and not site.dtp:
                site.set_room({"all": cap} if isinstance(cap, int) else dict(cap),
                              {k: "all" if isinstance(cap, int) else temperature[k] for k in site.kits})
        site_rules = {k.name: k.relabel for k in self.kit_plans if k.relabel is not None and k.relabel.at_sites}
        if site_rules:
            for site in self.sites:
                site.relabel_here(site_rules)
        self.storage: list[ColdStorage] = []
        if sc.network.storage_excursions is not None:
            spec = sc.network.storage_excursions
            points = [(f"depot.{d.name}", d) for d in self.depots.values()] if spec.at != "sites" else []
            points += [(f"site.{s.name}", s) for s in self.sites] if spec.at != "depots" else []
            self.storage = [ColdStorage(ctx, place, p.shelf, self._cold, spec, p.restock) for place, p in points]
        self.recalls = Recalls(ctx, list(sc.recalls), self._points) if sc.recalls else None
        self.sources = [KitSource(ctx, k, self.central) for k in self.kit_plans if k.sourcing is not None]
        self.labelling = Labelling(ctx, sc.labels, self) if sc.labels is not None else None
        self._initial = [(self.central, k, k.initial_stock, k.initial_shelf_life) for k in self.kit_plans]
        self._initial += [(self.depots[d.name], k, per_kit(specs[d.name].initial_kits, k.name),
                           specs[d.name].initial_shelf_life) for d in plan.depots for k in self.kit_plans]

    def start(self) -> None:
        """Schedule the clinical side, in this order (SimPy breaks ties between simultaneous events by
        the order they were scheduled): every depot's initial stock (central first, then regional depots
        as declared; each lot arms its expiry), then every depot's first review (a regional depot may
        order from its parent at time 0), then each site's initial kits, then each site's recruitment process, trial by trial, in
        site order, then the cold storage of every depot and site (if it can fail), then each trial's
        interim analyses that come on a given day, then the recalls, then the purchases of kits bought in."""
        for depot, kit, qty, shelf_life in self._initial:
            depot.stock_initial(kit, qty, shelf_life)
        for depot in self.depots.values():
            depot.review()
        for site in self.sites:
            site.stock_initial()
        for site in self.sites:
            site.start()
        for storage in self.storage:
            storage.start()
        for trial in self.trials:
            trial.start()
        if self.recalls is not None:
            self.recalls.start()
        for source in self.sources:
            source.start()

    def _points(self):
        """Every shelf of kits now: depots, sites, patients' homes."""
        yield from self.depots.values()
        for site in self.sites:
            yield site
            yield from site.homes

    def _lane(self, route: LaneRoute, to_depot: bool = False) -> Lane:
        """The lane called *route.name*, shared by every site group it serves.  A depot's supply lane
        is never shared: a country named like a depot (``central->X`` both ways) would silently ship
        over the depot's lane, with its times, costs and random streams, so it is refused."""
        lane = self.lanes.get(route.name)
        if lane is None:
            lane = self.lanes[route.name] = Lane(self.ctx, route.name, route.spec, route.customs,
                                                 self._cold.__contains__, to_depot)
        elif to_depot or lane.to_depot:
            raise ValueError(f"lane {route.name!r} would serve both a depot and sites: rename the depot or the country")
        return lane

    # -- queries -------------------------------------------------------------------------
    def central_kits(self, kit: str) -> float:
        """Kits of a type at the central depot, labelled or not (what make-to-stock watches)."""
        n = self.central.shelf.stocks[kit].qty
        return n if self.labelling is None else n + self.labelling.unlabelled(kit)

    def central_stores(self, kit: str) -> list:
        """The stocks :meth:`central_kits` adds up, but kits on a labelling line (what (s, S) watches)."""
        stocks = [self.central.shelf.stocks[kit]]
        return stocks if self.labelling is None or self.labelling.jit is None else [*stocks, self.labelling.bulk.stocks[kit]]

    def usable_upstream(self, kit: str, min_expiry: float) -> float:
        """Usable kits of *kit* at any depot (what a missed visit is measured against)."""
        return sum(d.usable(kit, min_expiry) for d in self.depots.values())

    def nodes(self) -> list[Any]:
        """Every node, in the order the conservation check and the metrics walk visit them."""
        return [*self.depots.values(), *self.lanes.values(), *self.sites, *self.trials, *self.storage,
                *self.cros.values(), *self.sources, *([self.labelling] if self.labelling is not None else [])]

    def metrics(self, t_end: float) -> dict[str, float]:
        """What spans nodes: service, kits produced against kits dispensed, stock-outs, risks."""
        counters = self.ctx.counters
        total = {n: c.total for n, c in counters.items()}
        m: dict[str, float] = {}
        dosed, missed, on_time = (counters.get(f"visits.{k}") for k in ("dosed", "not_dosed", "dosed_on_time"))
        due = (dosed.total if dosed else 0) + (missed.total if missed else 0)
        m["dosed_on_day_fraction"] = (on_time.total / due) if due and on_time else math.nan
        m["dosed_fraction"] = (dosed.total / due) if due and dosed else math.nan
        m["visits.dosed_late"] = (dosed.total if dosed else 0.0) - (on_time.total if on_time else 0.0)
        m["waste.kits"] = sum(total.get(k, 0.0) for k in WASTE)
        produced = sum(self.ctx.ledger.inflows.get((k.material, r), 0.0)
                       for k in self.kit_plans for r in ("packed", "initial"))
        dispensed = total.get("dispensed.kits", 0.0)
        m["kits.produced"] = produced
        m["overage"] = produced / dispensed if dispensed else math.nan
        m["stockouts"] = sum(s.stockouts for s in self.sites)
        for kind in ("not_dosed", "missed_dispensing", "out_of_stock"):
            m[f"risk.{kind}"] = float(total.get(f"visits.{kind}", 0.0) > 0)
        return m
