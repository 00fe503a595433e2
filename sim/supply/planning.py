"""Production planning: which campaigns a line runs for each of its products, and when.

One planner class per kind of plan (:data:`PLANNERS`, keyed by the plan's schema class):

* ``fixed``: a set number of batches (or run to the horizon), in campaigns of ``campaign``.
* ``make_to_forecast``: the batches the clinical plan needs, plus an overage,
  computed once before the run by :func:`~sim.scenario.forecast.forecast_batches`
  (demand of a final product from the trials; of an intermediate from the planned
  batches of the products made from it, through their bills of materials).
* ``make_to_stock``: every ``review_period`` days, when the stock position of
  the product downstream is at or below ``reorder_point`` and no campaign of
  it is outstanding, queue a campaign of ``campaign`` batches.
* ``order_up_to``: continuous review (s, S): at every change of the downstream
  stock and when a campaign ends, if no campaign is outstanding and the position
  is at or below s, queue a campaign sized to bring it up to S.

A plan with ``min_batch`` ends on a partial batch: the last batch makes only what is
still needed (at least ``min_batch`` of the nominal size), not a whole batch.

A product with a technology transfer gets its engineering and PPQ batches
queued only once the transfer has succeeded (see :mod:`sim.supply.tech_transfer`).
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

from sim.core.context import Context
from sim.core.lots import LotStore
from sim.core.node import Node
from sim.scenario.forecast import last_batch_share
from sim.scenario.kinds import Registry
from sim.scenario.supply import PLANS, FixedPlan, ForecastPlan, OrderUpToPlan, StockPlan
from sim.supply.lines.base import Campaign, LineNode, Recipe
from sim.supply.tech_transfer import transfer

Schedule = tuple[tuple[float, int], ...]
"""Campaigns of a time-phased forecast: (start day, batches) each."""


class Planner(Node):
    """Queues the campaigns of one product on one line: the plan's batches, after any tech transfer."""

    def __init__(self, ctx: Context, line: LineNode, recipe: Recipe, forecast: int | None,
                 position: Callable[[], float] | None, schedule: Schedule | None = None,
                 last: float = 1.0) -> None:
        self.ctx = ctx
        self.line = line
        self.recipe = recipe
        self.plan = recipe.spec.plan
        self.forecast = forecast
        self.position = position
        self.schedule = schedule
        self.last = last  # share of the nominal size the plan's last batch makes (partial last batch)

    def start(self) -> None:
        if self.recipe.spec.tech_transfer is None and self.queues_at_once:
            self._queue_plan()  # at time 0, as the foundation did
        else:
            self.ctx.env.process(self.run())

    queues_at_once = True
    """Whether the plan's campaigns are all known at time 0 (queued at once without a transfer)."""

    def total(self) -> int | None:  # pragma: no cover - every kind defines it
        """GMP batches in all (None: until the horizon)."""
        raise NotImplementedError

    def watch(self, stores: Iterable[LotStore], good: float) -> None:
        """The stock points downstream of the product and its expected released units per batch: for
        a plan that reviews continuously (nothing to do for the others)."""

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
            total -= n
            self.line.queue.put(Campaign(self.recipe, n, purpose, last=self.last if total == 0 else 1.0))

    def _endless(self, size: int) -> None:
        self.line.queue.put(Campaign(self.recipe, size, "gmp", done=lambda: self._endless(size)))

    def _queue_plan(self) -> None:
        self._campaigns(self.total())

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
        yield from self.after_transfer()

    def after_transfer(self):
        """What the plan does once the product may be made (a SimPy generator)."""
        self._queue_plan()
        return
        yield


class FixedPlanner(Planner):
    def total(self) -> int | None:
        return self.plan.batches


