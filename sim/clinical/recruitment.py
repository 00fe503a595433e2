"""Recruitment: site activation, Poisson-Gamma arrivals, screening and block randomisation.

Each site draws its own recruitment rate once (from a Gamma distribution in
the Poisson-Gamma model of recruitment forecasting, or a fixed rate) and,
once activated, receives patients for screening as a Poisson process with
that rate.  Arrivals stop for good when the trial has randomised its target
or the site its cap; while enough patients are already in screening to fill
either, newcomers are turned away (they are never screened).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.context import Context
from sim.core.distributions import Deterministic, Exponential

if TYPE_CHECKING:
    from sim.clinical.sites import SiteNode


class BlockRandomiser:
    """Permuted-block randomisation: each block holds every arm ``ratio * m`` times, shuffled."""

    def __init__(self, rng: np.random.Generator, ratios: list[int], block_size: int | None = None) -> None:
        self._rng = rng
        per = sum(ratios)
        m = (block_size or per) // per
        self._block = np.repeat(np.arange(len(ratios)), np.asarray(ratios) * m)
        self._queue: list[int] = []

    def next(self) -> int:
        """Index of the arm of the next randomised patient."""
        if not self._queue:
            self._queue = self._rng.permutation(self._block).tolist()[::-1]
        return self._queue.pop()


def recruit(ctx: Context, site: "SiteNode"):
    """SimPy process: activate *site*, then let patients arrive until the trial or the site is full."""
    env = ctx.env
    group = site.group
    yield env.timeout(site.activation_delay())
    site.activate()
    rate = site.rate
    if rate <= 0:
        return
    gap_spec = Deterministic(value=1.0 / rate) if group.arrivals == "regular" else \
        Exponential(dist="exponential", mean=1.0 / rate)
    gap = ctx.sampler(f"site.{site.name}.enrollment", gap_spec)
    trial = site.trial
    while not (trial.closed or site.capped):
        yield env.timeout(gap())
        if trial.closed or site.capped:
            break
        if trial.randomised + trial.screening >= trial.target or site.would_exceed_cap():
            continue  # enough patients in screening already: turned away
        env.process(site.screen())
