"""Figures built from a results folder (never from live objects), so that every
figure can be rebuilt from stored results without re-simulating.

A single run gets throughput, inventory and delay figures, the clinical
four-panel figure (when it has trials) and a Gantt chart of its lines (from
``timeline.csv``); a batch gets a scenario comparison (means with 95 % CIs),
response curves with CI bands for sweeps, a tornado chart for
one-factor-at-a-time designs, and, for a paired comparison, the differences
with their CIs.  :func:`plot_results` picks what
a folder supports.  Each figure is written as PNG (300 dpi) and SVG into
``<results>/figures``.
"""
from __future__ import annotations

import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.experiments.tables import ResultsFolderError, atomic_write_bytes, read_csv  # noqa: E402

STYLE = {
    "figure.dpi": 100, "savefig.dpi": 300, "font.size": 9, "axes.titlesize": 10,
    "axes.labelsize": 9, "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "savefig.bbox": "tight",
}

DELAY_COLUMNS = 4
"""Delay histograms per row (more wrap onto further rows, so the figure keeps a page's width)."""

THROUGHPUT = [("released.", "drug product released (units)"), ("packaged.kits", "kits packaged"),
              ("shipped.kits", "kits shipped to sites"), ("dispensed.kits", "kits dispensed"),
              ("enrolled.", "patients enrolled"), ("visits.not_dosed", "visits not dosed")]


