"""Sequential replication: add replications until every chosen CI is narrow enough, with a cap."""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

from sim.experiments.run import run_experiment, run_plan
from sim.experiments.plan import Plan, Point
from sim.experiments.runner import MetricNameError
from sim.experiments.sequential import Check, SequentialRule, assess, next_reps

from test_exp_support import cli_run, small

METRICS = ["dosed_on_day_fraction", "delay.order_to_delivery.mean"]


def test_rule_needs_a_target_and_takes_the_looser_one():
    with pytest.raises(ValidationError, match="relative or an absolute target"):
        SequentialRule(metrics=["x"])
    both = SequentialRule(metrics=["x"], relative=0.1, absolute=0.5)
    assert both.target(2.0) == 0.5 and both.target(-10.0) == 1.0
    assert SequentialRule(metrics=["x"], relative=0.1).target(-3.0) == pytest.approx(0.3)


def test_assess_is_the_student_t_interval():
    rule = SequentialRule(metrics=["x"], relative=0.05)
    x = [1.0, 2.0, 4.0, 3.0]
    (c,) = assess(rule, {"x": x})
    h = stats.t.ppf(0.975, 3) * np.std(x, ddof=1) / 2
    assert (c.n, c.mean) == (4, 2.5) and c.half_width == pytest.approx(h) and c.target == pytest.approx(0.125)
    assert not c.met and c.ratio == pytest.approx(h / 0.125)
    (c,) = assess(rule, {"x": [2.0, 2.0, 2.0]})
    assert c.met                                          # no spread: as precise as it gets


@pytest.mark.parametrize("ratio, n, expected", [
    (0.9, 10, 10),          # met: stop
    (1.2, 10, 15),          # ceil(10 * 1.44)
    (1.01, 10, 11),         # at least one more
    (3.0, 10, 20),          # at most double
    (3.0, 150, 200),        # never beyond the cap
    (math.inf, 10, 20),     # unknown (too few values): double
])
def test_next_reps(ratio, n, expected):
    rule = SequentialRule(metrics=["x"], absolute=1.0, max_reps=200)
    checks = [Check("x", n, 0.0, ratio, 1.0) if math.isfinite(ratio) else Check("x", 1, 0.0, math.nan, 1.0)]
    assert next_reps(rule, n, checks) == expected


def _values(folder, metric, n):
    from test_exp_support import read_table
    rows = [r for r in read_table(folder / "metrics") if r["metric"] == metric]
    return np.array([r["value"] for r in sorted(rows, key=lambda r: r["rep"])][:n])


def _half_width(x):
    return stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / math.sqrt(len(x))


def test_stops_at_the_first_round_meeting_every_target(tmp_path):
    rule = SequentialRule(metrics=METRICS, relative=0.01, max_reps=200)
    exp = run_experiment(small(), reps=5, seed=1, out_dir=tmp_path / "s", sequential=rule)
    n = len(exp.reps)
    rounds = sorted({h["replications"] for h in exp.outcome.history})
    assert rounds[0] == 5 and rounds[-1] == n and 5 < n < 200 and len(rounds) >= 3
    # Recompute from the stored tidy table: all targets met at n, some target missed one round earlier.
    for m in METRICS:
        x = _values(tmp_path / "s", m, n)
        assert _half_width(x) <= 0.01 * abs(x.mean())
    before = rounds[-2]
    assert any(_half_width(x := _values(tmp_path / "s", m, before)) > 0.01 * abs(x.mean()) for m in METRICS)
    with open(tmp_path / "s" / "sequential.csv", newline="") as fh:
        last = [r for r in csv.DictReader(fh) if int(r["replications"]) == n]
    assert {r["metric"] for r in last} == set(METRICS) and all(r["met"] == "True" for r in last)
    # the same count, and the same numbers, with two worker processes
    again = run_experiment(small(), reps=5, seed=1, sequential=rule, workers=2)
    assert len(again.reps) == n and [s.mean for s in again.summaries] == [s.mean for s in exp.summaries]


def test_the_cap_is_respected_and_reported():
    rule = SequentialRule(metrics=["dosed_on_day_fraction"], absolute=1e-9, max_reps=7)
    exp = run_experiment(small(), reps=3, seed=1, sequential=rule)
    assert len(exp.reps) == 7
    (check,) = exp.outcome.checks["phase3-small-molecule"]
    assert not check.met and check.n == 7


def test_each_scenario_of_a_batch_stops_on_its_own(tmp_path):
    rule = SequentialRule(metrics=["dosed_on_day_fraction"], relative=0.004, max_reps=60)
    plan = Plan("batch", "seq", [Point("short", small()), Point("long", small(horizon=600))], seed=3, reps=4,
                sequential=rule, detail=False)
    res = run_plan(plan, tmp_path / "b", workers=1)
    n = {pid: len(r) for pid, r in res.outcome.reps.items()}
    assert n["short"] != n["long"]
    for pid in n:
        x = [res.outcome.metrics[pid][r]["dosed_on_day_fraction"] for r in range(n[pid])]
        assert _half_width(np.array(x)) <= 0.004 * abs(np.mean(x)) or n[pid] == 60


def test_unknown_metric_is_named_with_suggestions():
    rule = SequentialRule(metrics=["dosed_fractoin"], relative=0.1)
    with pytest.raises(MetricNameError, match="no metric 'dosed_fractoin'; did you mean dosed_fraction"):
        run_experiment(small(), reps=2, seed=1, sequential=rule)


def test_cli_target_half_width(tmp_path):
    res = cli_run("run", "--set", "horizon=300", "--reps", "4", "--workers", "1", "--out", tmp_path / "c",
                  "--no-figures", "--target-half-width", "1%", "--target-metric", "dosed_on_day_fraction")
    assert res.exit_code == 0, res.output
    assert "dosed_on_day_fraction: half-width" in res.stdout and ": met" in res.stdout
    res = cli_run("run", "--set", "horizon=300", "--reps", "2", "--workers", "1", "--out", tmp_path / "d",
                  "--no-figures", "--target-half-width", "1%", "--target-metric", "dosed_on_day_fractoin")
    assert res.exit_code == 2 and "did you mean dosed_on_day_fraction" in res.stderr
    res = cli_run("run", "--target-half-width", "lots", "--out", tmp_path / "e")
    assert res.exit_code == 2 and "expected a number (absolute) or a percentage" in res.stderr
