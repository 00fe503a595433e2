"""Kit expiry: one pending check per kit stock, at the earliest expiry on hand, stands for one event
per lot put.  A hand-computed trace of lots put, taken, moved whole, split, arriving expired and
restored after a quarantine: which lots expire, where, when and how many kits."""
from __future__ import annotations

import pytest

from sim.clinical.inventory import KitShelf
from sim.core.context import Context
from sim.core.lots import Lot

pytestmark = pytest.mark.pure_python  # replaces methods or subclasses model classes (tests/conftest.py)


def _shelves():
    ctx = Context(horizon=100.0, warmup=0.0, period=10.0, seed=1, rep=0)
    log: list[tuple[float, str, str, float]] = []
    x, y = (KitShelf(ctx, place, ["K"], "sites") for place in ("X", "Y"))
    for stock in (x.stocks["K"], y.stocks["K"]):
        book = stock.expire
        stock.expire = lambda lot, book=book, s=stock: (log.append((ctx.now, s.name, lot.id, lot.qty)), book(lot))
    return ctx, x, y, log


def _lot(id: str, qty: float, expiry: float, now: float = 0.0) -> Lot:
    return Lot(id, "kit:K", qty, None, expiry, now)


def test_hand_trace_of_expiries_with_one_pending_check_per_stock():
    ctx, x, y, log = _shelves()
    env = ctx.env
    for lot in (_lot("A", 3, 10), _lot("B", 2, 20), _lot("C", 4, 20), _lot("D", 5, 150)):
        x.put(lot)
    assert len(env._queue) == 1  # one check, at day 10 (D expires after the horizon: never checked)
    env.run(until=5)
    moved = x.take("K", 4, 0.0)  # FEFO: A whole (3) and a piece B.1 (1) of B; B keeps 1
    assert [(l.id, l.qty, l.expiry) for l in moved] == [("A", 3, 10), ("B.1", 1, 20)]
    for lot in moved:
        y.put(lot)
    env.run(until=12)  # day 10: A expires at Y; X's check finds A gone and is booked again for day 20
    x.put(_lot("E", 2, 15, 12))  # earlier than X's pending check: a check at day 15
    env.run(until=30)
    y.put(_lot("F", 1, 25, 30))  # arrives expired: expires now
    y.put(_lot("G", 2, 40, 30))
    env.run(until=35)
    assert [l.id for l in y.take("K", 2, 0.0)] == ["G"]  # gone before day 40: nothing expires then
    env.run(until=45)
    x.restore([_lot("H", 1, 44, 45)])  # back from a quarantine, expired meanwhile: booked at once
    env.run(until=100)
    assert log == [(10, "Y.K", "A", 3), (15, "X.K", "E", 2), (20, "X.K", "B", 1), (20, "X.K", "C", 4),
                   (20, "Y.K", "B.1", 1), (30, "Y.K", "F", 1), (45, "X.K", "H", 1)]
    assert ctx.ledger.outflows["kit:K", "expired"] == 13
    assert ctx.counters["expired.sites"].total == 13
    assert [(l.id, l.qty) for l in x.stocks["K"].lots] == [("D", 5)] and y.stocks["K"].lots == []


def test_a_zero_quantity_lot_is_not_booked_and_does_not_stall_the_check():
    ctx, x, _, log = _shelves()
    x.put(_lot("Z", 0.0, 10))
    x.put(_lot("A", 2, 30))
    ctx.env.run(until=100)
    assert log == [(30, "X.K", "A", 2)] and [l.id for l in x.stocks["K"].lots] == ["Z"]
