"""The manufacturing figures build from small runs (smoke tests; the numbers are tested elsewhere)."""
from __future__ import annotations

import pytest

from sim.figures.manufacturing import _batch_sized_lots, _scaled, compare, gantt_figure, main
from sim.experiments.tables import read_csv
from sim.scenario import load_scenario
from tests.mfg_support import ROOT_SCENARIOS


def test_gantt_and_comparison_figures(tmp_path):
    sc = load_scenario(ROOT_SCENARIOS / "mfg_batch_vs_continuous.yaml")
    png = gantt_figure(sc, tmp_path)
    assert png.exists() and png.stat().st_size > 10_000
    (fig,) = compare(sc, tmp_path, reps=2, mtbf_factors=(0.5, 1.0), analysts=(2, 3))
    assert fig.exists()
    rows = read_csv(tmp_path / "batch_vs_continuous.csv")
    lines = {r["line"] for r in rows}
    assert lines == {"batch-line", "cont-line", "cont-line (end-of-run QC)"}
    base = {(r["metric"], r["line"]): float(r["mean"]) for r in rows if r["study"] == "base"}
    # the trade-off the example is about: the continuous line turns material round faster
    assert base["cycle time (days)", "cont-line"] < base["cycle time (days)", "batch-line"]


def test_variant_helpers():
    assert _scaled({"dist": "exponential", "mean": 4}, 0.5) == {"dist": "exponential", "mean": 2.0}
    assert _scaled(3, 2) == 6
    line = {"lot_size": 50, "plan": {"campaign": 30}}
    _batch_sized_lots(line, 150)
    assert line == {"lot_size": 150, "plan": {"campaign": 10}}


def test_cli_entry_rejects_bad_scenario(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    with pytest.raises(SystemExit) as e:
        main(["gantt", str(bad), "--out", str(tmp_path)])
    assert e.value.code == 2
    assert "horizon: required field is missing" in capsys.readouterr().err
