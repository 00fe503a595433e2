"""Manufacturing figures: a Gantt-style chart per line, and the batch-versus-continuous trade-off.

The Gantt chart is drawn from timeline rows (:class:`~sim.supply.lines.base.TimelineRow`):
those a run stores in ``timeline.csv`` (so ``run_sim.py run`` and ``plot`` draw it, see
:func:`gantt_from_table`), or those of one replication run here.  ``compare`` runs its own
replications.  Both use the scenario's seed, so they are reproducible::

    python -m sim.figures.manufacturing gantt scenarios/mfg_multistage.yaml --out docs
    python -m sim.figures.manufacturing compare scenarios/mfg_batch_vs_continuous.yaml --out docs --reps 10

``compare`` expects a scenario with one batch line and one continuous line
(any names); besides the side-by-side figure it writes ``batch_vs_continuous.csv``
with every point it plots (mean and 95 % half-width over replications).
"""
from __future__ import annotations

import argparse
import copy
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.core.errors import ScenarioError  # noqa: E402
from sim.figures.results import STYLE as RESULTS_STYLE  # noqa: E402
from sim.figures.results import _save, scenario_name  # noqa: E402
from sim.model import run_replication  # noqa: E402
from sim.core.timeline import TimelineRow  # noqa: E402
from sim.experiments.tables import read_csv, write_csv  # noqa: E402
from sim.scenario import load_scenario, parse_scenario  # noqa: E402
from sim.scenario.supply import line_products  # noqa: E402
from sim.core.stats import summarize  # noqa: E402

STYLE = {"figure.dpi": 100, "savefig.dpi": 200, "font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7,
         "axes.labelsize": "medium", "axes.grid": False,  # matplotlib's defaults, over sim.figures.STYLE's
         "axes.spines.top": False, "axes.spines.right": False, "savefig.bbox": "tight"}
STATE_COLOURS = {"changeover": "#f2b134", "startup": "#8fd175", "shutdown": "#b5b5b5", "breakdown": "#d1495b",
                 "maintenance": "#7a5195", "waiting_material": "#cfe3f5", "closed": "#eeeeee"}
PRODUCT_COLOURS = ["#2e6fac", "#1b998b", "#5c4d7d", "#ed6a5a", "#3d5a80"]
MAKING = ("production", "engineering", "ppq")
"""Timeline kinds drawn as making a product (engineering and PPQ batches paler)."""


# -- Gantt chart ---------------------------------------------------------------------------------
def gantt_figure(scenario, out: Path, seed: int | None = None, rep: int = 0, name: str | None = None) -> Path:
    """Run one replication and draw its timeline (the CLI's ``gantt``); returns the PNG."""
    rows = run_replication(scenario, seed, rep).timeline
    return gantt_chart(rows, _gantt_title(scenario.name, rep), Path(out), name or f"gantt_{scenario.name}")[0]


def gantt_from_table(results_dir: str | Path) -> list[Path]:
    """The Gantt chart of a results folder, from its ``timeline.csv`` alone (no simulation);
    written to ``<results>/figures/gantt.{png,svg}`` at the other figures' resolution."""
    results_dir = Path(results_dir)
    rep, rows = read_timeline(results_dir / "timeline.csv")
    with plt.rc_context({**STYLE, "savefig.dpi": RESULTS_STYLE["savefig.dpi"]}):
        return gantt_chart(rows, _gantt_title(scenario_name(results_dir), rep), results_dir / "figures", "gantt",
                           ("png", "svg"))


def read_timeline(path: Path) -> tuple[int, list[TimelineRow]]:
    """The replication a ``timeline.csv`` belongs to, and its rows."""
    table = read_csv(path)
    rows = [TimelineRow(r["line"], r["cdmo"], float(r["start"]), float(r["end"]), r["kind"], r["label"])
            for r in table]
    return (int(table[0]["rep"]) if table else 0), rows


def _gantt_title(scenario: str, rep: int) -> str:
    return f"{scenario}: line activity (replication {rep}); thin bars below each line: lots in QC hold"


