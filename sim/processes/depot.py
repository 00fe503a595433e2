"""The central depot: holds kits from packaging and ships resupply to sites."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterable

from sim.context import Context
from sim.lots import Lot
from sim.processes.inventory import KIT, KitStock
from sim.scenario.supply import Depot

if TYPE_CHECKING:
    from sim.processes.sites import SiteNode


class DepotNode:
    """Kits wait here FEFO; a site's shortfall that could not be shipped is
    re-tried whenever new kits arrive."""

    def __init__(self, ctx: Context, spec: Depot) -> None:
        self.ctx = ctx
        self.spec = spec
        self.stock = KitStock(ctx, f"depot.{spec.name}", expired_as="depot")
        self.sites: list[SiteNode] = []
        self._short: dict[str, "SiteNode"] = {}
        if spec.initial_kits:
            ctx.ledger.inflow(KIT, "initial", spec.initial_kits)
            self.stock.put(Lot(ctx.new_id("KIT"), KIT, spec.initial_kits, None, spec.initial_shelf_life, 0.0))

    def receive(self, lot: Lot) -> None:
        self.stock.put(lot)
        if self._short:
            waiting, self._short = self._short, {}
            for site in waiting.values():
                site.review()

    def ship(self, site: "SiteNode", qty: float, do_not_ship: float) -> float:
        """Ship up to *qty* kits with at least *do_not_ship* days of shelf life left, FEFO."""
        lots = self.stock.take(qty, min_expiry=self.ctx.now + do_not_ship)
        sent = site.lane.send(lots, site.receive, ordered=self.ctx.now)
        if sent < qty - 1e-9:
            self._short[site.name] = site
        return sent

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        return self.stock.holdings()
