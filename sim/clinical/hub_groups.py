"""A regional depot (hub) stocking several label groups under dedicated stock.

A group's kits cannot stand in for another group's, so each (kit type, label group) at a hub is its own
stock item with its own safety stock: the hub reviews each group's position -- its usable kits here
that a site of the group may get (its group's and unlabelled ones) plus those on the way -- against
that group's trigger, and orders it up to that group's level (``network.depots[].label_groups``; by
default the hub's ``trigger`` / ``level``, which is exactly the one-group hub's rule).  All groups due
at one review travel in one shipment from the parent depot, each group's part taken from the parent's
kits of that group only.  An unlabelled kit counts in the position of every group (any of them may
take it).  A storage capacity cuts the order per kit type to what fits, shared between the groups in
proportion to their wants.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from sim.clinical.inventory import kit_of
from sim.core.context import Context
from sim.core.lots import Lot, LotStore
from sim.scenario.clinical import per_kit


def plan_split(qty: int, shares: list[tuple[str, float]]) -> list[tuple[str, int]]:
    """*qty* whole kits split by *shares* (weights): each group its floor, the kits left over one each to
    the largest remainders (the first group on a tie)."""
    total = sum(s for _, s in shares)
    exact = [(g, qty * s / total) for g, s in shares]
    out = {g: int(x + 1e-9) for g, x in exact}
    left = qty - sum(out.values())
    for g, x in sorted(exact, key=lambda e: -(e[1] - int(e[1] + 1e-9)))[:left]:
        out[g] += 1
    return [(g, out[g]) for g, _ in shares]


class GroupStock:
    """Replenishment of one regional *depot* per label group it serves (*accept*: group -> the kits a
    site of that group may get)."""

    def __init__(self, ctx: Context, depot: Any, accept: dict[str, Callable[[Lot], bool]]) -> None:
        self.ctx = ctx
        self.depot = depot
        self.groups = list(accept)
        self._accept = accept
        spec = depot.spec
        own = spec.label_groups
        self.trigger = {(g, k): per_kit(own[g].trigger if g in own else spec.trigger, k)
                        for g in self.groups for k in depot.kits}
        self.level = {(g, k): per_kit(own[g].level if g in own else spec.level, k)
                      for g in self.groups for k in depot.kits}
        self.expected: dict[tuple[str | None, str], float] = defaultdict(float)  # (label, kit) -> on the way
        self._order: dict[str, list[tuple[str, float]]] = {}  # kit -> (group, kits) of the order being taken
        self._resupplied = {g: ctx.counter(f"resupplied.{depot.name}.{g}") for g in self.groups}

    def position(self, group: str, kit: str, min_expiry: float) -> float:
        """Kits of *kit* for *group*: usable here (its own and unlabelled) plus on the way."""
        here = self.depot.shelf.stocks[kit].available_where(min_expiry, self._accept[group])
        return here + self.expected[group, kit] + self.expected[None, kit]

    def review(self, min_expiry: float) -> None:
        """Order every group and kit type at its trigger up to its level, in one shipment."""
        depot = self.depot
        wants: dict[str, list[tuple[str, float]]] = {}
        for kit in depot.kits:
            for group in self.groups:
                pos = self.position(group, kit, min_expiry)
                if pos <= self.trigger[group, kit]:
                    wants.setdefault(kit, []).append((group, self.level[group, kit] - pos))
        if not wants:
            return
        totals = {kit: sum(n for _, n in parts) for kit, parts in wants.items()}
        if depot.room is not None:
            cut = depot.room.cut(totals, depot.expected)
            wants = {kit: parts if cut[kit] >= totals[kit] - 1e-9 else
                     [(g, n) for g, n in plan_split(int(cut[kit] + 1e-9), parts) if n > 0]
                     for kit, parts in wants.items() if kit in cut}
            totals = {kit: sum(n for _, n in parts) for kit, parts in wants.items() if parts}
        if not totals:
            return
        self._order = wants
        sent = depot.parent.ship(depot, totals, depot.spec.do_not_ship, depot.lane)
        self._order = {}
        for kit, n in sent.items():
            depot.expected[kit] += n

    def take(self, stock: LotStore, kit: str, qty: float, min_expiry: float) -> list[Lot]:
        """What the parent depot sends of *kit* from *stock* for the order under way: each group's part
        from the kits a site of that group may get, FEFO (*qty* is their sum)."""
        out: list[Lot] = []
        now = self.ctx.now
        for group, n in self._order.get(kit, ()):
            got = stock.take_where(n, min_expiry, self._accept[group])
            for lot in got:
                self.expected[lot.label, kit] += lot.qty
            qty = sum(lot.qty for lot in got)
            if qty:
                self._resupplied[group].count(now, qty)
            out += got
        return out

    def landed(self, lots: list[Lot]) -> None:
        """Kits of a shipment to the depot arrived (or were lost or rejected): no longer on the way."""
        for lot in lots:
            self.expected[lot.label, kit_of(lot.material)] -= lot.qty