def gantt_chart(rows: Sequence[TimelineRow], title: str, out: Path, name: str,
                formats: Sequence[str] = ("png",)) -> list[Path]:
    """One replication's timeline of every line: campaigns by product, changeovers, start-ups,
    breakdowns, maintenance, waiting for material, tech transfer, and each lot's QC hold.

    Lines are drawn top to bottom in the order they first appear in *rows* (the scenario's);
    the x axis ends a little after the last activity (closed slots and idling do not count)."""
    lines = list(dict.fromkeys((r.line, r.cdmo) for r in rows))
    lane = {line: len(lines) - 1 - i for i, (line, _) in enumerate(lines)}
    products = sorted({r.label for r in rows if r.kind in MAKING + ("startup", "tech_transfer")})
    colours = {p: PRODUCT_COLOURS[i % len(PRODUCT_COLOURS)] for i, p in enumerate(products)}
    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.75 * len(lines)))
    used: dict[str, object] = {}  # legend entry -> an artist, in order of first appearance
    qc_seen: dict[str, int] = defaultdict(int)
    last = 0.0
    for r in rows:
        drawn = _gantt_bar(ax, r, lane[r.line], colours, qc_seen[r.line])
        if r.kind == "qc_hold":
            qc_seen[r.line] += 1
        if drawn is not None:
            key, artist, activity = drawn
            used[key] = artist
            if activity:
                last = max(last, r.end)
    t_end = max((r.end for r in rows), default=0.0)
    ax.set_yticks([len(lines) - 1 - i + 0.5 for i in range(len(lines))])
    ax.set_yticklabels([f"{line}\n({cdmo})" for line, cdmo in lines])
    ax.set_xlim(0, min(t_end, last * 1.05) if last > 0 else t_end)
    ax.set_xlabel("day")
    ax.set_title(title)
    ax.legend(list(used.values()), list(used), ncol=4, frameon=False, loc="upper center",
              bbox_to_anchor=(0.5, -0.18 - 0.02 * len(lines)))
    return _save(fig, out, name, formats)


def _gantt_bar(ax, r: TimelineRow, y: float, colours: dict[str, str],
               qc_index: int) -> tuple[str, object, bool] | None:
    """Draw one timeline row in the lane of its line (bottom at *y*): a state or campaign bar,
    a thin tech-transfer bar on top, or a thin QC-hold bar in one of three sub-lanes below.
    Returns (legend entry, artist, counts as activity), or None for rows not drawn (idling)."""
    span = [(r.start, r.end - r.start)]
    if r.kind in MAKING:
        trial = r.kind != "production"
        key = f"making {r.label}" + (" (engineering / PPQ)" if trial else "")
        return key, ax.broken_barh(span, (y + 0.3, 0.5), color=colours[r.label], alpha=0.45 if trial else 1.0), True
    if r.kind in STATE_COLOURS:
        bar = ax.broken_barh(span, (y + 0.3, 0.5), color=STATE_COLOURS[r.kind])
        return r.kind.replace("_", " "), bar, r.kind != "closed"
    if r.kind == "tech_transfer":
        return "tech transfer", ax.broken_barh(span, (y + 0.82, 0.1), color="#444444"), False
    if r.kind == "qc_hold":
        colour = "#9ab8d8" if r.label == "released" else "#d1495b"
        bar = ax.broken_barh(span, (y + 0.05 + 0.2 * (qc_index % 3) / 3, 0.05), color=colour)
        return f"QC hold ({r.label})", bar, True
    return None


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

    def sensitivity(kind, value, runs, lines, shown=None):
        """Rows of throughput and cycle time of *lines* in one sensitivity run."""
        for line in lines:
            for label, key in metrics[:2]:
                rows.append([kind, label, shown or line, value, *_stat(runs, key.format(line))])

    for f in mtbf_factors:
        sensitivity("mtbf", f, _run(_variant(scenario, scale_mtbf(f)), reps, seed), (b, c))

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
        sensitivity("analysts", n, _run(_variant(scenario, with_analysts(n)), reps, seed), (b, c))
        if lab_of_b is not None:
            sensitivity("analysts", n, _run(_variant(scenario, with_analysts(n, True)), reps, seed), (c,),
                        shown=f"{c} (end-of-run QC)")
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
    return _save(fig, out, "batch_vs_continuous", ("png",))[0]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sim.figures.manufacturing", description=__doc__.split("\n")[0])
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
