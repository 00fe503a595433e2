"""Figures rebuilt from stored results (`run_sim.py plot DIR`) and the progress bar."""
from __future__ import annotations

import textwrap

import pytest

import sim.model

from test_exp_support import cli_run


def _names(folder):
    return sorted(p.name for p in (folder / "figures").iterdir())


def _no_simulation(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("plot must not simulate")
    monkeypatch.setattr(sim.model, "run_replication", refuse)


@pytest.mark.parametrize("sweep, expected", [
    ("""
     design: ofat
     factors:
       trials.P3-001.resupply.level: [4, 10]
       packaging.shelf_life: [200, 900]
     """, ["comparison", "tornado"]),
    ("""
     design: grid
     factors:
       trials.P3-001.resupply.trigger: [1, 3]
       trials.P3-001.resupply.level: [6, 9]
     """, ["comparison", "response"]),
    ("""
     design: sobol
     points: 4
     factors:
       trials.P3-001.resupply.do_not_ship: {low: 30, high: 90}
     """, ["comparison", "response"]),
])
def test_batch_figures_are_rebuilt_from_the_tables(tmp_path, monkeypatch, sweep, expected):
    batch = tmp_path / "b.yaml"
    batch.write_text("set: {horizon: 300}\nreplications: 3\nsweep:\n" + textwrap.indent(textwrap.dedent(sweep), "  "))
    out = tmp_path / "out"
    res = cli_run("batch", batch, "--out", out, "--workers", "1")
    assert res.exit_code == 0, res.output
    files = [f"{n}.png" for n in expected]
    assert _names(out) == files
    for f in (out / "figures").iterdir():
        f.unlink()
    _no_simulation(monkeypatch)
    res = cli_run("plot", out)
    assert res.exit_code == 0, res.output
    assert _names(out) == files and all((out / "figures" / f).stat().st_size > 1000 for f in files)


def test_single_run_figures_still_rebuild(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert cli_run("run", "--set", "horizon=300", "--reps", "2", "--workers", "1", "--out", out,
                   "--no-figures").exit_code == 0
    _no_simulation(monkeypatch)
    res = cli_run("plot", out)
    assert res.exit_code == 0
    names = ("clinical", "delays", "gantt", "inventory", "throughput")
    assert _names(out) == sorted(f"{n}.png" for n in names)  # PNG only, unless asked
    res = cli_run("plot", out, "--format", "svg,pdf")
    assert res.exit_code == 0
    assert _names(out) == sorted(f"{n}.{e}" for n in names for e in ("pdf", "png", "svg"))
    assert (out / "figures" / "throughput.pdf").read_bytes()[:4] == b"%PDF"
    res = cli_run("plot", out, "--format", "tiff")
    assert res.exit_code == 2 and "expected formats among png, svg, pdf; got 'tiff'" in res.stderr


def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_path):
    args = ["run", "--set", "horizon=300", "--reps", "4", "--workers", "1", "--no-figures"]
    quiet = cli_run(*args, "--out", tmp_path / "q")          # CliRunner's stderr is not a terminal
    assert quiet.exit_code == 0 and "rep/s" not in quiet.stderr and "4/4" not in quiet.stderr
    shown = cli_run(*args, "--out", tmp_path / "p", "--progress")
    assert shown.exit_code == 0 and "phase3-small-molecule:   0%| " in shown.stderr and "0/4 [" in shown.stderr


def test_plot_on_a_folder_without_tables_says_why_and_exits_2(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = cli_run("plot", empty)
    assert res.exit_code == 2 and "not a results folder (no metrics)" in res.stderr
    # an interrupted experiment: its plan and some records are stored, its tables are not yet
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "plan.json").write_text('{"kind": "batch", "points": []}')
    res = cli_run("plot", killed)
    assert res.exit_code == 2
    assert "no summary.csv yet: the experiment stored there did not finish" in res.stderr
    assert f"--resume --out {killed}" in res.stderr
    assert not (killed / "figures").exists()


def test_a_figure_is_written_atomically(tmp_path):
    """A failure while drawing leaves the previous figure whole, and no temporary file behind."""
    import matplotlib.pyplot as plt

    from sim.figures.output import save_figure
    target = tmp_path / "f.png"
    target.write_bytes(b"previous figure")
    fig = plt.figure()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    fig.savefig = broken
    with pytest.raises(RuntimeError):
        save_figure(fig, target)
    assert target.read_bytes() == b"previous figure" and [p.name for p in tmp_path.iterdir()] == ["f.png"]
    fig = plt.figure()
    save_figure(fig, target)
    assert target.read_bytes().startswith(b"\x89PNG") and [p.name for p in tmp_path.iterdir()] == ["f.png"]
    plt.close("all")


def test_batch_labels_keep_the_design_order_and_differences_skip_identical_metrics(tmp_path, monkeypatch):
    import sim.figures.batch as fb
    plan = {"kind": "batch", "design": {"kind": "grid", "factors": ["lines.x.trigger", "lines.x.qc_failure_prob"]},
            "points": [{"id": "p000", "factors": {"lines.x.qc_failure_prob": 0.1, "lines.x.trigger": 2}}]}
    assert fb._labels(tmp_path, plan) == {"p000": "trigger=2, qc_failure_prob=0.1"}
    drawn = {}
    monkeypatch.setattr(fb, "save", lambda fig, out, name, style=None: drawn.setdefault(
        name, [t.get_text() for t in fig.axes[0].get_yticklabels()]))
    row = {"mean_a": "10.0", "difference": "1.0", "ci_low": "0.5", "ci_high": "1.5"}
    rows = [dict(row, metric="dosed_on_day_fraction", verdict="b higher"),
            dict(row, metric="total.dispensed.kits", verdict="identical in every replication", difference="0.0",
                 ci_low="0.0", ci_high="0.0")]
    fb.difference_figure(rows, [], {"points": [{"id": "a"}, {"id": "b"}]}, tmp_path)
    assert drawn["differences"] == ["dosed_on_day_fraction"]
