"""The single-run figures: throughput per stage, inventories and WIP, delay distributions."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sim.experiments.columnar import load_delays
from sim.figures.style import band, save

DELAY_COLUMNS = 4
"""Delay histograms per row (more wrap onto further rows, so the figure keeps a page's width)."""

THROUGHPUT = [("released.", "drug product released (units)"), ("packaged.kits", "kits packaged"),
              ("shipped.kits", "kits shipped to sites"), ("dispensed.kits", "kits dispensed"),
              ("enrolled.", "patients enrolled"), ("visits.not_dosed", "visits not dosed")]


def throughput_figure(series, t, out: Path, period: float) -> list[Path]:
    panels = [(title, [n for n in sorted(series) if n.startswith(prefix)]) for prefix, title in THROUGHPUT]
    panels = [(title, names) for title, names in panels if names]
    ncol = 2
    nrow = (len(panels) + 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(7.2, 2.2 * nrow), sharex=True, squeeze=False)
    for ax, (title, names) in zip(axes.flat, panels):
        for n in names:
            band(ax, t, series[n], n.split(".", 1)[1] if len(names) > 1 else None)
        ax.set_title(title)
        ax.set_ylabel(f"per {period:g} days")
        if len(names) > 1:
            ax.legend(frameon=False)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("day")
    fig.suptitle("Throughput per stage (mean, 5-95 % band across replications)")
    return save(fig, out, "throughput")


def inventory_figure(series, t, out: Path) -> list[Path]:
    nodes = [n for n in sorted(series) if n.startswith("inventory.depot") or n == "inventory.sites_total"]
    sites = [n for n in sorted(series) if n.startswith("inventory.site.")][:3]
    material = [n for n in sorted(series) if n.startswith("inventory.material.")]
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.8))
    for n in nodes:
        band(axes[0], t, series[n], n.removeprefix("inventory."))
    axes[0].set_title("Kits at depot and all sites")
    for n in sites:
        band(axes[1], t, series[n], n.removeprefix("inventory.site."))
    axes[1].set_title("Kits at three sites")
    for n in material:
        band(axes[2], t, series[n], n.removeprefix("inventory.material."))
    axes[2].set_title("Raw material at the CDMO (kg)")
    for ax in axes:
        ax.set_xlabel("day")
        ax.legend(frameon=False)
    axes[0].set_ylabel("average level in period")
    fig.suptitle("Inventory over time (mean, 5-95 % band across replications)")
    fig.tight_layout()
    return save(fig, out, "inventory")


def delay_figure(results_dir: Path, out: Path) -> list[Path]:
    data = load_delays(results_dir)
    names = [n for n in sorted(data) if len(data[n])]
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
    return save(fig, out, "delays")
