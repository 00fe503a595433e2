"""Manufacturing figures: a Gantt-style chart per line, and the batch-versus-continuous trade-off.

Both run the simulation themselves (the line timelines are not part of the
results folder), with the scenario's seed, so they are reproducible::

    python -m sim.figures_mfg gantt scenarios/mfg_multistage.yaml --out docs
    python -m sim.figures_mfg compare scenarios/mfg_batch_vs_continuous.yaml --out docs --reps 10

``compare`` expects a scenario with one batch line and one continuous line
(any names); besides the side-by-side figure it writes ``batch_vs_continuous.csv``
with every point it plots (mean and 95 % half-width over replications).
"""
from __future__ import annotations

import argparse
import copy
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.errors import ScenarioError  # noqa: E402
from sim.model import SupplyChainModel, run_replication  # noqa: E402
from sim.results import write_csv  # noqa: E402
from sim.scenario import load_scenario, parse_scenario  # noqa: E402
from sim.scenario.supply import line_products  # noqa: E402
from sim.stats import summarize  # noqa: E402

STYLE = {"figure.dpi": 100, "savefig.dpi": 200, "font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7,
         "axes.spines.top": False, "axes.spines.right": False, "savefig.bbox": "tight"}
STATE_COLOURS = {"changeover": "#f2b134", "startup": "#8fd175", "shutdown": "#b5b5b5", "breakdown": "#d1495b",
                 "maintenance": "#7a5195", "waiting_material": "#cfe3f5", "closed": "#eeeeee"}
PRODUCT_COLOURS = ["#2e6fac", "#1b998b", "#5c4d7d", "#ed6a5a", "#3d5a80"]


# -- Gantt chart ---------------------------------------------------------------------------------
def gantt_figure(scenario, out: Path, seed: int | None = None, rep: int = 0, name: str | None = None) -> Path:
    """One replication's timeline of every line: campaigns by product, changeovers, start-ups,
    breakdowns, maintenance, waiting for material, tech transfer, and each lot's QC hold."""
    model = SupplyChainModel(scenario, seed, rep)
    model.run()
    t_end = scenario.horizon
    lines = model.lines
    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.75 * len(lines)))
    products = sorted({r.name for line in lines for r in line.recipes})
    pcol = {p: PRODUCT_COLOURS[i % len(PRODUCT_COLOURS)] for i, p in enumerate(products)}
    used = {}
    last = 0.0
    for row, line in enumerate(lines):
        line.clock.finish(t_end)
        y = len(lines) - 1 - row
        for a, b, state, label in line.clock.log:
            if state == "production":
                product, _, purpose = label.partition(" (")
                key = f"making {product}" + (" (engineering / PPQ)" if purpose else "")
                used[key] = ax.broken_barh([(a, b - a)], (y + 0.3, 0.5), color=pcol[product],
                                           alpha=0.45 if purpose else 1.0)
                last = max(last, b)
            elif state in STATE_COLOURS:
                used[state.replace("_", " ")] = ax.broken_barh([(a, b - a)], (y + 0.3, 0.5), color=STATE_COLOURS[state])
                if state != "closed":
                    last = max(last, b)
        for r in line.recipes:
            if not math.isnan(r.tech_transfer_start):
                end = r.tech_transfer_done if not math.isnan(r.tech_transfer_done) else t_end
                used["tech transfer"] = ax.broken_barh([(r.tech_transfer_start, end - r.tech_transfer_start)],
                                                       (y + 0.82, 0.1), color="#444444")
        for k, (a, b, outcome) in enumerate(line.qc_log):
            lane = y + 0.05 + 0.2 * (k % 3) / 3
            colour = "#9ab8d8" if outcome == "released" else "#d1495b"
            used[f"QC hold ({outcome})"] = ax.broken_barh([(a, b - a)], (lane, 0.05), color=colour)
            last = max(last, b)
    ax.set_yticks([len(lines) - 1 - i + 0.5 for i in range(len(lines))])
    ax.set_yticklabels([f"{line.name}\n({line.spec.cdmo})" for line in lines])
    ax.set_xlim(0, min(t_end, last * 1.05) if last > 0 else t_end)  # up to the last activity
    ax.set_xlabel("day")
    ax.set_title(f"{scenario.name}: line activity (replication {rep}); thin bars below each line: lots in QC hold")
    ax.legend(list(used.values()), list(used), ncol=4, frameon=False, loc="upper center",
              bbox_to_anchor=(0.5, -0.18 - 0.02 * len(lines)))
    return _save(fig, Path(out), name or f"gantt_{scenario.name}")


# -- batch versus continuous ---------------------------------------------------------------------
def _lines_by_kind(sc) -> tuple[str, str]:
    batch = next(line.name for line in sc.lines if line.kind == "batch")
    cont = next(line.name for line in sc.lines if line.kind == "continuous")
    return batch, cont


def _variant(sc, change) -> object:
    d = sc.model_dump(mode="json")
    change(d)
    return parse_scenario(d)


def _run(sc, reps: int, seed: int | None) -> list[dict[str, float]]:
    return [run_replication(sc, seed, rep).metrics for rep in range(reps)]


def _stat(runs, key) -> tuple[float, float]:
    s = summarize(key, [m.get(key, math.nan) for m in runs])
    return s.mean, (s.half_width if s.n > 1 else 0.0)


