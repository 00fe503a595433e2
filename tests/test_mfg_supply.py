"""Suppliers (OTIF, partial deliveries, capacity, MOQ, outages, second source), material policies
and incoming QC, at the process level where a hand computation or a binomial bound applies."""
from __future__ import annotations

import math

import pytest

from sim.core.context import Context
from sim.core.lots import LotStore
from sim.supply.raw_materials import MaterialNode, incoming_test
from sim.supply.suppliers import SupplierNode
from sim.scenario.materials import Material
from sim.scenario.supply import Supplier
from tests.mfg_support import assert_close


def context(horizon: float = 1000.0, rep: int = 0) -> Context:
    return Context(horizon=horizon, warmup=0.0, period=horizon, seed=99, rep=rep)


def test_otif_is_on_time_times_in_full():
    otif = []
    for rep in range(4):
        ctx = context(rep=rep)
        sup = SupplierNode(ctx, Supplier(name="s", material="m", lead_time={"dist": "uniform", "low": 2, "high": 6},
                                         on_time_prob=0.7, late_delay=3, in_full_prob=0.8, partial_fraction=0.4,
                                         backorder_delay=5))
        sup.start()
        got = []

        def orders():
            for _ in range(500):
                sup.order(10, lambda lot: got.append(lot.qty))
                yield ctx.env.timeout(1)

        ctx.env.process(orders())
        ctx.env.run(until=1000)
        assert sum(got) == pytest.approx(5000) and sup.on_order == pytest.approx(0)  # partials complete later
        assert 4 in got and 6 in got  # 40 % first, the rest after the backorder delay
        otif.append(sup.otif_fraction)
    assert_close(otif, 0.7 * 0.8, rel=0.05)


def test_capacity_queues_orders_and_makes_them_late():
    """10 kg/day; two orders of 50 at t=0 quoted 8 days: dispatched at 5 and 10, due at 8."""
    ctx = context(100)
    sup = SupplierNode(ctx, Supplier(name="s", material="m", lead_time=8, capacity={"quantity": 100, "period": 10}))
    sup.start()
    arrivals = []
    for _ in range(2):
        sup.order(50, lambda lot: arrivals.append(ctx.now))
    ctx.env.run(until=100)
    assert arrivals == [8, 10]
    assert sup.otif_fraction == 0.5


def test_moq_raises_small_orders():
    ctx = context(100)
    sup = SupplierNode(ctx, Supplier(name="s", material="m", lead_time=1, min_order_quantity=20))
    assert sup.order(5, lambda lot: None) == 20
    assert ctx.ledger.inflows["m", "ordered"] == 20


def test_outages_take_the_expected_share_of_time():
    down = []
    for rep in range(4):
        ctx = context(4000, rep)
        SupplierNode(ctx, Supplier(name="s", material="m", lead_time=1, disruptions={
            "time_between": {"dist": "exponential", "mean": 30}, "duration": {"dist": "exponential", "mean": 10}})).start()
        ctx.env.run(until=4000)
        lv = ctx.levels["outage.s"]
        lv.finish(4000)
        down.append(lv.mean(4000))
    assert_close(down, 10 / 40, rel=0.1)


def test_primary_backup_and_split_allocation():
    ctx = context(100)
    primary = SupplierNode(ctx, Supplier(name="p", material="m", lead_time=1,
                                         disruptions={"time_between": 10, "duration": 10}))
    backup = SupplierNode(ctx, Supplier(name="b", material="m", lead_time=1))
    node = MaterialNode(ctx, Material(name="m", policy={"kind": "base_stock", "level": 0}, sources=["p", "b"]),
                        [primary, backup], LotStore(ctx.env, "material.m", "m"))
    for n in (primary, backup, node):
        n.start()
    ctx.at(5, lambda: node.place(10))   # primary up
    ctx.at(15, lambda: node.place(10))  # primary down 10-20: goes to the backup
    ctx.env.run(until=50)
    assert (primary.orders.value, backup.orders.value) == (1, 1)

    ctx = context(100)
    a = SupplierNode(ctx, Supplier(name="a", material="m", lead_time=1))
    b = SupplierNode(ctx, Supplier(name="b", material="m", lead_time=1))
    node = MaterialNode(ctx, Material(name="m", policy={"kind": "base_stock", "level": 0}, allocation="split",
                                      shares={"a": 2, "b": 1}), [a, b], LotStore(ctx.env, "material.m", "m"))
    for n in (a, b, node):
        n.start()
    node.place(90)
    assert (a.on_order, b.on_order) == (60, 30)


