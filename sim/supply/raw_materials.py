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
from sim.core.node import Holding, Node
from sim.supply.suppliers import SupplierNode
from sim.scenario.kinds import Registry
from sim.scenario.materials import POLICIES, BaseStock, Material, MinMax, PeriodicReview, ReorderPoint

EPS = 1e-9


class ContinuousReview:
    """Review after every change of the stock or the backlog: (s, Q), (s, S), base stock."""

    def __init__(self, node: "MaterialNode") -> None:
        self.node = node

    def start(self) -> None:
        """Nothing to schedule: reviews follow events."""

    def changed(self) -> None:
        q = self.node.spec.policy.quantity(self.node.position)
        if q > EPS:
            self.node.place(q)


class PeriodicReviewing:
    """Review only every ``review_period`` days, from ``first_review`` on: (R, S), (R, s, S)."""

    def __init__(self, node: "MaterialNode") -> None:
        self.node = node

    def start(self) -> None:
        self.node.ctx.env.process(self._run())

    def changed(self) -> None:
        """Between review epochs nothing is ordered."""

    def _run(self):
        node = self.node
        policy, env = node.spec.policy, node.ctx.env
        yield env.timeout(policy.first_review)
        while True:
            q = policy.quantity(node.position)
            if q > 0:
                node.place(q)
            yield env.timeout(policy.review_period)


REVIEWS = Registry(POLICIES, {ReorderPoint: ContinuousReview, MinMax: ContinuousReview,
                              BaseStock: ContinuousReview, PeriodicReview: PeriodicReviewing})
"""Registry: schema class of a raw-material policy -> how it is reviewed at run time."""

register_policy = REVIEWS.register
"""Make a new raw-material policy available to scenarios (schema) and to the model (runtime)."""


class MaterialNode(Node):
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
        self._demands = ctx.count()  # the fill rate counts from the warm-up on
        self._filled_at_once = ctx.count()
        self._test = test
        self._reviewing = False
        self._rejected = ctx.counter(f"rejected_incoming.{spec.name}")
        if spec.retest_period is not None:
            self._retests = ctx.counter(f"retests.{spec.name}")
            self._rejected_retest = ctx.counter(f"rejected_retest.{spec.name}")
        self._review = REVIEWS.of(spec.policy)(self)

    def start(self) -> None:
        """Initial stock on hand, then the policy's first review (which may place orders at time 0)."""
        ctx, spec, store = self.ctx, self.spec, self.store
        initial = spec.initial_stock
        if initial is None:
            initial = sum(s.spec.initial_stock for s in self.suppliers)
        if initial > 0:
            ctx.ledger.inflow(spec.name, "initial", initial)
            lot = Lot(ctx.new_id(spec.name), spec.name, initial, None, math.inf, 0.0)
            ctx.made(lot, f"material.{spec.name} (initial stock)")
            self._shelve(lot)
        store.watchers.append(lambda _t, _q: self.review())
        self._review.start()
        self.review()

    # -- demand ------------------------------------------------------------------
    def issue(self, qty: float) -> simpy.Event:
        """Request *qty*; the event fires with the lots once it is on hand (FIFO backorders)."""
        now = self.ctx.now
        self._demands.add(now)
        if self.store.backordered <= 0 and self.store.qty >= qty - EPS:
            self._filled_at_once.add(now)
        ev = self.store.get(qty)
        self.review()
        return ev

    @property
    def fill_rate(self) -> float:
        """Fraction of issues met at once from stock."""
        n = self._demands.value
        return self._filled_at_once.value / n if n else math.nan

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
            self._review.changed()
        finally:
            self._reviewing = False

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
            self._shelve(lot)
            return
        self.quarantine += lot.qty
        self.ctx.env.process(self._inspect(lot, "rejected_incoming", self._rejected))

    def _inspect(self, lot: Lot, rejected_as: str, rejected):
        """Test a lot held in quarantine: to the shelf if it passes, rejected (booked *rejected_as*) if not."""
        passed = yield from self._test()
        self.quarantine -= lot.qty
        if passed:
            self._shelve(lot)
        else:
            self.ctx.ledger.outflow(self.name, rejected_as, lot.qty)
            rejected.count(self.ctx.now, lot.qty)
            self.review()

    def _shelve(self, lot: Lot) -> None:
        """On the shelf, with its retest date armed (if the material has one)."""
        self.store.put(lot)
        period = self.spec.retest_period
        if period is not None and self.ctx.now + period < self.ctx.horizon:
            self.ctx.at(self.ctx.now + period, self._retest_due, lot)

    def _retest_due(self, lot: Lot) -> None:
        if lot.store is self.store and lot.qty > 0:  # still here (part of it may have been issued)
            self.quarantine += lot.qty  # first, so the position seen by a review on removal is unchanged
            self.store.remove(lot)
            self._retests.count(self.ctx.now)
            self.ctx.env.process(self._inspect(lot, "rejected_retest", self._rejected_retest))

    def holdings(self) -> Iterable[Holding]:
        yield self.name, "quarantine", self.quarantine

    def metrics(self, t_end: float) -> dict[str, float]:
        return {f"fill_rate.material.{self.name}": self.fill_rate}


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
