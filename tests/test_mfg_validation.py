"""Manufacturing and supply against known answers (formulas in ../shared/domain-notes.md).

Each statistical check compares the mean over replications with theory within four standard
errors (and a relative bound, so a noisy estimate cannot pass by being vague).
"""
from __future__ import annotations

import math

import pytest
from scipy import stats

from sim.core.context import Context
from sim.core.lots import LotStore
from sim.model import run_replication
from sim.supply.raw_materials import MaterialNode
from sim.supply.suppliers import SupplierNode
from sim.scenario.materials import Material
from sim.scenario.supply import Supplier
from tests.mfg_support import assert_close, scenario


# -- continuous line with breakdowns: throughput = rate x MTBF / (MTBF + MTTR) -----------------
def test_continuous_line_with_exponential_breakdowns_delivers_rate_times_availability():
    mtbf, mttr, rate = 10.0, 2.5, 100.0
    sc = scenario([{"name": "cl", "kind": "continuous", "material": "api", "material_per_unit": 0.001,
                    "rate": rate, "lot_size": 100,
                    "time_between_failures": {"dist": "exponential", "mean": mtbf},
                    "time_to_repair": {"dist": "exponential", "mean": mttr}}],
                  horizon=4000, warmup=100, period=100)
    a = mtbf / (mtbf + mttr)
    reps = [run_replication(sc, seed=5, rep=r).metrics for r in range(8)]
    assert_close([m["rate.released.cl"] for m in reps], rate * a, rel=0.02)
    assert_close([m["availability.cl"] for m in reps], a, rel=0.02)
    assert_close([m["downtime.cl"] for m in reps], 1 - a, rel=0.08)


# -- QC lab: M/M/c queue, Erlang C ---------------------------------------------------------------
def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def test_erlang_c_formula_by_hand():
    # M/M/1 special case: Wq = rho / (mu - lam)
    assert erlang_c_wait(0.8, 1.0, 1) == pytest.approx(0.8 / 0.2)


def test_qc_lab_fed_by_poisson_batches_matches_erlang_c():
    """A batch line that never starves with exponential cycle times releases lots as a Poisson
    process (rate 1/day); each lot needs one exponential test in a lab with c = 2 analysts."""
    lam, mean_test, c = 1.0, 1.6, 2  # a = 1.6, utilisation 0.8
    sc = scenario([{"name": "bl", "kind": "batch", "material": "api", "material_per_batch": 1,
                    "batch_size": 1, "cycle_time": {"dist": "exponential", "mean": 1 / lam},
                    "qc_lab": "lab"}],
                  qc_labs=[{"name": "lab", "analysts": c,
                            "tests": [{"name": "assay", "time": {"dist": "exponential", "mean": mean_test}}]}],
                  horizon=6000, warmup=500, period=500)
    reps = [run_replication(sc, seed=21, rep=r).metrics for r in range(8)]
    wq = erlang_c_wait(lam, 1 / mean_test, c)  # 1.7778 days
    assert_close([m["delay.qc_wait.lab.mean"] for m in reps], wq, rel=0.12)
    assert_close([m["utilisation.qc.lab"] for m in reps], lam * mean_test / c, rel=0.03)
    # Little's law on the queue: Lq = lambda * Wq
    assert_close([m["qc_queue.lab.mean"] / m["delay.qc_wait.lab.mean"] for m in reps], lam, rel=0.03)


# -- base-stock and (s, S) raw-material policies with Poisson demand ------------------------------
def run_policy(policy: dict, lam: float, lead: float, horizon: float, rep: int) -> float:
    """Fill rate of a raw material under *policy* with unit Poisson demand and a fixed lead time."""
    ctx = Context(horizon=horizon, warmup=0.0, period=horizon, seed=77, rep=rep)
    sup = SupplierNode(ctx, Supplier(name="s", material="m", lead_time=lead))
    store = LotStore(ctx.env, "material.m", "m")
    initial = policy.get("level", policy.get("order_up_to"))
    node = MaterialNode(ctx, Material(name="m", policy=policy, initial_stock=initial), [sup], store)
    sup.start()
    node.start()
    rng = ctx.rng("demand")

    def demand():
        while True:
            yield ctx.env.timeout(rng.exponential(1 / lam))
            node.issue(1)

    ctx.env.process(demand())
    ctx.env.run(until=horizon)
    return node.fill_rate


