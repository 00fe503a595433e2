"""Wiring a scenario into one replication of SimPy processes, and running it.

:func:`run_replication` is the unit of work every experiment is made of: a
scenario, an experiment seed and a replication index in; a
:class:`ReplicationResult` of scalar metrics, per-period series, delay
samples and the lines' timeline out.  It is a pure function of its
arguments, so replications can run in any order, in any process, on any
machine, with identical results.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.core import conservation
from sim.core.context import Context
from sim.core.lots import LotStore
from sim.supply.lines.base import TimelineRow
from sim.clinical.network import ClinicalNetwork
from sim.supply.packaging import PackagingNode
from sim.supply.network import SupplyNetwork
from sim.scenario import Scenario


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


class SupplyChainModel:
    """The runtime chain built from a scenario: suppliers -> lines -> packaging
    -> depot -> lanes -> sites."""

    def __init__(self, scenario: Scenario, seed: int | None = None, rep: int = 0) -> None:
        self.scenario = sc = scenario
        self.seed = sc.seed if seed is None else seed
        self.rep = rep
        self.ctx = ctx = Context(sc.horizon, sc.warmup, sc.period, self.seed, rep)
        # clinical side first (depots, lanes, sites), then packaging into it, then the supply side
        # feeding packaging: suppliers -> materials -> lines (-> next stage) -> packaging.
        self.network = ClinicalNetwork(ctx, sc)
        self.depot = self.network.central
        self.packaging = PackagingNode(ctx, sc.packaging, self.depot.receive, self.network.kit_plans)
        # make-to-stock of a final product watches the depot's kits of that product, in units
        plans = self.network.kit_plans
        self.supply = SupplyNetwork(ctx, sc, self.packaging.receive, final_stock=lambda product: sum(
            self.depot.shelf.stocks[k.name].qty * k.units_per_kit
            for k in plans if k.product in (None, product)))
        self.material_stores: dict[str, LotStore] = self.supply.stores
        self.suppliers, self.lines = self.supply.suppliers, self.supply.lines
        self.trials = self.network.trials
        self.sites = self.network.sites
        self.lanes = list(self.network.lanes.values())

    # -- running ---------------------------------------------------------------
    def run(self) -> None:
        self.ctx.env.run(until=self.scenario.horizon)

    def holders(self) -> list[Any]:
        return [*self.supply.holders(), self.packaging, *self.network.holders()]

    def check_conservation(self) -> dict[str, dict[str, float]]:
        return conservation.check(self.ctx.ledger, self.holders())

    # -- results -----------------------------------------------------------------
    def results(self) -> ReplicationResult:
        ctx, sc = self.ctx, self.scenario
        T = sc.horizon
        span = T - sc.warmup
        m: dict[str, float] = {}
        for name, c in sorted(ctx.counters.items()):
            m[f"total.{name}"] = c.total
            m[f"rate.{name}"] = c.total / span
        for name, t in sorted(ctx.tallies.items()):
            m[f"delay.{name}.mean"] = t.mean if t.n else math.nan
            m[f"delay.{name}.max"] = t.max if t.n else math.nan
            m[f"delay.{name}.n"] = t.n
        for name, lv in sorted(ctx.levels.items()):
            lv.finish(T)
            m[f"{name}.mean" if not name.startswith(("utilisation.", "downtime.")) else name] = lv.mean(T)
        visits = ctx.counters.get("visits.dosed")
        missed = ctx.counters.get("visits.not_dosed")
        on_time = ctx.counters.get("visits.dosed_on_time")
        due = (visits.total if visits else 0) + (missed.total if missed else 0)
        m["service_level"] = (on_time.total / due) if due and on_time else math.nan
        m["dosed_fraction"] = (visits.total / due) if due and visits else math.nan
        m.update(self.network.metrics())
        m.update(self.supply.metrics(T))  # OEE, OTIF, fill rates, time to first release, costs
        m.update(ctx.scalars)
        series = {f"{name}": c.series() for name, c in ctx.counters.items()}
        series.update({name: lv.series(T) for name, lv in ctx.levels.items()})
        samples = {name: t.sample for name, t in ctx.tallies.items()}
        return ReplicationResult(self.rep, self.seed, m, series, samples, timeline=self.supply.timeline(T))


def run_replication(scenario: Scenario, seed: int | None = None, rep: int = 0,
                    check: bool = True) -> ReplicationResult:
    """Build, run and summarise one replication; checks conservation unless told not to."""
    t0 = time.perf_counter()
    model = SupplyChainModel(scenario, seed, rep)
    model.run()
    accounting = model.check_conservation() if check else {}
    res = model.results()
    res.accounting = accounting
    res.wall_seconds = time.perf_counter() - t0
    return res
