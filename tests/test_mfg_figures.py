"""The batch-vs-continuous study and the manufacturing figures build from small runs (the numbers of the
model are tested elsewhere); the study's table is what direct replications give."""
from __future__ import annotations

from click.testing import CliRunner

from sim.cli import cli
from sim.core.stats import summarize
from sim.experiments.tables import read_csv
from sim.figures.gantt import gantt_chart, gantt_title
from sim.model import run_replication
from sim.scenario import load_scenario
from sim.studies.batch_vs_continuous import batch_sized_lots, run_study, scaled, variants
from tests.mfg_support import ROOT_SCENARIOS

SCENARIO = ROOT_SCENARIOS / "mfg_batch_vs_continuous.yaml"


def test_study_table_equals_direct_replications(tmp_path):
    """Run through the experiment runner on 2 workers, the study's numbers are those of plain
    ``run_replication(variant, seed, rep)`` calls (its table before it used the runner)."""
    sc = load_scenario(SCENARIO)
    rows, timeline = run_study(sc, tmp_path, reps=2, mtbf_factors=(0.5,), analysts=(2,), workers=2)
    direct = {p.id: [run_replication(p.scenario, None, rep).metrics for rep in range(2)]
              for p in variants(sc, (0.5,), (2,))}

    def stat(pid, key):
        s = summarize(key, [m[key] for m in direct[pid]])
        return [s.mean, s.half_width]

    assert rows[0] == ["base", "throughput (units/day)", "batch-line", "", *stat("base", "rate.released.batch-line")]
    assert ["mtbf", "cycle time (days)", "cont-line", 0.5, *stat("mtbf-0.5", "delay.cycle_time.cont-line.mean")] in rows
    assert (["analysts", "throughput (units/day)", "cont-line (end-of-run QC)", 2,
             *stat("analysts-2-end-of-run", "rate.released.cont-line")] in rows)
    assert len(rows) == 18 + 4 + 4 + 2
    table = read_csv(tmp_path / "batch_vs_continuous.csv")
    assert len(table) == len(rows) and float(table[0]["mean"]) == rows[0][4]
    assert timeline == run_replication(sc, None, 0).timeline
    base = {(r[1], r[2]): r[4] for r in rows if r[0] == "base"}
    # the trade-off the example is about: the continuous line turns material round faster
    assert base["cycle time (days)", "cont-line"] < base["cycle time (days)", "batch-line"]


def test_study_command_writes_table_figure_and_gantt(tmp_path):
    res = CliRunner().invoke(cli, ["study", "batch-vs-continuous", str(SCENARIO), "--out", str(tmp_path),
                                   "--reps", "2"])
    assert res.exit_code == 0, res.output
    for name in ("batch_vs_continuous.csv", "batch_vs_continuous.png", "gantt_mfg-batch-vs-continuous.png"):
        assert (tmp_path / name).stat().st_size > 1000


def test_gantt_chart_from_rows(tmp_path):
    rows = run_replication(load_scenario(SCENARIO), None, 0).timeline
    (png,) = gantt_chart(rows, gantt_title("x", 0), tmp_path, "g")
    assert png.exists() and png.stat().st_size > 10_000


def test_variant_helpers():
    assert scaled({"dist": "exponential", "mean": 4}, 0.5) == {"dist": "exponential", "mean": 2.0}
    assert scaled(3, 2) == 6
    line = {"lot_size": 50, "plan": {"campaign": 30}}
    batch_sized_lots(line, 150)
    assert line == {"lot_size": 150, "plan": {"campaign": 10}}


def test_study_command_rejects_bad_scenario(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    res = CliRunner().invoke(cli, ["study", "batch-vs-continuous", str(bad), "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "horizon: required field is missing" in res.output
