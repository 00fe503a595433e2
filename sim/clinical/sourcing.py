"""Kits bought in ready to use (a commercial comparator): continuous review (s, Q) of the central
depot's kits on hand plus on order, each order arriving after its lead time with its shelf life."""
from __future__ import annotations

from typing import Iterable

from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Holding, Node
from sim.scenario.resolve import KitPlan


class KitSource(Node):
    """Buys kit type *plan* for *depot* (the central depot) on the market."""

    def __init__(self, ctx: Context, plan: KitPlan, depot) -> None:
        self.ctx = ctx
        self.plan = plan
        self.spec = plan.sourcing
        self.name = f"{plan.name}-source"
        self.depot = depot
        self.on_order = 0
        self._lead = ctx.sampler(f"sourcing.{plan.name}.lead_time", self.spec.lead_time)
        self._bought = ctx.counter("sourced.kits")
        self._cost = ctx.counter("cost.sourcing")

    def start(self) -> None:
        self.depot.shelf.stocks[self.plan.name].watchers.append(lambda _t, _q: self.review())
        self.review()

    def review(self) -> None:
        spec = self.spec
        while self.depot.shelf.stocks[self.plan.name].qty + self.on_order <= spec.reorder_point:
            self.on_order += spec.order_quantity
            self._cost.count(self.ctx.now, spec.order_quantity * spec.cost_per_kit)
            self.ctx.at(self.ctx.now + self._lead(), self._arrive)

    def _arrive(self) -> None:
        ctx, spec = self.ctx, self.spec
        qty = spec.order_quantity
        self.on_order -= qty
        self._bought.count(ctx.now, qty)
        ctx.ledger.inflow(self.plan.material, "sourced", qty)
        lot = Lot(ctx.new_id("KIT"), self.plan.material, qty, f"PO:{self.name}", ctx.now + spec.shelf_life, ctx.now)
        ctx.made(lot, f"depot.{self.depot.name} (bought in)")
        self.depot.receive(lot)

    def holdings(self) -> Iterable[Holding]:
        return ()  # kits on order are not yet in the chain (the ledger counts them on arrival)