def test_periodic_review_orders_up_to_s_at_review_epochs():
    ctx = context(40)
    sup = SupplierNode(ctx, Supplier(name="s", material="m", lead_time=3))
    store = LotStore(ctx.env, "material.m", "m")
    node = MaterialNode(ctx, Material(name="m", initial_stock=100,
                                      policy={"kind": "periodic", "review_period": 7, "order_up_to": 100}), [sup], store)
    sup.start()
    node.start()
    ctx.at(1, lambda: node.issue(30))
    ctx.at(8, lambda: node.issue(50))
    seen = {}
    for t in (6.5, 7.5, 10.5, 14.5, 17.5):
        ctx.at(t, lambda t=t: seen.__setitem__(t, (store.qty, sup.on_order)))
    ctx.env.run(until=40)
    # no order before the review at 7 (70 + 0); order 30 at 7 arrives 10; at 14 position 50 -> order 50, in at 17
    assert seen == {6.5: (70, 0), 7.5: (70, 30), 10.5: (50, 0), 14.5: (50, 50), 17.5: (100, 0)}


def test_backorders_count_in_the_position_and_are_served_first_come():
    ctx = context(50)
    sup = SupplierNode(ctx, Supplier(name="s", material="m", lead_time=5))
    store = LotStore(ctx.env, "material.m", "m")
    node = MaterialNode(ctx, Material(name="m", initial_stock=4, policy={"kind": "base_stock", "level": 4}), [sup], store)
    sup.start()
    node.start()
    evs = [node.issue(3) for _ in range(3)]  # 3 issued at once, 6 backordered
    assert [e.triggered for e in evs] == [True, False, False]
    assert store.backordered == 6 and node.position == pytest.approx(4) and sup.on_order == 9
    ctx.env.run(until=10)
    assert all(e.triggered for e in evs) and store.qty == pytest.approx(4)
    assert node.fill_rate == pytest.approx(1 / 3)


def test_incoming_qc_rejects_the_expected_share():
    rejected = []
    for rep in range(4):
        ctx = context(2000, rep)
        sup = SupplierNode(ctx, Supplier(name="s", material="m", lead_time=1))
        spec = Material(name="m", policy={"kind": "sQ", "reorder_point": 0, "order_quantity": 1},
                        incoming_qc={"time": 0.5, "failure_prob": 0.3})
        node = MaterialNode(ctx, spec, [sup], LotStore(ctx.env, "material.m", "m"), incoming_test(ctx, spec, {}))
        sup.start()
        node.start()

        def demand():
            while True:
                yield node.issue(1)

        ctx.env.process(demand())
        ctx.env.run(until=2000)
        out = ctx.ledger.outflows
        rejected.append(out["m", "rejected_incoming"] / (sup.delivered_qty.value - node.quarantine))
    assert_close(rejected, 0.3, rel=0.1)
    assert math.isclose(ctx.counters["rejected_incoming.m"].total, ctx.ledger.outflows["m", "rejected_incoming"])


def test_material_on_hand_is_retested_at_its_retest_date():
    """100 kg on hand at day 0, nothing used, retest every 10 days with a 2-day test: on hold 10-12,
    22-24 (two retests by day 30), 20 % of the days in quarantine; a failing retest rejects the lot."""
    from tests.mfg_support import scenario
    from sim.model import SupplyChainModel, run_replication
    line = {"name": "l", "kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 10,
            "cycle_time": 1, "start": 1000}
    mat = {"name": "api", "policy": {"kind": "sQ", "reorder_point": 0, "order_quantity": 10},
           "initial_stock": 100, "incoming_qc": {"time": 2}, "retest_period": 10}
    mdl = SupplyChainModel(scenario([line], horizon=30, materials=[mat]), seed=1)
    mdl.ctx.run(11)
    assert mdl.check_conservation()["api"]["held:quarantine"] == 100
    mdl.run()
    m = mdl.results().metrics
    assert m["total.retests.api"] == 2 and m["total.rejected_retest.api"] == 0
    assert mdl.check_conservation()["api"]["held:on_hand"] == 100
    mat["incoming_qc"]["failure_prob"] = 1 - 1e-12
    res = run_replication(scenario([line], horizon=13, materials=[mat]), seed=1)  # rejected on day 12
    assert res.metrics["total.rejected_retest.api"] == 100 and res.accounting["api"]["out:rejected_retest"] == 100