class ForecastPlanner(Planner):
    """The forecast's batches: queued at once, or time-phased campaign by campaign every
    ``campaign_interval`` days (the first right after any tech transfer), or on the schedule derived
    from the demand curve (``time_phased``: each campaign at its start day, or right after the tech
    transfer if that is later)."""

    def total(self) -> int | None:
        return self.forecast

    @property
    def queues_at_once(self) -> bool:
        return self.plan.campaign_interval is None and self.schedule is None

    def after_transfer(self):
        env = self.ctx.env
        if self.schedule is not None:
            for i, (start, n) in enumerate(self.schedule):
                if start > env.now:
                    yield env.timeout(start - env.now)
                last = self.last if i == len(self.schedule) - 1 else 1.0
                self.line.queue.put(Campaign(self.recipe, n, "gmp", last=last))
            return
        if self.plan.campaign_interval is None:
            yield from super().after_transfer()
            return
        left, size = self.forecast, self.plan.campaign
        while left > 0:
            n = min(size, left)
            left -= n
            self.line.queue.put(Campaign(self.recipe, n, "gmp", last=self.last if left == 0 else 1.0))
            if left > 0:
                yield self.ctx.env.timeout(self.plan.campaign_interval)


class StockPlanner(Planner):
    """Reviews the downstream stock position and queues one campaign at a time."""

    queues_at_once = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outstanding = False

    def after_transfer(self):
        env, line = self.ctx.env, self.line
        while True:
            if not self.outstanding and self.position() <= self.plan.reorder_point:
                self.outstanding = True
                line.queue.put(Campaign(self.recipe, self.plan.campaign, "gmp", done=self._done))
            yield env.timeout(self.plan.review_period)

    def _done(self) -> None:
        self.outstanding = False


class OrderUpToPlanner(Planner):
    """Continuous-review (s, S): reviews the position at every change of the downstream stock and when
    its campaign ends; one campaign outstanding at a time, of the batches that bring the position up
    to S (expected released units per batch; at most ``campaign``; a partial last batch with
    ``min_batch``)."""

    queues_at_once = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outstanding = self.ready = False
        self.good = self.recipe.spec.expected_output()
        self.campaigns, self.partial = self.ctx.count(), self.ctx.count()  # from the warm-up on

    def watch(self, stores: Iterable[LotStore], good: float) -> None:
        self.good = good
        for store in stores:
            store.watchers.append(self._changed)

    def _changed(self, t: float, qty: float) -> None:
        if self.ready and not self.outstanding:
            self._review()

    def after_transfer(self):
        self.ready = True
        self._review()
        return
        yield

    def _review(self) -> None:
        plan = self.plan
        position = self.position()
        if position > plan.reorder_point + 1e-9:
            return
        needed = (plan.order_up_to - position) / self.good
        n = math.ceil(needed - 1e-9)
        if plan.campaign is not None and n > plan.campaign:
            n, needed = plan.campaign, plan.campaign
        last = last_batch_share(needed, n, plan.min_batch)
        self.outstanding = True
        self.campaigns.add(self.ctx.now)
        if last < 1.0:
            self.partial.add(self.ctx.now)
        self.line.queue.put(Campaign(self.recipe, n, "gmp", done=self._done, last=last))

    def _done(self) -> None:
        self.outstanding = False
        self._review()

    def metrics(self, t_end: float) -> dict[str, float]:
        key = f"{self.line.name}.{self.recipe.name}"
        return {f"plan.campaigns.{key}": self.campaigns.value, f"plan.partial_batches.{key}": self.partial.value}


PLANNERS = Registry(PLANS, {FixedPlan: FixedPlanner, ForecastPlan: ForecastPlanner, StockPlan: StockPlanner,
                            OrderUpToPlan: OrderUpToPlanner})
"""Registry: schema class of a production plan -> runtime planner class."""

register_plan = PLANNERS.register
"""Make a new kind of production plan available to scenarios (schema) and to the model (runtime)."""


def planner(ctx: Context, line: LineNode, recipe: Recipe, forecast: int | None,
            position: Callable[[], float] | None, schedule: Schedule | None = None, last: float = 1.0) -> Planner:
    """The planner of *recipe*'s plan on *line* (*schedule*: a time-phased forecast's campaigns; *last*:
    the share of the nominal size its last batch makes)."""
    return PLANNERS.of(recipe.spec.plan)(ctx, line, recipe, forecast, position, schedule, last)
