"""What every figure shares: the house style, atomic saving (PNG and SVG), bands across replications,
and reading a results folder's series.  Figures are drawn from stored tables only, never from live
objects, so every figure can be rebuilt from a results folder without re-simulating."""
from __future__ import annotations

import io
from contextlib import contextmanager
import json
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.experiments.tables import atomic_write_bytes  # noqa: E402

STYLE = {
    "figure.dpi": 100, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 10,
    "axes.labelsize": 9, "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "savefig.bbox": "tight",
}


COMPACT = {"figure.dpi": 100, "savefig.dpi": 200, "font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7,
         "axes.labelsize": "medium", "axes.grid": False,  # matplotlib's defaults, over STYLE's
         "axes.spines.top": False, "axes.spines.right": False, "savefig.bbox": "tight"}
"""A denser style for wide figures meant for documents (Gantt charts, study panels)."""


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


_formats: list[tuple[str, ...]] = [("png",)]


@contextmanager
def figure_formats(formats: Sequence[str] | None):
    """Within the block, :func:`save` writes *formats* (None: PNG only)."""
    _formats.append(tuple(formats) if formats else ("png",))
    try:
        yield
    finally:
        _formats.pop()


def save(fig, out: Path, name: str, formats: Sequence[str] | None = None) -> list[Path]:
    """Write *fig* as ``<out>/<name>.<ext>`` for each format (default: those of the enclosing
    :func:`figure_formats`, PNG only outside one), close it, return the paths."""
    paths = [save_figure(fig, out / f"{name}.{ext}") for ext in (formats or _formats[-1])]
    plt.close(fig)
    return paths
