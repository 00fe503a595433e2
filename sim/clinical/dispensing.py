"""Dispensing points: where kits are held and patients dosed (a site, or a patient's home).

At a dosing visit the point dispenses the arm's kits FEFO (only kits with at least
*do_not_dispense* days left; blinded: no substitution between kit types).  Without them
the patient waits up to the visit window for a shipment; after that the visit is *not
dosed*, classified as **missed dispensing** when a usable kit existed upstream (at a
depot or on its way to the point) and as **out of stock** otherwise.  The point's
resupply policy runs on its inventory position after every event that changes it (after a
dose only when the dose may have brought a position to the policy's ceiling: see
:meth:`~sim.clinical.point_supply.PointSupply.review`).
Once closed to enrollment a point is only sent what its remaining patients still need,
and when it closes its leftover kits are returned and destroyed.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable

from sim.clinical.depot import DepotNode
from sim.clinical.inventory import KitShelf, kit_of
from sim.clinical.kit_wait import KitWait
from sim.clinical.lanes import Lane, Shipment
from sim.clinical.point_supply import PointSupply
from sim.clinical.relabel import Relabelling
from sim.clinical.resupply import ResupplyPolicy, make_policy
from sim.clinical.trial import Patient, TrialNode
from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Holding
from sim.core.stats import Together
from sim.scenario.clinical import ResupplySpec

Upstream = Callable[[str, float], float]
"""``upstream(kit, min_expiry)``: usable kits of a type at every depot (what a missed visit is
measured against)."""

VISIT = "visit"
_DUE = (VISIT, "due")  # the ledger key of every visit (booked inline in dose_now)
_DOSED = (VISIT, "dosed")


class DispensingPoint(PointSupply):
    """Kits at one place where patients are dosed, with its resupply policy."""

    def __init__(self, ctx: Context, name: str, trial: TrialNode, depot: DepotNode, lane: Lane | None,
                 resupply: ResupplySpec, upstream: Upstream, shelf: KitShelf) -> None:
        self.ctx = ctx
        self.name = name
        self.trial = trial
        self.depot = depot
        self.lane = lane
        self.resupply = resupply
        self.policy: ResupplyPolicy = make_policy(resupply)
        self.upstream = upstream
        self.shelf = shelf
        self.kits = list(shelf.stocks)
        self._ceiling = {k: self.policy.ceiling(k) for k in self.kits}  # the policy orders at or below it
        self.expected = {k: 0.0 for k in self.kits}  # shipped here, not yet arrived
        self.owed = {k: 0.0 for k in self.kits}  # kits owed to patients waiting for a dose
        self.remaining = {k: 0.0 for k in self.kits}  # kits the current patients' future visits need
        self.patients: list[Patient] = []
        self.waiting: list[KitWait] = []  # patients waiting for the kits of a visit
        self.active = False
        self.closed = False
        self.relabelling: Relabelling | None = None
        self.room: tuple[dict[str, int], dict[str, str]] | None = None  # storage capacity (set_room)
        self.min_shelf_life = 0.0  # the country's rule on shelf life left when kits are shipped here
        self._wake = math.inf
        self._delivery = ctx.tally("order_to_delivery")
        self._kit_wait = ctx.tally("patient_kit_wait")
        self._dispensed = ctx.counter("dispensed.kits")
        self._dosed = ctx.counter("visits.dosed")
        self._on_time = ctx.counter("visits.dosed_on_time")
        self._not_dosed = ctx.counter("visits.not_dosed")
        self._patients_not_dosed = ctx.counter("patients.not_dosed")
        self._on_arrival = Together((self._dispensed, self._dosed, self._on_time), self._kit_wait)
        self._lost_kit = None
        if trial.spec.kit_loss_prob > 0:  # damaged or lost kits, replaced at once from the shelf
            self._lost_kit = ctx.coin(f"{trial.name}.kit_loss", trial.spec.kit_loss_prob)
            self._replaced = ctx.counter("replaced.kits")
            self._unreplaced = ctx.counter("unreplaced.kits")
        # A lower bound on min over kit types of (position - ceiling), the earliest expiry among the lots it
        # counts and the shelf's change count when it was taken (review); a dose lowers it by its kits.
        self._spare, self._spare_until, self._spare_seen = -math.inf, -math.inf, -1
        self._bounded = not self.policy.timed and self._lost_kit is None  # a dose takes just its kits
        self._plain = self._lost_kit is None and ctx.genealogy is None  # a dose needs nothing but its kits
        if ctx.genealogy is not None:  # which lot each dose came from
            for stock in shelf.stocks.values():
                stock.issued = []

    # -- the site this point belongs to (itself, or the DTP site of a home) -----------
    @property
    def site(self) -> Any:  # pragma: no cover - overridden (a SiteNode, which imports this module)
        """The site whose patients this point doses (itself, or a home's site): counts its stock-outs."""
        raise NotImplementedError

    # -- supply ------------------------------------------------------------------------
    def arrive(self, shipment: Shipment) -> None:
        now = self.ctx.env._now
        for m, q in shipment.sent.items():
            self.expected[kit_of(m)] -= q
        if self.closed:
            self.shelf.destroy(shipment.lots)
            return
        seen = self.shelf.changes.n if not shipment.lost else -2  # a lost kit lowers a position
        for lot in shipment.lots:
            self._shelve(lot)
        self._delivery.observe(now - shipment.ordered, now)
        if self.waiting:
            self._serve_waiting()
        self.review_arrival(shipment.lots, seen)

    def _shelve(self, lot: Lot) -> None:
        if self.closed:  # back from a relabel hold after the point closed
            self.shelf.destroy([lot])
            return
        self.shelf.put(lot)
        unusable = _uncounted_from(lot.expiry, self.resupply.do_not_dispense + self.policy.expiry_lookahead)
        ctx = self.ctx
        if ctx.env._now < unusable < ctx.horizon:  # the position drops then without any event here
            ctx.once(unusable, self.review)  # once: the lots of a batch come in many shipments
        if self.relabelling is not None:
            self.relabelling.arm(lot)

    def relabel_here(self, rules: dict) -> None:
        """Relabel kits on this point's shelf too (kit types whose rule allows it at sites)."""
        self.relabelling = Relabelling(self.ctx, f"site.{self.name}", self.shelf, rules, self._shelve,
                                       self._kits_back)

    def _kits_back(self) -> None:
        """Kits came back to the shelf (from a quarantine or a relabel hold): to waiting patients, review."""
        self._serve_waiting()
        self.review()

    # -- dosing ------------------------------------------------------------------------
    def _has(self, kits: dict[str, int], after: float, owed: dict[str, float] | None = None) -> bool:
        """Whether the kits of a visit are on hand in lots expiring at or after *after* (less those
        *owed* to patients already waiting, if given)."""
        stocks = self.shelf.stocks
        for k, n in kits.items():  # a patient's kits are among the point's kit types
            if n and stocks[k].available(after) - (owed[k] if owed is not None else 0) < n - 1e-9:
                return False
        return True

    def _dispense(self, kits: dict[str, int], after: float, now: float, p: Patient) -> int:
        """Take the kits of a visit from the shelf; returns how many, for the caller to count (the kits
        are counted with the visit's other numbers when it is dosed on arrival)."""
        outflows, stocks = self.ctx.ledger.outflows, self.shelf.stocks
        total = 0
        for k, n in kits.items():
            if n:
                stock = stocks[k]
                taken = stock.consume(n, after)
                outflows[stock.material, "dispensed"] += taken  # ledger.outflow, inlined (every dose)
                total += n
                if stock.issued is not None:
                    self.ctx.genealogy.dosed(p.id, now, self.name, stock.material, stock.issued)  # type: ignore[union-attr]
                if self._lost_kit is not None:
                    self._replace_lost(stock, n, after, p)
        return total

    def _replace_lost(self, stock, n: int, after: float, p: Patient) -> None:
        """Each of the *n* kits just dispensed may be damaged or lost: replaced from the shelf if a kit is
        on hand (not kept for a waiting patient), otherwise the patient goes without the spare."""
        now = self.ctx.env._now
        for _ in range(n):
            if not self._lost_kit():  # type: ignore[misc]
                continue
            if stock.available(after) - self.owed[kit_of(stock.material)] >= 1 - 1e-9:
                self.ctx.ledger.outflow(stock.material, "dispensed", stock.consume(1, after))
                self._dispensed.count(now, 1)
                self._replaced.count(now, 1)
                if stock.issued is not None:
                    self.ctx.genealogy.dosed(p.id, now, self.name, stock.material, stock.issued)  # type: ignore[union-attr]
            else:
                self._unreplaced.count(now, 1)

    def _serve_waiting(self) -> None:
        if not self.waiting:  # the usual case, after every arrival
            return
        after, now = self._usable_after(), self.ctx.env._now
        for w in list(self.waiting):
            kits = w.kits
            if self._has(kits, after):
                self._dispensed.count(now, self._dispense(kits, after, now, w.p))
                for k, n in kits.items():
                    self.owed[k] -= n
                self.waiting.remove(w)
                w.serve()

    def dose_now(self, p: Patient) -> bool:
        """Patient *p* comes now: book the visit and, if the kits are on hand, dose and review; returns
        whether the visit is over (otherwise :meth:`wait_for_kit` follows)."""
        kits = p.arm.kits
        ctx = self.ctx
        ledger = ctx.ledger
        ledger.inflows[_DUE] += 1  # ledger.inflow(VISIT, "due", 1): a call fewer on the hot path
        remaining, owed, stocks = self.remaining, self.owed, self.shelf.stocks
        now = ctx.env._now
        after = now + self.resupply.do_not_dispense  # as _usable_after()
        on_hand, n = True, 0  # as _has(kits, after, owed), without its calls; n: the kits
        for k, m in kits.items():
            remaining[k] -= m
            if m and on_hand:
                stock = stocks[k]
                lots = stock.lots  # stock.available(after): its whole quantity unless the first lot is too old
                have = stock.qty if not lots or lots[0].expiry >= after else stock.available(after)
                if have - owed[k] < m - 1e-9:
                    on_hand = False
                n += m
        if not on_hand:
            return False
        changes = self.shelf.changes
        bound_holds = changes.n == self._spare_seen and after + self.policy.expiry_lookahead <= self._spare_until
        outflows = ledger.outflows
        if self._plain:  # _dispense's work without its call (nothing to trace, no kit lost)
            for k, m in kits.items():
                if m:
                    stock = stocks[k]
                    outflows[stock.material, "dispensed"] += stock.consume(m, after)
        else:
            self._dispense(kits, after, now, p)
        outflows[_DOSED] += 1  # as _dosed_at(now, now), booked in one call
        self._on_arrival.book(now, (n, 1, 1), 0.0)  # the kits of all types as one sum: whole numbers, the same bins
        spare = self._spare - n  # each kit taken lowers a position by at most 1
        if bound_holds and spare > 0.5:  # every position still above its ceiling: a review would order nothing
            self._spare, self._spare_seen = spare, changes.n
        else:
            self.review()
        return True

    def wait_for_kit(self, p: Patient, due: float, window: float, then: Callable[..., None], *args) -> None:
        """The kits of *p*'s visit (booked by :meth:`dose_now`) are not on hand: wait for them until the
        window closes (a :class:`KitWait`), or record the visit as not dosed; then ``then(*args)``."""
        wait = due + window - self.ctx.env._now
        kits = p.arm.kits
        self.site.stockouts += 1
        if wait > 0:
            self.waiting.append(w := KitWait(self.ctx, p, kits, self._kit_wait_over, then, args))
            for k, n in kits.items():
                self.owed[k] += n
            self._emergency(kits)
            self.review()
            w.until(wait)
        else:
            self._missed(p, kits)
            self.review()
            then(*args)

    def _kit_wait_over(self, w: KitWait) -> None:
        if w.served:
            self._dosed_at(w.arrived, self.ctx.env._now)
        else:
            self.waiting.remove(w)
            for k, n in w.kits.items():
                self.owed[k] -= n
            self._missed(w.p, w.kits)
        self.review()
        w.then(*w.args)

    def _emergency(self, kits: dict[str, int]) -> None:
        """A patient is here and a kit is not: send the missing kits by the lane's emergency courier."""
        if self.lane is None or self.lane.spec.emergency is None or self.closed:
            return
        after = self._usable_after()
        short = {}
        for k, n in kits.items():
            have = self.shelf.usable(k, after)
            if n and have < n:
                short[k] = n - have
        self._order(short, urgent=True)

    def _dosed_at(self, arrived: float, now: float) -> None:
        """A dose given *now* to a patient who came at *arrived* (on time if that is now: no wait for a kit)."""
        self.ctx.ledger.outflow(VISIT, "dosed", 1)
        self._dosed.count(now)
        if now == arrived:
            self._on_time.count(now)
        self._kit_wait.observe(now - arrived, now)

    def _missed(self, p: Patient, kits: dict[str, int]) -> None:
        now = self.ctx.now
        after = self._usable_after()
        upstream = all(self.upstream(k, after) + self.expected[k] > 0
                       for k, n in kits.items() if n and self.shelf.usable(k, after) < n)
        kind = "missed_dispensing" if upstream else "out_of_stock"
        self.ctx.ledger.outflow(VISIT, "not_dosed", 1)
        self._not_dosed.count(now)
        self.ctx.counter(f"visits.{kind}").count(now)
        self.trial.visits_not_dosed += 1
        if p.missed == 0:
            self._patients_not_dosed.count(now)
            self.trial.patients_not_dosed += 1
        p.missed += 1

    # -- patients on the books -------------------------------------------------------------
    def admit(self, p: Patient) -> None:
        self.patients.append(p)
        for k, n in p.arm.kits.items():
            self.remaining[k] += n * len(p.due)
        self.recheck()

    def discharge(self, p: Patient) -> None:
        self.patients.remove(p)
        for k, n in p.arm.kits.items():
            self.remaining[k] -= n * (len(p.due) - p.next)

    def restock(self, lots: list[Lot]) -> None:
        """Kits back from a storage quarantine: to the shelf (and to waiting patients), or destroyed if
        the point has closed meanwhile."""
        if self.closed:
            self.shelf.destroy(lots)
            return
        self.shelf.restore(lots)
        self._kits_back()

    def close(self) -> None:
        """No patients left to dose: return and destroy the kits on the shelf, stop resupply."""
        if not self.closed:
            self.closed = True
            self.shelf.destroy()

    def holdings(self) -> Iterable[Holding]:
        yield from self.shelf.holdings()
        if self.relabelling is not None:
            yield from self.relabelling.holdings()
        yield VISIT, "waiting_for_kit", len(self.waiting)


def _uncounted_from(expiry: float, margin: float) -> float:
    """The first instant at which a lot expiring at *expiry* no longer counts in a position that counts
    lots expiring at or after ``now + margin``: just past ``expiry - margin``, to the bit (a review *at*
    that instant still counts the lot, and would not see the drop it was booked for)."""
    t = expiry - margin
    while t + margin <= expiry:
        t = math.nextafter(t, math.inf)
    return t