def test_base_stock_fill_rate_is_poisson_lead_time_demand():
    lam, lead, s_level = 2.0, 5.0, 12
    theory = stats.poisson.cdf(s_level - 1, lam * lead)  # P(D <= S - 1) = 0.6968
    fills = [run_policy({"kind": "base_stock", "level": s_level}, lam, lead, 6000, r) for r in range(6)]
    assert_close(fills, theory, rel=0.02)


def test_min_max_fill_rate_with_unit_poisson_demand():
    lam, lead, s, big_s = 2.0, 5.0, 9, 15
    d = stats.poisson(lam * lead)

    def b(x):  # E[(D - x)+]
        k = range(x + 1, 200)
        return sum((kk - x) * d.pmf(kk) for kk in k)

    theory = 1 - (b(s) - b(big_s)) / (big_s - s)
    fills = [run_policy({"kind": "sS", "reorder_point": s, "order_up_to": big_s}, lam, lead, 6000, r)
             for r in range(6)]
    assert_close(fills, theory, rel=0.02)


# -- Little's law on a two-stage line -------------------------------------------------------------
def test_littles_law_on_each_stage_of_a_two_stage_line():
    """API line (exponential cycles) -> 2-day shipment -> drug-product line; WIP = throughput x cycle time."""
    sc = scenario([
        {"name": "api-line", "kind": "batch", "cdmo": "a", "products": [
            {"product": "api", "bom": {"raw": 1}, "batch_size": 10,
             "cycle_time": {"dist": "exponential", "mean": 1.0}}],
         "qc_time": {"dist": "exponential", "mean": 3}, "ship_time": 2},
        {"name": "dp-line", "kind": "batch", "cdmo": "b", "products": [
            {"product": "tablets", "bom": {"api": 10}, "batch_size": 100,
             "cycle_time": {"dist": "exponential", "mean": 0.8}}],
         "qc_time": {"dist": "uniform", "low": 1, "high": 5}},
    ], suppliers=[{"name": "sup", "material": "raw", "lead_time": 5, "order_quantity": 1e6,
                   "reorder_point": 0, "initial_stock": 1e6}], horizon=3000, warmup=200, period=100)
    rel_gaps = {"api-line": [], "dp-line": []}
    for rep in range(6):
        m = run_replication(sc, seed=3, rep=rep).metrics
        for line in rel_gaps:
            wip = m[f"wip.{line}.mean"]
            little = m[f"rate.released.{line}"] * m[f"delay.cycle_time.{line}.mean"]
            rel_gaps[line].append((wip - little) / wip)
        assert 0.7 < m["utilisation.dp-line"] < 0.85  # the second stage is loaded, not starved
    for line, gaps in rel_gaps.items():
        assert_close(gaps, 0.0, rel=None)
        assert max(abs(g) for g in gaps) < 0.02, (line, gaps)


# -- fully deterministic lines, computed by hand ---------------------------------------------------
def test_deterministic_batch_line_with_campaigns_and_tech_transfer_by_hand():
    """Tech transfer 20 d, then 1 engineering batch, 1 PPQ batch, then 3 GMP batches in campaigns of 2.
    Cycle 10 d, yield 0.9 of 100, cleaning 3 d between campaigns, QC 4 d.
    eng 20-30 (scrapped) | clean 30-33 | ppq 33-43 -> released 47 | clean 43-46 |
    gmp 46-56 -> 60, 56-66 -> 70 | clean 66-69 | gmp 69-79 -> 83 | idle to 100."""
    sc = scenario([{"name": "bl", "kind": "batch", "material": "api", "material_per_batch": 2,
                    "batch_size": 100, "cycle_time": 10, "yield_fraction": 0.9, "qc_time": 4,
                    "changeover": 3, "plan": {"batches": 3, "campaign": 2},
                    "tech_transfer": {"duration": 20, "engineering_batches": 1, "ppq_batches": 1},
                    "costs": {"batch": 1000, "unit": 1, "changeover": 50}}],
                  horizon=100, period=10)
    r = run_replication(sc, seed=1)
    m = r.metrics
    assert m["tech_transfer.bl.drug_product.days"] == 20
    assert m["first_release.bl"] == 47 and m["first_release.cdmo.cdmo"] == 47
    assert list(r.series["released.bl"]) == [0, 0, 0, 0, 90, 0, 90, 90, 90, 0]  # at 47, 60, 70, 83
    assert m["total.released.bl"] == 4 * 90
    assert m["delay.cycle_time.bl.mean"] == 14
    assert m["batches.bl"] == 5 and m["changeovers.bl"] == 3
    assert m["utilisation.bl"] == pytest.approx(50 / 100)
    # planned time: 100 - 20 (tech transfer, line idle) - 21 (idle after 79) = 59; running 50
    assert m["availability.bl"] == pytest.approx(50 / 59)
    assert m["performance.bl"] == 1
    # quality: released 360 of 500 nominal (engineering batch 90 scrapped, yield loss 5 x 10)
    assert m["quality.bl"] == pytest.approx(360 / 500)
    assert m["oee.bl"] == pytest.approx(50 / 59 * 360 / 500)
    acc = r.accounting
    assert acc["drug_product"]["out:engineering_scrapped"] == 90
    assert acc["api"]["out:consumed"] == 10
    assert m["cost.production.bl"] == 5 * 1000 + 5 * 90 + 3 * 50


