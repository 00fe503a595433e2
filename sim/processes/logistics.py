"""Shipping lanes: shipments of kit lots with a random transit time."""
from __future__ import annotations

from typing import Callable, Iterable

from sim.context import Context
from sim.distributions import _Spec
from sim.lots import Lot
from sim.processes.inventory import KIT


class Lane:
    """A lane from one node to another; every shipment draws its own transit time."""

    def __init__(self, ctx: Context, name: str, transit_time: _Spec) -> None:
        self.ctx = ctx
        self.name = name
        self.in_transit = 0.0
        self._transit = ctx.sampler(f"lane.{name}.transit_time", transit_time)
        self._shipped = ctx.counter("shipped.kits")
        self._shipments = ctx.counter("shipments")

    def send(self, lots: list[Lot], receive: Callable[[list[Lot], float], None], ordered: float) -> float:
        """Dispatch *lots* now; ``receive(lots, ordered)`` is called on arrival. Returns the quantity."""
        qty = sum(l.qty for l in lots)
        if qty <= 0:
            return 0.0
        self.in_transit += qty
        self._shipped.count(self.ctx.now, qty)
        self._shipments.count(self.ctx.now)
        self.ctx.env.process(self._carry(lots, qty, receive, ordered))
        return qty

    def _carry(self, lots, qty, receive, ordered):
        yield self.ctx.env.timeout(self._transit())
        self.in_transit -= qty
        receive(lots, ordered)

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        yield KIT, "in_transit", self.in_transit
