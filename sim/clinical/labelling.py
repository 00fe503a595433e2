"""Label groups at run time: the packaging plan, dedicated or pooled stock, just-in-time labelling and
the US / EU rules for extending a kit's expiry.

A kit lot carries the label group it is labelled for (:attr:`~sim.core.lots.Lot.label`).  Without
just-in-time labelling, every lot of kits reaching the central depot (packed, or its initial stock) is
split between the groups by the packaging plan's shares (largest remainder, whole kits).  With it, kits
arrive as unlabelled *bright stock* (``unlabelled_bulk``) and a group's kits are labelled on a labelling
line when its labelled stock at the central depot (plus kits in labelling) falls to the trigger: up to
the level, FEFO from the bulk, after a lead time (and at a rate) per order.  With dedicated stock
(``pooling: by_label_group``) a depot ships a customer only the kits of its group (and unlabelled
initial kits, valid everywhere), and a missed visit is *missed dispensing* only if a kit of the site's
group (or bulk that could be labelled for it) was at a depot.  Extensions: a label without an expiry
date is extended by an IRT update, at depots and sites alike; one with an expiry date only by a
depot's relabel campaign (:meth:`~sim.clinical.relabel.Relabelling.set_regime`); unlabelled kits are
extended for free (their expiry date is printed when they are labelled).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterable

import simpy

from sim.clinical.hub_groups import GroupStock, plan_split
from sim.clinical.inventory import KitShelf
from sim.clinical.relabel import Relabelling
from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Holding, Node
from sim.scenario.clinical import per_kit
from sim.scenario.labels import Labels, site_label_group


class Labelling(Node):
    """The label groups of one replication, wired into the clinical network *net* (its central depot,
    depots, sites and kit plans)."""

    name = "labelling"

    def __init__(self, ctx: Context, spec: Labels, net: Any) -> None:
        self.ctx = ctx
        self.spec = spec
        self.central = central = net.central
        self.kits = [k.name for k in net.kit_plans]
        self.groups = [g.name for g in spec.groups]
        self.shares = [(g.name, g.share) for g in spec.groups]
        self._irt = frozenset(g.name for g in spec.groups if not g.expiry_on_label)
        self._for = {g: ctx.counter(f"labelled_for.{g}") for g in self.groups}
        self._accept = {g: _accepts(g) for g in self.groups}
        self.group_of: dict[str, str] = {}  # site -> the label group it is supplied for
        served: dict[str, dict[str, None]] = {}  # regional depot -> the groups of the sites below it, in order
        for site in net.sites:
            group = self.group_of[site.name] = site_label_group(spec, site.trial.name, site.group.country)
            depot = site.depot
            while depot.parent is not None:
                served.setdefault(depot.name, {})[group] = None
                depot = depot.parent
        central.labelling = self
        if spec.pooling == "by_label_group":
            for depot in net.depots.values():
                depot.take_for = self._taker(depot)
                if depot.name in served:  # reordered per label group
                    depot.by_group = GroupStock(ctx, depot, {g: self._accept[g] for g in self.groups
                                                             if g in served[depot.name]})
            for site in net.sites:
                site.upstream = self.upstream_for(self.group_of[site.name], net.depots.values())
        for depot in net.depots.values():
            depot.relabelling.set_regime(self.irt_update, physical=True)
        rules = {k.name: k.relabel for k in net.kit_plans if k.relabel is not None}
        for site in net.sites if rules else ():  # a site extends only labels without an expiry date
            if self._irt:
                site.relabel_here(rules)
            if site.relabelling is not None:
                site.relabelling.set_regime(self.irt_update, physical=False)
        self.jit = spec.jit
        if self.jit is not None:
            self._start_jit(ctx, spec, net)

    # -- the packaging plan ----------------------------------------------------------------
    def receive(self, lot: Lot) -> None:
        """Kits for the central depot: into the bulk (just in time), or split between the groups."""
        if self.jit is not None:
            self._to_bulk(lot)
            self.review()
            return
        pieces = [(g, n) for g, n in plan_split(int(lot.qty + 1e-9), self.shares) if n > 0]
        if not pieces:  # less than a kit: to the first group in the plan
            pieces = [(next(g for g, share in self.shares if share > 0), 0)]
        remnant = lot.qty - sum(n for _, n in pieces)
        for i, (group, n) in enumerate(pieces):
            if i == len(pieces) - 1:
                n += remnant  # a fractional kit count (never from packaging) stays whole in the ledger
            piece = Lot(f"{lot.id}.L{i + 1}", lot.material, n, lot.id, lot.expiry, self.ctx.now, lot.made, lot.line,
                        group)
            self.ctx.made(piece, f"depot.{self.central.name} (labelled {group})")
            self._for[group].count(self.ctx.now, n)
            self.central.accept_kits(piece)

    # -- who may get which kits ------------------------------------------------------------
    def irt_update(self, lot: Lot) -> bool:
        """Whether the lot's label carries no expiry date (an extension is an IRT update)."""
        return lot.label in self._irt

    def _taker(self, depot) -> Callable[[Any, str, float, float], list[Lot]]:
        """What *depot* ships a customer (a site, a patient's home, a regional depot): its group's kits (a
        regional depot's order says how many of each of its groups)."""
        stocks = depot.shelf.stocks

        def take_for(to, kit: str, qty: float, min_expiry: float) -> list[Lot]:
            by_group = getattr(to, "by_group", None)
            if by_group is not None:  # a regional depot: each group's part of its order
                return by_group.take(stocks[kit], kit, min_expiry)
            group = self.group_of.get(getattr(to, "site", to).name)  # a home is supplied for its site
            if group is None:  # a regional depot with no sites below it
                return stocks[kit].take(qty, min_expiry)
            return stocks[kit].take_where(qty, min_expiry, self._accept[group])

        return take_for

    def upstream_for(self, group: str, depots: Iterable) -> Callable[[str, float], float]:
        """Usable kits of a type for *group* at every depot (and in the bulk): what makes a missed visit
        a missed dispensing rather than an out of stock."""
        depots, accept = list(depots), self._accept[group]

        def usable(kit: str, min_expiry: float) -> float:
            n = sum(d.shelf.stocks[kit].available_where(min_expiry, accept) for d in depots)
            return n + (self.bulk.usable(kit, min_expiry) if self.jit is not None else 0.0)

        return usable

    # -- just-in-time labelling --------------------------------------------------------------
    def _start_jit(self, ctx: Context, spec: Labels, net: Any) -> None:
        jit = spec.jit
        self.bulk = KitShelf(ctx, f"depot.{self.central.name}.bulk", self.kits, "depot")
        # an unlabelled kit's expiry is printed when it is labelled: an extension costs nothing
        rules = {k.name: k.relabel for k in net.kit_plans if k.relabel is not None}
        self._bulk_extension = Relabelling(ctx, f"depot.{self.central.name}.bulk", self.bulk, rules, self._to_bulk,
                                           self.review)
        self._bulk_extension.set_regime(lambda lot: True, physical=False)
        self.in_labelling: dict[tuple[str, str], float] = defaultdict(float)  # (group, kit) -> kits
        self._trigger = {(g.name, k): per_kit(g.jit_trigger if g.jit_trigger is not None else jit.trigger, k)
                         for g in spec.groups for k in self.kits}
        self._level = {(g.name, k): per_kit(g.jit_level if g.jit_level is not None else jit.level, k)
                       for g in spec.groups for k in self.kits}
        self._dns = max((t.spec.resupply.do_not_ship for t in net.trials), default=0.0)
        self._lines = simpy.Resource(ctx.env, jit.lines)
        self._lead = ctx.sampler("labelling.lead_time", jit.lead_time)
        self._wait = ctx.tally("jit_labelling")
        self._labelled = ctx.counter("labelled.kits")
        self._cost = ctx.counter("cost.labelling")
        self._reviewing = self._review_due = False
        self._own = {g: _labelled(g) for g in self.groups}
        for stock in self.central.shelf.stocks.values():  # every change of the labelled stock
            stock.watchers.append(self._stock_changed)

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
        if self.jit is None or self._reviewing:
            return
        self._reviewing = True
        after = self.ctx.now + self._dns
        for group in self.groups:
            own = self._own[group]
            for kit in self.kits:
                key = (group, kit)
                pos = self.central.shelf.stocks[kit].available_where(after, own) + self.in_labelling[key] \
                    + self.central.relabelling.held_for.get((self.bulk.stocks[kit].material, group), 0.0)
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
                self.central.accept_kits(lot)
        self.review()

    def unlabelled(self, kit: str) -> float:
        """Kits of a type in the bulk or on a labelling line (none unless labelling just in time)."""
        if self.jit is None:
            return 0.0
        return self.bulk.stocks[kit].qty + sum(q for (_, k), q in self.in_labelling.items() if k == kit)

    def holdings(self) -> Iterable[Holding]:
        if self.jit is None:
            return
        for material, _, qty in self.bulk.holdings():
            yield material, "unlabelled_bulk", qty
        for (group, kit), qty in self.in_labelling.items():
            yield self.bulk.stocks[kit].material, "labelling", qty


def _labelled(group: str) -> Callable[[Lot], bool]:
    return lambda lot: lot.label == group


def _accepts(group: str) -> Callable[[Lot], bool]:
    """Kits a site of *group* may get: its group's and unlabelled ones (valid everywhere)."""
    return lambda lot: lot.label is None or lot.label == group
