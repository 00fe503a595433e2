"""A fully deterministic chain whose state at T = 50 is computed by hand.

Supplier (s, Q) = (10, 50), lead time 5, 20 kg at t=0; batch line 10 kg per batch, 4-day cycle,
3-day QC; packaging 1 day per lot, 100 units per kit.  Batches start every 4 days (k = 0..12 by
t = 48) and release at 4k + 7; orders are placed at t = 0, 20, 40 (at batches k = 0, 5, 10) and
arrive 5 days later, before the store runs dry.  Sites open after the horizon.
"""
from __future__ import annotations

import pytest

from sim.model import SupplyChainModel, run_replication


def test_deterministic_chain_by_hand(deterministic):
    r = run_replication(deterministic, seed=1)
    m = r.metrics
    assert m["total.delivered.sup"] == 150  # three orders of 50
    assert m["delay.supplier_lead_time.sup.mean"] == 5
    assert m["total.released.line"] == 11 * 1000  # released at 7, 11, ..., 47
    assert m["delay.cycle_time.line.n"] == 11 and m["delay.cycle_time.line.mean"] == 7
    assert m["total.packaged.kits"] == 110  # packed at 8, 12, ..., 48
    assert m["utilisation.line"] == pytest.approx(1.0)
    # WIP: 11 batches x 1000 units x 7 days, + batch 11 (44..51) 6 days, + batch 12 (48..55) 2 days
    assert m["wip.line.mean"] == pytest.approx((11 * 7000 + 6000 + 2000) / 50)
    # depot: 10 kits arrive at 4k + 8, k = 0..10, and stay to t = 50
    assert m["inventory.depot.central.mean"] == pytest.approx(10 * sum(42 - 4 * k for k in range(11)) / 50)
    assert m["delay.packaging_wait.mean"] == 0
    acc = r.accounting
    assert acc["api"]["held:on_hand"] == 40  # 20 + 150 - 13 x 10
    assert acc["api"]["out:consumed"] == 130
    assert acc["drug_product"]["held:qc_hold"] == 1000 and acc["drug_product"]["held:in_process"] == 1000
    assert acc["kit:kit"]["held:on_hand"] == 110  # the legacy single kit type is named "kit"


def test_deterministic_series_by_hand(deterministic):
    r = run_replication(deterministic, seed=1)
    # releases per 10-day period: [0,10): t=7 ; [10,20): 11,15,19 ; [20,30): 23,27 ; [30,40): 31,35,39 ; [40,50]: 43,47
    assert list(r.series["released.line"]) == [1000, 3000, 2000, 3000, 2000]


def test_lot_genealogy_and_fefo(deterministic):
    model = SupplyChainModel(deterministic, seed=1)
    model.run()
    stock = model.depot.shelf.stocks["kit"]
    lots = stock.lots
    assert [l.qty for l in lots] == [10] * 11
    assert all(l.parent and l.parent.startswith("line-") for l in lots)  # kit lot <- released batch
    assert [l.expiry for l in lots] == sorted(l.expiry for l in lots)  # FEFO order
    assert lots[0].expiry == pytest.approx(0 + 1000)  # batch 0 started at t = 0 (made), packed at 8
    taken = stock.take(15)
    assert [l.qty for l in taken] == [10, 5] and taken[1].parent == lots[0].id  # split keeps genealogy


def test_shelf_life_counts_from_the_batch_start_not_from_packing(deterministic):
    """GMP expiry: batch k starts at 4k, is released at 4k + 7 and packed at 4k + 8.  With a shelf life
    of 9 days its kits expire at 4k + 9 (one day after packing: QC and packing used up eight); with 7.5
    days the bulk has expired before it is packed and is scrapped as expired bulk, all 11 batches."""
    sc = deterministic.model_copy(update={"packaging": deterministic.packaging.model_copy(
        update={"shelf_life": 9.0})})
    m = run_replication(sc, seed=1).metrics
    assert m["total.packaged.kits"] == 110 and m["total.expired.depot"] == 110  # the last at 49 < 50
    assert m["inventory.depot.central.mean"] == pytest.approx(110 * 1 / 50)  # each kit held one day

    sc = deterministic.model_copy(update={"packaging": deterministic.packaging.model_copy(
        update={"shelf_life": 7.5})})
    r = run_replication(sc, seed=1)
    assert r.metrics["total.packaged.kits"] == 0
    assert r.metrics["total.expired_bulk.drug_product"] == 11 * 1000
    assert r.accounting["drug_product"]["out:expired_bulk"] == 11 * 1000
