"""Temperature excursions of cold storage at a depot or a site (a fridge or cold room failing; ``at``
says which can fail).

At random intervals every cold-chain kit on the shelf is taken off it and quarantined while QA
assesses it against stability data; then it is released back to the shelf (with probability
``release_prob``) or destroyed (booked ``lost``, like kits lost to a shipping excursion).  Ambient
kits are not affected.  The owner decides what a released kit does (a closed site destroys it).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable

from sim.clinical.inventory import KitShelf
from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Holding, Node
from sim.scenario.stability import StorageExcursions


class ColdStorage(Node):
    """The cold storage of one depot or site: its excursions and the kits quarantined by them."""

    def __init__(self, ctx: Context, place: str, shelf: KitShelf, cold: set[str], spec: StorageExcursions,
                 released: Callable[[list[Lot]], None]) -> None:
        self.ctx = ctx
        self.name = place
        self.shelf = shelf
        self.cold = [k for k, stock in shelf.stocks.items() if stock.material in cold]
        self._released = released
        self._interval = ctx.sampler(f"storage.{place}.interval", spec.interval)
        self._assessment = ctx.sampler(f"storage.{place}.assessment", spec.assessment)
        self._release = ctx.coin(f"storage.{place}.release", spec.release_prob)
        self._events = ctx.counter("storage_excursions")
        self._lost = ctx.counter("lost.kits")
        self.held: dict[str, float] = defaultdict(float)

    def start(self) -> None:
        if self.cold:
            self.ctx.start(self._next_failure)

    # Failures and assessments are timed calls placed where a process's timeouts were (the same order
    # of events, no process to resume).
    def _next_failure(self) -> None:
        self.ctx.after(self._interval(), self._fail)

    def _fail(self) -> None:
        lots = [lot for k in self.cold for lot in list(self.shelf.stocks[k].lots)]
        self._events.count(self.ctx.now)
        if lots:
            for lot in lots:
                lot.store.remove(lot)
            self.ctx.start(self._assess, lots)
        self._next_failure()

    def _assess(self, lots: list[Lot]) -> None:
        for lot in lots:
            self.held[lot.material] += lot.qty
        self.ctx.after(self._assessment(), self._assessed, lots)

    def _assessed(self, lots: list[Lot]) -> None:
        ctx = self.ctx
        for lot in lots:
            self.held[lot.material] -= lot.qty
        if self._release():
            self._released(lots)
            return
        for lot in lots:
            ctx.ledger.outflow(lot.material, "lost", lot.qty)
            self._lost.count(ctx.now, lot.qty)

    def holdings(self) -> Iterable[Holding]:
        for m, q in self.held.items():
            yield m, "storage_quarantine", q
