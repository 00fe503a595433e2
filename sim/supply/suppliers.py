"""Raw-material suppliers: quoted lead times, late and partial deliveries, capacity, MOQ, outages.

A supplier fills the orders a :class:`~sim.supply.raw_materials.MaterialNode`
places.  Each order is quoted a lead time (a draw from ``lead_time``) and is due
that long after it is placed.  Orders queue for the supplier's dispatch
capacity and wait out outages; an order arrives at its due date or, if queueing
and outages kept it past that, when dispatched; plus ``late_delay`` if it turns
out late (probability ``1 - on_time_prob``), and possibly in two parts
(``partial_fraction`` first, the rest ``backorder_delay`` later).  An order is
on time in full (OTIF) if it arrives complete by its due date.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import simpy

from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Holding, Node
from sim.scenario.supply import Supplier

Receive = Callable[[Lot], None]


class SupplierNode(Node):
    """One supplier of one material; what is ordered and not yet delivered is held ``in_transit``."""

    def __init__(self, ctx: Context, spec: Supplier) -> None:
        self.ctx = ctx
        self.spec = spec
        self.name = spec.name
        self.material = spec.material
        self.on_order = 0.0
        self.down = False
        # from the warm-up on, like the lead-time tally: orders, OTIF and purchases (costs)
        self.orders = ctx.count()
        self.completed = ctx.count()
        self.otif = ctx.count()
        self.delivered_qty = ctx.count()
        p = f"supplier.{spec.name}"
        self._lead = ctx.sampler(f"{p}.lead_time", spec.lead_time)
        self._late = ctx.coin(f"{p}.late", 1.0 - spec.on_time_prob)
        self._late_delay = ctx.sampler(f"{p}.late_delay", spec.late_delay)
        self._partial = ctx.coin(f"{p}.partial", 1.0 - spec.in_full_prob)
        self._backorder_delay = ctx.sampler(f"{p}.backorder_delay", spec.backorder_delay)
        self._lead_tally = ctx.tally(f"supplier_lead_time.{spec.name}")
        self._delivered = ctx.counter(f"delivered.{spec.name}")
        self._queue: simpy.Store | None = None
        if spec.capacity is not None or spec.disruptions is not None:
            self._queue = simpy.Store(ctx.env)
        if spec.disruptions is not None:
            self._up = ctx.env.event()
            self._outage_level = ctx.level(f"outage.{spec.name}")
            self._between = ctx.sampler(f"{p}.disruption.time_between", spec.disruptions.time_between)
            self._duration = ctx.sampler(f"{p}.disruption.duration", spec.disruptions.duration)

    def start(self) -> None:
        """The dispatch queue (with capacity or outages), then the outage process."""
        env = self.ctx.env
        if self._queue is not None:
            env.process(self._dispatch())
        if self.spec.disruptions is not None:
            env.process(self._outages())

    def order(self, qty: float, receive: Receive) -> float:
        """Place an order (raised to the MOQ); ``receive(lot)`` is called per delivery. Returns the quantity."""
        qty = max(qty, self.spec.min_order_quantity)
        self.on_order += qty
        self.orders.add(self.ctx.now)
        self.ctx.ledger.inflow(self.material, "ordered", qty)
        order = (qty, receive, self.ctx.now, self._lead())
        if self._queue is None:
            self.ctx.env.process(self._ship(order))
        else:
            self._queue.put(order)
        return qty

    def _dispatch(self):
        """Orders leave first-come first-served, at the capacity rate, never during an outage."""
        env, cap = self.ctx.env, self.spec.capacity
        while True:
            order = yield self._queue.get()
            while self.down:
                yield self._up
            if cap is not None:
                yield env.timeout(order[0] * cap.period / cap.quantity)
            env.process(self._ship(order))

    def _ship(self, order):
        qty, receive, ordered, quoted = order
        env = self.ctx.env
        extra = self._late_delay() if self._late() else 0.0
        # the quote covers the supplier's own processing: only queueing and outages beyond it make an order late
        yield env.timeout(max(0.0, ordered + quoted - env.now) + extra)
        in_full = not self._partial()
        if not in_full:
            first = qty * self.spec.partial_fraction
            self._arrive(first, receive)
            yield env.timeout(self._backorder_delay())
            qty -= first
        self._arrive(qty, receive)
        now = env.now
        self._lead_tally.observe(now - ordered, now)
        self.completed.add(now)
        if in_full and now <= ordered + quoted + 1e-9:
            self.otif.add(now)

    def _arrive(self, qty: float, receive: Receive) -> None:
        if qty <= 0:
            return
        ctx = self.ctx
        self.on_order -= qty
        self.delivered_qty.add(ctx.now, qty)
        self._delivered.count(ctx.now, qty)
        lot = Lot(ctx.new_id(self.material), self.material, qty, f"PO:{self.name}", math.inf, ctx.now)
        ctx.made(lot, f"supplier.{self.name}")
        receive(lot)

    def _outages(self):
        env = self.ctx.env
        while True:
            yield env.timeout(self._between())
            self.down = True
            self._outage_level.set(env.now, 1)
            yield env.timeout(self._duration())
            self.down = False
            self._outage_level.set(env.now, 0)
            up, self._up = self._up, env.event()
            up.succeed()

    @property
    def otif_fraction(self) -> float:
        n = self.completed.value
        return self.otif.value / n if n else math.nan

    def holdings(self) -> Iterable[Holding]:
        yield self.material, "in_transit", self.on_order

    def metrics(self, t_end: float) -> dict[str, float]:
        return {f"otif.{self.name}": self.otif_fraction, f"orders.{self.name}": self.orders.value}
