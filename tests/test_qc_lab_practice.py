"""QC as labs work, by hand-computed traces: hands-on analyst time vs elapsed time, a lot's tests in
parallel, QA disposition on its own team, deviation investigations alongside testing, OOS
investigation before the retest, and rework only for failures that allow it.  (The M/M/c checks of
the lab are in test_queueing.py; with hands-on time only and one test per lot they are unchanged.)"""
from __future__ import annotations

import pytest

from sim.core.context import Context
from sim.model import run_replication
from sim.scenario.materials import QCLab as QCLabSpec
from sim.supply.qc_lab import QCLab
from tests.mfg_support import scenario

ALWAYS = 1 - 1e-12  # probabilities are below 1 in the schema; with this one the coin never says no here


def _lab(**spec) -> tuple[Context, QCLab]:
    ctx = Context(1000, 0, 10, 1, 0)
    return ctx, QCLab(ctx, QCLabSpec(**{"name": "lab", **spec}))


def _lots(ctx, lab, n: int, tests: list[str], dispose: bool = False) -> list[tuple[float, bool]]:
    done = []

    def lot():
        passed, _ = yield from lab.test_lot(tests)
        if dispose:
            yield from lab.dispose()
        done.append((ctx.env.now, passed))
    for _ in range(n):
        ctx.env.process(lot())
    ctx.env.run()
    return done


def test_incubation_needs_no_analyst():
    """One analyst, two lots, a test of 0.25 d hands-on + 14 d incubation: lot 1 ends at 14.25, lot 2
    waits 0.25 d for the analyst and ends at 14.5 (not 28.5, as if incubating held the analyst)."""
    ctx, lab = _lab(analysts=1, tests=[{"name": "micro", "time": 0.25, "elapsed": 14}])
    assert _lots(ctx, lab, 2, ["micro"]) == [(14.25, True), (14.5, True)]
    assert lab._busy.mean(14.5) == pytest.approx(0.5 / 14.5)  # the analyst worked half a day in all


def test_a_lots_tests_run_together_and_end_with_the_latest():
    tests = [{"name": "assay", "time": 1}, {"name": "dissolution", "time": 2}, {"name": "micro", "time": 3}]
    ctx, lab = _lab(analysts=3, tests=tests)
    assert _lots(ctx, lab, 1, ["assay", "dissolution", "micro"]) == [(3, True)]
    ctx, lab = _lab(analysts=3, tests=tests, parallel=False)  # one after another: 1 + 2 + 3
    assert _lots(ctx, lab, 1, ["assay", "dissolution", "micro"]) == [(6, True)]
    ctx, lab = _lab(analysts=1, tests=tests)  # together, but one analyst does them in turn
    assert _lots(ctx, lab, 1, ["assay", "dissolution", "micro"]) == [(6, True)]


def test_qa_disposition_is_its_own_team():
    """Two lots tested together by two analysts (done at 3), then one QA reviewer at 2 days a lot:
    released at 5 and 7; the analysts are free from day 3."""
    ctx, lab = _lab(analysts=2, tests=[{"name": "assay", "time": 3}], qa={"reviewers": 1, "time": 2})
    assert _lots(ctx, lab, 2, ["assay"], dispose=True) == [(5, True), (7, True)]
    assert lab._qa_wait.mean == pytest.approx(1.0)  # 0 and 2 days


def test_oos_investigation_comes_before_the_retest_and_decides_rework():
    """A certain OOS result: test (1 d), investigation (4 d), retest (1 d) = 6 d; confirmed, the lot
    fails, and a non-reworkable test forbids rework."""
    for reworkable in (True, False):
        ctx, lab = _lab(analysts=1, tests=[{"name": "sterility", "time": 1, "failure_prob": ALWAYS,
                                             "investigation": 4, "reworkable": reworkable}])
        out = []

        def lot():
            out.append((yield from lab.test_lot(["sterility"])))
        ctx.env.process(lot())
        ctx.env.run()
        assert ctx.env.now == 6 and out == [(False, reworkable)]


LINE = {"name": "l", "kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 10,
        "cycle_time": 5, "batches": 1, "qc_lab": "lab"}


def _qc_release_time(line: dict, lab: dict) -> dict:
    sc = scenario([{**LINE, **line}], qc_labs=[{"name": "lab", "analysts": 2, **lab}])
    return run_replication(sc, seed=1).metrics


def test_deviation_investigation_runs_alongside_testing():
    """Tests take 3 d; a certain deviation takes 10 d (release at 10 after the hold starts, not 13) or
    2 d (hidden behind the tests: 3)."""
    tests = [{"name": "assay", "time": 3}]
    for investigation, expected in ((10, 10), (2, 3)):
        m = _qc_release_time({"deviation_prob": ALWAYS, "investigation_time": investigation}, {"tests": tests})
        assert m["delay.qc_release_time.l.mean"] == expected


def test_rework_only_where_the_failure_allows_it():
    """A lot that certainly fails: with a reworkable test it is reworked (rework_prob 1) and, failing
    the retest too, rejected after rework; with a non-reworkable one it is rejected at once."""
    tests = [{"name": "dissolution", "time": 1, "failure_prob": ALWAYS}]
    m = _qc_release_time({"rework_prob": ALWAYS, "rework_time": 2}, {"tests": tests})
    assert m["reworked.l"] == 1 and m["total.rejected.l"] == 10
    assert m["wip.l.mean"] == pytest.approx(10 * 11 / 100)  # made 0-5, test + retest 5-7, rework 7-9,
    # test + retest 9-11: 10 units for 11 of 100 days
    tests[0]["reworkable"] = False
    m = _qc_release_time({"rework_prob": ALWAYS, "rework_time": 2}, {"tests": tests})
    assert m["reworked.l"] == 0 and m["total.rejected.l"] == 10
