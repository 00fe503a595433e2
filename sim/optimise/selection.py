"""Ranking and selection: Kim and Nelson's fully sequential procedure (KN, 2001) with common random
numbers.

Among *k* candidates, pick the one with the smallest expected objective.  Guarantee: if the best is at
least ``delta`` (the indifference zone) better than every other, it is selected with probability at
least ``1 - alpha`` (for normally distributed outputs; CRN are allowed, the procedure works on the
paired differences).  Each candidate first gets ``n0`` replications; then every survivor gets one more
replication per stage, and candidate *i* is eliminated as soon as its running mean is worse than another
survivor's by more than the continuation region ``W_il(r) = max(0, delta / (2 r) (h^2 S_il^2 / delta^2 - r))``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np


@dataclass
class Selection:
    """The outcome: the chosen candidate, replications spent, and each stage's survivors."""

    best: int
    replications: dict[int, int]
    stages: list[list[int]] = field(default_factory=list)
    stopped_by_cap: bool = False


def kn_eta(alpha: float, k: int, n0: int) -> float:
    """KN's eta: 1/2 [(2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1]."""
    return 0.5 * ((2 * alpha / (k - 1)) ** (-2.0 / (n0 - 1)) - 1)


def kn_select(draw: Callable[[int, int], float], k: int, delta: float, alpha: float = 0.05, n0: int = 10,
              max_reps: int = 1000, first: Sequence[Sequence[float]] | None = None,
              prefetch: Callable[[list[tuple[int, int]]], None] | None = None) -> Selection:
    """Select the candidate with the smallest mean.  ``draw(i, r)`` returns candidate *i*'s objective in
    replication *r* (the same *r* for every candidate: common random numbers).  *first* may give
    replications already run (each candidate's values for r = 0, 1, ...), reused before drawing more;
    *prefetch*, if given, is told each stage's ``(i, r)`` first, so they can run in parallel."""
    if k == 1:
        return Selection(0, {0: 0})
    if n0 < 2:
        raise ValueError("n0 must be at least 2")
    values = [list(first[i]) if first is not None else [] for i in range(k)]

    def value(i: int, r: int) -> float:
        while len(values[i]) <= r:
            values[i].append(float(draw(i, len(values[i]))))
        return values[i][r]

    if prefetch is not None:
        prefetch([(i, r) for i in range(k) for r in range(len(values[i]), n0)])
    x = np.array([[value(i, r) for r in range(n0)] for i in range(k)])
    h2 = 2 * kn_eta(alpha, k, n0) * (n0 - 1)
    s2 = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            if i != j:
                s2[i, j] = np.var(x[i] - x[j], ddof=1)
    alive = list(range(k))
    sums = x.sum(axis=1)
    r = n0
    stages = [list(alive)]
    while True:
        means = sums / r
        out = []
        for i in alive:
            for j in alive:
                if i != j:
                    w = max(0.0, delta / (2 * r) * (h2 * s2[i, j] / delta ** 2 - r))
                    if means[i] > means[j] + w:
                        out.append(i)
                        break
        alive = [i for i in alive if i not in out]
        stages.append(list(alive))
        if len(alive) == 1:
            return Selection(alive[0], {i: len(values[i]) for i in range(k)}, stages)
        if r >= max_reps:
            best = min(alive, key=lambda i: means[i])
            return Selection(best, {i: len(values[i]) for i in range(k)}, stages, stopped_by_cap=True)
        if prefetch is not None:
            prefetch([(i, r) for i in alive if len(values[i]) <= r])
        for i in alive:
            sums[i] += value(i, r)
        r += 1


def kn_budget_bound(s2: float, delta: float, alpha: float, k: int, n0: int) -> int:
    """The most replications one pair can need (where its continuation region closes): h^2 S^2 / delta^2."""
    h2 = 2 * kn_eta(alpha, k, n0) * (n0 - 1)
    return max(n0, math.ceil(h2 * s2 / delta ** 2))
