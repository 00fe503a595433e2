"""A depot's storage capacity at run time: a gate in front of its shelf.

Every lot the depot would shelve (packaging output, a transfer from the parent depot, initial stock,
kits back from a hold) is offered to the room: what fits in its storage class goes on the shelf (a lot
is split if part of it fits); the rest waits at the dock, first come first served, until kits leave
the shelf (then it is offered again, at the same instant), or is refused and leaves the chain.
Occupancy counts the kits on the shelf (or the pallet positions they take: a pallet holds one kit
type, a part pallet takes a whole position); kits at the dock are not on the shelf.  A regional
depot's orders are cut to what fits with the kits on the shelf, at the dock and on the way.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Callable, Iterable

from sim.clinical.inventory import kit_material, kit_of
from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Holding, Node
from sim.scenario.storage_room import StorageRoom


class DepotRoom(Node):
    """Capacity of one depot per storage class (``all``, or a temperature class)."""

    def __init__(self, ctx: Context, depot: str, spec: StorageRoom, temperature: dict[str, str],
                 shelf, put: Callable[[Lot], None], freed: Callable[[], None]) -> None:
        """*temperature*: kit type -> its class; *shelf*: the depot's kit shelf; *put*: shelve a lot
        that fits; *freed*: what the depot does once waiting kits got onto the shelf."""
        self.ctx = ctx
        self.name = depot
        self.spec = spec
        self.capacity = spec.by_class()
        self.klass = {k: "all" if isinstance(spec.capacity, int) else temperature[k] for k in shelf.stocks}
        self.per_pallet = spec.kits_per_pallet
        self.shelf = shelf
        self._put = put
        self._freed = freed
        self.dock: deque[tuple[Lot, float]] = deque()  # lots waiting for room, with their arrival time
        self.waiting: dict[str, float] = {}  # material -> kits at the dock
        self._retry = False
        self._pieces = 0
        self._occupancy = {c: ctx.level(f"occupancy.depot.{depot}.{c}") for c in self.capacity}
        self._full = {c: ctx.level(f"full.depot.{depot}.{c}") for c in self.capacity}
        self._at_dock = ctx.level(f"awaiting_room.{depot}")
        self._refused = ctx.counter(f"room_refused.{depot}")
        self._wait = ctx.tally(f"room_wait.{depot}")
        for kit, stock in shelf.stocks.items():
            if self.klass[kit] in self.capacity:
                stock.watchers.append(self._changed)

    # -- occupancy --------------------------------------------------------------------------
    def _space(self, qty: float) -> float:
        """Kits, or pallet positions, that *qty* kits of one type take."""
        return qty if self.per_pallet is None else math.ceil(qty / self.per_pallet - 1e-9)

    def used(self, klass: str, extra: dict[str, float] | None = None) -> float:
        """Space taken in *klass* by the kits on the shelf (plus *extra* kits by type)."""
        total = 0.0
        for kit, c in self.klass.items():
            if c == klass:
                total += self._space(self.shelf.stocks[kit].qty + (extra.get(kit, 0.0) if extra else 0.0))
        return total

    def fits(self, kit: str, extra: dict[str, float] | None = None) -> float:
        """Kits of *kit* that still fit on the shelf (beyond *extra*); inf for a class without a limit."""
        c = self.klass[kit]
        if c not in self.capacity:
            return math.inf
        free = self.capacity[c] - self.used(c, extra)
        if self.per_pallet is None:
            return max(0.0, math.floor(free + 1e-9))
        have = self.shelf.stocks[kit].qty + (extra.get(kit, 0.0) if extra else 0.0)
        spare = self._space(have) * self.per_pallet - have  # room left on its part pallet
        return max(0.0, spare + max(0.0, math.floor(free + 1e-9)) * self.per_pallet)

    def _changed(self, t: float, qty: float) -> None:
        for c, cap in self.capacity.items():
            used = self.used(c)
            self._occupancy[c].set(t, used)
            self._full[c].set(t, float(used >= cap - 1e-9))
        if self.dock and not self._retry:  # kits left: offer the dock again once this change is over
            self._retry = True
            self.ctx.at(t, self._offer_dock)

    # -- stock in -----------------------------------------------------------------------------
    def offer(self, lot: Lot) -> None:
        """Shelve what fits of *lot*; the rest waits at the dock (behind earlier lots) or is refused."""
        if self.dock and self.spec.when_full == "wait":
            self._hold(lot, self.ctx.now)
            return
        rest = self._fit(lot)
        if rest is not None:
            if self.spec.when_full == "wait":
                self._hold(rest, self.ctx.now)
            else:
                self.ctx.ledger.outflow(rest.material, "refused_no_room", rest.qty)
                self._refused.count(self.ctx.now, rest.qty)

    def _fit(self, lot: Lot) -> Lot | None:
        """Shelve the part of *lot* that fits; returns the rest (None: all of it fitted)."""
        n = self.fits(kit_of(lot.material))
        if n >= lot.qty - 1e-9:
            self._put(lot)
            return None
        if n >= 1:
            self._pieces += 1  # its own numbering: ids elsewhere do not move
            part = lot.piece(f"{lot.id}.r{self._pieces}", n, self.ctx.now)
            lot.qty -= n
            self._put(part)
        return lot

    def _hold(self, lot: Lot, since: float) -> None:
        self.dock.append((lot, since))
        self.waiting[lot.material] = self.waiting.get(lot.material, 0.0) + lot.qty
        self._at_dock.add(self.ctx.now, lot.qty)

    def _offer_dock(self) -> None:
        """Kits left the shelf: shelve waiting lots in arrival order while they fit."""
        self._retry = False
        moved = False
        now = self.ctx.now
        while self.dock:
            lot, since = self.dock[0]
            before = lot.qty
            rest = self._fit(lot)
            shelved = before - (rest.qty if rest is not None else 0.0)
            if shelved > 0:
                moved = True
                self.waiting[lot.material] -= shelved
                self._at_dock.add(now, -shelved)
            if rest is not None:
                break
            self.dock.popleft()
            self._wait.observe(now - since, now)
        if moved:
            self._freed()

    def cut(self, wants: dict[str, float], expected: dict[str, float]) -> dict[str, float]:
        """An order cut to what fits with the kits on the shelf, at the dock and on the way."""
        extra = {k: expected.get(k, 0.0) + self.waiting.get(kit_material(k), 0.0) for k in self.klass}
        out = {}
        for kit, n in wants.items():
            fits = min(n, self.fits(kit, extra))
            if fits >= 1:
                out[kit] = math.floor(fits + 1e-9) if math.isfinite(fits) else fits
                extra[kit] = extra.get(kit, 0.0) + out[kit]
        return out

    def holdings(self) -> Iterable[Holding]:
        for m, q in self.waiting.items():
            yield m, "awaiting_room", q

    def metrics(self, t_end: float) -> dict[str, float]:
        span = t_end - self.ctx.warmup
        return {f"days_full.depot.{self.name}.{c}": self._full[c].mean(t_end) * span for c in self.capacity}

