"""A line's clock: time spent in each state (OEE's denominators) and a bounded log for Gantt charts."""
from __future__ import annotations

import math
from collections import defaultdict

from sim.core.context import Context

TIMELINE_CAP = 5000
"""Intervals kept per line for Gantt charts: bounded memory whatever the horizon."""


PLANNED_STOPS = ("before_start", "idle", "closed", "maintenance")
"""States that are not planned production time (excluded from OEE availability)."""

class StateClock:
    """Time a line spends in each state (from the warm-up on), and a bounded log for Gantt charts."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.state = "before_start"
        self.label = ""
        self.since = 0.0
        self.totals: dict[str, float] = defaultdict(float)
        self.log: list[tuple[float, float, str, str]] = []

    def set(self, state: str, label: str = "") -> None:
        if state == self.state and label == self.label:
            return
        self._close(self.ctx.now)
        self.state, self.label, self.since = state, label, self.ctx.now

    def _close(self, now: float) -> None:
        d = now - max(self.since, self.ctx.warmup)
        if d > 0:
            self.totals[self.state] += d
        if now > self.since and len(self.log) < TIMELINE_CAP:
            self.log.append((self.since, now, self.state, self.label))

    def finish(self, t: float) -> None:
        self._close(t)
        self.since = t


def oee(totals: dict[str, float], ideal: float, units) -> dict[str, float]:
    """Availability, performance, quality and their product from a clock's state *totals*, the nominal
    time of the work done (*ideal*) and the units by fate (*units*), all from the warm-up on."""
    planned = sum(v for k, v in totals.items() if k not in PLANNED_STOPS)
    run = totals.get("production", 0.0) + totals.get("startup", 0.0)
    u = units
    decided = u["released"] + u["rejected"] + u["diverted"] + u["scrapped"] + u["yield_loss"] + u["rework_loss"]
    a = run / planned if planned > 0 else math.nan
    p = min(ideal / run, 1.0) if run > 0 else math.nan
    q = u["released"] / decided if decided > 0 else math.nan
    return {"availability": a, "performance": p, "quality": q, "oee": a * p * q}


def share_after_warmup(since: float, now: float, warmup: float) -> float:
    """Share of the interval [since, now] after the warm-up (1 when all of it is): the part of the
    nominal time of a batch straddling the warm-up that OEE performance counts."""
    if since >= warmup:
        return 1.0
    return (now - warmup) / (now - since) if now > warmup else 0.0
