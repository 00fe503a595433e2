"""Raw material at a CDMO: its stock, its replenishment policy, its sources and incoming QC.

The inventory position every policy works on is
``on hand + on order + in quarantine - backordered``.  Continuous-review
policies are reviewed whenever the stock changes or a demand arrives; the
periodic policy only at its review epochs.  Issues that cannot be met wait,
first-come first-served (backorders), so the classic inventory formulas apply.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import simpy

from sim.core.context import Context
from sim.core.lots import Lot, LotStore
from sim.supply.suppliers import SupplierNode
from sim.scenario.materials import BaseStock, Material, MinMax, PeriodicReview, ReorderPoint

EPS = 1e-9


def order_quantity(policy, position: float) -> float:
    """How much a continuous-review *policy* orders now at inventory *position* (0: nothing)."""
    if isinstance(policy, ReorderPoint):
        if position > policy.reorder_point + EPS:
            return 0.0
        # enough multiples of Q to lift the position above s
        n = math.floor((policy.reorder_point - position) / policy.order_quantity + EPS) + 1
        return n * policy.order_quantity
    if isinstance(policy, MinMax):
        return policy.order_up_to - position if position <= policy.reorder_point + EPS else 0.0
    if isinstance(policy, BaseStock):
        return policy.level - position if position < policy.level - EPS else 0.0
    return 0.0  # periodic review orders only at review epochs


class MaterialNode:
    """Stock of one raw material, replenished from one or more suppliers."""

    def __init__(self, ctx: Context, spec: Material, suppliers: list[SupplierNode], store: LotStore,
                 test: Callable[[], object] | None = None) -> None:
        """*test*, when given, is a generator function run on every delivered lot; it returns pass/fail."""
        self.ctx = ctx
        self.spec = spec
        self.name = spec.name
        self.store = store
        self.suppliers = suppliers
        self.quarantine = 0.0
        self.demands = 0
        self.filled_at_once = 0
        self._test = test
        self._reviewing = False
        self._rejected = ctx.counter(f"rejected_incoming.{spec.name}")
        initial = spec.initial_stock
        if initial is None:
            initial = sum(s.spec.initial_stock for s in suppliers)
        if initial > 0:
            ctx.ledger.inflow(spec.name, "initial", initial)
            store.put(Lot(ctx.new_id(spec.name), spec.name, initial, None, math.inf, 0.0))
        store.watchers.append(lambda _t, _q: self.review())
        if isinstance(spec.policy, PeriodicReview):
            ctx.env.process(self._periodic(spec.policy))
        self.review()

    # -- demand ------------------------------------------------------------------
    def issue(self, qty: float) -> simpy.Event:
        """Request *qty*; the event fires with the lots once it is on hand (FIFO backorders)."""
        if self.ctx.observing:  # the fill rate counts from the warm-up on
            self.demands += 1
            if self.store.backordered <= 0 and self.store.qty >= qty - EPS:
                self.filled_at_once += 1
        ev = self.store.get(qty)
        self.review()
        return ev

    @property
    def fill_rate(self) -> float:
        """Fraction of issues met at once from stock."""
        return self.filled_at_once / self.demands if self.demands else math.nan

    # -- replenishment -------------------------------------------------------------
    @property
    def on_order(self) -> float:
        return sum(s.on_order for s in self.suppliers)

    @property
    def position(self) -> float:
        return self.store.qty + self.on_order + self.quarantine - self.store.backordered

    def review(self) -> None:
        if self._reviewing:
            return
        self._reviewing = True
        try:
            q = order_quantity(self.spec.policy, self.position)
            if q > EPS:
                self.place(q)
        finally:
            self._reviewing = False

    def _periodic(self, policy: PeriodicReview):
        env = self.ctx.env
        yield env.timeout(policy.first_review)
        while True:
            pos = self.position
            if policy.reorder_point is None or pos <= policy.reorder_point + EPS:
                if policy.order_up_to - pos > EPS:
                    self.place(policy.order_up_to - pos)
            yield env.timeout(policy.review_period)

    def place(self, qty: float) -> None:
        """Allocate an order of *qty* to the sources by the allocation rule."""
        if self.spec.allocation == "split" and self.spec.shares:
            shares = self.spec.shares
            total = sum(shares.values())
            for s in self.suppliers:
                if s.name in shares:
                    s.order(qty * shares[s.name] / total, self.receive)
            return
        up = next((s for s in self.suppliers if not s.down), self.suppliers[0])
        up.order(qty, self.receive)

    # -- deliveries ----------------------------------------------------------------
    def receive(self, lot: Lot) -> None:
        if self._test is None:
            self.store.put(lot)
            return
        self.quarantine += lot.qty
        self.ctx.env.process(self._incoming_qc(lot))

    def _incoming_qc(self, lot: Lot):
        passed = yield from self._test()
        self.quarantine -= lot.qty
        if passed:
            self.store.put(lot)
        else:
            self.ctx.ledger.outflow(self.name, "rejected_incoming", lot.qty)
            self._rejected.count(self.ctx.now, lot.qty)
            self.review()

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        yield self.name, "quarantine", self.quarantine


def incoming_test(ctx: Context, spec: Material, labs: dict) -> Callable[[], object] | None:
    """The incoming-QC generator function of material *spec* (None when it has no incoming QC)."""
    qc = spec.incoming_qc
    if qc is None:
        return None
    if qc.lab is not None:
        lab = labs[qc.lab]
        tests = [qc.test or lab.test_names[0]]
        return lambda: lab.release(tests)
    time = ctx.sampler(f"material.{spec.name}.incoming_qc.time", qc.time)
    fails = ctx.coin(f"material.{spec.name}.incoming_qc.failure", qc.failure_prob)
    counter = ctx.counter(f"incoming_tests.{spec.name}")

    def test():
        yield ctx.env.timeout(time())
        counter.count(ctx.now)
        return not fails()

    return test
