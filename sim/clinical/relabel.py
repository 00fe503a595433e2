"""Relabelling kits to extend their expiry, at a depot (or a site, where allowed), as stability data
accrue: a lot is relabelled ``lead`` days before it expires, but not before the stability time point
that supports the extension (``available_from``); during the relabel campaign the kits are on QA hold
(``hold`` days) and each costs ``cost_per_kit``.  A lot's extensions so far are read from its id (one
``R`` per relabelling, kept by splits and shipments), so a kit extended at a depot is not extended
again at a site beyond ``max_extension``.  Under label rules (:meth:`Relabelling.set_regime`), a lot
whose label carries no expiry date (US) is extended by an IRT update instead: at once, free, no hold,
at sites too; a lot whose label carries one (EU CTR) only by a depot's relabel campaign.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable

from sim.clinical.inventory import KitShelf, kit_of
from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Holding, Node
from sim.scenario.stability import Relabel


def extensions(lot: Lot) -> int:
    """Relabellings the lot (or a lot it was split from) has had: kit ids carry no other ``R``."""
    return lot.id.count("R")


class Relabelling(Node):
    """The relabelling of one place's kits; *shelve* puts a lot on the owner's shelf (and arms it here
    again), *after* tells the owner that kits came back from a hold."""

    def __init__(self, ctx: Context, place: str, shelf: KitShelf, rules: dict[str, Relabel],
                 shelve: Callable[[Lot], None], after: Callable[[], None]) -> None:
        self.ctx = ctx
        self.name = place
        self.shelf = shelf
        self.rules = rules
        self._shelve, self._after = shelve, after
        self._holds = {k: ctx.sampler(f"{place}.relabel_hold.{k}", r.hold) for k, r in rules.items()}
        self._relabelled = ctx.counter("relabelled.kits")
        self._cost = ctx.counter("cost.relabelling")
        self.on_hold: dict[str, float] = defaultdict(float)  # kit material -> kits on QA hold
        self.held_for: dict[tuple[str, str | None], float] = defaultdict(float)  # the same by label group
        self.irt_update: Callable[[Lot], bool] | None = None  # the lot's label has no expiry date
        self.physical = True  # whether lots with an expiry on their label may be relabelled here

    def set_regime(self, irt_update: Callable[[Lot], bool], physical: bool) -> None:
        """Label rules: *irt_update(lot)* says the lot's label carries no expiry date, so extending it is
        an IRT update (instant, free); without *physical*, no other lot is extended here (an EU site)."""
        self.irt_update, self.physical = irt_update, physical
        self._updated = self.ctx.counter("expiry_updates.kits")

    def arm(self, lot: Lot) -> None:
        """Schedule the relabelling of a lot just put on the shelf, if its kit type has a rule left."""
        rule = self.rules.get(kit_of(lot.material))
        if rule is None or (rule.lines is not None and lot.line not in rule.lines):
            return
        if not self.physical and not self.irt_update(lot):
            return  # the label carries an expiry date: only a depot may relabel it
        if rule.made_between is not None and not rule.made_between[0] <= lot.made <= rule.made_between[1]:
            return  # a batch the stability data do not cover
        cap = rule.max_extension if rule.max_extension is not None else rule.extension
        if (extensions(lot) + 1) * rule.extension > cap + 1e-9:
            return
        when = max(lot.expiry - rule.lead, rule.available_from, self.ctx.now)
        if when < lot.expiry and when < self.ctx.horizon:
            self.ctx.at(when, self._relabel, lot, rule)

    def _relabel(self, lot: Lot, rule: Relabel) -> None:
        ctx = self.ctx
        stock = self.shelf.stocks[kit_of(lot.material)]
        if lot.store is not stock or lot.qty <= 0 or lot.expiry <= ctx.now:
            return  # gone (issued, shipped, expired) meanwhile
        stock.remove(lot)
        new = Lot(f"{lot.id}R", lot.material, lot.qty, lot.id, lot.expiry + rule.extension, ctx.now, lot.made,
                  lot.line, lot.label)
        if self.irt_update is not None and self.irt_update(lot):
            ctx.made(new, f"{self.name} (expiry updated in the IRT)")
            self._updated.count(ctx.now, new.qty)
            self._shelve(new)
            return
        ctx.made(new, f"{self.name} (relabelled)")
        self._relabelled.count(ctx.now, new.qty)
        self._cost.count(ctx.now, new.qty * rule.cost_per_kit)
        hold = self._holds[kit_of(lot.material)]()
        if hold <= 0:
            self._shelve(new)
            return
        self.on_hold[new.material] += new.qty  # off the shelf for the relabel campaign
        self.held_for[new.material, new.label] += new.qty
        ctx.at(ctx.now + hold, self._back, new)

    def _back(self, lot: Lot) -> None:
        self.on_hold[lot.material] -= lot.qty
        self.held_for[lot.material, lot.label] -= lot.qty
        self._shelve(lot)
        self._after()

    def holdings(self) -> Iterable[Holding]:
        for m, q in self.on_hold.items():
            yield m, "relabel_hold", q
