"""Figures of studies (:mod:`sim.studies`), drawn from the study's table."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sim.figures.layout import legend
from sim.figures.output import save
from sim.figures.style import FigureStyle

PANELS = ["throughput (units/day)", "cycle time (days)", "WIP (units)"]


def batch_vs_continuous_figure(rows, b, c, name, reps, out: Path, style: FigureStyle | None = None) -> list[Path]:
    """Side-by-side bars (throughput, cycle time, WIP, OEE parts) of batch line *b* and continuous line *c*,
    and their sensitivity to breakdown frequency and QC capacity, from the rows of
    ``batch_vs_continuous.csv`` (study, metric, line, setting, mean, ci_half_width); written as
    ``<out>/batch_vs_continuous.<format>`` for each of *style*'s formats."""
    style = style or FigureStyle()
    with plt.rc_context(style.rc(compact=True)):
        return _draw(rows, b, c, name, reps, out, style)


def _draw(rows, b, c, name, reps, out: Path, style: FigureStyle) -> list[Path]:
    lines = [b, c, f"{c} (end-of-run QC)"]
    looks = {line: style.fill(i, ["#0072B2", "#D55E00", "#E69F00"][i]) for i, line in enumerate(lines)}
    ncol = style.columns(3, 10, 1.6)
    nrow = -(-6 // ncol)
    w = style.figwidth(10)
    h = style.panel_height(w / ncol, 2.8) if not style.fixed else max(2.1, style.panel_height(w / ncol, 2.8))
    fig, grid = plt.subplots(nrow, ncol, figsize=(w, h * nrow + (0.4 if style.fixed else 0)), squeeze=False)
    axes = list(grid.flat)
    for ax, metric in zip(axes[:3], PANELS):
        pts = [(r[2], r[4], r[5]) for r in rows if r[0] == "base" and r[1] == metric]
        x = np.arange(len(pts))
        for k, p in enumerate(pts):
            ax.bar(k, p[1], yerr=p[2], capsize=3, **looks[p[0]])
        ax.set_xticks(x, [p[0] for p in pts])
        for k, p in enumerate(pts):  # the lines' volumes can differ by orders of magnitude: say each one
            ax.annotate(f"{p[1]:,.0f}" if p[1] >= 100 else f"{p[1]:.3g}", (k, p[1] + p[2]), ha="center",
                        va="bottom", fontsize="small", xytext=(0, 2), textcoords="offset points")
        ax.set_title(metric)
        ax.set_ylabel(metric[metric.index("(") + 1:-1])
        if pts:  # room above the highest whisker for its value
            ax.set_ylim(0, max(p[1] + p[2] for p in pts) * (1.15 if not style.fixed else 1.35))
    ax = axes[3]
    parts = ["availability", "performance", "quality", "OEE"]
    x = np.arange(len(parts))
    for k, line in enumerate((b, c)):
        vals = [next(r for r in rows if r[0] == "base" and r[1] == p and r[2] == line) for p in parts]
        ax.bar(x + (k - 0.5) * 0.38, [v[4] for v in vals], 0.38, yerr=[v[5] for v in vals], capsize=2,
               label=line, **looks[line])
    ax.set_xticks(x, ["avail.", "perf.", "quality", "OEE"])
    ax.set_ylim(0, 1.25)
    ax.set_ylabel("fraction")
    narrow = style.fixed and style.narrow(10)
    ax.set_title("OEE = availability x performance x quality" if not narrow else "OEE and its parts")
    legend(ax, style, 10, below=narrow, ncol=2, loc="upper center")
    for ax, study, metric, xlabel in ((axes[4], "mtbf", "throughput (units/day)", "MTBF factor (x baseline)"),
                                      (axes[5], "analysts", "cycle time (days)", "QC analysts per lab")):
        for k, line in enumerate(lines):
            pts = sorted((r[3], r[4], r[5]) for r in rows if r[0] == study and r[1] == metric and r[2] == line)
            if pts:
                xs, ys, hs = zip(*pts)
                look = {**style.line(k), "marker": "os^"[k], "markevery": None}
                look.pop("markersize", None)
                look["color"] = looks[line].get("color", look["color"])
                ax.errorbar(xs, ys, yerr=hs, ms=3, capsize=2, label=line, **look)
        if study == "mtbf":
            ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric[metric.index("(") + 1:-1])
        what = "breakdown frequency" if study == "mtbf" else "QC capacity"
        ax.set_title(f"{metric} vs {what}" if not narrow else f"{metric.split(' (')[0]} vs {what}")
        legend(ax, style, 10, fontsize="small", loc="upper right", bbox_to_anchor=(1.0, 0.87))
    fig.suptitle(f"{name}: batch vs continuous (mean and 95 % CI over {reps} replications)")
    return save(fig, out, "batch_vs_continuous", style)
