"""The example clinical scenarios and the embedded default: valid, round-trip through the
resolved YAML, run with conservation checked, and the figure builds from stored results."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.experiments.run import run_experiment
from sim.figures.clinical import clinical_figure
from sim.model import run_replication
from sim.scenario import dump_scenario, load_default, load_scenario, parse_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("clinical_*.yaml"))


def test_there_are_two_example_scenarios():
    assert {p.stem for p in SCENARIOS} >= {"clinical_phase3_biologic", "clinical_dtp"}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_example_scenario_runs_conserves_and_round_trips(path):
    sc = load_scenario(path)
    again = parse_scenario(yaml.safe_load(dump_scenario(sc)), "<dump>")
    assert again == sc
    res = run_replication(sc, sc.seed, 0)  # conservation checked inside
    m = res.metrics
    for t in sc.trials:
        assert m[f"trial.{t.name}.enrolled"] == t.target_patients + m[f"trial.{t.name}.over_enrolled"]
        assert m[f"trial.{t.name}.last_patient_last_visit"] < sc.horizon
    assert m["dosed_fraction"] > 0.95 and m["overage"] > 1
    assert res.accounting["patient"]["in:screened"] == sum(m[f"trial.{t.name}.screened"] for t in sc.trials)


def test_phase3_example_uses_every_network_feature():
    sc = load_scenario(next(p for p in SCENARIOS if p.stem == "clinical_phase3_biologic"))
    m = run_replication(sc, sc.seed, 1).metrics
    assert m["total.shipped.kits_to_depots"] > 0 and m["total.relabelled.kits"] > 0
    assert m["total.cost.shipping"] > 0 and m["total.excursions"] > 0
    assert 0.55 < m["trial.MAB-301.arm.active.randomised"] / 900 < 0.78
    assert sc.trials[0].n_sites == 92 == sum(1 for k in m if k.startswith("site.") and k.endswith(".randomised"))


def test_default_scenario_still_runs():
    m = run_replication(load_default(), None, 0).metrics
    assert m["trial.P3-001.enrolled"] == 600 + m["trial.P3-001.over_enrolled"] and m["dosed_fraction"] > 0.9


def test_clinical_figure_from_stored_results(tmp_path):
    sc = load_scenario(next(p for p in SCENARIOS if p.stem == "clinical_dtp"))
    run_experiment(sc, reps=2, out_dir=tmp_path / "r", progress=False)
    paths = clinical_figure(tmp_path / "r", tmp_path / "doc.png")
    assert (tmp_path / "doc.png").stat().st_size > 10_000
    assert {p.suffix for p in paths} == {".png"}
