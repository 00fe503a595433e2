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
queued only once the transfer has succeeded (see :mod:`sim.supply.tech_transfer`).
"""
from __future__ import annotations

from typing import Callable

from sim.core.context import Context
from sim.supply.lines.base import Campaign, Recipe, _LineNode
from sim.supply.tech_transfer import transfer



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
