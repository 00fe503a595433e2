"""Designs (grid, one-factor-at-a-time, Latin hypercube, Sobol') and batch files."""
from __future__ import annotations

import textwrap
from collections import Counter

import numpy as np
import pytest

from sim.core.errors import ScenarioError
from sim.experiments import designs
from sim.experiments.batch import load_batch

from test_exp_support import cli_run


def test_full_grid_is_every_combination():
    pts = designs.full_grid({"a": [1, 2, 3], "b": ["x", "y"]})
    assert [p.id for p in pts] == [f"p{i:03d}" for i in range(6)]
    assert [tuple(p.factors.values()) for p in pts] == [(1, "x"), (1, "y"), (2, "x"), (2, "y"), (3, "x"), (3, "y")]
    assert {p.role for p in pts} == {"grid"}


def test_one_at_a_time_moves_one_factor_and_skips_the_base_level():
    pts = designs.one_at_a_time({"a": [1, 2, 3], "b": [10, 30]}, base={"a": 2, "b": 20})
    assert pts[0].id == "base" and pts[0].factors == {}
    assert [p.factors for p in pts[1:]] == [{"a": 1}, {"a": 3}, {"b": 10}, {"b": 30}]


@pytest.mark.parametrize("make", [designs.latin_hypercube, designs.sobol])
def test_space_filling_designs_put_one_point_in_each_slice(make):
    """Known property: with n points, each factor's range split in n equal slices holds exactly one point
    (Latin hypercube by construction; a scrambled Sobol' sequence of 2^m points is a (t, m, s)-net,
    whose one-dimensional projections are perfectly stratified)."""
    n = 16
    ranges = {"x": designs.Range(10.0, 50.0), "y": designs.Range(0.0, 0.2)}
    pts = make(ranges, n, seed=7)
    assert len(pts) == n
    for f, r in ranges.items():
        v = np.array([p.factors[f] for p in pts])
        assert ((v >= r.low) & (v <= r.high)).all()
        cells = np.floor((v - r.low) / (r.high - r.low) * n).astype(int)
        assert sorted(cells) == list(range(n))
    assert [p.factors for p in make(ranges, n, seed=7)] == [p.factors for p in pts]      # reproducible
    assert [p.factors for p in make(ranges, n, seed=8)] != [p.factors for p in pts]


def test_integer_ranges_draw_each_whole_number_equally_often():
    # 20 Latin-hypercube points over the 5 integers 1..5: each slice of width 1/20 maps to one
    # integer, 4 slices per integer, so each integer appears exactly 4 times.
    pts = designs.latin_hypercube({"k": designs.Range(1, 5, integer=True)}, 20, seed=3)
    values = [p.factors["k"] for p in pts]
    assert all(type(v) is int for v in values)
    assert Counter(values) == {1: 4, 2: 4, 3: 4, 4: 4, 5: 4}


def test_sobol_needs_a_power_of_two():
    with pytest.raises(ValueError, match="power of 2"):
        designs.sobol({"x": designs.Range(0, 1)}, 10, seed=1)


def test_short_names():
    names = designs.short_names(["lines.a.rate", "lines.b.rate", "packaging.shelf_life"])
    assert names == {"lines.a.rate": "a.rate", "lines.b.rate": "b.rate", "packaging.shelf_life": "shelf_life"}


