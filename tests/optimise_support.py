"""The optimiser's validation cases with known optima (``scenarios/optimise/``): their analytic
objectives, the configurations within the indifference zone of the optimum, and a stand-in backend
that draws the newsvendor's outputs in closed form (the whole optimiser, many times, in seconds).

Shared by tests/test_optimise_validation.py and bench/bench_optimise_validation.py."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
from scipy import stats

from sim.experiments.backends import Outcome

CASES = Path(__file__).resolve().parents[1] / "scenarios" / "optimise"

NV_MEAN, NV_COST, NV_PENALTY = 20.0, 1.0, 4.0
"""Newsvendor: demand Poisson(20), c = 1 per kit packaged, p = 4 per patient not dosed."""
BS_MEAN, BS_FILL = 10.0, 0.9
"""Base stock: lead-time demand Poisson(2 a day x 5 days), fill rate at least 0.9."""


def newsvendor_cost(q: int, mean: float = NV_MEAN, c: float = NV_COST, p: float = NV_PENALTY) -> float:
    """g(Q) = c Q + p E[(D - Q)+], D ~ Poisson(mean), exactly (E[(D - Q)+] = E[D] - E[min(D, Q)])."""
    k = np.arange(q)
    return c * q + p * (mean - float(np.sum(k * stats.poisson.pmf(k, mean))) - q * float(stats.poisson.sf(q - 1, mean)))


def base_stock_on_hand(s: int, mean: float = BS_MEAN) -> float:
    """Mean stock on hand of base stock S with backorders: E[(S - D)+], D ~ Poisson(lead-time mean)."""
    k = np.arange(s)
    return float(np.sum((s - k) * stats.poisson.pmf(k, mean)))


def base_stock_fill(s: int, mean: float = BS_MEAN) -> float:
    """Fill rate of base stock S: P(D <= S - 1)."""
    return float(stats.poisson.cdf(s - 1, mean))


@dataclass(frozen=True)
class Case:
    """A validation case: its optimisation file, the one variable's range, the true objective (inf
    where infeasible) and the indifference zone."""

    name: str
    file: Path
    low: int
    high: int
    objective: Callable[[int], float]
    indifference: float

    @property
    def optimum(self) -> int:
        return min(range(self.low, self.high + 1), key=self.objective)

    @property
    def good(self) -> set[int]:
        """Feasible values within the indifference zone of the optimum's objective."""
        best = self.objective(self.optimum)
        return {x for x in range(self.low, self.high + 1) if self.objective(x) - best <= self.indifference}


NEWSVENDOR = Case("newsvendor", CASES / "newsvendor.yaml", 10, 35, newsvendor_cost, 1.0)
BASE_STOCK = Case("base-stock", CASES / "base-stock.yaml", 8, 20,
                  lambda s: base_stock_on_hand(s) if base_stock_fill(s) >= BS_FILL else np.inf, 0.5)


class NewsvendorBackend:
    """Runs no simulation: replication *r* of a candidate (its first line's batch size Q) draws demand
    D ~ Poisson(20) from the seed and *r* alone (common random numbers, as the model's streams do) and
    reports Q kits packaged and (D - Q)+ visits not dosed — the model's own outputs for the newsvendor
    scenario (checked against it in tests/test_optimise_validation.py)."""

    name, workers = "newsvendor-closed-form", 1

    def run(self, tasks, work=None, detail=True):
        for t in tasks:
            q = int(t.scenario.lines[0].batch_size)
            d = int(np.random.default_rng([t.seed, t.rep]).poisson(NV_MEAN))
            metrics = {"total.packaged.kits": float(q), "total.visits.not_dosed": float(max(d - q, 0))}
            yield Outcome(t.point, t.rep, t.seed, result=SimpleNamespace(metrics=metrics))

    def close(self) -> None:
        pass


class BaseStockBackend:
    """Runs no simulation: replication *r* of a base-stock level S reports the fill rate P(D <= S - 1)
    and the stock on hand E[(S - D)+] (D ~ Poisson(10)) plus normal noise of the model's own spread
    (sd 0.011 and 0.20 per replication, measured on base-stock-scenario.yaml at S = 14..16), the same
    noise for every S in replication *r* (common random numbers)."""

    name, workers = "base-stock-closed-form", 1

    def run(self, tasks, work=None, detail=True):
        for t in tasks:
            s = int(t.scenario.materials[0].policy.level)
            z = np.random.default_rng([t.seed, t.rep]).standard_normal(2)
            metrics = {"fill_rate.market.shop": base_stock_fill(s) + 0.011 * z[0],
                       "inventory.material.m.mean": base_stock_on_hand(s) + 0.20 * z[1]}
            yield Outcome(t.point, t.rep, t.seed, result=SimpleNamespace(metrics=metrics))

    def close(self) -> None:
        pass