def compare(scenario, out: Path, reps: int = 10, seed: int | None = None,
            mtbf_factors=(0.25, 0.5, 1.0, 2.0, 4.0), analysts=(1, 2, 3, 4)) -> list[Path]:
    """Side-by-side statistics of the batch and the continuous line, and their sensitivity to
    breakdown frequency (MTBF scaled on both lines) and to QC capacity (analysts in every lab;
    the continuous line also with end-of-run testing, in batch-sized lots, in the batch line's lab
    instead of real-time release)."""
    out = Path(out)
    b, c = _lines_by_kind(scenario)
    rows = []
    base = _run(scenario, reps, seed)
    metrics = [("throughput (units/day)", "rate.released.{}"), ("cycle time (days)", "delay.cycle_time.{}.mean"),
               ("WIP (units)", "wip.{}.mean"), ("OEE", "oee.{}"), ("availability", "availability.{}"),
               ("performance", "performance.{}"), ("quality", "quality.{}"), ("cost per released unit", "cost.per_released_unit.{}"),
               ("first release (day)", "first_release.{}")]
    for label, key in metrics:
        for line in (b, c):
            mean, hw = _stat(base, key.format(line))
            rows.append(["base", label, line, "", mean, hw])

    def scale_mtbf(f):
        def change(d):
            for line in d["lines"]:
                tbf = line.get("time_between_failures")
                if tbf is not None:
                    line["time_between_failures"] = _scaled(tbf, f)
        return change

    for f in mtbf_factors:
        runs = _run(_variant(scenario, scale_mtbf(f)), reps, seed)
        for line in (b, c):
            for label, key in metrics[:2]:
                rows.append(["mtbf", label, line, f, *_stat(runs, key.format(line))])

    lab_of_b = next(line.qc_lab for line in scenario.lines if line.name == b)
    batch_size = next(p.batch_size for line in scenario.lines if line.name == b for p in line_products(line))

    def with_analysts(n, cont_in_lab=False):
        def change(d):
            for lab in d.get("qc_labs", []):
                lab["analysts"] = n
            if cont_in_lab:
                for line in d["lines"]:
                    if line["name"] == c:  # lots the size of a batch, tested like one; runs as long as before
                        _batch_sized_lots(line, batch_size)
                        line.update(release="end_of_run", qc_lab=lab_of_b, qc_tests=None)
        return change

    for n in analysts:
        runs = _run(_variant(scenario, with_analysts(n)), reps, seed)
        for line in (b, c):
            for label, key in metrics[:2]:
                rows.append(["analysts", label, line, n, *_stat(runs, key.format(line))])
        if lab_of_b is not None:
            runs = _run(_variant(scenario, with_analysts(n, True)), reps, seed)
            for label, key in metrics[:2]:
                rows.append(["analysts", label, f"{c} (end-of-run QC)", n, *_stat(runs, key.format(c))])
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "batch_vs_continuous.csv", ["study", "metric", "line", "setting", "mean", "ci_half_width"], rows)
    return [_compare_figure(rows, b, c, scenario.name, reps, out)]


def _batch_sized_lots(line: dict, size: float) -> None:
    """Make a continuous line (scenario dict) release lots of *size*, keeping the length of its runs."""
    products = line.get("products") or [line]
    for p in products:
        plan = p.get("plan") or {}
        if plan.get("campaign"):
            plan["campaign"] = max(1, round(plan["campaign"] * p["lot_size"] / size))
        p["lot_size"] = size


def _scaled(spec: dict | float, f: float):
    spec = copy.deepcopy(spec)
    if isinstance(spec, (int, float)):
        return spec * f
    for k in ("mean", "sd", "value", "scale", "low", "mode", "high"):
        if k in spec and spec[k] is not None:
            spec[k] *= f
    if "observations" in spec:
        spec["observations"] = [v * f for v in spec["observations"]]
    return spec


def _compare_figure(rows, b, c, name, reps, out: Path) -> Path:
    colours = {b: "#2e6fac", c: "#ed6a5a", f"{c} (end-of-run QC)": "#f2b134"}
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.6))
    panels = ["throughput (units/day)", "cycle time (days)", "WIP (units)"]
    for ax, metric in zip(axes[0], panels):
        pts = [(r[2], r[4], r[5]) for r in rows if r[0] == "base" and r[1] == metric]
        ax.bar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts], capsize=3,
               color=[colours[p[0]] for p in pts])
        ax.set_title(metric)
    ax = axes[1][0]
    parts = ["availability", "performance", "quality", "OEE"]
    x = np.arange(len(parts))
    for k, line in enumerate((b, c)):
        vals = [next(r for r in rows if r[0] == "base" and r[1] == p and r[2] == line) for p in parts]
        ax.bar(x + (k - 0.5) * 0.38, [v[4] for v in vals], 0.38, yerr=[v[5] for v in vals], capsize=2,
               color=colours[line], label=line)
    ax.set_xticks(x, parts)
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
        else:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_title(f"{metric} vs {'breakdown frequency' if study == 'mtbf' else 'QC capacity'}")
        ax.legend(frameon=False)
    fig.suptitle(f"{name}: batch vs continuous (mean and 95 % CI over {reps} replications)")
    fig.tight_layout()
    return _save(fig, out, "batch_vs_continuous")


def _save(fig, out: Path, name: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sim.figures_mfg", description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["gantt", "compare"])
    p.add_argument("scenario")
    p.add_argument("--out", default=".")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args(argv)
    try:
        sc = load_scenario(a.scenario)
    except ScenarioError as err:
        print(err, file=sys.stderr)
        sys.exit(2)
    with plt.rc_context(STYLE):
        paths = [gantt_figure(sc, Path(a.out), a.seed)] if a.what == "gantt" else compare(sc, Path(a.out), a.reps, a.seed)
    for path in paths:
        print(path)


if __name__ == "__main__":  # pragma: no cover
    main()
