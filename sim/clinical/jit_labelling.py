"""Just-in-time labelling at one depot: kits wait unlabelled (bright stock, ``unlabelled_bulk``) and are
labelled for a label group on a labelling line when the group's labelled stock at that depot (plus kits
in labelling and on a relabel hold) falls to its trigger: up to its level, FEFO from the bulk, after a
lead time (and at a rate) per order.  The central depot labels for every group; a regional depot named
in ``labels.jit.depots`` is sent unlabelled kits and labels them for the groups of its own sites
(:class:`BulkSupply` orders them).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterable

import simpy

from sim.clinical.inventory import KitShelf
from sim.clinical.relabel import Relabelling
from sim.core.context import Context
from sim.core.lots import Lot, LotStore
from sim.core.node import Holding
from sim.scenario.clinical import per_kit
from sim.scenario.labels import JitLabelling


class JitLine:
    """The bulk store and labelling lines of one *depot*, labelling for *levels*' groups ((group, kit) ->
    (trigger, level)); *labelled_for*: each group's counter; *streams*: the name of its random stream."""

    def __init__(self, ctx: Context, depot: Any, jit: JitLabelling, levels: dict[tuple[str, str], tuple[int, int]],
                 labelled_for: dict[str, Any], kit_plans: list, do_not_ship: float, streams: str) -> None:
        self.ctx = ctx
        self.depot = depot
        self.jit = jit
        self.kits = [k.name for k in kit_plans]
        self.groups = list(dict.fromkeys(g for g, _ in levels))
        self.bulk = KitShelf(ctx, f"depot.{depot.name}.bulk", self.kits, "depot")
        # an unlabelled kit's expiry is printed when it is labelled: an extension costs nothing
        rules = {k.name: k.relabel for k in kit_plans if k.relabel is not None}
        self._bulk_extension = Relabelling(ctx, f"depot.{depot.name}.bulk", self.bulk, rules, self._to_bulk,
                                           self.review)
        self._bulk_extension.set_regime(lambda lot: True, physical=False)
        self.in_labelling: dict[tuple[str, str], float] = defaultdict(float)  # (group, kit) -> kits
        self._trigger = {key: t for key, (t, _) in levels.items()}
        self._level = {key: s for key, (_, s) in levels.items()}
        self._for = labelled_for
        self._dns = do_not_ship
        self._lines = simpy.Resource(ctx.env, jit.lines)
        self._lead = ctx.sampler(streams, jit.lead_time)
        self._wait = ctx.tally("jit_labelling")
        self._labelled = ctx.counter("labelled.kits")
        self._cost = ctx.counter("cost.labelling")
        self._reviewing = self._review_due = False
        self._own = {g: _labelled(g) for g in self.groups}
        for stock in depot.shelf.stocks.values():  # every change of the labelled stock
            stock.watchers.append(self._stock_changed)

    def receive(self, lot: Lot) -> None:
        """Unlabelled kits for this depot: into the bulk, then label what is due."""
        self._to_bulk(lot)
        self.review()

    def _to_bulk(self, lot: Lot) -> None:
        self.bulk.put(lot)
        self._bulk_extension.arm(lot)

    def _stock_changed(self, t: float, qty: float) -> None:
        """The labelled stock changed: review once this instant's events are done (a lot relabelled in place
        leaves the shelf and comes back in one step, which must not look like a shortage)."""
        if not self._review_due:
            self._review_due = True
            self.ctx.at(t, self._due)

    def _due(self) -> None:
        self._review_due = False
        self.review()

    def review(self) -> None:
        """Start a labelling order for every group and kit type whose labelled position is at the trigger."""
        if self._reviewing:
            return
        self._reviewing = True
        after, depot = self.ctx.now + self._dns, self.depot
        for group in self.groups:
            own = self._own[group]
            for kit in self.kits:
                key = (group, kit)
                pos = depot.shelf.stocks[kit].available_where(after, own) + self.in_labelling[key] \
                    + depot.relabelling.held_for.get((self.bulk.stocks[kit].material, group), 0.0)
                if pos > self._trigger[key]:
                    continue
                lots = self.bulk.take(kit, self._level[key] - pos, after)
                if lots:
                    self.in_labelling[key] += sum(l.qty for l in lots)
                    self.ctx.env.process(self._label(group, kit, lots))
        self._reviewing = False

    def _label(self, group: str, kit: str, lots: list[Lot]):
        """SimPy process: one labelling order, on a line for its lead time (and at its rate)."""
        env, jit = self.ctx.env, self.jit
        qty, ordered = sum(l.qty for l in lots), env.now
        with self._lines.request() as req:
            yield req
            yield env.timeout(self._lead() + (qty / jit.rate if jit.rate is not None else 0.0))
        now = env.now
        self.in_labelling[group, kit] -= qty
        self._wait.observe(now - ordered, now)
        self._labelled.count(now, qty)
        self._for[group].count(now, qty)
        self._cost.count(now, qty * jit.cost_per_kit)
        for lot in lots:
            lot.label = group
            if lot.expiry <= now:  # expired on the labelling line
                self.ctx.ledger.outflow(lot.material, "expired", lot.qty)
                self.ctx.counter("expired.depot").count(now, lot.qty)
            else:
                self.depot.accept_kits(lot)
        self.review()

    def on_lines(self, kit: str) -> float:
        """Kits of a type on a labelling line, for any group."""
        return sum(q for (_, k), q in self.in_labelling.items() if k == kit)

    def unlabelled(self, kit: str) -> float:
        """Kits of a type in the bulk or on a labelling line."""
        return self.bulk.stocks[kit].qty + self.on_lines(kit)

    def holdings(self) -> Iterable[Holding]:
        for material, _, qty in self.bulk.holdings():
            yield material, "unlabelled_bulk", qty
        for (group, kit), qty in self.in_labelling.items():
            yield self.bulk.stocks[kit].material, "labelling", qty


