"""Batch versus continuous manufacturing of the same product: side by side, and how each responds to
breakdowns and to QC capacity.

The scenario must have one batch line and one continuous line (any names).  The study runs, with common
random numbers: the scenario itself; its MTBF scaled on both lines; and the number of QC analysts in
every lab varied — with the continuous line also tested at the end of the run, in batch-sized lots, in
the batch line's lab instead of released in real time.  It writes ``batch_vs_continuous.csv`` (every
point plotted: mean and 95 % half-width over replications), the figure, and the Gantt chart of the base
scenario's first replication.
"""
from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Callable, Sequence

from sim.core.stats import summarize
from sim.core.timeline import TimelineRow
from sim.experiments.plan import Plan, Point
from sim.experiments.run import run_plan
from sim.experiments.tables import write_csv
from sim.scenario import Scenario, parse_scenario
from sim.scenario.resolve import experiment_seed
from sim.scenario.supply import BatchLine, ContinuousLine

METRICS = [("throughput (units/day)", "rate.released.{}"), ("cycle time (days)", "delay.cycle_time.{}.mean"),
           ("WIP (units)", "wip.{}.mean"), ("OEE", "oee.{}"), ("availability", "availability.{}"),
           ("performance", "performance.{}"), ("quality", "quality.{}"),
           ("cost per released unit", "cost.per_released_unit.{}"), ("first release (day)", "first_release.{}")]
END_OF_RUN = "end-of-run QC"
"""Label of the variants testing the continuous line's lots at the end of the run in the batch line's lab."""
HEADER = ["study", "metric", "line", "setting", "mean", "ci_half_width"]


def lines_compared(sc: Scenario) -> tuple[str, str]:
    """The batch line and the continuous line of the study's scenario."""
    batch = next(line.name for line in sc.lines if isinstance(line, BatchLine))
    cont = next(line.name for line in sc.lines if isinstance(line, ContinuousLine))
    return batch, cont


def variant(sc: Scenario, change: Callable[[dict], None]) -> Scenario:
    d = sc.model_dump(mode="json")
    change(d)
    return parse_scenario(d)


def scaled(spec: dict | float, f: float):
    """A distribution (or a number) scaled by *f*."""
    spec = copy.deepcopy(spec)
    if isinstance(spec, (int, float)):
        return spec * f
    for k in ("mean", "sd", "value", "scale", "low", "mode", "high"):
        if k in spec and spec[k] is not None:
            spec[k] *= f
    if "observations" in spec:
        spec["observations"] = [v * f for v in spec["observations"]]
    return spec


def batch_sized_lots(line: dict, size: float) -> None:
    """Make a continuous line (scenario dict) release lots of *size*, keeping the length of its runs."""
    products = line.get("products") or [line]
    for p in products:
        plan = p.get("plan") or {}
        if plan.get("campaign"):
            plan["campaign"] = max(1, round(plan["campaign"] * p["lot_size"] / size))
        p["lot_size"] = size


def variants(sc: Scenario, mtbf_factors: Sequence[float], analysts: Sequence[int]) -> list[Point]:
    """Every scenario of the study, as points of one experiment plan (ids say what changed)."""
    b, c = lines_compared(sc)
    points = [Point("base", sc, role="base")]

    def scale_mtbf(f):
        def change(d):
            for line in d["lines"]:
                if line.get("time_between_failures") is not None:
                    line["time_between_failures"] = scaled(line["time_between_failures"], f)
        return change

    points += [Point(f"mtbf-{f:g}", variant(sc, scale_mtbf(f)), factors={"mtbf": f}) for f in mtbf_factors]
    lab_of_b = next(line.qc_lab for line in sc.lines if line.name == b)
    batch_size = next(p.batch_size for line in sc.lines if line.name == b for p in line.product_specs())

    def with_analysts(n, cont_in_lab=False):
        def change(d):
            for lab in d.get("qc_labs", []):
                lab["analysts"] = n
            if cont_in_lab:
                for line in d["lines"]:
                    if line["name"] == c:  # lots the size of a batch, tested like one; runs as long as before
                        batch_sized_lots(line, batch_size)
                        line.update(release="end_of_run", qc_lab=lab_of_b, qc_tests=None)
        return change

    for n in analysts:
        points.append(Point(f"analysts-{n}", variant(sc, with_analysts(n)), factors={"analysts": n}))
        if lab_of_b is not None:
            points.append(Point(f"analysts-{n}-end-of-run", variant(sc, with_analysts(n, True)),
                                factors={"analysts": n}, label=END_OF_RUN))
    return points


def _stat(runs: list[dict[str, float]], key: str) -> tuple[float, float]:
    s = summarize(key, [m.get(key, math.nan) for m in runs])
    return s.mean, (s.half_width if s.n > 1 else 0.0)


def table(sc: Scenario, points: list[Point], runs: dict[str, list[dict[str, float]]]) -> list[list]:
    """The study's rows from each point's per-replication metrics (in replication order)."""
    b, c = lines_compared(sc)
    rows = []
    for label, key in METRICS:
        for line in (b, c):
            rows.append(["base", label, line, "", *_stat(runs["base"], key.format(line))])
    for p in points:
        if not p.factors:
            continue
        (study, setting), = p.factors.items()
        lines = [(c, f"{c} ({END_OF_RUN})")] if p.label == END_OF_RUN else [(b, b), (c, c)]
        for line, shown in lines:
            for label, key in METRICS[:2]:
                rows.append([study, label, shown, setting, *_stat(runs[p.id], key.format(line))])
    return rows


def run_study(sc: Scenario, out: str | Path, reps: int = 10, seed: int | None = None,
              mtbf_factors: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0), analysts: Sequence[int] = (1, 2, 3, 4),
              workers: int | None = 1, progress: bool | None = None) -> tuple[list[list], list[TimelineRow]]:
    """Run the study (every variant with the same seed: common random numbers) and write its table to
    ``<out>/batch_vs_continuous.csv``; returns the rows and the base scenario's first timeline."""
    points = variants(sc, mtbf_factors, analysts)
    plan = Plan("batch", f"{sc.name}-batch-vs-continuous", points, seed=experiment_seed(sc, seed), reps=reps)
    res = run_plan(plan, workers=workers, progress=progress, keep=True)
    if res.outcome.failures:
        f = res.outcome.failures[0]
        raise RuntimeError(f"{len(res.outcome.failures)} replication(s) failed; first: {f.point} rep {f.rep}: "
                           f"{f.error_type}: {f.message}")
    runs = {p.id: [res.outcome.metrics[p.id][r] for r in res.outcome.reps[p.id]] for p in points}
    rows = table(sc, points, runs)
    out = Path(out)
    write_csv(out / "batch_vs_continuous.csv", HEADER, rows)
    first = res.outcome.reps["base"][0]
    return rows, res.outcome.results["base"][first].timeline
