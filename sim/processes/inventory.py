"""Kit stock: a FEFO lot store whose lots leave as *expired* on their expiry date."""
from __future__ import annotations

from sim.context import Context
from sim.lots import Lot, LotStore

KIT = "kit"


class KitStock(LotStore):
    """Kits at one place (depot or site), with a time-weighted inventory statistic.

    Each lot put here is armed once to expire at its expiry date; if it is still in
    a store then, it is removed and booked as expired where it lies.
    """

    def __init__(self, ctx: Context, name: str, expired_as: str) -> None:
        super().__init__(ctx.env, name, KIT, watchers=[ctx.level_tracker(f"inventory.{name}")])
        self.ctx = ctx
        self._expired = ctx.counter(f"expired.{expired_as}")

    def put(self, lot: Lot) -> None:
        super().put(lot)
        if lot.expiry < self.ctx.horizon:
            self.ctx.at(lot.expiry, lambda: _expire_where_it_lies(lot))

    def expire(self, lot: Lot) -> None:
        qty = self.remove(lot)
        self.ctx.ledger.outflow(KIT, "expired", qty)
        self._expired.count(self.ctx.now, qty)

    def usable(self, min_expiry: float) -> float:
        return self.available(min_expiry)


def _expire_where_it_lies(lot: Lot) -> None:
    # A lot can be armed more than once (moved whole between stores); only the
    # store holding it at expiry books it, and only once.
    store = lot.store
    if isinstance(store, KitStock) and lot.qty > 0:
        store.expire(lot)