class BulkSupply:
    """Replenishment of a regional depot that labels just in time: unlabelled kits from the central
    depot's bulk, by the depot's trigger / level per kit type against all its kits (labelled, in
    labelling, unlabelled, on the way)."""

    def __init__(self, depot: Any, line: JitLine, source: JitLine) -> None:
        self.depot = depot
        self.line = line
        self.source = source

    def review(self, min_expiry: float) -> None:
        line, depot = self.line, self.depot
        depot.order_up_to(lambda kit: depot.usable(kit, min_expiry) + line.bulk.usable(kit, min_expiry)
                          + line.on_lines(kit) + depot.expected[kit])

    def take(self, stock: LotStore, kit: str, qty: float, min_expiry: float) -> list[Lot]:
        """What the central depot sends: unlabelled kits from its bulk, FEFO."""
        return self.source.bulk.take(kit, qty, min_expiry)

    def landed(self, lots: list[Lot]) -> None:
        """Nothing to track per group: the depot's own ``expected`` counts the kits on the way."""


def _labelled(group: str) -> Callable[[Lot], bool]:
    return lambda lot: lot.label == group


def jit_levels(spec, kits: list[str], groups: Iterable[str],
               own: dict | None = None) -> dict[tuple[str, str], tuple[int, int]]:
    """(group, kit) -> (trigger, level) of just-in-time labelling: *own* (a regional depot's
    ``label_groups``) first, then the group's ``jit_trigger`` / ``jit_level``, then ``labels.jit``."""
    by_name = {g.name: g for g in spec.groups}
    out = {}
    for name in groups:
        g, mine = by_name[name], (own or {}).get(name)
        trig = mine.trigger if mine is not None else g.jit_trigger if g.jit_trigger is not None else spec.jit.trigger
        lev = mine.level if mine is not None else g.jit_level if g.jit_level is not None else spec.jit.level
        for k in kits:
            out[name, k] = (per_kit(trig, k), per_kit(lev, k))
    return out
