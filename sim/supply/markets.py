"""Outside demand at a stock point: customers ordering from a raw material, an intermediate or (wired
by sim/model.py, see sim/clinical/kit_market.py) a depot's kits.

Orders come as a Poisson stream at the market's rate, a renewal stream, or a time-varying rate (a
schedule and/or a season) drawn by thinning a Poisson stream at the peak rate.  An order met at once
is sold; one that is not waits first come first served with the chain's own issues (backorder) or
takes what is on hand and loses the rest (lost sale).  The metrics are the ones inventory theory
states results for: fill rate (units met at once), cycle service level (replenishment cycles without
a stock-out), backorder delay and backlog.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from typing import Iterable

import simpy

from sim.core.context import Context
from sim.core.distributions import Exponential, Uniform
from sim.core.lots import LotStore
from sim.core.node import Holding, Node
from sim.scenario.markets import Market

EPS = 1e-9


class MarketNode(Node):
    """Customers of one stock point (:class:`~sim.scenario.markets.Market`)."""

    def __init__(self, ctx: Context, spec: Market, store: LotStore, issue) -> None:
        """*issue(qty)* requests stock from the stock point (its replenishment policy reviews then); *store*
        is the stock point: ``qty`` to sell, ``backordered``, ``watchers``, ``material`` (of the ledger)."""
        self.ctx = ctx
        self.spec = spec
        self.name = spec.name
        self.store = store
        self.issue = issue
        stream = f"market.{spec.name}"
        self._size = ctx.sampler(f"{stream}.order_size", spec.order_size)
        self._varying = spec.interarrival is None and (spec.schedule is not None or spec.season is not None)
        if spec.interarrival is not None:
            self._gap = ctx.sampler(f"{stream}.interarrival", spec.interarrival)
        else:
            self._peak = spec.peak_rate()
            self._gap = ctx.sampler(f"{stream}.arrivals", Exponential(dist="exponential", mean=1 / self._peak))
            self._accept = ctx.sampler(f"{stream}.thinning", Uniform(dist="uniform", low=0.0, high=1.0))
        if spec.schedule is not None:
            self._days = [d for d, _ in spec.schedule]
            self._rates = [r for _, r in spec.schedule]
        self._demand = ctx.counter(f"demand.{spec.name}")
        self._sold = ctx.counter(f"sold.{spec.name}")
        self._lost = ctx.counter(f"lost_sales.{spec.name}")
        self._delay = ctx.tally(f"backorder.{spec.name}")
        self._backlog = ctx.level(f"backlog.{spec.name}")
        self._units, self._at_once = ctx.count(), ctx.count()
        self._cycles, self._cycles_met = ctx.count(), ctx.count()
        self._short = False  # a stock-out in the current replenishment cycle
        self._on_hand = 0.0
        self._pending: dict[simpy.Event, float] = {}
        self.first_sale = math.nan
        self.launch_built = math.nan  # the day the launch stock was first on hand
        self.at_launch = math.nan     # units on hand on the launch day

    def start(self) -> None:
        self.store.watchers.append(self._cycle_watch)
        self._launch_watch(self.ctx.now, self.store.qty)
        self.ctx.at(self.spec.launch_day(), self._launch)
        self.ctx.start(self._open)  # where env.process put a process's first step

    def _launch(self) -> None:
        self.at_launch = self.store.qty

    # -- demand ------------------------------------------------------------------------
    def rate(self, t: float) -> float:
        """Orders a day at day *t* (schedule x season)."""
        spec = self.spec
        if spec.schedule is not None:
            i = bisect_right(self._days, t) - 1
            base = self._rates[i] if i >= 0 else 0.0
        else:
            base = spec.rate or 0.0
        if spec.season is not None:
            n = len(spec.season)
            base *= spec.season[min(n - 1, int((t % spec.season_length) / spec.season_length * n))]
        return base

    # Orders are a chain of timed calls placed where a process's loop put its timeouts: the same order
    # of events, without a process resumed at each order.
    def _open(self) -> None:
        if self.spec.start > 0:
            self.ctx.after(self.spec.start, self._next_order)
        else:
            self._next_order()

    def _next_order(self) -> None:
        self.ctx.after(self._gap(), self._arrival)

    def _arrival(self) -> None:
        """An order comes, unless thinned (the rate is below the peak now)."""
        if not (self._varying and self._accept() * self._peak > self.rate(self.ctx.env._now)):
            self._order(self._size())
        self._next_order()

    def _order(self, qty: float) -> None:
        ctx, store = self.ctx, self.store
        now = ctx.now
        self._demand.count(now, qty)
        self._units.add(now, qty)
        at_once = store.backordered <= EPS and store.qty >= qty - EPS
        if at_once:
            self._at_once.add(now, qty)
        else:
            self._short = True
            if self.spec.unmet == "lost":
                on_hand = store.qty if store.backordered <= EPS else 0.0
                self._lost.count(now, qty - on_hand)
                qty = on_hand
                if qty <= EPS:
                    return
        ev = self.issue(qty)
        if ev.triggered:
            self._delivered(qty)
            return
        self._pending[ev] = qty
        self._backlog.add(now, qty)
        ev.callbacks.append(lambda _ev, t=now, q=qty: self._backorder_filled(_ev, t, q))

    def _backorder_filled(self, ev: simpy.Event, ordered: float, qty: float) -> None:
        now = self.ctx.now
        del self._pending[ev]
        self._backlog.add(now, -qty)
        self._delay.observe(now - ordered, now)
        self._delivered(qty)

    def _delivered(self, qty: float) -> None:
        self.ctx.ledger.outflow(self.store.material, "sold", qty)
        self._sold.count(self.ctx.now, qty)
        if self.first_sale != self.first_sale:  # NaN: the first one
            self.first_sale = self.ctx.now

    def _cycle_watch(self, t: float, qty: float) -> None:
        """A rise of the stock on hand is a replenishment: it closes a cycle (counted from the warm-up)."""
        if qty > self._on_hand + EPS:
            if t > self.ctx.warmup:
                self._cycles.add(t)
                if not self._short:
                    self._cycles_met.add(t)
            self._short = False
        self._on_hand = qty
        self._launch_watch(t, qty)

    def _launch_watch(self, t: float, qty: float) -> None:
        target = self.spec.launch_stock
        if target is not None and self.launch_built != self.launch_built and qty >= target - EPS:
            self.launch_built = t

    # -- the node ------------------------------------------------------------------------
    def holdings(self) -> Iterable[Holding]:
        """Stock granted to a backorder at this instant, not yet handed over."""
        yield self.store.material, "sold_pending", sum(q for ev, q in self._pending.items() if ev.triggered)

    def metrics(self, t_end: float) -> dict[str, float]:
        n, cycles = self._units.value, self._cycles.value
        launch = {f"stock_at_launch.{self.name}": self.at_launch}
        if self.spec.launch_stock is not None:
            launch[f"launch_stock_built.{self.name}"] = self.launch_built
        return {f"first_sale.{self.name}": self.first_sale, **launch,
                f"fill_rate.market.{self.name}": self._at_once.value / n if n else math.nan,
                f"cycle_service_level.market.{self.name}": self._cycles_met.value / cycles if cycles else math.nan}