def test_line_counts_behind_oee_and_costs_start_at_the_warm_up():
    """The line above with a 50-day warm-up: only what happens from day 50 on counts, as for the
    clock's totals.  Batches end at 56, 66, 79 (the one from 46 to 56 straddles the warm-up),
    releases at 60, 70, 83; one cleaning starts after day 50 (at 66); yield loss of 10 for each
    batch started after it (56, 69)."""
    sc = scenario([{"name": "bl", "kind": "batch", "material": "api", "material_per_batch": 2,
                    "batch_size": 100, "cycle_time": 10, "yield_fraction": 0.9, "qc_time": 4,
                    "changeover": 3, "plan": {"batches": 3, "campaign": 2},
                    "tech_transfer": {"duration": 20, "engineering_batches": 1, "ppq_batches": 1},
                    "costs": {"batch": 1000, "unit": 1, "changeover": 50}}],
                  horizon=100, period=10, warmup=50)
    m = run_replication(sc, seed=1).metrics
    assert m["batches.bl"] == 3 and m["changeovers.bl"] == 1
    assert m["availability.bl"] == pytest.approx(26 / 29)  # 50-79 planned, 26 of it running
    assert m["performance.bl"] == pytest.approx(1.0)  # 6 + 10 + 10 nominal days in 26 days run
    assert m["quality.bl"] == pytest.approx(270 / 290)
    assert m["cost.production.bl"] == 3 * 1000 + 3 * 90 + 1 * 50


def test_deterministic_continuous_line_by_hand():
    """Rate 10/d, lots of 20 (2 d), 5 lots; start-up 1 d (10 units off-spec, diverted), shut-down 1 d;
    breakdowns after 3.5 d of operation, 1 d repair, then a new start-up; real-time release 0.5 d.
    su 0-1 | lot1 1-3 | lot2 3-4.5, down 4.5-5.5, su 5.5-6.5, 6.5-7 | lot3 7-9 |
    lot4 9-10, down 10-11, su 11-12, 12-13 | lot5 13-15 | shut-down 15-16 | idle 16-20."""
    sc = scenario([{"name": "cl", "kind": "continuous", "material": "api", "material_per_unit": 0.1,
                    "rate": 10, "lot_size": 20, "lots": 5, "startup_time": 1, "shutdown_time": 1,
                    "time_between_failures": 3.5, "time_to_repair": 1, "qc_time": 0.5}],
                  horizon=20, period=4)
    r = run_replication(sc, seed=1)
    m = r.metrics
    assert m["total.released.cl"] == 100 and m["total.diverted.cl"] == 30 and m["total.breakdowns.cl"] == 2
    assert list(r.series["released.cl"]) == [20, 20, 20, 40, 0]  # at 3.5, 7.5, 9.5, 13.5 and 15.5
    # cycle = release - lot start: 3.5, 4.5, 2.5, 4.5, 2.5
    assert m["delay.cycle_time.cl.mean"] == pytest.approx(3.5)
    assert m["downtime.cl"] == pytest.approx(2 / 20)
    assert m["availability.cl"] == pytest.approx(13 / 16)  # (10 producing + 3 start-up) / (20 - 4 idle)
    assert m["quality.cl"] == pytest.approx(100 / 130)
    # WIP unit-days: lots 20x(3.5+4.5+2.5+4.5+2.5) + off-spec 10 x 3 x 1 day
    assert m["wip.cl.mean"] == pytest.approx((20 * 17.5 + 30) / 20)
    acc = r.accounting
    assert acc["drug_product"]["out:diverted_offspec"] == 30
    assert acc["api"]["out:consumed"] == pytest.approx(13)
