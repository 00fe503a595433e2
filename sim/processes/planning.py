"""Production planning: which campaigns a line runs for each of its products, and when.

* ``fixed``: a set number of batches (or run to the horizon), in campaigns of ``campaign``.
* ``make_to_forecast``: the batches the clinical plan needs, plus an overage,
  computed once before the run by :func:`forecast_batches` (demand of a final
  product from the trials; of an intermediate from the planned batches of the
  products made from it, through their bills of materials).
* ``make_to_stock``: every ``review_period`` days, when the stock position of
  the product downstream is at or below ``reorder_point`` and no campaign of
  it is outstanding, queue a campaign of ``campaign`` batches.

A product with a technology transfer gets its engineering and PPQ batches
queued only once the transfer has succeeded (see :mod:`sim.processes.tech_transfer`).
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Callable

from sim.context import Context
from sim.processes.manufacturing import Campaign, Recipe, _LineNode
from sim.processes.tech_transfer import transfer
from sim.scenario.supply import line_products


class PlanningError(ValueError):
    """A make-to-forecast plan that cannot be derived from the scenario."""


def good_per_batch(line, product, labs: dict) -> float:
    """Expected released units per batch (lot): yield, QC failures and rework taken into account."""
    if line.kind == "batch":
        nominal = product.batch_size * product.yield_fraction.mean_value
    else:
        nominal = product.lot_size
    if line.qc_lab is not None:
        lab = labs[line.qc_lab]
        p_pass = 1.0
        for t in lab.tests:
            if line.qc_tests is None or t.name in line.qc_tests:
                p_pass *= 1.0 - t.failure_prob * t.confirm_prob
        p_fail = 1.0 - p_pass
    else:
        p_fail = line.qc_failure_prob
    return nominal * ((1 - p_fail) + p_fail * line.rework_prob * line.rework_yield * (1 - p_fail))


def trial_demand_units(sc, trials: list[str] | None) -> float:
    """Units of final product the clinical plan dispenses (every patient completing every visit)."""
    kits = sum(t.target_patients * len(t.visits) * t.kits_per_visit
               for t in sc.trials if trials is None or t.name in trials)
    return kits * sc.packaging.units_per_kit


def forecast_batches(sc) -> dict[tuple[str, str], int]:
    """Batches (lots) per (line, product) of every make-to-forecast product; raises :class:`PlanningError`."""
    labs = {lab.name: lab for lab in sc.qc_labs}
    recipes = [(i, line, p) for i, line in enumerate(sc.lines) for p in line_products(line)]
    consumers = defaultdict(list)
    makers = defaultdict(list)
    for i, line, p in recipes:
        makers[p.product].append((i, line, p))
        for m, q in p.bom.items():
            if q > 0:
                consumers[m].append((i, line, p))
    memo: dict[tuple[int, str], int] = {}  # all batches of a product, qualification batches included
    gmp: dict[tuple[str, str], int] = {}

    def batches(i, line, p, depth=0) -> int:
        key = (i, p.product)
        if key in memo:
            return memo[key]
        if depth > len(recipes):
            raise PlanningError(f"lines[{i}]: products are made from each other in a cycle")
        tt = p.tech_transfer
        qual = (tt.engineering_batches + tt.ppq_batches) if tt else 0
        plan = p.plan
        if plan.policy == "fixed":
            if plan.batches is None:
                raise PlanningError(f"lines[{i}] ({p.product}): a fixed plan without a number of batches runs to "
                                    "the horizon, so the make-to-forecast plan upstream cannot be derived")
            n = plan.batches
        elif plan.policy == "make_to_stock":
            raise PlanningError(f"lines[{i}] ({p.product}): is make_to_stock, so the make-to-forecast plan "
                                "upstream of it cannot be derived; plan both make-to-forecast")
        else:
            if consumers[p.product]:
                units = 0.0
                for j, cl, cp in consumers[p.product]:
                    per = cp.bom[p.product] * (1.0 if cl.kind == "batch" else cp.lot_size)
                    units += batches(j, cl, cp, depth + 1) * per
            else:
                units = trial_demand_units(sc, plan.trials)
            mtf_makers = [x for x in makers[p.product] if x[2].plan.policy == "make_to_forecast"]
            units *= (1 + plan.overage) / len(mtf_makers)
            n = math.ceil(units / good_per_batch(line, p, labs) - 1e-9)
            gmp[line.name, p.product] = n
        memo[key] = n + qual
        return n + qual

    for i, line, p in recipes:
        if p.plan.policy == "make_to_forecast":
            batches(i, line, p)
    return gmp


class Planner:
    """Queues the campaigns of one product on one line."""

    def __init__(self, ctx: Context, line: _LineNode, recipe: Recipe, forecast: int | None,
                 position: Callable[[], float] | None) -> None:
        self.ctx = ctx
        self.line = line
        self.recipe = recipe
        self.plan = recipe.spec.plan
        self.forecast = forecast
        self.position = position
        self.outstanding = False
        tt = recipe.spec.tech_transfer
        if tt is None and self.plan.policy != "make_to_stock":
            self._queue_plan()  # at time 0, as the foundation did
        else:
            ctx.env.process(self.run())

    def _campaigns(self, total: int | None, purpose: str = "gmp") -> None:
        size = self.plan.campaign
        if total is None:
            if size is None:
                self.line.queue.put(Campaign(self.recipe, None, purpose))
            else:  # endless campaigns of *size*: queue the next when this one ends
                self._endless(size)
            return
        while total > 0:
            n = total if size is None else min(size, total)
            self.line.queue.put(Campaign(self.recipe, n, purpose))
            total -= n

    def _endless(self, size: int) -> None:
        self.line.queue.put(Campaign(self.recipe, size, "gmp", done=lambda: self._endless(size)))

    def _queue_plan(self) -> None:
        plan = self.plan
        if plan.policy == "fixed":
            self._campaigns(plan.batches)
        elif plan.policy == "make_to_forecast":
            self._campaigns(self.forecast)

    def run(self):
        env, line, tt = self.ctx.env, self.line, self.recipe.spec.tech_transfer
        yield env.timeout(line.spec.start)
        if tt is not None:
            self.recipe.tech_transfer_start = env.now
            attempts = yield from transfer(self.ctx, self.recipe.prefix + ".tech_transfer", tt)
            self.recipe.tech_transfer_done = env.now
            self.recipe.tech_transfer_attempts = attempts
            if tt.engineering_batches:
                line.queue.put(Campaign(self.recipe, tt.engineering_batches, "engineering"))
            if tt.ppq_batches:
                line.queue.put(Campaign(self.recipe, tt.ppq_batches, "ppq"))
        if self.plan.policy != "make_to_stock":
            self._queue_plan()
            return
        while True:
            if not self.outstanding and self.position() <= self.plan.reorder_point:
                self.outstanding = True
                line.queue.put(Campaign(self.recipe, self.plan.campaign, "gmp", done=self._done))
            yield env.timeout(self.plan.review_period)

    def _done(self) -> None:
        self.outstanding = False
