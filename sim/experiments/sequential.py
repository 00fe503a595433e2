"""Sequential replication: add replications until the confidence intervals are tight enough.

After each round, every chosen metric's 95 % CI half-width is compared with
its target — absolute (``h <= a``), relative (``h <= r * |mean|``), or the
looser of the two when both are given.  If some metric misses, the next round
asks for about as many replications as the usual ``n * (h / target)^2``
estimate says, at least one more, at most double, never beyond the cap.

The decision depends only on the replications' values, never on timing or on
which worker ran what, so a sequential experiment stops at the same count on
every backend and when resumed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

from pydantic import Field, model_validator

from sim.scenario.base import FieldError, Model
from sim.core.stats import summarize


class SequentialRule(Model):
    """Stop when every metric's 95 % CI half-width is within target, or at *max_reps*."""

    metrics: list[str] = Field(min_length=1, description="metrics whose CI must reach the target")
    relative: float | None = Field(None, gt=0, description="target half-width as a fraction of |mean|")
    absolute: float | None = Field(None, gt=0, description="target half-width in the metric's units")
    max_reps: int = Field(1000, ge=2, description="never run more replications than this per scenario")

    @model_validator(mode="after")
    def _some_target(self):
        if self.relative is None and self.absolute is None:
            raise FieldError("relative", "give a relative or an absolute target half-width (or both)")
        return self

    def target(self, mean: float) -> float:
        """The half-width *mean* must reach (the looser target if both are given)."""
        targets = []
        if self.absolute is not None:
            targets.append(self.absolute)
        if self.relative is not None and not math.isnan(mean):
            targets.append(self.relative * abs(mean))
        return max(targets) if targets else math.nan


@dataclass(frozen=True)
class Check:
    """One metric's state after a round."""

    metric: str
    n: int
    mean: float
    half_width: float
    target: float

    @property
    def met(self) -> bool:
        # A metric with no spread at all (h = 0, e.g. constant) is as precise as it gets.
        return self.n >= 2 and not math.isnan(self.half_width) and self.half_width <= self.target

    @property
    def ratio(self) -> float:
        """How far off: half-width / target (inf when unknown)."""
        if self.n < 2 or math.isnan(self.half_width) or not self.target > 0:
            return math.inf
        return self.half_width / self.target


def assess(rule: SequentialRule, values: Mapping[str, Sequence[float]]) -> list[Check]:
    """The state of each of the rule's metrics given per-replication *values*."""
    out = []
    for m in rule.metrics:
        s = summarize(m, values.get(m, []))
        out.append(Check(m, s.n, s.mean, s.half_width, rule.target(s.mean)))
    return out


def next_reps(rule: SequentialRule, n: int, checks: Sequence[Check]) -> int:
    """Replications to have after the next round (*n* if every target is met or at the cap)."""
    if all(c.met for c in checks) or n >= rule.max_reps:
        return n
    worst = max(c.ratio for c in checks)
    wanted = math.ceil(n * worst * worst) if math.isfinite(worst) else 2 * n
    return min(rule.max_reps, 2 * n, max(n + 1, wanted))
