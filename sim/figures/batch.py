"""Figures of a batch folder, from its stored tables only (summary.csv, design.csv,
scenarios.csv, comparison.csv and plan.json).

* ``comparison`` — each scenario's mean with its 95 % CI, one panel per metric;
* ``response`` — sweeps: the mean of each metric against each factor, with CI
  bands (grid) or CI bars (Latin hypercube / Sobol' points);
* ``tornado`` — one-factor-at-a-time: how far each factor's lowest and highest
  level move each metric from the base case, largest swing on top;
* ``differences`` — paired comparison: B - A of each metric relative to A, with CIs.

At a single column's width the metric panels stack, scenario and metric names wrap, and the
legends go below the axes; every metric axis carries the metric's unit from the catalogue.
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from sim.core.stats import Summary
from sim.experiments.designs import short_label, short_names
from sim.experiments.store import read_summary
from sim.experiments.tables import headline_metrics, read_csv
from sim.figures.layout import legend, wrap
from sim.figures.output import save
from sim.figures.style import FigureStyle
from sim.metrics import lookup

MAX_METRICS = 4
MAX_FACTORS = 4
MAX_GROUPS = 5


def metric_label(name: str) -> str:
    """A metric with its unit, for an axis: ``total.visits.not_dosed (visits)``."""
    m = lookup(name)
    return f"{name} ({m.unit})" if m is not None and m.unit else name


def batch_figures(results_dir: Path, plan: dict[str, Any], style: FigureStyle | None = None) -> list[Path]:
    style = style or FigureStyle()
    summary = read_summary(results_dir)
    out = results_dir / "figures"
    metrics = _chosen_metrics(plan, summary)
    labels = _labels(results_dir, plan)
    paths = comparison_figure(summary, labels, metrics, out, style)
    design = plan.get("design") or {}
    if design and (results_dir / "design.csv").exists():
        values = _design_values(results_dir)
        if design["kind"] == "ofat":
            paths += tornado_figure(summary, values, design, metrics, out, style)
        else:
            paths += response_figure(summary, values, design, metrics, out, style)
    if plan["kind"] == "compare" and (results_dir / "comparison.csv").exists():
        paths += difference_figure(read_csv(results_dir / "comparison.csv"), metrics, plan, out, style)
    return paths


def _chosen_metrics(plan: dict[str, Any], summary: dict[str, dict[str, Summary]]) -> list[str]:
    known = {m for per in summary.values() for m in per}
    wanted = [m for m in plan.get("metrics") or [] if m in known]
    return (wanted or headline_metrics(known) or sorted(known))[:MAX_METRICS]


def _labels(results_dir: Path, plan: dict[str, Any]) -> dict[str, str]:
    """Scenario id -> axis label: its factor values with short names when that fits, else the id."""
    factors = (plan.get("design") or {}).get("factors") or []
    names = short_names(factors)
    out = {}
    for p in plan["points"]:
        given = p.get("factors") or {}  # plan.json sorts keys: put them back in the design's order
        ordered = {f: given[f] for f in factors if f in given} | given
        label = short_label(ordered, names) or p.get("label") or p["id"]
        out[p["id"]] = label if len(label) <= 40 else p["id"]
    return out


def _design_values(results_dir: Path) -> dict[str, dict[str, float]]:
    """scenario -> factor -> value (numbers where they parse)."""
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in read_csv(results_dir / "design.csv"):
        out[r["scenario"]][r["factor"]] = _num(r["value"])
    return out


def _num(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _ci(s: Summary | None) -> tuple[float, float, float]:
    if s is None:
        return math.nan, math.nan, math.nan
    h = s.half_width if not math.isnan(s.half_width) else 0.0
    return s.mean, s.mean - h, s.mean + h


def comparison_figure(summary, labels: dict[str, str], metrics: list[str], out: Path,
                      style: FigureStyle | None = None) -> list[Path]:
    style = style or FigureStyle()
    ids = [i for i in labels if i in summary]
    if not ids or not metrics:
        return []
    default_w = 2.6 * len(metrics) + 1.4
    ncol = style.columns(len(metrics), default_w, 1.6 if len(metrics) > 1 else 1.0)
    nrow = -(-len(metrics) // ncol)
    height = max(2.4, 0.22 * len(ids) + 1.0) if not style.fixed else \
        nrow * max(1.4, (0.16 * len(ids) + 0.8) * style.base_size / 8)
    fig, axes = plt.subplots(nrow, ncol, figsize=(style.figwidth(default_w), height), squeeze=False, sharey=True)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    y = np.arange(len(ids))[::-1]
    chars = style.label_chars(default_w, 0.35) if style.fixed else 40
    for ax, m in zip(axes.flat, metrics):
        mean, lo, hi = np.array([_ci(summary[i].get(m)) for i in ids]).T
        ax.errorbar(mean, y, xerr=[mean - lo, hi - mean], fmt="o", ms=3.5, capsize=2, lw=1,
                    color="#4c72b0" if style.screen else style.colour(0))
        unit = lookup(m).unit if lookup(m) is not None else ""
        ax.set_title(m, fontsize=style.pt(8))
        if unit:
            ax.set_xlabel(unit, fontsize=style.pt(8))
        ax.grid(axis="y", visible=False)
        if ax.get_subplotspec().colspan.start == 0:
            ax.set_yticks(y, [wrap(labels[i], chars) for i in ids], fontsize=style.pt(7))
    fig.suptitle("Scenarios compared: mean and 95 % CI across replications")
    return save(fig, out, "comparison", style)


def response_figure(summary, values, design: dict[str, Any], metrics: list[str], out: Path,
                    style: FigureStyle | None = None) -> list[Path]:
    style = style or FigureStyle()
    factors = [f for f in design["factors"]
               if any(isinstance(v.get(f), float) for v in values.values())][:MAX_FACTORS]
    if not factors or not metrics:
        return []
    default_w = 2.8 * len(factors) + 0.8
    w = style.figwidth(default_w)
    h = style.panel_height(w / len(factors), 2.2) if not style.fixed or len(factors) > 1 else \
        style.panel_height(w / 2, 2.2)
    fig, axes = plt.subplots(len(metrics), len(factors), figsize=(w, h * len(metrics) + (0.5 if style.fixed else 0)),
                             squeeze=False)
    grid = design["kind"] == "grid"
    for row, m in enumerate(metrics):
        for col, f in enumerate(factors):
            ax = axes[row][col]
            if grid:
                _grid_curves(ax, summary, values, f, [g for g in factors if g != f] + [
                    g for g in design["factors"] if g not in factors], m, style, default_w)
            else:
                pts = sorted((v[f], *_ci(summary.get(pid, {}).get(m))) for pid, v in values.items() if f in v)
                x, mean, lo, hi = np.array(pts, dtype=float).T
                ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="o", ms=3, capsize=1.5, lw=0.8,
                            color="#4c72b0" if style.screen else style.colour(0))
            if row == len(metrics) - 1:
                ax.set_xlabel(_factor_label(f, short_names(design["factors"])[f]), fontsize=style.pt(7))
            if col == 0:
                ax.set_ylabel(wrap(metric_label(m), style.label_chars(default_w, 0.3) if style.fixed else 80),
                              fontsize=style.pt(7))
    how = "mean with 95 % CI band" if grid else f"{design['kind']} design points, mean with 95 % CI"
    fig.suptitle(f"Response to the swept factors ({how})")
    return save(fig, out, "response", style)


FACTOR_UNITS = {"shelf_life": "days", "lead_time": "days", "cycle_time": "days", "qc_time": "days",
                "transit_time": "days", "do_not_ship": "days", "do_not_dispense": "days", "horizon": "days",
                "qc_failure_prob": "probability", "enrollment_rate": "patients/site/day", "batch_size": "units",
                "order_quantity": "kg", "trigger": "kits", "level": "kits", "analysts": "analysts"}
"""Units of the factors sweeps usually vary (the last part of the field's path), for axis labels."""


def _factor_label(path: str, short: str) -> str:
    unit = FACTOR_UNITS.get(path.rsplit(".", 1)[-1])
    return f"{short} ({unit})" if unit else short


def _grid_curves(ax, summary, values, f: str, others: list[str], m: str, style: FigureStyle,
                 default_w: float) -> None:
    """One curve per combination of the other factors (or their average when too many)."""
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for pid, v in values.items():
        groups[tuple(v.get(g) for g in others)].append((v[f], *_ci(summary.get(pid, {}).get(m))))
    if len(groups) > MAX_GROUPS:  # main effect: average over the other factors
        by_x: dict[float, list[tuple]] = defaultdict(list)
        for pts in groups.values():
            for p in pts:
                by_x[p[0]].append(p[1:])
        groups = {("mean over the other factors",): [(x, *np.mean(v, axis=0)) for x, v in by_x.items()]}
    for k, (key, pts) in enumerate(groups.items()):
        x, mean, lo, hi = np.array(sorted(pts), dtype=float).T
        label = ", ".join(f"{g.rsplit('.', 1)[-1]}={_short(k)}" for g, k in zip(others, key)) if others and \
            key != ("mean over the other factors",) else (key[0] if isinstance(key[0], str) else None)
        look = {**style.line(k), "markevery": None}
        look["marker"] = look.get("marker") or "o"
        look.pop("markersize", None)
        line, = ax.plot(x, mean, ms=3, lw=1.2 if style.screen else 1.0, label=label, **look)
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    if len(groups) > 1 or others:
        legend(ax, style, default_w, fontsize=style.pt(6))


def _short(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def tornado_figure(summary, values, design: dict[str, Any], metrics: list[str], out: Path,
                   style: FigureStyle | None = None) -> list[Path]:
    style = style or FigureStyle()
    base_id = design.get("base")
    if base_id not in summary or not metrics:
        return []
    default_w = 3.2 * len(metrics) + 1.5
    ncol = style.columns(len(metrics), default_w, 2.2)
    nrow = -(-len(metrics) // ncol)
    panel_h = 0.45 * len(design["factors"]) + 1.6 if not style.fixed else \
        max(1.4, (0.32 * len(design["factors"]) + 0.8) * style.base_size / 8)
    fig, axes = plt.subplots(nrow, ncol, figsize=(style.figwidth(default_w), panel_h * nrow + (0.4 if style.fixed else 0)),
                             squeeze=False)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    looks = [style.fill(0, "#0072B2"), style.fill(1, "#E69F00")] if not style.gray else [style.fill(1), style.fill(4)]
    names = short_names(design["factors"])
    chars = style.label_chars(default_w, 0.3) if style.fixed else 60
    for ax, m in zip(axes.flat, metrics):
        base = summary[base_id].get(m)
        if base is None:
            continue
        bars = []
        for f in design["factors"]:
            levels = sorted((v[f], pid) for pid, v in values.items() if f in v and isinstance(v[f], float))
            if not levels:
                continue
            (x_lo, lo_id), (x_hi, hi_id) = levels[0], levels[-1]
            lo, hi = summary[lo_id].get(m), summary[hi_id].get(m)
            if lo is None or hi is None:
                continue
            bars.append((abs(hi.mean - lo.mean), f, x_lo, lo, x_hi, hi))
        bars.sort(key=lambda b: b[0])
        for k, (_, f, x_lo, lo, x_hi, hi) in enumerate(bars):
            for s, look in ((lo, looks[0]), (hi, looks[1])):
                ax.barh(k, s.mean - base.mean, left=base.mean, height=0.6, **look)
                if not math.isnan(s.half_width):
                    ax.errorbar(s.mean, k, xerr=s.half_width, color="k", lw=0.8, capsize=2)
        ax.set_yticks(range(len(bars)), [f"{wrap(names[b[1]], chars)}\n({_short(b[2])} / {_short(b[4])})"
                                         for b in bars], fontsize=style.pt(6))
        ax.axvline(base.mean, color="k", lw=0.8)
        ax.set_title(m, fontsize=style.pt(8))
        unit = lookup(m).unit if lookup(m) is not None else ""
        if unit:
            ax.set_xlabel(unit, fontsize=style.pt(7))
    handles = [plt.Rectangle((0, 0), 1, 1, **look) for look in looks]
    where = {"loc": "outside lower center"} if style.fixed else {"loc": "lower center"}
    fig.legend(handles, ["lowest level", "highest level"], frameon=False, ncol=2, **where)
    fig.suptitle("One factor at a time: change from the base case (bars), 95 % CI (whiskers)")
    if not style.fixed:
        fig.set_layout_engine("tight", rect=(0, 0.06, 1, 1))  # room for the legend below
    return save(fig, out, "tornado", style)


def difference_figure(rows: list[dict[str, str]], metrics: list[str], plan: dict[str, Any], out: Path,
                      style: FigureStyle | None = None) -> list[Path]:
    style = style or FigureStyle()
    by = {r["metric"]: r for r in rows}
    # metrics equal in every replication (a constant difference of 0) carry no information: left out
    names = [m for m in headline_metrics(by) if by[m]["mean_a"] not in ("", "0.0", "nan")
             and not by[m]["verdict"].startswith("identical")][:12] or metrics
    names = [m for m in names if m in by]
    if not names:
        return []
    chars = style.label_chars(6.5, 0.4) if style.fixed else 80
    labels = [wrap(m, chars) for m in names]
    lines = sum(label.count("\n") + 1 for label in labels)
    height = 0.32 * len(names) + 1.3 if not style.fixed else (0.15 * lines + 1.4) * style.base_size / 8
    fig, ax = plt.subplots(figsize=(style.figwidth(6.5), height))
    y = np.arange(len(names))[::-1]
    noisy = {"color": "#8c8c8c", "mfc": "#8c8c8c"} if not style.gray else {"color": "#7a7a7a", "mfc": "white"}
    real = {"color": "#c44e52" if style.screen else "#D55E00"} if not style.gray else {"color": "#000000"}
    for yi, m in zip(y, names):
        r = by[m]
        a = abs(float(r["mean_a"])) or 1.0
        d, lo, hi = (float(r[k]) / a * 100 for k in ("difference", "ci_low", "ci_high"))
        noise = r["verdict"].startswith("not distinguishable") or r["verdict"].startswith("identical")
        ax.errorbar(d, yi, xerr=[[d - lo], [hi - d]] if not math.isnan(lo) else None, fmt="o", ms=4, capsize=2,
                    **(noisy if noise else real))
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(y, labels, fontsize=style.pt(7))
    grey = "grey" if not style.gray else "open"
    ax.set_xlabel(f"difference B - A, % of A's mean ({grey}: not distinguishable from noise)")
    a, b = (p["id"] for p in plan["points"])
    ax.set_title(f"Paired differences with common random numbers: B = {b}, A = {a} (95 % CI)")
    return save(fig, out, "differences", style)
