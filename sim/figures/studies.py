"""Figures of studies (:mod:`sim.studies`), drawn from the study's table."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sim.figures.style import save

def batch_vs_continuous_figure(rows, b, c, name, reps, out: Path) -> Path:
    """Side-by-side bars (throughput, cycle time, WIP, OEE parts) of batch line *b* and continuous line *c*,
    and their sensitivity to breakdown frequency and QC capacity, from the rows of
    ``batch_vs_continuous.csv`` (study, metric, line, setting, mean, ci_half_width)."""
    colours = {b: "#2e6fac", c: "#ed6a5a", f"{c} (end-of-run QC)": "#f2b134"}
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.6))
    panels = ["throughput (units/day)", "cycle time (days)", "WIP (units)"]
    for ax, metric in zip(axes[0], panels):
        pts = [(r[2], r[4], r[5]) for r in rows if r[0] == "base" and r[1] == metric]
        ax.bar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts], capsize=3,
               color=[colours[p[0]] for p in pts])
        for p in pts:  # the lines' volumes can differ by orders of magnitude: say each one
            ax.annotate(f"{p[1]:,.0f}" if p[1] >= 100 else f"{p[1]:.3g}", (p[0], p[1]), ha="center", va="bottom", fontsize="small",
                        xytext=(0, 2), textcoords="offset points")
        ax.set_title(metric)
    ax = axes[1][0]
    parts = ["availability", "performance", "quality", "OEE"]
    x = np.arange(len(parts))
    for k, line in enumerate((b, c)):
        vals = [next(r for r in rows if r[0] == "base" and r[1] == p and r[2] == line) for p in parts]
        ax.bar(x + (k - 0.5) * 0.38, [v[4] for v in vals], 0.38, yerr=[v[5] for v in vals], capsize=2,
               color=colours[line], label=line)
    ax.set_xticks(x, ["avail.", "perf.", "quality", "OEE"])
    ax.set_ylim(0, 1.25)
    ax.set_title("OEE = availability x performance x quality")
    ax.legend(frameon=False, ncol=2, loc="upper center")
    for ax, study, metric, xlabel in ((axes[1][1], "mtbf", "throughput (units/day)", "MTBF factor (x baseline)"),
                                      (axes[1][2], "analysts", "cycle time (days)", "QC analysts per lab")):
        for line in colours:
            pts = sorted((r[3], r[4], r[5]) for r in rows if r[0] == study and r[1] == metric and r[2] == line)
            if pts:
                xs, ys, hs = zip(*pts)
                ax.errorbar(xs, ys, yerr=hs, marker="o", ms=3, capsize=2, color=colours[line], label=line)
        if study == "mtbf":
            ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_title(f"{metric} vs {'breakdown frequency' if study == 'mtbf' else 'QC capacity'}")
        ax.legend(frameon=False, fontsize="small", loc="upper right", bbox_to_anchor=(1.0, 0.87))
    fig.suptitle(f"{name}: batch vs continuous (mean and 95 % CI over {reps} replications)")
    fig.tight_layout()
    return save(fig, out, "batch_vs_continuous", ("png",))[0]
