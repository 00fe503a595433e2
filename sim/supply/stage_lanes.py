"""Shipping of released lots from a line to the next stage (another CDMO's store, or packaging)."""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable

from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Node


class StageLane(Node):
    """Lots leaving one line; each shipment draws its own transit time (zero: handed over at once)."""

    def __init__(self, ctx: Context, name: str, ship_time, route: Callable[[Lot], None]) -> None:
        self.ctx = ctx
        self.route = route
        self.in_transit: dict[str, float] = defaultdict(float)
        self._time = ctx.sampler(f"ship.{name}.time", ship_time)

    def send(self, lot: Lot) -> None:
        if self._time.constant == 0:
            self.route(lot)
            return
        self.in_transit[lot.material] += lot.qty
        self.ctx.start(self._carry, lot)  # timed calls where a process put its events: the same order

    def _carry(self, lot: Lot) -> None:
        self.ctx.after(self._time(), self._arrive, lot)

    def _arrive(self, lot: Lot) -> None:
        self.in_transit[lot.material] -= lot.qty
        self.route(lot)

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        for m, q in self.in_transit.items():
            yield m, "in_transit_between_stages", q
