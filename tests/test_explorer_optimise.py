"""The explorer's Optimise panel without a browser: decision variables offered from the schema's
fields, the form turned into a valid optimisation file, the run in the background with its progress
table, its best.yaml and its cancel."""
from __future__ import annotations

import pytest

from sim.core.errors import ScenarioError
from sim.explorer.fields import CHOICE, INTEGER, NUMBER
from sim.explorer.optimise_panel import (Draft, OptimiseRun, candidate_rows, default_bounds, parse_objective,
                                         status_text, variable_fields)
from sim.explorer.session import Session
from sim.optimise.spec import parse_optimisation
from sim.scenario import load_default, load_scenario
from tests.optimise_support import CASES, NEWSVENDOR, NewsvendorBackend


@pytest.fixture(scope="module")
def newsvendor():
    return load_scenario(CASES / "newsvendor-scenario.yaml")


def test_variables_are_the_numeric_and_choice_fields_of_the_schema():
    fields = variable_fields(Session(load_default(), "default").specs())
    assert fields["trials.P3-001.resupply.trigger"].kind == INTEGER
    assert fields["lines.dp-batch.batch_size"].kind == NUMBER
    assert fields["lines.dp-continuous.release"].kind == CHOICE
    assert "name" not in fields and "seed" not in fields     # text fields and run settings are not offered
    trigger = fields["trials.P3-001.resupply.trigger"]
    assert default_bounds(trigger) == (trigger.value // 2, trigger.value * 2)


def test_the_form_makes_a_valid_optimisation_file(newsvendor):
    fields = variable_fields(Session(newsvendor, "n.yaml").specs())
    d = Draft(objective="{total.packaged.kits: 1, total.visits.not_dosed: 4}", constraint_metric="risk.not_dosed",
              constraint_bound=0.5, candidates=6, indifference=1.0)
    d.add(fields["lines.pack-run.batch_size"], 10, 35, "integer")
    d.add(fields["trials.T.visit_scatter"])
    spec = parse_optimisation(d.spec("nv", 3), "form")
    assert spec.variables[0].model_dump(exclude_none=True) == {"path": "lines.pack-run.batch_size", "type": "integer",
                                                               "low": 10, "high": 35}
    assert spec.variables[1].type == "categorical" and spec.variables[1].choices == ["none", "uniform", "triangular"]
    assert spec.objective.weights == {"total.packaged.kits": 1, "total.visits.not_dosed": 4}
    assert spec.constraints[0].max == 0.5 and spec.search.candidates == 6 and spec.seed == 3
    assert parse_objective("cost.total") == {"metric": "cost.total"}
    with pytest.raises(ScenarioError, match="objective"):
        parse_optimisation(Draft(objective="").spec("x", 1) | {"variables": d.spec("x", 1)["variables"]}, "form")


def test_a_run_reports_progress_and_gives_best_yaml_then_a_cancel_stops_one(newsvendor, tmp_path):
    fields = variable_fields(Session(newsvendor, "n.yaml").specs())
    d = Draft(objective="{total.packaged.kits: 1, total.visits.not_dosed: 4}", candidates=12, reps=4, top=3,
              indifference=1.0, first_reps=10, max_reps=200)
    d.add(fields["lines.pack-run.batch_size"], 10, 35, "integer")
    run = OptimiseRun(d.spec("nv", 1), newsvendor, tmp_path / "a", NewsvendorBackend()).start()
    assert run.wait(60) and run.state == "done", run.error
    q = run.result.best["lines.pack-run.batch_size"]
    assert q in NEWSVENDOR.good
    rows = candidate_rows(run.progress)
    assert rows[0]["best"] and rows[0]["values"] == f"lines.pack-run.batch_size = {q}"
    assert rows[0]["n"] > 4 and "[" in rows[0]["objective"] and all(r["feasible"] == "yes" for r in rows)
    assert status_text(run).startswith("12 of 12 candidates") and status_text(run).endswith("✓")
    assert f"lines.pack-run.batch_size = {q}" in run.best_yaml()
    assert load_scenario(tmp_path / "a" / "best.yaml").lines[0].batch_size == q

    slow = OptimiseRun(d.spec("nv", 1), newsvendor, tmp_path / "b", NewsvendorBackend())
    slow.cancel()                                  # cancelled before its first candidate
    slow.start()
    assert slow.wait(60) and slow.state == "cancelled" and slow.best_yaml() is None
    assert "(cancelled)" in status_text(slow)
    bad = OptimiseRun({**d.spec("nv", 1), "variables": []}, newsvendor, tmp_path / "c", NewsvendorBackend()).start()
    assert bad.wait(60) and bad.state == "failed" and "variables" in status_text(bad)
