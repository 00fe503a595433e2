"""Paired comparison with common random numbers (`run_sim.py compare A B`)."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy import stats

from sim.experiments.run import run_plan
from sim.experiments.compare import NOISE, compare_plan, paired_differences, verdict, welch_half_width
from sim.core.stats import summarize

from test_exp_support import cli_run, small

LEAD = "delay.supplier_lead_time.api-supplier.mean"


def test_intervals_match_scipy():
    rng = np.random.default_rng(1)
    a = rng.normal(10, 2, 12)
    b = a + rng.normal(0.5, 0.3, 12)
    (d,) = paired_differences({r: {"m": a[r]} for r in range(12)}, {r: {"m": b[r]} for r in range(12)})
    paired = stats.ttest_rel(b, a).confidence_interval(0.95)
    assert (d.diff.ci_low, d.diff.ci_high) == pytest.approx((paired.low, paired.high), rel=1e-10)
    welch = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert welch_half_width(a, b) == pytest.approx((welch.high - welch.low) / 2, rel=1e-10)


def test_verdicts():
    assert verdict(summarize("m", [0.1, -0.2, 0.15]), "B") == NOISE
    assert verdict(summarize("m", [1.0, 1.2, 0.9]), "B") == "B higher"
    assert verdict(summarize("m", [-1.0, -1.2, -0.9]), "B") == "B lower"
    assert verdict(summarize("m", [0.0, 0.0]), "B") == "identical in every replication"
    assert verdict(summarize("m", [0.5]), "B") == "too few replications"


def test_only_replications_both_completed_are_paired():
    a = {0: {"m": 1.0}, 1: {"m": 2.0}, 2: {"m": 3.0}}
    b = {0: {"m": 2.0}, 2: {"m": 5.0}, 3: {"m": 9.0}}
    (d,) = paired_differences(a, b)
    assert d.diff.n == 2 and d.diff.mean == 1.5 and (d.mean_a, d.mean_b) == (2.0, 3.5)


def test_common_random_numbers_isolate_the_effect(tmp_path):
    """Scaling the supplier lead time's mean and sd by 1.2 keeps the lognormal's shape, so with common random
    numbers every delivery takes exactly 1.2 times as long: the paired difference of the mean lead time is
    0.2 x A's mean to rounding, and its interval is far narrower than an independent comparison's."""
    a = small(horizon=500)
    b = small(horizon=500, **{"suppliers.api-supplier.lead_time": {"dist": "lognormal", "mean": 54, "sd": 18}})
    plan = compare_plan(a, b, ("base", "slow"), reps=8, seed=5)
    res = run_plan(plan, tmp_path / "c", workers=1)
    diffs = {d.metric: d for d in paired_differences(res.outcome.metrics["base"], res.outcome.metrics["slow"],
                                                     "slow")}
    d = diffs[LEAD]
    for r in range(8):
        ratio = res.outcome.metrics["slow"][r][LEAD] / res.outcome.metrics["base"][r][LEAD]
        assert ratio == pytest.approx(1.2, rel=1e-12)
    assert d.diff.mean == pytest.approx(0.2 * d.mean_a, rel=1e-12) and d.verdict == "slow higher"
    assert d.diff.half_width < d.unpaired_half_width / 4
    # a component the change does not reach draws the same numbers in both: no difference at all
    assert diffs["delay.cycle_time.dp-batch.mean"].verdict == "identical in every replication"


def test_cli_compare_a_scenario_with_itself_finds_nothing(tmp_path):
    out = tmp_path / "same"
    res = cli_run("compare", "default", "default", "--set", "horizon=300", "--reps", "4", "--workers", "1",
                  "--out", out, "--no-figures")
    assert res.exit_code == 0, res.output
    assert "0 of " in res.stdout and "metrics differ beyond noise" in res.stdout
    with open(out / "comparison.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(float(r["difference"]) == 0.0 or r["difference"] == "nan" for r in rows)


def test_cli_compare_reports_real_differences_and_noise(tmp_path):
    out = tmp_path / "cmp"
    res = cli_run("compare", "default", "default", "--set", "horizon=400", "--set-b",
                  "trials.P3-001.resupply.level=10", "--reps", "6", "--workers", "2", "--out", out)
    assert res.exit_code == 0, res.output
    assert "A = default-a, B = default-b" in res.stdout
    with open(out / "comparison.csv", newline="") as fh:
        rows = {r["metric"]: r for r in csv.DictReader(fh)}
    assert rows["inventory.depot.central.mean"]["verdict"] == "default-b lower"   # more stock at sites
    assert any(r["verdict"] == NOISE for r in rows.values())
    assert {"comparison.png", "differences.png"} <= {p.name for p in (out / "figures").iterdir()}
    assert (out / "scenarios" / "default-b" / "figures" / "inventory.png").exists()
    res = cli_run("compare", "default", "missing.yaml", "--out", tmp_path / "never")
    assert res.exit_code == 2 and "missing.yaml" in res.stderr and not (tmp_path / "never").exists()
