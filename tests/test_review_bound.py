"""The review a dose skips: a dispensing point's review keeps a lower bound on how far above its
ceiling (the trigger) every kit type's position is; a dose lowers it by its kits and skips the review
while it stays above 0, the shelf has changed only by doses and every lot it counted still counts.
An arrival whose lots all count (the position unchanged) and an admission skip it on the same bound.
Checked by a hand trace, and in whole runs: at every skipped review each position, recomputed from
the lots, is above its trigger by at least the bound, and results are those of reviewing every dose."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from sim.clinical.dispensing import DispensingPoint
from sim.clinical.inventory import KitShelf
from sim.clinical.trial import Arm, Patient
from sim.core.context import Context
from sim.core.lots import Lot
from sim.model import run_replication
from sim.scenario import load_default
from sim.scenario.clinical import TriggerResupply
import pytest

pytestmark = pytest.mark.pure_python  # replaces methods or subclasses model classes (tests/conftest.py)


class _Depot:
    """Ships whatever is asked for, and remembers it."""

    def __init__(self) -> None:
        self.orders: list[tuple[float, dict]] = []

    def ship(self, point, wants, dns, lane, urgent):
        self.orders.append((point.ctx.now, dict(wants)))
        return wants


class _Site(DispensingPoint):
    site = property(lambda self: self)
    closed_to_enrollment = property(lambda self: False)


def _point(lots: list[tuple[float, float]]):
    """A site with trigger 2, level 6, do-not-dispense 10 and do-not-count 20 days (a 10-day look-ahead),
    holding *lots* (qty, expiry) of one kit type; its reviews are counted."""
    ctx = Context(horizon=1000, warmup=0, period=10, seed=1, rep=0)
    shelf = KitShelf(ctx, "S", ["K"], "sites", level="inventory.site.S")
    trial = SimpleNamespace(name="T", spec=SimpleNamespace(kit_loss_prob=0.0))
    spec = TriggerResupply(trigger=2, level=6, do_not_ship=20, do_not_dispense=10, do_not_count=20)
    point = _Site(ctx, "S", trial, _Depot(), object(), spec, lambda k, e: 0.0, shelf)
    point.active = True
    for i, (qty, expiry) in enumerate(lots):
        shelf.put(Lot(f"L{i}", "kit:K", qty, None, expiry, 0.0))
    reviews = []
    review = point.review
    point.review = lambda: (reviews.append(ctx.now), review())
    return point, reviews


def _dose_at(point, t: float) -> None:
    env = point.ctx.env
    env.run(until=t)
    assert point.dose_now(Patient("P", Arm("A", 1, {"K": 1}), [t], [0.0], math.inf))


def test_hand_trace_a_dose_lowers_the_bound_by_its_kits_and_reviews_at_the_trigger():
    point, reviews = _point([(3, 100.0), (4, 300.0)])
    point.review()  # day 0: position 7 (both lots count until day 80), 5 above the trigger
    assert (point._spare, point._spare_until) == (5, 100.0) and point.depot.orders == []
    spares = []
    for t in (1, 2, 3, 4, 5, 6):
        _dose_at(point, t)
        spares.append(point._spare)
    # days 1-4: 4, 3, 2, 1 above the trigger, no review; day 5: the position is 2, at the trigger: the
    # review orders up to 6 (4 kits on the way), 4 above; day 6: 3 above, no review
    assert spares == [4, 3, 2, 1, 4, 3]
    assert reviews == [0, 5] and point.depot.orders == [(5, {"K": 4})]
    assert point.position("K") == 5


def test_a_lot_that_stops_counting_or_a_shelf_change_voids_the_bound():
    point, reviews = _point([(5, 50.0), (5, 300.0)])
    point.review()  # position 10, 8 above the trigger; the first lot counts until day 30
    _dose_at(point, 30)  # the day it still counts (30 + 10 + 10 = its expiry): no review
    assert reviews == [0] and point._spare == 7
    _dose_at(point, 31)  # it no longer counts: reviewed although 6 > 0.5 would remain
    assert reviews == [0, 31] and point._spare == 3 and point._spare_until == 300.0  # 5 counted, less 2
    stock = point.shelf.stocks["K"]
    stock.remove(stock.lots[-1])  # taken off the shelf without a review (as a recall does, before its own)
    _dose_at(point, 32)
    assert reviews == [0, 31, 32] and point.depot.orders == [(32, {"K": 6})]  # position 0: up to 6


def _run(monkeypatch, bounded: bool):
    """Replication 0 of the default scenario; at every skipped review (after a dose, an arrival, an
    admission or a lot's cut-off) each position is checked against the bound."""
    monkeypatch.undo()  # the methods as they are, not as a previous run wrapped them
    skipped, called, reviews, depth = {}, {}, [0], [0]
    init, review = DispensingPoint.__init__, DispensingPoint.review

    def checked(method):
        def run(self, *args):
            if depth[0]:  # called by another checked method (recheck is review_arrival with no lots)
                return method(self, *args)
            before = reviews[0]
            called[method.__name__] = called.get(method.__name__, 0) + 1
            depth[0] += 1
            try:
                done = method(self, *args)
            finally:
                depth[0] -= 1
            if done is not False and reviews[0] == before:  # not reviewed: every position above its trigger
                margins = [self.position(k) - self._ceiling[k] for k in self.kits]
                assert min(margins) >= self._spare - 1e-9 and self._spare > 0.5
                skipped.setdefault(method.__name__, []).append(min(margins) - self._spare)
            return done
        return run

    def counted(self):
        reviews[0] += 1
        review(self)

    def unbounded(self, *a, **kw):
        init(self, *a, **kw)
        self._bounded = bounded

    for name in ("dose_now", "review_arrival", "recheck"):
        monkeypatch.setattr(DispensingPoint, name, checked(getattr(DispensingPoint, name)))
    monkeypatch.setattr(DispensingPoint, "review", counted)
    monkeypatch.setattr(DispensingPoint, "__init__", unbounded)
    return run_replication(load_default(), 1, 0), skipped, called, reviews[0]


def test_skipped_reviews_order_nothing_and_results_match_reviewing_every_time(monkeypatch):
    with_bound, skipped, called, n = _run(monkeypatch, True)
    every_time, none, _, n_every = _run(monkeypatch, False)
    doses = with_bound.metrics["total.visits.dosed"]
    # trigger 2, level 6: about one dose in four brings a site to its trigger, and is reviewed
    assert len(skipped["dose_now"]) > 0.6 * doses and not none
    # an arrival leaves the positions as they were (1,694 of 1,833 skipped; the others follow a dose
    # that was reviewed, or their lots do not all count); an admission raises none (all 624 skipped)
    assert len(skipped["review_arrival"]) > 0.9 * called["review_arrival"]
    assert len(skipped["recheck"]) == called["recheck"] > 500
    assert n == n_every - sum(len(v) for v in skipped.values())
    assert np.mean(skipped["dose_now"]) < 0.1  # the bound is tight: above it only when kits came from lots not counted
    assert with_bound.metrics == every_time.metrics
    assert all(np.array_equal(v, every_time.series[k]) for k, v in with_bound.series.items())
    assert with_bound.samples == every_time.samples


def test_a_lot_that_stops_counting_is_reviewed_just_after_its_cut_off():
    """A lot counts while ``now + 20 <= expiry`` (do-not-dispense 10, look-ahead 10): the review booked
    for it runs at the first instant it no longer counts, and orders; one *at* day 30 would still count
    it (position 5, above the trigger 2) and order nothing."""
    point, reviews = _point([])
    point._shelve(Lot("L0", "kit:K", 5, None, 50.0, 0.0))  # counts up to day 30 inclusive
    point.ctx.env.run(until=31)
    assert len(reviews) == 1 and 30.0 < reviews[0] < 30.0 + 1e-12  # a few ulps: 30 + ulp + 20 rounds to 50
    assert point.depot.orders == [(reviews[0], {"K": 6})]  # position 0: up to the level 6
    # to the bit where the expiry's binade is coarser than the cut-off's (1030 - 30 = 1000 exactly)
    from sim.clinical.dispensing import _uncounted_from
    for expiry, margin in ((1030.0, 30.0), (50.0, 20.0), (1e6 + 0.1, 7.3), (100.0, 0.0)):
        t = _uncounted_from(expiry, margin)
        assert t + margin > expiry and math.nextafter(t, -math.inf) + margin <= expiry


def _arrive_at(point, t: float, lots: list[Lot], lost: list[Lot] = ()) -> None:
    """A shipment of *lots* (and *lost*, lost on the way) ordered at day 0 arrives at *t*."""
    from sim.clinical.lanes import Shipment
    shipment = Shipment(lots + list(lost), 0.0)
    for lot in lost:
        shipment.lots.remove(lot)
        shipment.lost.append(lot)
    point.ctx.env.run(until=t)
    point.arrive(shipment)


def test_hand_trace_an_arrival_that_counts_keeps_the_bound_one_that_does_not_reviews():
    point, reviews = _point([(5, 300.0)])
    point.expected["K"] = 6.0  # three shipments of 2 on the way
    point.review()  # day 0: position 11, 9 above the trigger
    assert reviews == [0] and (point._spare, point._spare_until) == (9, 300.0)
    _arrive_at(point, 1, [Lot("S1", "kit:K", 2, None, 100.0, 0.0)])  # counts until day 80
    assert reviews == [0] and (point._spare, point._spare_until) == (9, 100.0) and point.position("K") == 11
    _arrive_at(point, 2, [Lot("S2", "kit:K", 2, None, 21.0, 0.0)])  # counts only until day 1: reviewed
    assert reviews == [0, 2] and (point._spare, point._spare_until) == (7, 100.0)
    _arrive_at(point, 3, [], lost=[Lot("S3", "kit:K", 2, None, 200.0, 0.0)])  # lost on the way: reviewed
    assert reviews == [0, 2, 3] and point._spare == 5 and point.depot.orders == []
    point.admit(Patient("P", Arm("A", 1, {"K": 1}), [10.0], [0.0], math.inf))  # a patient: no review
    assert reviews == [0, 2, 3] and point.position("K") == 7
    point.ctx.env.run(until=81)  # S1's cut-off (just past day 80) reviews: S1 no longer counts
    assert len(reviews) == 4 and 80 < reviews[3] < 81 and point._spare == 3 and point._spare_until == 300.0
