"""Figures of a batch folder, from its stored tables only (summary.csv, design.csv,
scenarios.csv, comparison.csv and plan.json).

* ``comparison`` — each scenario's mean with its 95 % CI, one panel per metric;
* ``response`` — sweeps: the mean of each metric against each factor, with CI
  bands (grid) or CI bars (Latin hypercube / Sobol' points);
* ``tornado`` — one-factor-at-a-time: how far each factor's lowest and highest
  level move each metric from the base case, largest swing on top;
* ``differences`` — paired comparison: B - A of each metric relative to A, with CIs.
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from sim.experiments.designs import short_label, short_names
from sim.experiments.store import read_summary
from sim.figures.style import save
from sim.experiments.tables import headline_metrics, read_csv
from sim.core.stats import Summary

MAX_METRICS = 4
MAX_FACTORS = 4
MAX_GROUPS = 5


def batch_figures(results_dir: Path, plan: dict[str, Any]) -> list[Path]:
    summary = read_summary(results_dir)
    out = results_dir / "figures"
    metrics = _chosen_metrics(plan, summary)
    labels = _labels(results_dir, plan)
    paths = comparison_figure(summary, labels, metrics, out)
    design = plan.get("design") or {}
    if design and (results_dir / "design.csv").exists():
        values = _design_values(results_dir)
        if design["kind"] == "ofat":
            paths += tornado_figure(summary, values, design, metrics, out)
        else:
            paths += response_figure(summary, values, design, metrics, out)
    if plan["kind"] == "compare" and (results_dir / "comparison.csv").exists():
        paths += difference_figure(read_csv(results_dir / "comparison.csv"), metrics, plan, out)
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


def comparison_figure(summary, labels: dict[str, str], metrics: list[str], out: Path) -> list[Path]:
    ids = [i for i in labels if i in summary]
    if not ids or not metrics:
        return []
    height = max(2.4, 0.22 * len(ids) + 1.0)
    fig, axes = plt.subplots(1, len(metrics), figsize=(2.6 * len(metrics) + 1.4, height), squeeze=False,
                             sharey=True)
    y = np.arange(len(ids))[::-1]
    for ax, m in zip(axes[0], metrics):
        mean, lo, hi = np.array([_ci(summary[i].get(m)) for i in ids]).T
        ax.errorbar(mean, y, xerr=[mean - lo, hi - mean], fmt="o", ms=3.5, color="#4c72b0", capsize=2, lw=1)
        ax.set_title(m, fontsize=8)
        ax.grid(axis="y", visible=False)
    axes[0][0].set_yticks(y, [labels[i] for i in ids], fontsize=7)
    fig.suptitle("Scenarios compared: mean and 95 % CI across replications")
    fig.tight_layout()
    return save(fig, out, "comparison")


def response_figure(summary, values, design: dict[str, Any], metrics: list[str], out: Path) -> list[Path]:
    factors = [f for f in design["factors"]
               if any(isinstance(v.get(f), float) for v in values.values())][:MAX_FACTORS]
    if not factors or not metrics:
        return []
    fig, axes = plt.subplots(len(metrics), len(factors), figsize=(2.8 * len(factors) + 0.8, 2.2 * len(metrics)),
                             squeeze=False)
    grid = design["kind"] == "grid"
    for row, m in enumerate(metrics):
        for col, f in enumerate(factors):
            ax = axes[row][col]
            if grid:
                _grid_curves(ax, summary, values, f, [g for g in factors if g != f] + [
                    g for g in design["factors"] if g not in factors], m)
            else:
                pts = sorted((v[f], *_ci(summary.get(pid, {}).get(m))) for pid, v in values.items() if f in v)
                x, mean, lo, hi = np.array(pts, dtype=float).T
                ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="o", ms=3, capsize=1.5, lw=0.8,
                            color="#4c72b0")
            if row == len(metrics) - 1:
                ax.set_xlabel(short_names(design["factors"])[f], fontsize=7)
            if col == 0:
                ax.set_ylabel(m, fontsize=7)
    how = "mean with 95 % CI band" if grid else f"{design['kind']} design points, mean with 95 % CI"
    fig.suptitle(f"Response to the swept factors ({how})")
    fig.tight_layout()
    return save(fig, out, "response")


def _grid_curves(ax, summary, values, f: str, others: list[str], m: str) -> None:
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
    for key, pts in groups.items():
        x, mean, lo, hi = np.array(sorted(pts), dtype=float).T
        label = ", ".join(f"{g.rsplit('.', 1)[-1]}={_short(k)}" for g, k in zip(others, key)) if others and \
            key != ("mean over the other factors",) else (key[0] if isinstance(key[0], str) else None)
        line, = ax.plot(x, mean, "o-", ms=3, lw=1.2, label=label)
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    if len(groups) > 1 or others:
        ax.legend(frameon=False, fontsize=6)


def _short(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def tornado_figure(summary, values, design: dict[str, Any], metrics: list[str], out: Path) -> list[Path]:
    base_id = design.get("base")
    if base_id not in summary or not metrics:
        return []
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics) + 1.5, 0.45 * len(design["factors"]) + 1.6),
                             squeeze=False)
    for ax, m in zip(axes[0], metrics):
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
            for s, color, x in ((lo, "#4c72b0", x_lo), (hi, "#dd8452", x_hi)):
                ax.barh(k, s.mean - base.mean, left=base.mean, color=color, height=0.6)
                if not math.isnan(s.half_width):
                    ax.errorbar(s.mean, k, xerr=s.half_width, color="k", lw=0.8, capsize=2)
        names = short_names(design["factors"])
        ax.set_yticks(range(len(bars)), [f"{names[b[1]]}\n({_short(b[2])} / {_short(b[4])})" for b in bars],
                      fontsize=6)
        ax.axvline(base.mean, color="k", lw=0.8)
        ax.set_title(m, fontsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ("#4c72b0", "#dd8452")]
    fig.legend(handles, ["lowest level", "highest level"], frameon=False, loc="lower center", ncol=2)
    fig.suptitle("One factor at a time: change from the base case (bars), 95 % CI (whiskers)")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return save(fig, out, "tornado")


def difference_figure(rows: list[dict[str, str]], metrics: list[str], plan: dict[str, Any], out: Path) -> list[Path]:
    by = {r["metric"]: r for r in rows}
    # metrics equal in every replication (a constant difference of 0) carry no information: left out
    names = [m for m in headline_metrics(by) if by[m]["mean_a"] not in ("", "0.0", "nan")
             and not by[m]["verdict"].startswith("identical")][:12] or metrics
    names = [m for m in names if m in by]
    if not names:
        return []
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * len(names) + 1.3))
    y = np.arange(len(names))[::-1]
    for yi, m in zip(y, names):
        r = by[m]
        a = abs(float(r["mean_a"])) or 1.0
        d, lo, hi = (float(r[k]) / a * 100 for k in ("difference", "ci_low", "ci_high"))
        noise = r["verdict"].startswith("not distinguishable") or r["verdict"].startswith("identical")
        ax.errorbar(d, yi, xerr=[[d - lo], [hi - d]] if not math.isnan(lo) else None, fmt="o", ms=4, capsize=2,
                    color="#8c8c8c" if noise else "#c44e52")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(y, names, fontsize=7)
    ax.set_xlabel("difference B - A, % of A's mean (grey: not distinguishable from noise)")
    a, b = (p["id"] for p in plan["points"])
    ax.set_title(f"Paired differences with common random numbers: B = {b}, A = {a} (95 % CI)")
    fig.tight_layout()
    return save(fig, out, "differences")
