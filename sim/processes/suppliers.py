"""Raw-material suppliers replenishing a CDMO's material store by an (s, Q) rule."""
from __future__ import annotations

import math
from typing import Iterable

from sim.context import Context
from sim.lots import Lot, LotStore
from sim.scenario.supply import Supplier


class SupplierNode:
    """Continuous review (s, Q): when inventory position (on hand + on order) is at
    or below *s*, order *Q* (repeatedly, until above *s*); each order arrives after
    a random lead time as one lot.
    """

    def __init__(self, ctx: Context, spec: Supplier, store: LotStore) -> None:
        self.ctx = ctx
        self.spec = spec
        self.store = store
        self.on_order = 0.0
        self._lead = ctx.sampler(f"supplier.{spec.name}.lead_time", spec.lead_time)
        self._lead_tally = ctx.tally(f"supplier_lead_time.{spec.name}")
        self._delivered = ctx.counter(f"delivered.{spec.name}")
        if spec.initial_stock > 0:
            ctx.ledger.inflow(spec.material, "initial", spec.initial_stock)
            store.put(Lot(ctx.new_id(spec.material), spec.material, spec.initial_stock, None, math.inf, 0.0))
        store.watchers.append(lambda _t, _q: self.review())
        self.review()

    @property
    def position(self) -> float:
        return self.store.qty + self.on_order

    def review(self) -> None:
        """Place orders while the inventory position is at or below the reorder point."""
        s, q = self.spec.reorder_point, self.spec.order_quantity
        while self.position <= s + 1e-9:
            self.on_order += q
            self.ctx.ledger.inflow(self.spec.material, "ordered", q)
            self.ctx.env.process(self._deliver(q))

    def _deliver(self, qty: float):
        ctx = self.ctx
        ordered = ctx.now
        yield ctx.env.timeout(self._lead())
        self.on_order -= qty
        lot = Lot(ctx.new_id(self.spec.material), self.spec.material, qty, f"PO:{self.spec.name}", math.inf, ctx.now)
        self.store.put(lot)
        self._lead_tally.observe(ctx.now - ordered, ctx.now)
        self._delivered.count(ctx.now, qty)

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        yield self.spec.material, "in_transit", self.on_order
