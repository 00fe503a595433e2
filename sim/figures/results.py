"""The single-run figures: throughput per stage, inventories and WIP, delay distributions.

Each takes the :class:`~sim.figures.style.FigureStyle` to draw in: at a figure's own width (the screen
style's look) panels sit side by side; at a single column they stack and legends go below."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sim.experiments.columnar import load_delays
from sim.figures.layout import legend
from sim.figures.output import save
from sim.figures.style import FigureStyle, band

DELAY_COLUMNS = 4
"""Delay histograms per row (more wrap onto further rows, so the figure keeps a page's width)."""

THROUGHPUT = [("released.", "drug product released (units)"), ("packaged.kits", "kits packaged"),
              ("shipped.kits", "kits shipped to sites"), ("dispensed.kits", "kits dispensed"),
              ("enrolled.", "patients enrolled"), ("visits.not_dosed", "visits not dosed")]
UNITS = {"released.": "units", "packaged.kits": "kits", "shipped.kits": "kits", "dispensed.kits": "kits",
         "enrolled.": "patients", "visits.not_dosed": "visits"}
"""The unit of each throughput panel's y axis (per reporting period)."""


def _grid(style: FigureStyle, n: int, preferred: int, width: float, height: float, min_panel: float = 1.6, **kw):
    """A grid of *n* panels, *preferred* per row at the figure's own *width* (panels *height* tall)."""
    ncol = style.columns(preferred, width, min_panel)
    nrow = -(-n // ncol)
    w = style.figwidth(width)
    h = style.panel_height(w / ncol, height)
    fig, axes = plt.subplots(nrow, ncol, figsize=(w, h * nrow + (0.4 if style.fixed else 0.0)), squeeze=False, **kw)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig, axes


def throughput_figure(series, t, out: Path, period: float, style: FigureStyle | None = None) -> list[Path]:
    style = style or FigureStyle()
    panels = [(title, prefix, [n for n in sorted(series) if n.startswith(prefix)]) for prefix, title in THROUGHPUT]
    panels = [p for p in panels if p[2]]
    fig, axes = _grid(style, len(panels), 2, 7.2, 2.2, sharex=True)
    for ax, (title, prefix, names) in zip(axes.flat, panels):
        for n in names:
            band(ax, t, series[n], n.split(".", 1)[1] if len(names) > 1 else None, style=style)
        ax.set_title(title)
        ax.set_ylabel(f"{UNITS[prefix]} per {period:g} days")
        if len(names) > 1:
            legend(ax, style, 7.2)
    visible = [ax for ax in axes.flat if ax.get_visible()]
    for ax in visible:  # the lowest visible panel of each column carries the day axis
        col = ax.get_subplotspec().colspan.start
        if ax is [a for a in visible if a.get_subplotspec().colspan.start == col][-1]:
            ax.set_xlabel("day")
            ax.xaxis.set_tick_params(labelbottom=True)
    fig.suptitle("Throughput per stage (mean, 5-95 % band across replications)")
    return save(fig, out, "throughput", style)


def inventory_figure(series, t, out: Path, style: FigureStyle | None = None) -> list[Path]:
    style = style or FigureStyle()
    nodes = [n for n in sorted(series) if n.startswith("inventory.depot") or n == "inventory.sites_total"]
    sites = [n for n in sorted(series) if n.startswith("inventory.site.")][:3]
    material = [n for n in sorted(series) if n.startswith("inventory.material.")]
    if style.fixed:
        fig, grid = _grid(style, 3, 3, 9, 2.8, min_panel=2.4)
        axes = list(grid.flat)
    else:
        fig, axes = plt.subplots(1, 3, figsize=(9, 2.8))
    for n in nodes:
        band(axes[0], t, series[n], n.removeprefix("inventory."), style=style)
    axes[0].set_title("Kits at depot and all sites")
    for n in sites:
        band(axes[1], t, series[n], n.removeprefix("inventory.site."), style=style)
    axes[1].set_title("Kits at three sites")
    for n in material:
        band(axes[2], t, series[n], n.removeprefix("inventory.material."), style=style)
    axes[2].set_title("Raw material at the CDMO (kg)")
    for ax, unit in zip(axes, ("kits", "kits", "kg")):
        ax.set_xlabel("day")
        legend(ax, style, 9)
        if style.fixed:
            ax.set_ylabel(f"{unit} (period average)")
    if not style.fixed:
        axes[0].set_ylabel("average level in period")
    fig.suptitle("Inventory over time (mean, 5-95 % band across replications)")
    return save(fig, out, "inventory", style)


def delay_figure(results_dir: Path, out: Path, style: FigureStyle | None = None) -> list[Path]:
    style = style or FigureStyle()
    data = load_delays(results_dir)
    names = [n for n in sorted(data) if len(data[n])]
    if not names:
        return []
    if style.fixed:
        fig, axes = _grid(style, len(names), DELAY_COLUMNS, 8.6, 2.4)
    else:
        ncol = min(len(names), DELAY_COLUMNS)
        nrow = -(-len(names) // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(1.9 * ncol + 1, 2.4 * nrow + 0.4), squeeze=False)
        for ax in axes.flat[len(names):]:
            ax.set_visible(False)
    for ax, n in zip(axes.flat, names):
        vals = np.asarray(data[n])
        ax.hist(vals, bins=30, alpha=0.85, histtype="stepfilled",  # one polygon, not 30 bars: drawn fast
                **style.fill(0, "#4c72b0" if style.screen else None))
        ax.axvline(vals.mean(), color="k", lw=1, ls="--")
        title = n.replace("_", " ")
        if len(title) > 26 and "." in title:  # a long name wraps after its kind, not clipped
            title = title.replace(".", ".\n", 1)
        ax.set_title(title, fontsize=style.pt(8))
        ax.set_xlabel("days")
    for row in axes:
        row[0].set_ylabel("observations")
    fig.suptitle("Delay distributions (dashed: mean)")
    return save(fig, out, "delays", style)
