"""Label groups at run time: the packaging plan, dedicated or pooled stock, just-in-time labelling and
the US / EU rules for extending a kit's expiry.

A kit lot carries the label group it is labelled for (:attr:`~sim.core.lots.Lot.label`).  Without
just-in-time labelling, every lot of kits reaching the central depot (packed, or its initial stock) is
split between the groups by the packaging plan's shares (largest remainder, whole kits).  With it, kits
arrive as unlabelled *bright stock* (``unlabelled_bulk``) and a group's kits are labelled on a labelling
line when its labelled stock at the central depot (plus kits in labelling) falls to the trigger: up to
the level, FEFO from the bulk, after a lead time (and at a rate) per order (:mod:`sim.clinical.jit_labelling`;
a regional depot in ``labels.jit.depots`` labels its own groups' kits so too).  With dedicated stock
(``pooling: by_label_group``) a depot ships a customer only the kits of its group (and unlabelled
initial kits, valid everywhere), a regional depot reorders each group it holds by that group's
position (:mod:`sim.clinical.hub_groups`), and a missed visit is *missed dispensing* only if a kit of the site's
group (or bulk that could be labelled for it) was at a depot.  Extensions: a label without an expiry
date is extended by an IRT update, at depots and sites alike; one with an expiry date only by a
depot's relabel campaign (:meth:`~sim.clinical.relabel.Relabelling.set_regime`); unlabelled kits are
extended for free (their expiry date is printed when they are labelled).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from sim.clinical.hub_groups import GroupStock, plan_split
from sim.clinical.jit_labelling import BulkSupply, JitLine, jit_levels
from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Holding, Node
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
            for name in _chain(site.depot):
                served.setdefault(name, {})[group] = None
        central.labelling = self
        if spec.pooling == "by_label_group":
            for depot in net.depots.values():
                depot.take_for = self._taker(depot)
                if depot.name in served and depot.name not in (spec.jit.depots if spec.jit else ()):
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
        self.lines: list[JitLine] = []
        if self.jit is not None:
            self._start_jit(ctx, spec, net, served)

    # -- the packaging plan ----------------------------------------------------------------
    def receive(self, lot: Lot) -> None:
        """Kits for the central depot: into the bulk (just in time), or split between the groups."""
        if self.jit is not None:
            self.line.receive(lot)
            if len(self.lines) > 1:  # a regional depot labelling for itself may wait for bulk
                self.central.retry_short()
            return
        pieces = [(g, n) for g, n in plan_split(int(lot.qty + 1e-9), self.shares) if n > 0]
        if not pieces:  # less than a kit: to the first group in the plan
            pieces = [(next(g for g, share in self.shares if share > 0), 0)]
        remnant = lot.qty - sum(n for _, n in pieces)
        for i, (group, n) in enumerate(pieces):
            if i == len(pieces) - 1:
                n += remnant  # a fractional kit count (never from packaging) stays whole in the ledger
            piece = lot.piece(f"{lot.id}.L{i + 1}", n, self.ctx.now, label=group)
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
                return by_group.take(stocks[kit], kit, qty, min_expiry)
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
            return n + sum(line.bulk.usable(kit, min_expiry) for line in self.lines  # bulk that could be
                           if line is self.line or group in line.groups)        # labelled for the group

        return usable

    # -- just-in-time labelling --------------------------------------------------------------
    def _start_jit(self, ctx: Context, spec: Labels, net: Any, served: dict[str, dict[str, None]]) -> None:
        """The central depot's labelling lines (for every group but those whose sites are all below a
        depot that labels), and those of the regional depots that label for their own sites' groups
        (``labels.jit.depots``): they are sent unlabelled kits."""
        dns = max((t.spec.resupply.do_not_ship for t in net.trials), default=0.0)
        below = set(spec.jit.depots)  # a group all of whose sites are below such depots is labelled there only
        there = {self.group_of[s.name] for s in net.sites if below.intersection(_chain(s.depot))}
        here = {self.group_of[s.name] for s in net.sites if not below.intersection(_chain(s.depot))}
        central = [g for g in self.groups if g in here or g not in there]
        self.line = JitLine(ctx, self.central, spec.jit, jit_levels(spec, self.kits, central), self._for,
                            net.kit_plans, dns, "labelling.lead_time")
        self.bulk, self.in_labelling = self.line.bulk, self.line.in_labelling
        self.lines = [self.line]
        for name in spec.jit.depots:
            depot = net.depots[name]
            line = JitLine(ctx, depot, spec.jit, jit_levels(spec, self.kits, served[name], depot.spec.label_groups),
                           self._for, net.kit_plans, dns, f"labelling.{name}.lead_time")
            depot.labelling = line  # what arrives (and its initial kits) goes to its bulk
            depot.by_group = BulkSupply(depot, line, self.line)
            self.lines.append(line)

    def unlabelled(self, kit: str) -> float:
        """Kits of a type in the central depot's bulk or on its labelling line (none unless labelling just
        in time)."""
        return self.line.unlabelled(kit) if self.jit is not None else 0.0

    def holdings(self) -> Iterable[Holding]:
        for line in self.lines:
            yield from line.holdings()


def _chain(depot) -> list[str]:
    """The regional depots a site's kits pass through, nearest first."""
    out = []
    while depot.parent is not None:
        out.append(depot.name)
        depot = depot.parent
    return out


def _accepts(group: str) -> Callable[[Lot], bool]:
    """Kits a site of *group* may get: its group's and unlabelled ones (valid everywhere)."""
    return lambda lot: lot.label is None or lot.label == group