def load_series(results_dir: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """series name -> array (reps x periods), and the period start times."""
    rows = read_csv(results_dir / "series.csv")
    data: dict[str, dict[tuple[int, float], float]] = defaultdict(dict)
    for r in rows:
        data[r["series"]][int(r["rep"]), float(r["period_start"])] = float(r["value"])
    out = {}
    times = np.array([])
    for name, cells in data.items():
        reps = sorted({k[0] for k in cells})
        times = np.array(sorted({k[1] for k in cells}))
        out[name] = np.array([[cells.get((rp, t), np.nan) for t in times] for rp in reps])
    return out, times


def _band(ax, t, arr, label, color=None):
    mean = np.nanmean(arr, axis=0)
    line, = ax.plot(t, mean, label=label, color=color, lw=1.4)
    if arr.shape[0] > 1:
        lo, hi = np.nanpercentile(arr, [5, 95], axis=0)
        ax.fill_between(t, lo, hi, color=line.get_color(), alpha=0.2, lw=0)


def scenario_name(results_dir: Path) -> str:
    """The scenario a results folder holds (from ``metadata.json``), for figure titles."""
    meta = results_dir / "metadata.json"
    return json.loads(meta.read_text()).get("scenario", results_dir.name) if meta.exists() else results_dir.name


def save_figure(fig, path: Path, **kwargs) -> Path:
    """Write *fig* to *path* (format from the suffix) atomically, like every table."""
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip("."), **kwargs)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _save(fig, out: Path, name: str, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write *fig* as ``<out>/<name>.<ext>`` for each format, close it, return the paths."""
    paths = [save_figure(fig, out / f"{name}.{ext}") for ext in formats]
    plt.close(fig)
    return paths


def throughput_figure(series, t, out: Path, period: float) -> list[Path]:
    panels = [(title, [n for n in sorted(series) if n.startswith(prefix)]) for prefix, title in THROUGHPUT]
    panels = [(title, names) for title, names in panels if names]
    ncol = 2
    nrow = (len(panels) + 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(7.2, 2.2 * nrow), sharex=True, squeeze=False)
    for ax, (title, names) in zip(axes.flat, panels):
        for n in names:
            _band(ax, t, series[n], n.split(".", 1)[1] if len(names) > 1 else None)
        ax.set_title(title)
        ax.set_ylabel(f"per {period:g} days")
        if len(names) > 1:
            ax.legend(frameon=False)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("day")
    fig.suptitle("Throughput per stage (mean, 5-95 % band across replications)")
    return _save(fig, out, "throughput")


def inventory_figure(series, t, out: Path) -> list[Path]:
    nodes = [n for n in sorted(series) if n.startswith("inventory.depot") or n == "inventory.sites_total"]
    sites = [n for n in sorted(series) if n.startswith("inventory.site.")][:3]
    material = [n for n in sorted(series) if n.startswith("inventory.material.")]
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.8))
    for n in nodes:
        _band(axes[0], t, series[n], n.removeprefix("inventory."))
    axes[0].set_title("Kits at depot and all sites")
    for n in sites:
        _band(axes[1], t, series[n], n.removeprefix("inventory.site."))
    axes[1].set_title("Kits at three sites")
    for n in material:
        _band(axes[2], t, series[n], n.removeprefix("inventory.material."))
    axes[2].set_title("Raw material at the CDMO (kg)")
    for ax in axes:
        ax.set_xlabel("day")
        ax.legend(frameon=False)
    axes[0].set_ylabel("average level in period")
    fig.suptitle("Inventory over time (mean, 5-95 % band across replications)")
    fig.tight_layout()
    return _save(fig, out, "inventory")


def delay_figure(results_dir: Path, out: Path) -> list[Path]:
    rows = read_csv(results_dir / "delays.csv")
    data: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        data[r["delay"]].append(float(r["value"]))
    names = [n for n in sorted(data) if data[n]]
    if not names:
        return []
    ncol = min(len(names), DELAY_COLUMNS)
    nrow = -(-len(names) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(1.9 * ncol + 1, 2.4 * nrow + 0.4), squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax, n in zip(axes.flat, names):
        vals = np.asarray(data[n])
        ax.hist(vals, bins=30, color="#4c72b0", alpha=0.85)
        ax.axvline(vals.mean(), color="k", lw=1, ls="--")
        ax.set_title(n.replace("_", " "), fontsize=8)
        ax.set_xlabel("days")
    for row in axes:
        row[0].set_ylabel("observations")
    fig.suptitle("Delay distributions (dashed: mean)")
    fig.tight_layout()
    return _save(fig, out, "delays")


def make_figures(results_dir: str | Path) -> list[Path]:
    """Build every figure of a single-scenario results folder; returns the files written."""
    from sim.figures.clinical import clinical_figure, has_clinical_series
    from sim.figures.manufacturing import gantt_from_table

    results_dir = Path(results_dir)
    out = results_dir / "figures"
    paths: list[Path] = []
    with plt.rc_context(STYLE):
        if (results_dir / "series.csv").exists():
            series, t = load_series(results_dir)
            period = float(t[1] - t[0]) if len(t) > 1 else 1.0
            paths += throughput_figure(series, t, out, period)
            paths += inventory_figure(series, t, out)
            if has_clinical_series(series) and (results_dir / "metrics.csv").exists():
                paths += clinical_figure(results_dir, loaded=(series, t))
        if (results_dir / "delays.csv").exists():
            paths += delay_figure(results_dir, out)
        if (results_dir / "timeline.csv").exists():
            paths += gantt_from_table(results_dir)
    return paths


def _check_tables(results_dir: Path, table: str) -> None:
    if (results_dir / table).is_file():
        return
    if (results_dir / "plan.json").is_file():
        raise ResultsFolderError(f"{results_dir}: no {table} yet: the experiment stored there did not finish; "
                                 f"finish it with the same command plus --resume --out {results_dir}")
    raise ResultsFolderError(f"{results_dir}: not a results folder (no {table}); give the folder a "
                             f"run, batch or compare command wrote")


def plot_results(results_dir: str | Path, per_scenario: bool | None = None) -> list[Path]:
    """Rebuild every figure a results folder supports, from its tables only.

    *per_scenario*: also the single-run figures of each scenario of a batch that
    kept its series (default: for a paired comparison only).  Raises
    :class:`ResultsFolderError` for a folder without tables.
    """
    from sim.experiments.store import read_plan
    from sim.figures.batch import batch_figures

    results_dir = Path(results_dir)
    plan = read_plan(results_dir)
    _check_tables(results_dir, "metrics.csv" if plan is None or plan["kind"] == "run" else "summary.csv")
    if plan is None or plan["kind"] == "run":
        return make_figures(results_dir)
    with plt.rc_context(STYLE):
        paths = batch_figures(results_dir, plan)
    if per_scenario if per_scenario is not None else plan["kind"] == "compare":
        for p in plan["points"]:
            paths += make_figures(results_dir / "scenarios" / p["id"])
    return paths
