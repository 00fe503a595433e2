"""Refusing an experiment that would not fit, before it starts.

A long horizon with a short period, many replications, or a large design multiply into per-period
series that fill memory and disk hours into a run.  :func:`estimate` sizes an experiment from its plan
(series per replication x periods x replications x scenarios, the series counted on the models of
the first scenarios) and :func:`check` refuses it, naming what drives the size, when it exceeds this machine's
memory or the free space where the results go.  ``--no-budget`` skips the check.
"""
from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sim.experiments.plan import Plan

# Measured on the default scenario (99 series x 79 periods per replication; 200 replications, 2 workers,
# Parquet datasets): the results folder takes ~3.7 bytes per series value (dictionary-encoded names,
# byte-stream-split, zstd) and ~20 kB per replication besides (delay samples, metrics, its record,
# accounting rows); the main process keeps ~15 kB per replication (its metrics), each worker holds a
# replication's series a few times over (bins, result, pickled copy), and drawing the figures holds
# every stored series value about four times (Arrow table, sorted copies, the arrays).  Re-measure
# when the storage format changes (python bench/bench_scale.py prints the folder's size).
DISK_PER_VALUE = 4
DISK_PER_REPLICATION = 20_000
MEMORY_PER_VALUE = 32         # in each worker, for the replication it is running
MEMORY_PER_STORED_VALUE = 32  # in the process drawing the figures, for every replication stored
MEMORY_PER_REPLICATION = 15_000
MEMORY_SHARE = 0.5            # of this machine's memory an experiment may plan to use
SAMPLED_POINTS = 10           # scenarios of a batch whose model is built to count series


class BudgetError(ValueError):
    """The experiment would exceed the memory or disk budget (bad input: exit status 2)."""


@dataclass(frozen=True)
class Estimate:
    series: int          # per replication, the largest among the scenarios measured
    periods: int
    replications: int    # in all, over every scenario
    memory: float        # bytes
    disk: float          # bytes

    def describe(self) -> str:
        return (f"{self.replications:,} replications x {self.series} series x {self.periods:,} periods "
                f"(horizon / period)")


def series_per_replication(plan: Plan) -> int:
    """Series one replication records: the model of up to :data:`SAMPLED_POINTS` scenarios is built
    with a single period (cheap) and its counters and levels counted."""
    from sim.model import SupplyChainModel
    pts = plan.points
    step = max(1, len(pts) // SAMPLED_POINTS)
    most = 0
    for p in pts[::step][:SAMPLED_POINTS]:
        sc = p.scenario.model_copy(update={"period": p.scenario.horizon})
        ctx = SupplyChainModel(sc, plan.seed, 0).ctx
        most = max(most, len(ctx.levels) + len(ctx.counters))
    return most


def estimate(plan: Plan) -> Estimate:
    reps = plan.sequential.max_reps if plan.sequential else plan.reps
    total = reps * len(plan.points)
    periods = max(math.ceil(p.scenario.horizon / p.scenario.period) + 1 for p in plan.points)
    series = series_per_replication(plan) if plan.detail else 0
    per_rep = series * periods
    workers = min(total, os.cpu_count() or 1)
    return Estimate(series, periods, total,
                    memory=workers * per_rep * MEMORY_PER_VALUE + total * MEMORY_PER_REPLICATION
                    + reps * per_rep * MEMORY_PER_STORED_VALUE,  # one scenario's series, for its figures
                    disk=total * (per_rep * DISK_PER_VALUE + DISK_PER_REPLICATION))


def physical_memory() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not a POSIX system
        return math.inf


def free_disk(out_dir: str | Path) -> float:
    """Free bytes on the file system that will hold *out_dir* (its nearest existing ancestor)."""
    p = Path(out_dir).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free
    except OSError:
        return math.inf


def _gb(x: float) -> str:
    return f"{x / 1e9:,.1f} GB"


def check(plan: Plan, out_dir: str | Path | None) -> Estimate:
    """Raise :class:`BudgetError` if *plan* would need more than half this machine's memory, or more
    disk than is free under *out_dir*; otherwise return the estimate."""
    est = estimate(plan)
    memory = physical_memory() * MEMORY_SHARE
    hint = ("a longer reporting `period`, fewer replications or scenarios, or detail: false in a batch; "
            "or run anyway with --no-budget")
    if est.memory > memory:
        raise BudgetError(f"{plan.name}: this experiment would need about {_gb(est.memory)} of memory "
                          f"({est.describe()}); the budget is {_gb(memory)}, half of this machine's. "
                          f"Use {hint}")
    if out_dir is not None and est.disk > free_disk(out_dir):
        raise BudgetError(f"{plan.name}: the results would take about {_gb(est.disk)} "
                          f"({est.describe()}); {Path(out_dir)} has {_gb(free_disk(out_dir))} free. "
                          f"Use {hint}")
    return est
