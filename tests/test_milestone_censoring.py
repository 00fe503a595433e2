"""A milestone some replications did not reach before the horizon is not averaged over the others
(that mean is biased low): it is reported as censored, with the share of replications that missed it."""
from __future__ import annotations

import math

import pytest

from sim.experiments.tables import summarize_metrics
from test_exp_support import cli_run


def test_censored_milestones_report_the_share_not_reached():
    lplv = "trial.t.last_patient_last_visit"
    rows = [{lplv: 500.0, "total.visits.not_dosed": 1}, {lplv: 520.0, "total.visits.not_dosed": 2},
            {lplv: math.nan, "total.visits.not_dosed": 3}, {lplv: 510.0, "total.visits.not_dosed": 4}]
    by = {s.metric: s for s in summarize_metrics(rows)}
    assert by[lplv].n == 3 and math.isnan(by[lplv].mean) and math.isnan(by[lplv].ci_low)
    assert by[lplv + ".not_reached"].mean == pytest.approx(0.25) and by[lplv + ".not_reached"].n == 4
    assert by["total.visits.not_dosed"].mean == 2.5  # not a milestone: NaN never appears, mean as usual
    # every replication reached it: the plain mean, and no .not_reached row
    by = {s.metric: s for s in summarize_metrics([{lplv: 500.0}, {lplv: 520.0}])}
    assert by[lplv].mean == 510 and lplv + ".not_reached" not in by
    # nobody reached it: n = 0, as before
    assert summarize_metrics([{lplv: math.nan}])[0].n == 0


def test_run_says_which_milestone_the_horizon_cut_off(tmp_path):
    """The default seed's first four replications of the default scenario end at days 1055, 1048, 1076 and 1073
    (with a 1,100-day horizon): a 1,060-day horizon cuts two of them off."""
    res = cli_run("run", "--reps", "4", "--workers", "1", "--set", "horizon=1060", "--no-figures",
                  "--out", tmp_path / "short")
    assert res.exit_code == 0
    assert ("note: trial.P3-001.last_patient_last_visit not reached by the horizon in 2 of 4 replications"
            in res.stderr)
    line = next(x for x in res.output.splitlines() if "last patient last visit (P3-001)" in x)
    assert line.split()[-6:] == ["-", "not", "reached", "in", "2", "of"] or "not reached in 2 of 4 runs" in line
