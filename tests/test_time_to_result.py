"""Time to first result, shown by what makes it: a figure drawn once and its PNG taken from that drawing
(the same bytes as savefig's), a run's figures drawn on worker processes identical to those drawn here,
a command that starts without importing the heavy packages, and the explorer's page built from field
lists computed once (the same lists as before)."""
from __future__ import annotations

import fnmatch
import io
import subprocess
import sys

import matplotlib.axes as maxes
import matplotlib.figure as mfigure
import matplotlib.pyplot as plt
from matplotlib.layout_engine import TightLayoutEngine

from sim.experiments.backends import LocalBackend
from sim.experiments.startup import mp_context, prestart
from sim.explorer.session import Session
from sim.explorer.whatifs import QUICK, quick_fields, wildcard
from sim.figures import make_figures
from sim.figures.layout import MeasureOnceTight
from sim.figures.output import save_figure
from sim.scenario import load_default

from test_exp_support import ROOT


def test_png_from_the_drawn_canvas_is_the_bytes_savefig_writes(tmp_path):
    fig, ax = plt.subplots(figsize=(3, 2), dpi=150)
    ax.plot([0, 1, 2], [1, 3, 2], label="a")
    ax.set_title("known figure")
    ax.legend()
    meta = {"Software": "pharmasim test"}
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, metadata=meta)
    fig.canvas.draw()
    path = save_figure(fig, tmp_path / "f.png", rendered=True, metadata=meta)
    plt.close(fig)
    assert path.read_bytes() == buf.getvalue()


def test_a_run_figure_is_drawn_once_and_the_same_on_workers(small_run_folder, monkeypatch):
    """Screen style, nothing overlapping: five figures, five drawings (was three each: tight_layout,
    the overlap check, savefig with a tight crop); drawn on two workers, the same files byte for byte
    (same pixels, same provenance)."""
    draws = []
    original = mfigure.Figure.draw
    monkeypatch.setattr(mfigure.Figure, "draw", lambda self, r: (draws.append(self), original(self, r))[1])
    here = {p.name: p.read_bytes() for p in make_figures(small_run_folder)}
    assert sorted(here) == ["clinical.png", "delays.png", "gantt.png", "inventory.png", "throughput.png"]
    assert len(draws) == 5
    backend = LocalBackend(2)
    try:
        there = {p.name: p.read_bytes() for p in make_figures(small_run_folder, map=backend.map)}
    finally:
        backend.close()
    assert there == here


def test_commands_start_without_the_heavy_packages():
    """The CLI, the figures package (its names) and the backends (to start the workers early) load no
    model, matplotlib, pandas, pyarrow or scipy until a command needs them."""
    code = ("import sys, sim.cli, sim.figures, sim.experiments.backends; "
            "print(sorted(m for m in ('matplotlib', 'pandas', 'pyarrow', 'scipy', 'sim.model', 'sim.scenario') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_tight_layout_measured_once_gives_matplotlibs_margins(monkeypatch):
    """A 2 x 2 figure with titles, labels and a suptitle: matplotlib's tight layout measures each axes
    twice (margins, then spacing), the one-pass engine once; the subplot parameters are the same to
    the bit."""
    calls = []
    original = maxes.Axes.get_tightbbox
    monkeypatch.setattr(maxes.Axes, "get_tightbbox", lambda self, *a, **k: (calls.append(self), original(self, *a, **k))[1])
    params = {}
    for engine in (TightLayoutEngine(), MeasureOnceTight()):
        fig, axes = plt.subplots(2, 2, figsize=(5, 4))
        for i, ax in enumerate(axes.flat):
            ax.plot([0, 10 ** i], [0, 1000 * i])
            ax.set_title(f"panel {i} with a longer title")
            ax.set_ylabel("units per 28 days")
        fig.suptitle("a suptitle")
        fig.set_layout_engine(engine)
        fig.canvas.draw()
        del calls[:]
        engine.execute(fig)
        sp = fig.subplotpars
        params[type(engine).__name__] = ((sp.left, sp.right, sp.bottom, sp.top, sp.wspace, sp.hspace), len(calls))
        assert not any("get_tightbbox" in vars(ax) for ax in fig.axes)  # the per-layout memo is gone
        plt.close(fig)
    (tight, measured_twice), (once, measured_once) = params["TightLayoutEngine"], params["MeasureOnceTight"]
    assert once == tight
    assert (measured_twice, measured_once) == (8, 4)


def test_workers_that_only_draw_are_forked_without_the_model(monkeypatch):
    """``plot`` draws from tables: its fork server imports the figure modules, not the model (nor,
    through them, the scenario schema)."""
    preloads = []
    monkeypatch.setattr("multiprocessing.context.ForkServerContext.set_forkserver_preload",
                        lambda self, modules: preloads.append(list(modules)))
    mp_context(["sim.figures.folder"])
    mp_context(["sim.figures.folder"], replications=False)
    assert preloads == [["sim.model", "sim.experiments.backends", "sim.figures.folder"],
                        ["sim.experiments.backends", "sim.figures.folder"]]
    code = ("import sys, sim.experiments.backends, sim.figures.folder, sim.figures.results, sim.figures.clinical, "
            "sim.figures.gantt; print(sorted(m for m in ('sim.model', 'sim.scenario', 'pydantic', 'simpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_workers_start_with_the_servers_imports_frozen_out_of_the_collector():
    """Every worker, not only one that ran a replication, keeps the imports it was forked with out of the
    garbage collector's scans (``plot``'s workers only draw)."""
    import gc
    backend = LocalBackend(2)
    try:
        seen = backend.map(gc.get_threshold, [(), ()]) + backend.map(gc.get_freeze_count, [(), ()])
    finally:
        backend.close()
    assert seen[:2] == [(20_000, 10, 10)] * 2
    assert min(seen[2:]) > 10_000


def test_prestart_starts_no_server_for_one_worker_or_a_cluster(monkeypatch):
    started = []
    monkeypatch.setattr("multiprocessing.forkserver.ensure_running", lambda: started.append(True))
    prestart(1)
    prestart(2, "tcp://127.0.0.1:1")
    assert started == []
    prestart(2)
    assert started == [True]


def test_quick_fields_are_those_fnmatch_picks():
    """The compiled patterns choose exactly the fields the one-pattern-at-a-time fnmatch did."""
    specs = Session(load_default(), "default").specs()
    expected = []
    for topic, patterns in QUICK:
        chosen = [s for s in specs if any(fnmatch.fnmatchcase(wildcard(s.path), wildcard(p)) for p in patterns)]
        if chosen:
            expected.append((topic, chosen))
    assert quick_fields(specs) == expected
    assert sum(len(g) for _, g in expected) >= 20


def test_session_walks_the_base_scenario_once():
    s = Session(load_default(), "default")
    assert s.specs() is not s.specs()  # a new list (callers may filter it) ...
    assert s.base_specs() is s.base_specs()  # ... of specs walked once
    assert s.set_arguments() == [] and s.command().endswith(f"--seed {s.seed}")
    path = next(sp.path for sp in s.specs() if sp.path.endswith("batch_size"))
    s.set(path, 12345)
    assert [sp.value for sp in s.specs() if sp.path == path] == [12345]
    assert s.set_arguments() == ["--set lines.dp-batch.batch_size=12345"]