def _batch(tmp_path, text: str, name="b.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_batch_grid_ofat_lhs_sobol_expand_to_validated_scenarios(tmp_path):
    grid = load_batch(_batch(tmp_path, """
        base: default
        set: {horizon: 400}
        seed: 5
        replications: 3
        sweep:
          design: grid
          factors:
            trials.P3-001.resupply.trigger: [1, 3]
            lines.dp-batch.qc_failure_prob: [0.0, 0.1, 0.2]
        """))
    assert len(grid.points) == 6 and grid.seed == 5 and grid.reps == 3
    assert all(p.scenario.horizon == 400 for p in grid.points)
    assert [(p.scenario.trials[0].resupply.trigger, p.scenario.lines[0].qc_failure_prob) for p in grid.points] == \
        [(1, 0.0), (1, 0.1), (1, 0.2), (3, 0.0), (3, 0.1), (3, 0.2)]

    ofat = load_batch(_batch(tmp_path, """
        sweep:
          design: ofat
          factors:
            trials.P3-001.resupply.level: [4, 6, 10]      # 6 is the base level: not repeated
            packaging.shelf_life: {low: 365, high: 1095}
        """))
    assert [p.id for p in ofat.points] == ["base", "p000", "p001", "p002", "p003"]
    assert ofat.design["base"] == "base" and ofat.design["base_values"]["trials.P3-001.resupply.level"] == 6
    assert [p.factors for p in ofat.points[1:]] == [
        {"trials.P3-001.resupply.level": 4}, {"trials.P3-001.resupply.level": 10},
        {"packaging.shelf_life": 365.0}, {"packaging.shelf_life": 1095.0}]

    for design in ("lhs", "sobol"):
        plan = load_batch(_batch(tmp_path, f"""
            sweep:
              design: {design}
              points: 8
              factors:
                trials.P3-001.resupply.trigger: {{low: 0, high: 3}}
                lines.dp-batch.qc_failure_prob: {{low: 0.0, high: 0.2}}
            """))
        triggers = [p.scenario.trials[0].resupply.trigger for p in plan.points]
        assert len(plan.points) == 8 and all(type(t) is int for t in triggers)     # integer field: whole numbers
        assert sorted(Counter(triggers).values()) == [2, 2, 2, 2]


def test_batch_listed_scenarios_and_files(tmp_path):
    (tmp_path / "sub").mkdir()
    cli = cli_run("default")
    (tmp_path / "sub" / "mine.yaml").write_text(cli.stdout.replace("name: phase3-small-molecule", "name: mine"))
    plan = load_batch(_batch(tmp_path, """
        name: listed
        set: {horizon: 500}
        scenarios:
          - {file: default}
          - {file: sub/mine.yaml, set: {trials.P3-001.resupply.level: 8}}
          - {file: default, name: default}
        """))
    assert [p.id for p in plan.points] == ["phase3-small-molecule", "mine", "default"]
    assert [p.scenario.horizon for p in plan.points] == [500, 500, 500]
    assert plan.points[1].scenario.trials[0].resupply.level == 8 and plan.design is None


@pytest.mark.parametrize("text, expected", [
    ("""
     sweep:
       design: grid
       factors: {trials.P3-001.resupply.trigger: [1, two, 3]}
     """, ["sweep point p001 (trials.P3-001.resupply.trigger=two)", "trials[0].resupply.trigger",
           "valid integer", "'two'"]),
    ("""
     sweep:
       design: grid
       factors: {trials.P3-001.resuply.trigger: [1, 2]}
     """, ["sweep.factors.trials.P3-001.resuply.trigger", "no field 'resuply'", "did you mean 'resupply'"]),
    ("""
     sweep: {design: sobol, points: 10, factors: {horizon: {low: 300, high: 400}}}
     """, ["sweep.points: Sobol' designs need a power of 2 points; got 10 (try 8 or 16)"]),
    ("""
     sweep: {design: lhs, factors: {horizon: {low: 300, high: 400}}}
     """, ["sweep.points: required: lhs needs the number of design points"]),
    ("""
     sweep: {design: lhs, points: 4, factors: {trials.P3-001.name: {low: 1, high: 2}}}
     """, ["sweep.factors.trials.P3-001.name: a range needs a numeric field", "'P3-001'"]),
    ("""
     sweep: {design: grid, factors: {horizon: {low: 1, high: 2}}}
     """, ["sweep.factors.horizon: a grid needs a list of levels"]),
    # a mapping is a range, and only a range: one problem, not one per kind of factor it is not
    ("""
     sweep: {design: ofat, factors: {horizon: {low: 900, high: 300}}}
     """, ["(1 problem)", "sweep.factors.horizon.high: expected more than low (900); got 300"]),
    ("""
     sweep: {design: ofat, factors: {horizon: 900}}
     """, ["sweep.factors.horizon: expected a list of levels [a, b, ...] or a range {low: .., high: ..}; got 900"]),
    ("""
     replications: 0
     """, ["replications: expected", "greater than or equal to 1; got 0"]),
    ("""
     scenarios: [{file: default}, {file: nowhere.yaml}]
     """, ["b.yaml: invalid batch file", "scenarios[1].file: no scenario file", "nowhere.yaml",
           "relative to the batch file"]),
    ("""
     base: nowhere.yaml
     """, ["b.yaml: invalid batch file", "base: no scenario file"]),
    ("""
     scenarios: [default]
     """, ["scenarios[0]: expected a valid dictionary; got 'default'"]),
    ("""
     # nothing but a comment
     """, ["b.yaml: invalid batch file", "the file is empty"]),
    ("""
     sweeps: {}
     """, ["sweeps: unknown field"]),
])
def test_bad_batch_files_name_file_field_and_value(tmp_path, text, expected):
    path = _batch(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_batch(path)
    msg = str(err.value)
    for part in expected:
        assert part in msg, msg
    res = cli_run("batch", path, "--out", tmp_path / "never", "--workers", "1")
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert not (tmp_path / "never").exists()


def test_example_batch_files_are_valid():
    from test_exp_support import ROOT
    files = sorted((ROOT / "scenarios" / "batches").glob("*.yaml"))
    assert len(files) >= 4
    kinds = set()
    for f in files:
        plan = load_batch(f)
        assert plan.points and all(p.scenario for p in plan.points)
        kinds.add(plan.design["kind"] if plan.design else "listed")
    assert {"grid", "ofat", "lhs", "listed"} <= kinds


def test_sweep_response_recovers_a_known_input(tmp_path):
    """Known answer: sweeping a deterministic supplier lead time, the measured mean lead time of every
    design point is the swept value, with no spread, in summary.csv."""
    import csv

    from sim.experiments.run import run_plan
    path = _batch(tmp_path, """
        set: {horizon: 300}
        replications: 3
        sweep:
          design: grid
          factors:
            suppliers.api-supplier.lead_time: [15, 25, 40]
        """)
    plan = load_batch(path)
    run_plan(plan, tmp_path / "out", workers=1)
    with open(tmp_path / "out" / "summary.csv", newline="") as fh:
        rows = {r["scenario"]: r for r in csv.DictReader(fh)
                if r["metric"] == "delay.supplier_lead_time.api-supplier.mean"}
    with open(tmp_path / "out" / "design.csv", newline="") as fh:
        design = {r["scenario"]: float(r["value"]) for r in csv.DictReader(fh)}
    assert sorted(design.values()) == [15.0, 25.0, 40.0]
    for pid, value in design.items():
        assert float(rows[pid]["mean"]) == pytest.approx(value, rel=1e-12)
        assert float(rows[pid]["half_width"]) == pytest.approx(0.0, abs=1e-9)


def test_a_headline_metric_the_model_does_not_report_is_pointed_out(tmp_path):
    path = _batch(tmp_path, """
        set: {horizon: 300}
        replications: 2
        metrics: [dosed_fractoin]
        """)
    res = cli_run("batch", path, "--out", tmp_path / "out", "--workers", "1", "--no-figures")
    assert res.exit_code == 0, res.output
    assert "metrics: the model reports no metric 'dosed_fractoin'; did you mean 'dosed_fraction'?" in res.stderr
