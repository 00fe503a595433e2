"""The optimiser against known optima: the newsvendor packaging quantity (Q* at the critical fractile)
on the model, Kim-Nelson's probability of correct selection on the newsvendor's own (non-normal,
common-random-number) outputs, the whole optimiser repeated with different seeds, and its progress
reports and cancellation (resumed without re-running anything)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from scipy import stats

from sim import api
from sim.experiments.overrides import apply_overrides
from sim.model import run_replication
from sim.optimise.selection import kn_select
from sim.scenario import load_scenario
from tests.optimise_support import (BASE_STOCK, CASES, NEWSVENDOR, NV_MEAN, BaseStockBackend, NewsvendorBackend,
                                    newsvendor_cost)


def test_the_newsvendor_optimum_is_the_critical_fractile():
    """g(Q) = Q + 4 E[(D - Q)+], D ~ Poisson(20): least at F^-1((p - c) / p) = F^-1(0.75) = 23, and the
    indifference zone of 1 around it is 21..25 (hand-checked: 0.543, 0.118, 0, 0.150, 0.523)."""
    assert NEWSVENDOR.optimum == 23 == stats.poisson(NV_MEAN).ppf(0.75)
    assert sorted(NEWSVENDOR.good) == [21, 22, 23, 24, 25]
    assert newsvendor_cost(22) - newsvendor_cost(23) == pytest.approx(0.118, abs=1e-3)
    assert newsvendor_cost(20) - newsvendor_cost(23) == pytest.approx(1.306, abs=1e-3)


def test_the_newsvendor_scenario_is_a_newsvendor():
    """On the model: every replication packages exactly Q kits and leaves exactly (D - Q)+ visits not
    dosed, D the patients randomised; D is Poisson(20) (mean within 3 SE, dispersion index within its
    99 % chi-square range over 120 replications)."""
    base = load_scenario(CASES / "newsvendor-scenario.yaml")
    demand = []
    for q in (15, 23, 30):
        sc = apply_overrides(base, [("lines.pack-run.batch_size", q)], "test")
        for r in range(120 if q == 23 else 20):
            m = run_replication(sc, 1, r).metrics
            d = m["trial.T.enrolled"]
            assert m["total.packaged.kits"] == q and m["total.visits.not_dosed"] == max(d - q, 0), (q, r, d)
            if q == 23:
                demand.append(d)
    d = np.array(demand)
    assert abs(d.mean() - NV_MEAN) < 3 * math.sqrt(NV_MEAN / len(d)), d.mean()
    dispersion = d.var(ddof=1) * (len(d) - 1) / d.mean()
    assert stats.chi2(len(d) - 1).ppf(0.005) < dispersion < stats.chi2(len(d) - 1).ppf(0.995), dispersion


def test_the_optimiser_finds_the_newsvendor_quantity_and_reports_progress(tmp_path):
    """The optimisation file as shipped, on the model: the choice is within the indifference zone
    (seed 1 chooses 22: g 0.12 above g(23)); progress comes after every candidate and selection stage,
    replications never decrease, and the last report is the answer."""
    seen = []
    res = api.optimise(NEWSVENDOR.file, tmp_path / "out", workers=1, progress=seen.append)
    q = res.best["lines.pack-run.batch_size"]
    assert q in NEWSVENDOR.good, q
    assert load_scenario(tmp_path / "out" / "best.yaml").lines[0].batch_size == q
    phases = [p.phase for p in seen]
    assert phases[0] == "search" and phases[-1] == "done" and "selection" in phases
    assert [p.evaluated for p in seen if p.phase == "search"] == list(range(13))  # 12 candidates
    assert all(a.replications <= b.replications for a, b in zip(seen, seen[1:]))
    assert seen[-1].replications == res.replications and seen[-1].best.values == res.best
    assert seen[-1].fraction == 1.0 and all(0 <= p.fraction <= 1 for p in seen)
    mean, lo, hi = seen[-1].objective(seen[-1].best)
    assert lo <= mean <= hi and lo < newsvendor_cost(q) < hi


def _pcs(n_macro: int, seed: int, qs=(20, 23, 26, 29), delta=1.0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    correct, used = 0, []
    for _ in range(n_macro):
        d = rng.poisson(NV_MEAN, 3000)                # one demand per replication, shared (CRN)
        sel = kn_select(lambda i, r: qs[i] + 4.0 * max(d[r] - qs[i], 0), len(qs), delta, 0.05, n0=10,
                        max_reps=3000)
        correct += qs[sel.best] == 23
        used.append(sum(sel.replications.values()))
    return correct / n_macro, float(np.mean(used))


def test_kn_keeps_its_guarantee_on_newsvendor_outputs():
    """KN on Q in {20, 23, 26, 29}: g(23) is at least delta = 1 below every other (1.31, 1.07, 3.4), so
    KN promises P(choose 23) >= 0.95 for normal outputs; these are skewed, discrete and share their
    demand.  300 macro-replications; allow 3 SE below 0.95."""
    pcs, used = _pcs(300, 5)
    assert pcs >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / 300), pcs
    assert used < 4 * 3000


def _spec(seed: int) -> dict:
    spec = yaml.safe_load(NEWSVENDOR.file.read_text(encoding="utf-8"))
    return {**spec, "seed": seed}


def test_the_whole_optimiser_chooses_within_the_zone_in_the_stated_share_of_runs(tmp_path):
    """The whole optimiser (TPE search of 12 candidates x 4 replications, KN among the best 3) run 16
    times with seeds 1..16 on the newsvendor's outputs drawn in closed form (NewsvendorBackend: the
    model's own outputs, as the test above shows).  KN's guarantee is among the finalists: in the runs
    whose finalists include a value within the indifference zone, the share choosing within it is at
    least the stated 0.95 less 3 SE.  (Seeds 1..40 of this case: a zone value among the finalists in
    37, a choice within the zone in 36; bench/bench_optimise_validation.py measures it on the model.)"""
    scenario = CASES / "newsvendor-scenario.yaml"
    hits = []
    for k in range(1, 17):
        res = api.optimise(_spec(k), tmp_path / f"run-{k}", scenario=scenario, backend=NewsvendorBackend(),
                           figures=False)
        if any(f["lines.pack-run.batch_size"] in NEWSVENDOR.good for f in res.finalists):
            hits.append(res.best["lines.pack-run.batch_size"] in NEWSVENDOR.good)
    assert len(hits) >= 12  # the search puts a zone value among the finalists in most runs
    share = np.mean(hits)
    assert share >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / len(hits)), (share, hits)


def test_the_optimiser_finds_the_constrained_base_stock_optimum_in_the_stated_share_of_runs(tmp_path):
    """The base-stock case (cheapest S with fill rate >= 0.9: S* = 15 at 0.917, only S = 15 within the
    zone) run 20 times with seeds 1..20 on outputs drawn in closed form (BaseStockBackend).  The search
    counts distinct candidates (12 of the 13 levels), and a level whose fill-rate CI covers 0.9 gets
    more replications before it is judged: the whole optimiser chooses S* in at least 0.95 of the runs
    less 3 SE.  (Before both, a level was proposed again instead of a new one and S* was missed in 6 of
    20 runs on the model: bench/bench_optimise_validation.py.)"""
    spec = yaml.safe_load(BASE_STOCK.file.read_text(encoding="utf-8"))
    chosen = [api.optimise({**spec, "seed": k}, tmp_path / f"run-{k}", scenario=CASES / spec["scenario"],
                           backend=BaseStockBackend(), figures=False).best["materials.m.policy.level"]
              for k in range(1, 21)]
    assert BASE_STOCK.good == {15}
    share = np.mean([c in BASE_STOCK.good for c in chosen])
    assert share >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / len(chosen)), chosen


def test_a_cancelled_optimisation_stops_and_resumes_re_running_nothing(tmp_path):
    """cancel() is asked after every candidate: true after the 5th stops the run with
    OptimisationCancelled; resume=True into the same folder then runs only what had not run (the
    journal holds the first 5 candidates' 4 replications each) and gives the uninterrupted answer."""
    scenario, out = CASES / "newsvendor-scenario.yaml", tmp_path / "out"
    seen = []
    with pytest.raises(api.OptimisationCancelled):
        api.optimise(_spec(1), out, scenario=scenario, backend=NewsvendorBackend(), progress=seen.append,
                     cancel=lambda: len(seen) >= 6, figures=False)
    assert seen[-1].evaluated == 5 and seen[-1].replications <= 20
    journal = len((out / "evaluations.jsonl").read_text().splitlines())
    assert journal == seen[-1].replications
    resumed = api.optimise(_spec(1), out, scenario=scenario, backend=NewsvendorBackend(), resume=True, figures=False)
    whole = api.optimise(_spec(1), tmp_path / "whole", scenario=scenario, backend=NewsvendorBackend(), figures=False)
    assert resumed.best == whole.best
    assert resumed.replications == whole.replications - journal
