"""Paired comparison of two scenarios under common random numbers.

Both scenarios run replication *r* from the same seed, so every component
draws the same random numbers in both (streams are keyed by component name,
see :mod:`sim.core.randomness`).  The difference B - A of each metric is then
taken replication by replication: the noise the two share cancels, and the
confidence interval of the mean difference is much narrower than the one
from comparing two independent means (reported alongside, for reference).
A difference whose interval covers 0 is reported as not distinguishable from
noise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from sim.experiments.plan import Plan, Point
from sim.experiments.tables import write_csv
from sim.scenario import Scenario
from sim.core.stats import Summary, summarize

NOISE = "not distinguishable from noise"
HEADER = ["metric", "n", "mean_a", "mean_b", "difference", "ci_low", "ci_high", "half_width",
          "unpaired_half_width", "relative_difference", "verdict"]


@dataclass(frozen=True)
class Difference:
    metric: str
    mean_a: float
    mean_b: float
    diff: Summary                 # of B - A, paired by replication
    unpaired_half_width: float    # Welch interval of mean_b - mean_a, as if run independently
    verdict: str

    @property
    def relative(self) -> float:
        return self.diff.mean / abs(self.mean_a) if self.mean_a else math.nan

    def row(self) -> list:
        d = self.diff
        return [self.metric, d.n, self.mean_a, self.mean_b, d.mean, d.ci_low, d.ci_high, d.half_width,
                self.unpaired_half_width, self.relative, self.verdict]


def compare_plan(a: Scenario, b: Scenario, labels: tuple[str, str], reps: int, seed: int,
                 metrics: list[str] | None = None) -> Plan:
    """Two scenarios, one seed: the plan of a paired comparison."""
    la, lb = labels
    if la == lb:
        la, lb = f"{la}-a", f"{lb}-b"
    return Plan("compare", f"{la}-vs-{lb}", [Point(la, a, "a"), Point(lb, b, "b")], seed=seed, reps=reps,
                detail=True, metrics=list(metrics or []))


def welch_half_width(x: np.ndarray, y: np.ndarray, confidence: float = 0.95) -> float:
    nx, ny = len(x), len(y)
    if nx < 2 or ny < 2:
        return math.nan
    vx, vy = x.var(ddof=1) / nx, y.var(ddof=1) / ny
    se2 = vx + vy
    if se2 == 0:
        return 0.0
    df = se2 * se2 / (vx * vx / (nx - 1) + vy * vy / (ny - 1))
    from scipy.special import stdtrit  # Student t quantile (df may be fractional: Welch)
    return float(stdtrit(df, 0.5 + confidence / 2) * math.sqrt(se2))


def verdict(d: Summary, name_b: str = "B") -> str:
    if d.n < 2:
        return "too few replications"
    if d.sd == 0:
        return "identical in every replication" if d.mean == 0 else (
            f"{name_b} higher in every replication" if d.mean > 0 else f"{name_b} lower in every replication")
    if d.ci_low <= 0 <= d.ci_high:
        return NOISE
    return f"{name_b} higher" if d.mean > 0 else f"{name_b} lower"


def paired_differences(a: Mapping[int, Mapping[str, float]], b: Mapping[int, Mapping[str, float]],
                       name_b: str = "B") -> list[Difference]:
    """Per metric, the B - A differences over the replications both scenarios completed."""
    reps = sorted(a.keys() & b.keys())
    names = sorted({k for r in reps for k in a[r]} & {k for r in reps for k in b[r]})
    out = []
    for m in names:
        pairs = np.array([(a[r].get(m, np.nan), b[r].get(m, np.nan)) for r in reps], dtype=float).reshape(-1, 2)
        pairs = pairs[~np.isnan(pairs).any(axis=1)]
        xa, xb = pairs[:, 0], pairs[:, 1]
        d = summarize(m, xb - xa)
        mean_a = float(xa.mean()) if len(xa) else math.nan
        mean_b = float(xb.mean()) if len(xb) else math.nan
        out.append(Difference(m, mean_a, mean_b, d, welch_half_width(xa, xb), verdict(d, name_b)))
    return out


def write_comparison(path: str | Path, diffs: list[Difference]) -> None:
    write_csv(path, HEADER, (d.row() for d in diffs))
