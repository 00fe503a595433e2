"""Interim analyses of one trial at run time: when each comes, whether its decision is taken, and
what it does to randomisation, the target and the patients on treatment (:mod:`sim.scenario.adaptive`).

A patient stopped by a decision leaves at their next visit without a dose; the kits their later
visits would have used stop counting in the forecasts at once (the visits are cut from the plan).
"""
from __future__ import annotations

import math
from typing import Any, Callable

from sim.core.context import Context


class InterimAnalyses:
    """The interims of *trial*, each taken with its probability (one draw per interim and replication)."""

    def __init__(self, ctx: Context, trial: Any) -> None:
        """*trial* is the :class:`~sim.clinical.trial.TrialNode` that owns these interims."""
        self.ctx = ctx
        self.trial = trial
        self.specs = list(trial.spec.interims)
        self._decides = [ctx.coin(f"trial.{trial.name}.interim.{j}", s.probability) for j, s in enumerate(self.specs)]
        self._done = [False] * len(self.specs)
        self.acted = 0
        self.terminated = math.nan

    def start(self) -> None:
        for j, spec in enumerate(self.specs):
            if spec.day is not None:
                self.ctx.at(spec.day, lambda j=j: self.run(j))

    def randomised(self, n: int) -> None:
        """The trial has randomised *n* patients: the interims due at that count come now."""
        for j, spec in enumerate(self.specs):
            if spec.at_patients == n:
                self.run(j)

    def run(self, j: int) -> None:
        if self._done[j]:
            return
        self._done[j] = True
        spec, trial = self.specs[j], self.trial
        if not self._decides[j]():
            return
        self.acted += 1
        if spec.terminate:
            self.terminated = self.ctx.now
            trial.terminate()
            self.stop(lambda p: True)
            return
        if spec.drop_arms:
            dropped = {i for i, a in enumerate(trial.arms) if a.name in spec.drop_arms}
            trial.drop_arms(dropped)
            if spec.stop_dropped:
                names = set(spec.drop_arms)
                self.stop(lambda p: p.arm.name in names)
        if spec.new_target is not None:
            trial.retarget(spec.new_target)

    def stop(self, which: Callable[[Any], bool]) -> None:
        """Patients on treatment that *which* picks stop at their next visit; their later visits are cut
        from the plan now, so forecasts and resupply no longer count them."""
        for site in self.trial.sites():
            for p in site.patients:
                if which(p) and not p.stopped:
                    p.stopped = True
                    point = p.point
                    for k, n in p.arm.kits.items():
                        point.remaining[k] -= n * (len(p.due) - p.next)
                    for visits in {id(v): v for v in (p.due, p.windows, p.early)}.values():
                        del visits[p.next:]
                    point.review()
