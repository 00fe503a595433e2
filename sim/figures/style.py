"""What every figure shares: the house style, atomic saving (PNG and SVG), bands across replications,
and reading a results folder's series.  Figures are drawn from stored tables only, never from live
objects, so every figure can be rebuilt from a results folder without re-simulating."""
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

from sim.experiments.tables import atomic_write_bytes, read_csv  # noqa: E402

STYLE = {
    "figure.dpi": 100, "savefig.dpi": 300, "font.size": 9, "axes.titlesize": 10,
    "axes.labelsize": 9, "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "savefig.bbox": "tight",
}


COMPACT = {"figure.dpi": 100, "savefig.dpi": 200, "font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7,
         "axes.labelsize": "medium", "axes.grid": False,  # matplotlib's defaults, over STYLE's
         "axes.spines.top": False, "axes.spines.right": False, "savefig.bbox": "tight"}
"""A denser style for wide figures meant for documents (Gantt charts, study panels)."""


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


def band(ax, t, arr, label, color=None):
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


def save(fig, out: Path, name: str, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write *fig* as ``<out>/<name>.<ext>`` for each format, close it, return the paths."""
    paths = [save_figure(fig, out / f"{name}.{ext}") for ext in formats]
    plt.close(fig)
    return paths
