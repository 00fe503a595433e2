"""A depot's kits of one type as the stock point of an outside market (a commercial pack market).

The market's customers (sim.supply.markets.MarketNode, wired in sim/model.py) see this as they see a
material store: ``qty`` on hand to sell, ``backordered``, ``watchers`` of the stock, ``material`` for
the ledger, and ``issue(qty)``, an event that fires with the kits once they are taken.  Kits are
issued FEFO from the depot's shelf and only those with ``min_shelf_life`` days left (an expired kit
is never sold), so the depot's own resupply and make-to-stock see the market's draw.  Backorders are
met first come first served whenever kits come back to the shelf, before the depot's clinical
customers left short (``priority: market``) or after them (``clinical``, the default).
"""
from __future__ import annotations

from collections import deque

import simpy

from sim.clinical.depot import DepotNode
from sim.clinical.inventory import KitStock
from sim.core.lots import Lot
from sim.scenario.markets import Market

EPS = 1e-9
EXPIRED = 1e-9
"""A kit expiring at the very instant of an order is not sold (its expiry event may come later the same day)."""


class DepotKits:
    """Kits of type ``spec.stock`` at *depot*, sold to market *spec*."""

    def __init__(self, depot: DepotNode, spec: Market) -> None:
        self.depot = depot
        self.spec = spec
        self.stock: KitStock = depot.shelf.stocks[spec.stock]
        self.material = self.stock.material
        self.env: simpy.Environment = depot.ctx.env
        self.watchers: list = []
        self._waiting: deque[tuple[float, simpy.Event]] = deque()
        self.stock.watchers.append(self._changed)
        first = (spec.priority or "clinical") == "market"
        hook = depot.outside

        def serve(before_clinical: bool) -> None:  # several markets at one depot chain in declaration order
            if hook is not None:
                hook(before_clinical)
            if before_clinical == first:
                self._serve_waiting()

        depot.outside = serve

    def _changed(self, t: float, qty: float) -> None:
        for watch in self.watchers:
            watch(t, qty)

    def _min_expiry(self) -> float:
        """The earliest expiry a kit sold now may have (enough shelf life left)."""
        return self.env.now + max(self.spec.min_shelf_life, EXPIRED)

    @property
    def qty(self) -> float:
        """Kits that may be sold now (enough shelf life left)."""
        return self.stock.usable(self._min_expiry())

    @property
    def backordered(self) -> float:
        return sum(q for q, _ in self._waiting)

    def issue(self, qty: float) -> simpy.Event:
        """Kits for one order: taken at once when no earlier order waits and they are on hand, else when
        enough come back to the shelf (first come first served)."""
        ev = self.env.event()
        self._waiting.append((qty, ev))
        self._owe(qty)
        if not self._serve_waiting():
            self.depot.review()  # backordered: the depot's stock position fell all the same
        return ev

    def _owe(self, qty: float) -> None:
        owed = self.depot.owed
        owed[self.spec.stock] = owed.get(self.spec.stock, 0.0) + qty

    def _serve_waiting(self) -> bool:
        """Meet the waiting orders in turn while kits are there; reviews the depot's resupply if any was."""
        served = False
        while self._waiting and self._waiting[0][0] <= self.qty + EPS:
            qty, ev = self._waiting.popleft()
            ev.succeed(self._take(qty))
            self._owe(-qty)
            served = True
        if served:
            self.depot.review()  # a regional depot reorders from its parent
        return served

    def _take(self, qty: float) -> list[Lot]:
        return self.stock.take(qty, min_expiry=self._min_expiry())


def depot_kits(depots: dict[str, DepotNode], markets: list[Market]) -> list[DepotKits]:
    """The stock points of the markets at depots, in scenario order."""
    return [DepotKits(depots[m.depot], m) for m in markets if m.depot is not None]
