"""The resupply side of a dispensing point: its inventory position, the forecast a predictive policy
reads, the review that applies the policy and ships, and the storage room orders are cut to.

The base of :class:`~sim.clinical.dispensing.DispensingPoint` (which sets the attributes declared
here), kept apart from dosing: what the point orders, not how it doses.
"""
from __future__ import annotations

import math
from bisect import bisect_right

from sim.clinical.depot import DepotNode
from sim.clinical.inventory import KitShelf
from sim.clinical.lanes import Lane
from sim.clinical.resupply import ResupplyPolicy
from sim.clinical.trial import Patient
from sim.core.context import Context
from sim.core.node import Node
from sim.scenario.clinical import ResupplySpec


class PointSupply(Node):
    """Resupply of a dispensing point (the base of :class:`~sim.clinical.dispensing.DispensingPoint`)."""

    # set by DispensingPoint.__init__ (declared here for mypyc, which compiles both: sim.core._compiled)
    ctx: Context
    depot: DepotNode
    lane: Lane | None
    resupply: ResupplySpec
    policy: ResupplyPolicy
    shelf: KitShelf
    kits: list[str]
    patients: list[Patient]
    expected: dict[str, float]  # shipped here, not yet arrived
    owed: dict[str, float]  # kits owed to patients waiting for a dose
    remaining: dict[str, float]  # kits the current patients' future visits need
    active: bool
    closed: bool
    room: tuple[dict[str, int], dict[str, str]] | None
    min_shelf_life: float
    _ceiling: dict[str, float]
    _wake: float
    _spare: float
    _spare_until: float
    _spare_seen: int
    _bounded: bool

    @property
    def closed_to_enrollment(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def _usable_after(self) -> float:
        return self.ctx.env._now + self.resupply.do_not_dispense

    def position(self, kit: str) -> float:
        """Kits on hand still dispensable over the policy's look-ahead, plus in transit, minus owed
        (:meth:`review` computes the same, for every kit type at once)."""
        after = self._usable_after() + self.policy.expiry_lookahead
        return self.shelf.stocks[kit].available(after) + self.expected[kit] - self.owed[kit]

    def forecast(self, kit: str, until: float) -> float:
        """Kits of *kit* the enrolled patients' visits due up to *until* need (not yet attempted)."""
        total = 0.0
        for p in self.patients:
            n = p.arm.kits.get(kit, 0)
            if n:
                total += n * max(0, bisect_right(p.early, until) - p.next)  # type: ignore[arg-type]
        return total

    def next_forecast_change(self, window: float) -> float:
        """Earliest time a planned visit enters the window of *window* days ahead."""
        edge = self.ctx.now + window
        t = math.inf
        for p in self.patients:
            j = max(bisect_right(p.early, edge), p.next)  # type: ignore[arg-type]
            if j < len(p.early):  # type: ignore[arg-type]
                t = min(t, p.early[j] - window)  # type: ignore[index]
        return t

    def ship_initial(self) -> None:
        wants = {}
        for kit in self.kits:
            n = self.policy.initial(kit)
            if n:
                wants[kit] = n
        self._order(wants)

    def review(self) -> None:
        """Apply the resupply policy to every kit type and ship what it asks for.

        The position is taken straight from the kit stocks (as :meth:`position` does), and a kit type
        whose position is above the policy's :attr:`~ResupplyPolicy.ceiling` is passed over without
        asking the policy.  A review also keeps a lower bound on how far above its ceiling every kit
        type is (``_spare``), which holds while the shelf changes only by doses (each lowers it by
        its kits) and every lot it counts still counts: a dose that leaves it above 0 cannot make a
        review order anything, and :meth:`dose_now` then skips it (most visits), as do most
        arrivals (:meth:`review_arrival`) and admissions (:meth:`recheck`)."""
        self._spare = -math.inf
        if not self.active or self.closed or self.lane is None:
            return
        seen = self.shelf.changes.n  # before any order: a change while ordering voids the bound
        now = self.ctx.env._now
        policy = self.policy
        after = now + self.resupply.do_not_dispense + policy.expiry_lookahead  # as position() counts
        stocks, expected, owed, ceiling = self.shelf.stocks, self.expected, self.owed, self._ceiling
        wants = low = None  # built only when the policy asks for kits (a review after a dose mostly does)
        spare = until = math.inf
        for kit in self.kits:
            stock = stocks[kit]
            lots = stock.lots  # stock.counted(after), without a call when the first lot counts
            if not lots:
                have, first = stock.qty, math.inf
            elif lots[0].expiry >= after:
                have, first = stock.qty, lots[0].expiry
            else:
                have, first = stock.counted(after)
            pos = have + expected[kit] - owed[kit]
            if first < until:
                until = first
            margin = pos - ceiling[kit]
            if margin > 0:  # above the ceiling: the policy is not asked
                if margin < spare:
                    spare = margin
                continue
            q = policy.quantity(self, kit, pos, now)
            if q > 1e-9 and self.closed_to_enrollment:  # the cap only ever lowers an order
                q = min(q, self.remaining[kit] - pos)
            if q > 1e-9:
                if wants is None:
                    wants, low = {}, []
                wants[kit] = math.ceil(q - 1e-9)
                low.append((kit, margin - expected[kit]))  # its margin once what is shipped is added
            elif margin < spare:
                spare = margin
        if wants is not None:
            self._order(wants)  # type: ignore[arg-type]  # whole kits
            for kit, margin in low:
                if margin + expected[kit] < spare:
                    spare = margin + expected[kit]
        if self._bounded:
            self._spare, self._spare_until, self._spare_seen = spare, until, seen
        if policy.timed:
            t = policy.next_review(self, now)
            if t < self._wake:
                self._wake = t
                self.ctx.at(t, self._wakeup, t)

    def recheck(self) -> None:
        """:meth:`review`, unless the bound it keeps proves it would order nothing: the shelf has not
        changed since the bound was taken (doses update it), every lot it counted still counts, and it
        is above 0 (:meth:`review_arrival` with no lots shelved).  For events that can only raise a
        position or leave it as it was (a patient admitted: the cap of a point closed to enrollment only
        lowers an order); an event that may lower one (more kits owed, a shipment's kits lost) reviews
        in full."""
        self.review_arrival([], self.shelf.changes.n)

    def review_arrival(self, lots: list, seen: int) -> None:
        """:meth:`review` after a shipment's *lots* were shelved (the shelf's change count *seen* before),
        unless the bound proves it would order nothing: each kit type's position is unchanged when every
        lot came onto the shelf and counts (in transit before, on the shelf now), so the bound still
        holds if it held before and only the shelving changed the shelf; the earliest expiry it
        counts may move earlier."""
        after = self.ctx.env._now + self.resupply.do_not_dispense + self.policy.expiry_lookahead
        until, n = self._spare_until, self.shelf.changes.n
        if self._spare > 0.5 and seen == self._spare_seen and n == seen + len(lots) and after <= until:
            for lot in lots:
                if lot.expiry < after:
                    break
                if lot.expiry < until:
                    until = lot.expiry
            else:
                self._spare_until, self._spare_seen = until, n
                return
        self.review()

    def _wakeup(self, t: float) -> None:
        if self._wake == t:
            self._wake = math.inf
            self.review()

    def _order(self, wants: dict[str, float], urgent: bool = False) -> None:
        if wants and self.room is not None:
            wants = self._fit(wants)
        if wants:
            # Never ship a kit that would not count in the position on arrival.
            r = self.resupply
            dns = max(r.do_not_ship, r.do_not_dispense + self.policy.expiry_lookahead, self.min_shelf_life)
            for kit, n in self.depot.ship(self, wants, dns, self.lane, urgent).items():  # type: ignore[arg-type]
                self.expected[kit] += n

    def set_room(self, capacity: dict[str, int], storage_class: dict[str, str]) -> None:
        """Store at most *capacity* kits per storage class (``all``, or a temperature class); the class of
        each kit type is *storage_class*.  Orders are cut to what fits with the kits on hand and on the way."""
        self.room = (capacity, storage_class)
        self._no_room = self.ctx.counter("no_room.kits")
        self._cut: set[str] = set()  # kit types whose last order was cut (a shortage counted once)

    def _fit(self, wants: dict[str, float]) -> dict[str, float]:
        capacity, storage_class = self.room  # type: ignore[misc]  # set_room was called
        used: dict[str, float] = {}
        for kit in self.kits:
            c = storage_class[kit]
            used[c] = used.get(c, 0.0) + self.shelf.stocks[kit].qty + self.expected[kit]
        out = {}
        for kit, n in wants.items():
            c = storage_class[kit]
            fits = n if c not in capacity else max(0, min(n, int(capacity[c] - used[c] + 1e-9)))
            if fits < n and kit not in self._cut:
                self._no_room.count(self.ctx.now, n - fits)
                self._cut.add(kit)
            elif fits == n:
                self._cut.discard(kit)
            if fits > 0:
                out[kit] = fits
                used[c] += fits
        return out
