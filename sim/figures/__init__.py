"""Figures from stored results: every figure is rebuilt from a results folder's tables alone.

A single run gets throughput, inventory and delay figures, the clinical
four-panel figure (when it has trials) and a Gantt chart of its lines (from
``timeline.csv``); a batch gets a scenario comparison (means with 95 % CIs),
response curves with CI bands for sweeps, a tornado chart for
one-factor-at-a-time designs, and, for a paired comparison, the differences
with their CIs.  :func:`plot_results` picks what a folder supports.  Each
figure is written into ``<results>/figures`` in the formats, width, font size, style and resolution
of one :class:`~sim.figures.style.FigureStyle` (default: PNG at 150 dpi, each figure its own size),
and those options are recorded in ``<results>/figures.yaml`` so the same set can be drawn again.

Modules: :mod:`.folder` (what a folder supports, drawn here or on workers), :mod:`.style` (the style), :mod:`.options` (the options as given, figures.yaml),
:mod:`.layout` (fitting a width), :mod:`.output` (saving with :mod:`.provenance`), :mod:`.results`,
:mod:`.clinical`, :mod:`.gantt`, :mod:`.batch` (batches and comparisons), :mod:`.studies`.
"""
from __future__ import annotations

from typing import Any

__all__ = ["FigureStyle", "draw_figure", "make_figures", "plot_results", "PRELOAD"]

PRELOAD = ["matplotlib.pyplot", "sim.figures.folder", "sim.figures.results", "sim.figures.clinical",
           "sim.figures.gantt", "pyarrow.parquet"]
"""What a worker process that will draw figures imports before it is asked to (see
:func:`sim.experiments.startup.prestart`)."""


def __getattr__(name: str) -> Any:
    """The package's names, imported when first used: naming :data:`PRELOAD` loads no matplotlib."""
    if name == "FigureStyle":
        from sim.figures.style import FigureStyle
        return FigureStyle
    if name in ("draw_figure", "make_figures", "plot_results"):
        from sim.figures import folder
        return getattr(folder, name)
    raise AttributeError(f"module 'sim.figures' has no attribute {name!r}")
