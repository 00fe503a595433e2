"""The supply side of one replication, wired from a scenario.

Raw materials (each with its stock, policy and suppliers) feed the lines; a
line's released lots go, through its :class:`~sim.supply.stage_lanes.StageLane`,
to the input store of the lines that consume its product (the next stage,
usually at another CDMO) or, for a final product, to packaging.  Planners
queue each product's campaigns.  :meth:`SupplyNetwork.metrics` turns what
happened into the per-line, per-supplier and cost statistics of the results.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from sim.core.context import Context
from sim.supply.costs import cost_metrics
from sim.core.lots import Lot, LotStore
from sim.supply.lines.base import LINE_KINDS, TimelineRow
from sim.supply.raw_materials import MaterialNode, incoming_test
from sim.supply.planning import Planner
from sim.supply.qc_lab import QCLab
from sim.supply.suppliers import SupplierNode
from sim.supply.stage_lanes import StageLane
from sim.scenario.forecast import forecast_batches
from sim.scenario.materials import Material, ReorderPoint
from sim.scenario.supply import line_products


def implicit_material(supplier) -> Material:
    """The foundation's form: a material whose one supplier carries an (s, Q) policy."""
    return Material(name=supplier.material, policy=ReorderPoint(
        kind="sQ", reorder_point=supplier.reorder_point, order_quantity=supplier.order_quantity))


class SupplyNetwork:
    """Suppliers, raw materials, QC labs, lines, stage lanes and planners of one replication."""

    def __init__(self, ctx: Context, sc, deliver_final: Callable[[Lot], None],
                 final_stock: Callable[[str], float] | None = None) -> None:
        self.ctx = ctx
        self.sc = sc
        self.final_stock = final_stock
        env = ctx.env
        self.labs = {lab.name: QCLab(ctx, lab) for lab in sc.qc_labs}
        self.suppliers = [SupplierNode(ctx, s) for s in sc.suppliers]
        declared = {m.name: m for m in sc.materials}
        self.stores: dict[str, LotStore] = {}
        self.materials: dict[str, MaterialNode] = {}
        for name in dict.fromkeys(s.material for s in sc.suppliers):
            mine = [s for s in self.suppliers if s.material == name]
            spec = declared.get(name) or implicit_material(mine[0].spec)
            if spec.sources:
                mine = [next(s for s in mine if s.name == n) for n in spec.sources]
            self.stores[name] = self._store(name)
            self.materials[name] = MaterialNode(ctx, spec, mine, self.stores[name],
                                                incoming_test(ctx, spec, self.labs))
        made = {p.product for line in sc.lines for p in line_products(line)}
        consumed = {m for line in sc.lines for p in line_products(line) for m, q in p.bom.items() if q > 0}
        for name in sorted(made & consumed):
            self.stores[name] = self._store(name)
        issuers: dict[str, Any] = {m: node.issue for m, node in self.materials.items()}
        issuers.update({p: self.stores[p].get for p in made & consumed})

        def route(lot: Lot) -> None:
            if lot.material in consumed:
                self.stores[lot.material].put(lot)
            else:
                deliver_final(lot)

        self.lanes: list[StageLane] = []
        self.lines = []
        for spec in sc.lines:
            lane = StageLane(ctx, spec.name, spec.ship_time, route)
            self.lanes.append(lane)
            self.lines.append(LINE_KINDS[spec.kind](ctx, spec, issuers, lane.send, self.labs.get(spec.qc_lab)))
        forecast = forecast_batches(sc) if any(
            p.plan.policy == "make_to_forecast" for line in sc.lines for p in line_products(line)) else {}
        self.planners = [Planner(ctx, line, r, forecast.get((line.name, r.name)), self._position(r.name))
                         for line in self.lines for r in line.recipes]

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

    def holders(self) -> list[Any]:
        return [*self.stores.values(), *self.materials.values(), *self.suppliers, *self.lines, *self.lanes]

    def timeline(self, t_end: float) -> list[TimelineRow]:
        """Every line's timeline, line after line in scenario order (bounded: see TIMELINE_CAP)."""
        return [row for line in self.lines for row in line.timeline(t_end)]

    def metrics(self, t_end: float) -> dict[str, float]:
        """Per-line OEE and milestones, supplier OTIF, material fill rates, and the cost model."""
        m: dict[str, float] = {}
        first_by_cdmo: dict[str, float] = {}
        for line in self.lines:
            n = line.name
            line.clock.finish(t_end)
            for k, v in line.oee().items():
                m[f"{k}.{n}"] = v
            m[f"first_release.{n}"] = line.first_release
            cdmo = line.spec.cdmo
            first_by_cdmo[cdmo] = min(first_by_cdmo.get(cdmo, math.inf), line.first_release if not
                                      math.isnan(line.first_release) else math.inf)
            for r in line.recipes:
                if len(line.recipes) > 1:
                    m[f"first_release.{n}.{r.name}"] = r.first_release
                if r.spec.tech_transfer is not None:
                    m[f"tech_transfer.{n}.{r.name}.days"] = r.tech_transfer_done - r.tech_transfer_start
                    m[f"tech_transfer.{n}.{r.name}.attempts"] = r.tech_transfer_attempts
            m[f"batches.{n}"] = line.batches_made
            m[f"changeovers.{n}"] = line.changeovers
            m[f"reworked.{n}"] = line.reworks
        for cdmo, t in first_by_cdmo.items():
            m[f"first_release.cdmo.{cdmo}"] = t if t < math.inf else math.nan
        for s in self.suppliers:
            m[f"otif.{s.name}"] = s.otif_fraction
            m[f"orders.{s.name}"] = s.orders
        for name, node in self.materials.items():
            m[f"fill_rate.material.{name}"] = node.fill_rate
        m.update(cost_metrics(self, t_end))
        return m
