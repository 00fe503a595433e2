"""Kit inventory: kit types as materials, FEFO kit stocks that expire, and shelves of them.

Every kit type is its own material in the conservation ledger (``kit:<name>``),
so kits of a blinded arm can never silently stand in for another arm's kits.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

from sim.core.context import Context
from sim.core.lots import Changes, Lot, LotStore
from sim.core.node import Holding, Node
from sim.scenario.resolve import KIT_PREFIX

def kit_material(kit: str) -> str:
    """Ledger material of kit type *kit*."""
    return KIT_PREFIX + kit


def kit_of(material: str) -> str:
    return material[len(KIT_PREFIX):]


class KitStock(LotStore):
    """Kits of one type at one place.

    A lot still here at its expiry date is removed and booked as expired.  One timed check is
    pending per stock, at the earliest expiry on hand (``_due``): lots come and go FEFO, so one
    event a stock stands for the thousand-odd a replication that one per lot put would book,
    nearly all of which would find their lot gone.
    """

    def __init__(self, ctx: Context, name: str, material: str, expired_as: str,
                 watchers: list[Callable[[float, float], None]] | None = None, changes: Changes | None = None) -> None:
        super().__init__(ctx.env, name, material, watchers=watchers, changes=changes)
        self.ctx = ctx
        self._expired = ctx.counter(f"expired.{expired_as}")
        self._due = ctx.horizon  # time of the pending expiry check (the horizon: none pending)

    def put(self, lot: Lot) -> None:
        if self.ctx.recalls and any(recalled(lot) for recalled in self.ctx.recalls):
            self.ctx.ledger.outflow(self.material, "recalled", lot.qty)  # arrived after its recall
            self.ctx.counter("recalled.kits").count(self.ctx.now, lot.qty)
            return
        LotStore.put(self, lot)  # super().put, without building a super object (every kit lot shelved)
        if lot.expiry < self._due:  # expires before the pending check (and within the horizon)
            self._due = lot.expiry
            self.ctx.at(lot.expiry, self._expire_due, lot.expiry)

    def _expire_due(self, due: float) -> None:
        """The check booked for *due*: lots expired by now go, and the next check is booked at the
        earliest expiry left.  A check superseded by an earlier one (an earlier-expiring lot came in
        after it was booked) does nothing: every lot here expires at or after ``_due``."""
        if due != self._due:
            return
        now, lots = self.ctx.env._now, self.lots
        i = 0
        while i < len(lots) and lots[i].expiry <= now:
            if lots[i].qty > 0:
                self.expire(lots[i])  # removes it from lots
            else:
                i += 1
        self._due = self.ctx.horizon
        if i < len(lots) and lots[i].expiry < self._due:
            self._due = lots[i].expiry
            self.ctx.at(self._due, self._expire_due, self._due)

    def expire(self, lot: Lot) -> None:
        qty = self.remove(lot)
        self.ctx.ledger.outflow(self.material, "expired", qty)
        self._expired.count(self.ctx.now, qty)

    def usable(self, min_expiry: float = -math.inf) -> float:
        return self.available(min_expiry)

    def holdings(self) -> Iterable[Holding]:
        """Kits on hand; labelled kits by label group (``on_hand.<group>``), unlabelled ones as ``on_hand``."""
        by: dict[str | None, float] = {None: 0.0}
        for lot in self.lots:
            by[lot.label] = by.get(lot.label, 0.0) + lot.qty
        for label, qty in by.items():
            yield self.material, "on_hand" if label is None else f"on_hand.{label}", qty


class KitShelf(Node):
    """Kits of several types at one place.

    *level* names the time-weighted level of the kits on this shelf (``inventory.site.X``); *total*
    one that several shelves move together (``inventory.homes_total``).
    """

    def __init__(self, ctx: Context, place: str, kits: Iterable[str], expired_as: str,
                 level: str | None = None, total: str | None = None) -> None:
        self.ctx = ctx
        self.place = place
        kits = list(kits)
        own = ctx.level(level) if level is not None else None
        shared = ctx.level(total) if total is not None else None

        def watchers() -> list[Callable[[float, float], None]]:
            out = []
            if own is not None:  # one kit type: the level is that stock's quantity, set directly (a call fewer)
                out.append(own.set if len(kits) == 1 else delta_tracker(own))
            if shared is not None:
                out.append(delta_tracker(shared))
            return out

        self.changes = Changes()  # of any kit stock here (what a dispensing point's review bound relies on)
        self.stocks: dict[str, KitStock] = {
            k: KitStock(ctx, f"{place}.{k}", kit_material(k), expired_as, watchers=watchers(), changes=self.changes)
            for k in kits}
        self._by_material = {stock.material: stock for stock in self.stocks.values()}
        self._destroyed = ctx.counter("destroyed.kits")

    def put(self, lot: Lot) -> None:
        self._by_material[lot.material].put(lot)

    def usable(self, kit: str, min_expiry: float) -> float:
        stock = self.stocks.get(kit)
        return stock.usable(min_expiry) if stock is not None else 0.0

    def take(self, kit: str, qty: float, min_expiry: float) -> list[Lot]:
        return self.stocks[kit].take(qty, min_expiry=min_expiry)

    def restore(self, lots: list[Lot]) -> None:
        """Put *lots* back on the shelf (after a quarantine); one that expired meanwhile is booked expired."""
        now = self.ctx.now
        for lot in lots:
            stock = self.stocks[kit_of(lot.material)]
            stock.put(lot)
            if lot.expiry <= now:
                stock.expire(lot)

    def destroy(self, lots: list[Lot] | None = None) -> float:
        """Book *lots* (arrived but not shelved), or all kits on the shelf, as returned and destroyed."""
        if lots is None:
            lots = []
            for stock in self.stocks.values():
                for lot in list(stock.lots):
                    stock.remove(lot)
                    lots.append(lot)
        n = 0.0
        for lot in lots:
            self.ctx.ledger.outflow(lot.material, "destroyed", lot.qty)
            n += lot.qty
        if n:
            self._destroyed.count(self.ctx.now, n)
        return n

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        for stock in self.stocks.values():
            yield from stock.holdings()


def delta_tracker(level) -> Callable[[float, float], None]:
    """A store watcher that moves an aggregate level by the store's change."""
    last = [0.0]

    def watch(t: float, qty: float) -> None:
        level.set(t, level.value + (qty - last[0]))  # Level.add, one call fewer on a hot path
        last[0] = qty

    return watch
