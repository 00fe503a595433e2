"""Batch recalls at run time: a recalled batch's kits are withdrawn from every shelf on the recall day,
and from any shelf they reach later (:class:`~sim.clinical.inventory.KitStock` checks ``ctx.recalls``).
Kits carry their line and date of manufacture through every split, shipment and relabelling, so the
recall finds them without a genealogy; which patients already had one is the genealogy's question
(``pharmasim trace DIR <batch>``)."""
from __future__ import annotations

from typing import Callable, Iterable

from sim.core.context import Context
from sim.scenario.gates import Recall


def recalled(spec: Recall) -> Callable[[object], bool]:
    """Whether a lot comes from a batch *spec* recalls."""
    window = spec.made_between

    def test(lot) -> bool:
        return lot.line == spec.line and (window is None or window[0] <= lot.made <= window[1])
    return test


class Recalls:
    """The scenario's recalls over the clinical network's shelves (*points*: every depot, site and home,
    each with a ``shelf`` and a ``review``)."""

    def __init__(self, ctx: Context, specs: list[Recall], points: Callable[[], Iterable]) -> None:
        self.ctx = ctx
        self.specs = specs
        self.points = points
        self._count = ctx.counter("recalled.kits")

    def start(self) -> None:
        for spec in self.specs:
            self.ctx.at(spec.day, lambda spec=spec: self.recall(spec))

    def recall(self, spec: Recall) -> None:
        test = recalled(spec)
        self.ctx.recalls.append(test)
        points = list(self.points())
        for point in points:
            for stock in point.shelf.stocks.values():
                for lot in [lot for lot in stock.lots if test(lot)]:
                    qty = stock.remove(lot)
                    self.ctx.ledger.outflow(stock.material, "recalled", qty)
                    self._count.count(self.ctx.now, qty)
        for point in points:  # positions dropped: resupply, from what is left
            point.review()
