"""Wiring a resolved scenario into one replication of SimPy processes, and running it.

:func:`run_replication` is the unit of work every experiment is made of: a
scenario, an experiment seed and a replication index in; a
:class:`ReplicationResult` of scalar metrics, per-period series, delay
samples and the lines' timeline out.  It is a pure function of its
arguments, so replications can run in any order, in any process, on any
machine, with identical results.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.clinical.kit_market import depot_kits
from sim.clinical.network import ClinicalNetwork
from sim.core import conservation
from sim.core.genealogy import Genealogy
from sim.core.context import Context
from sim.core.timeline import TimelineRow
from sim.metrics import merge
from sim.scenario import Scenario
from sim.scenario.resolve import resolve
from sim.supply.markets import MarketNode
from sim.supply.network import SupplyNetwork
from sim.supply.packaging import PackagingNode


@dataclass
class ReplicationResult:
    rep: int
    seed: int
    metrics: dict[str, float]
    series: dict[str, np.ndarray]
    samples: dict[str, list[float]]
    accounting: dict[str, dict[str, float]] = field(default_factory=dict)
    events: int = 0
    wall_seconds: float = 0.0
    timeline: list[TimelineRow] = field(default_factory=list)
    """What every line did when (a detail, like series): the Gantt chart's data."""
    genealogy: Genealogy | None = None
    """Every lot made and every dose's lot, when the replication was traced (``trace=True``)."""


class SupplyChainModel:
    """The runtime chain built from a scenario: suppliers -> lines -> packaging -> depots -> lanes -> sites.

    Building creates every node without scheduling anything; :meth:`start` then starts them in one
    documented order, so which of two simultaneous events comes first never depends on build order.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, rep: int = 0, trace: bool = False) -> None:
        self.plan = plan = resolve(scenario, seed)
        self.scenario = sc = scenario
        self.seed = plan.seed
        self.rep = rep
        self.ctx = ctx = Context(sc.horizon, sc.warmup, sc.period, self.seed, rep)
        if trace:  # before any node is built: nodes look at it once, when built
            ctx.genealogy = Genealogy({line.name: line.cdmo for line in sc.lines})
        self.network = ClinicalNetwork(ctx, plan)
        self.depot = self.network.central
        self.packaging = PackagingNode(ctx, sc.packaging, self.depot.receive, plan.kit_plans)
        # make-to-stock of a final product watches the depot's kits of that product, in units
        kit_plans = plan.kit_plans
        self.supply = SupplyNetwork(ctx, plan, self.packaging.receive, final_stock=lambda product: sum(
            (self.network.central_kits(k.name) - self.depot.owed.get(k.name, 0.0)) * k.units_per_kit
            for k in kit_plans if k.packed_from(product)), final_stores=lambda product: [
            s for k in kit_plans if k.packed_from(product) for s in self.network.central_stores(k.name)])
        self.material_stores = self.supply.stores
        self.suppliers, self.lines = self.supply.suppliers, self.supply.lines
        self.trials = self.network.trials
        self.sites = self.network.sites
        self.lanes = list(self.network.lanes.values())
        # outside demand for a depot's kits (a commercial pack market): the market's node, the depot's stock
        self.kit_markets = [MarketNode(ctx, k.spec, k, k.issue) for k in depot_kits(self.network.depots, sc.markets)]
        self.start()

    def start(self) -> None:
        """Start every node at time 0, in this order: the clinical side (depots' initial stock and
        first reviews, then each site's recruitment), packaging (nothing to start), then the supply
        side (suppliers, raw materials, lines, planners).  This is the order the first versions of
        the model happened to schedule in; it is kept so that results stay identical.  Markets for a
        depot's kits come last (their order streams)."""
        self.network.start()
        self.packaging.start()
        self.supply.start()
        for market in self.kit_markets:
            market.start()

    # -- running ---------------------------------------------------------------
    def run(self) -> None:
        self.ctx.run(self.scenario.horizon)

    def nodes(self) -> list[Any]:
        """Every node, in the order the conservation check and the metrics walk visit them."""
        return [*self.supply.nodes(), self.packaging, *self.network.nodes(), *self.kit_markets]

    def check_conservation(self) -> dict[str, dict[str, float]]:
        return conservation.check(self.ctx.ledger, self.nodes())

    # -- results -----------------------------------------------------------------
    def results(self) -> ReplicationResult:
        ctx, T = self.ctx, self.scenario.horizon
        parts = [("shared collectors", ctx.collector_metrics(T)),
                 *((type(node).__name__ + " " + str(getattr(node, "name", "")), node.metrics(T))
                   for node in self.nodes()),
                 ("clinical network", self.network.metrics(T)),
                 ("supply network", self.supply.metrics(T))]
        metrics = merge(parts)
        timeline = self.supply.timeline(T)
        return ReplicationResult(self.rep, self.seed, metrics, ctx.collector_series(T), ctx.samples(),
                                 timeline=timeline, genealogy=ctx.genealogy)


def run_replication(scenario: Scenario, seed: int | None = None, rep: int = 0,
                    check: bool = True, trace: bool = False) -> ReplicationResult:
    """Build, run and summarise one replication; checks conservation unless told not to; with *trace*,
    records its lot genealogy (same results: recording draws no random number)."""
    t0 = time.perf_counter()
    model = SupplyChainModel(scenario, seed, rep, trace)
    model.run()
    accounting = model.check_conservation() if check else {}
    res = model.results()
    res.accounting = accounting
    res.wall_seconds = time.perf_counter() - t0
    return res
