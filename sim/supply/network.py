"""The supply side of one replication, wired from the resolved scenario.

Raw materials (each with its stock, policy and suppliers) feed the lines; a
line's released lots go, through its :class:`~sim.supply.stage_lanes.StageLane`,
to the input store of the lines that consume its product (the next stage,
usually at another CDMO) or, for a final product, to packaging.  Planners
queue each product's campaigns.  Every node reports its own metrics; the
network adds what spans nodes (first release per CDMO, the cost model).
"""
from __future__ import annotations

import math
from typing import Any, Callable

from sim.core.context import Context
from sim.core.lots import Lot, LotStore
from sim.core.timeline import TimelineRow
from sim.scenario.forecast import good_per_batch
from sim.scenario.resolve import ResolvedScenario
from sim.supply.costs import cost_metrics
from sim.supply.lines.registry import line_node
from sim.supply.markets import MarketNode
from sim.supply.planning import Planner, planner
from sim.supply.qc_lab import QCLab
from sim.supply.raw_materials import MaterialNode, incoming_test
from sim.supply.stage_lanes import StageLane
from sim.supply.suppliers import SupplierNode


class SupplyNetwork:
    """Suppliers, raw materials, QC labs, lines, stage lanes and planners of one replication."""

    def __init__(self, ctx: Context, plan: ResolvedScenario, deliver_final: Callable[[Lot], None],
                 final_stock: Callable[[str], float] | None = None,
                 final_stores: Callable[[str], list[LotStore]] | None = None) -> None:
        self.ctx = ctx
        sc = plan.spec
        self.final_stock = final_stock
        self.labs = {lab.name: QCLab(ctx, lab) for lab in sc.qc_labs}
        self.suppliers = [SupplierNode(ctx, s) for s in sc.suppliers]
        self.stores: dict[str, LotStore] = {}
        self.materials: dict[str, MaterialNode] = {}
        for spec in plan.materials:
            mine = [s for s in self.suppliers if s.material == spec.name]
            if spec.sources:
                mine = [next(s for s in mine if s.name == n) for n in spec.sources]
            self.stores[spec.name] = self._store(spec.name)
            self.materials[spec.name] = MaterialNode(ctx, spec, mine, self.stores[spec.name],
                                                     incoming_test(ctx, spec, self.labs))
        intermediates = plan.intermediates
        for name in sorted(intermediates):
            self.stores[name] = self._store(name)
        issuers: dict[str, Any] = {m: node.issue for m, node in self.materials.items()}
        issuers.update({p: self.stores[p].get for p in intermediates})

        def route(lot: Lot) -> None:
            if lot.material in intermediates:
                self.stores[lot.material].put(lot)
            else:
                deliver_final(lot)

        self.lanes: list[StageLane] = []
        self.lines = []
        for spec in sc.lines:
            lane = StageLane(ctx, spec.name, spec.ship_time, route)
            self.lanes.append(lane)
            self.lines.append(line_node(spec)(ctx, spec, list(plan.products[spec.name]), issuers, lane.send,
                                              self.labs.get(spec.qc_lab)))
        self.planners: list[Planner] = [planner(ctx, line, r, plan.forecast.get((line.name, r.name)),
                                                self._position(r.name), plan.phasing.get((line.name, r.name)),
                                                plan.last_batch.get((line.name, r.name), 1.0))
                                        for line in self.lines for r in line.recipes]
        labs = {lab.name: lab for lab in sc.qc_labs}
        for p in self.planners:  # what a continuous review watches (a no-op for the other plans)
            name = p.recipe.name
            down = [self.stores[name]] if name in self.stores else final_stores(name) if final_stores else []
            p.watch(down, good_per_batch(p.line.spec, p.recipe.spec, labs))
        self.markets = [MarketNode(ctx, m, self.stores[m.stock], issuers[m.stock])
                        for m in sc.markets if m.depot is None]  # a depot's kits: wired by sim/model.py

    def start(self) -> None:
        """Schedule the supply side, in this order (SimPy breaks ties between simultaneous events by
        the order they were scheduled): suppliers (dispatch and outage processes), raw materials
        (initial stock, then the policy's first review, which may order at time 0), lines (their
        campaign loops), planners (the plans' campaigns queued at time 0, or their processes), markets
        (their order streams)."""
        for node in [*self.suppliers, *self.materials.values(), *self.lines, *self.planners, *self.markets]:
            node.start()

    def _store(self, material: str) -> LotStore:
        return LotStore(self.ctx.env, f"material.{material}", material,
                        watchers=[self.ctx.level_tracker(f"inventory.material.{material}")])

    def _position(self, product: str) -> Callable[[], float]:
        """Stock position of *product* for make-to-stock: downstream stock + in transit + in the pipeline."""
        makers = [line for line in self.lines if any(r.name == product for r in line.recipes)]

        def position() -> float:
            store = self.stores.get(product)
            if store is not None:
                down = store.qty
            else:
                down = self.final_stock(product) if self.final_stock is not None else 0.0
            return (down + sum(line.pipeline(product) for line in makers)
                    + sum(lane.in_transit.get(product, 0.0) for lane in self.lanes))

        return position

    def nodes(self) -> list[Any]:
        """Every node, in the order the conservation check and the metrics walk visit them."""
        return [*self.stores.values(), *self.materials.values(), *self.suppliers, *self.lines, *self.lanes,
                *self.markets]

    def timeline(self, t_end: float) -> list[TimelineRow]:
        """Every line's timeline, line after line in scenario order (bounded: see TIMELINE_CAP)."""
        return [row for line in self.lines for row in line.timeline(t_end)]

    def metrics(self, t_end: float) -> dict[str, float]:
        """What spans nodes: the first release of each CDMO and the cost model."""
        m: dict[str, float] = {}
        first_by_cdmo: dict[str, float] = {}
        for line in self.lines:
            cdmo, t = line.spec.cdmo, line.first_release
            first_by_cdmo[cdmo] = min(first_by_cdmo.get(cdmo, math.inf), t if not math.isnan(t) else math.inf)
        for cdmo, t in first_by_cdmo.items():
            m[f"first_release.cdmo.{cdmo}"] = t if t < math.inf else math.nan
        for p in self.planners:
            m.update(p.metrics(t_end))
        m.update(cost_metrics(self.ctx, t_end, self.suppliers, self.materials, self.lines, list(self.labs.values())))
        return m
