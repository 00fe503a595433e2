"""Every figure of a single-scenario results folder comes from its stored tables: `run` builds the
clinical four-panel figure and the Gantt chart with the others, and `plot` rebuilds them all without
simulating.  The Gantt chart's data is the line timeline of the first replication (timeline.csv)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import sim.model
from sim.experiments.columnar import read_replication, write_replication, write_replication_tables
from sim.figures.gantt import read_timeline
from sim.model import run_replication
from sim.scenario import load_scenario
from tests.mfg_support import ROOT_SCENARIOS, scenario

from test_exp_support import cli_run

MFG = ROOT_SCENARIOS / "mfg_batch_vs_continuous.yaml"
FIGURES = sorted(f"{n}.png" for n in ("clinical", "delays", "gantt", "inventory", "throughput"))

# tests/test_mfg_validation.py's deterministic lines, by hand (see the docstrings there)
BATCH_LINE = {"name": "bl", "kind": "batch", "material": "api", "material_per_batch": 2, "batch_size": 100,
              "cycle_time": 10, "yield_fraction": 0.9, "qc_time": 4, "changeover": 3,
              "plan": {"batches": 3, "campaign": 2},
              "tech_transfer": {"duration": 20, "engineering_batches": 1, "ppq_batches": 1}}
BATCH_TIMELINE = [  # (start, end, kind, label): states, then tech transfer, then QC holds
    (0, 20, "idle", ""), (20, 30, "engineering", "drug_product"), (30, 33, "changeover", ""),
    (33, 43, "ppq", "drug_product"), (43, 46, "changeover", ""), (46, 66, "production", "drug_product"),
    (66, 69, "changeover", ""), (69, 79, "production", "drug_product"), (79, 100, "idle", ""),
    (0, 20, "tech_transfer", "drug_product"),
    (43, 47, "qc_hold", "released"), (56, 60, "qc_hold", "released"), (66, 70, "qc_hold", "released"),
    (79, 83, "qc_hold", "released")]
CONTINUOUS_LINE = {"name": "cl", "kind": "continuous", "material": "api", "material_per_unit": 0.1, "rate": 10,
                   "lot_size": 20, "lots": 5, "startup_time": 1, "shutdown_time": 1,
                   "time_between_failures": 3.5, "time_to_repair": 1, "qc_time": 0.5}
CONTINUOUS_TIMELINE = [  # lots end at 3, 7, 9, 13, 15 and are released 0.5 d later
    (0, 1, "startup", "drug_product"), (1, 4.5, "production", "drug_product"), (4.5, 5.5, "breakdown", ""),
    (5.5, 6.5, "startup", "drug_product"), (6.5, 10, "production", "drug_product"), (10, 11, "breakdown", ""),
    (11, 12, "startup", "drug_product"), (12, 15, "production", "drug_product"), (15, 16, "shutdown", ""),
    (16, 20, "idle", ""),
    *((t, t + 0.5, "qc_hold", "released") for t in (3, 7, 9, 13, 15))]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("figures") / "run"
    res = cli_run("run", MFG, "--reps", "2", "--workers", "1", "--out", out)
    assert res.exit_code == 0, res.output
    return out


def _figures(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "figures").iterdir())


def test_run_draws_the_clinical_figure_and_the_gantt_chart(run_folder):
    assert _figures(run_folder) == FIGURES
    for name in ("clinical.png", "gantt.png"):
        assert (run_folder / "figures" / name).stat().st_size > 10_000


def test_timeline_csv_is_the_first_replications_timeline(run_folder):
    rep, rows = read_timeline(run_folder / "timeline.csv")
    assert rep == 0
    assert rows == run_replication(load_scenario(MFG), None, 0).timeline  # exact: floats round-trip
    assert {r.kind for r in rows} >= {"production", "changeover", "startup", "breakdown", "qc_hold"}


def test_plot_rebuilds_every_figure_without_simulating(run_folder, monkeypatch):
    shutil.rmtree(run_folder / "figures")

    def refuse(*args, **kwargs):
        raise AssertionError("plot must not simulate")

    monkeypatch.setattr(sim.model, "run_replication", refuse)
    monkeypatch.setattr(sim.model.SupplyChainModel, "run", refuse)  # also catches imported names
    res = cli_run("plot", run_folder)
    assert res.exit_code == 0, res.output
    assert _figures(run_folder) == FIGURES


@pytest.mark.parametrize("line, horizon, expected", [(BATCH_LINE, 100, BATCH_TIMELINE),
                                                      (CONTINUOUS_LINE, 20, CONTINUOUS_TIMELINE)])
def test_timeline_of_a_deterministic_line_by_hand(line, horizon, expected):
    rows = run_replication(scenario([line], horizon=horizon, period=horizon / 5), seed=1).timeline
    assert {(r.line, r.cdmo) for r in rows} == {(line["name"], "cdmo")}
    assert [(round(r.start, 9), round(r.end, 9), r.kind, r.label) for r in rows] == expected


def test_records_without_a_timeline_read_back_and_write_no_timeline(tmp_path):
    res = run_replication(scenario([BATCH_LINE]), seed=1)
    write_replication(tmp_path, res, "p", 10.0)
    assert read_replication(tmp_path, 0).timeline == res.timeline
    record = tmp_path / "reps" / "rep-00000.json"
    rec = json.loads(record.read_text())
    del rec["timeline"]
    record.write_text(json.dumps(rec))
    old = read_replication(tmp_path, 0)
    assert old.timeline == [] and repr(sorted(old.metrics.items())) == repr(sorted((k, float(v))
                                                                                   for k, v in res.metrics.items()))
    (tmp_path / "timeline.csv").write_text("stale\n")
    write_replication_tables(tmp_path, [0], [rec])
    assert not (tmp_path / "timeline.csv").exists()  # so `plot` draws no Gantt chart from it
