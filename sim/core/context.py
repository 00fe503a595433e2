"""What every process of one replication shares: clock, randomness, statistics, ledger."""
from __future__ import annotations

import itertools
import math
from typing import Callable

import numpy as np
import simpy

from sim.core.conservation import Ledger
from sim.core.distributions import Bernoulli, Sampler
from sim.core.randomness import Streams
from sim.core.stats import Count, CountMap, Level, PeriodCounter, Tally


class Context:
    """Per-replication services handed to every component.

    Components ask for samplers and collectors *by name*; names double as
    random-stream keys and as metric names in the results.
    """

    def __init__(self, horizon: float, warmup: float, period: float, seed: int, rep: int) -> None:
        self.env = simpy.Environment()
        self.horizon = horizon
        self.warmup = warmup
        self.period = period
        self.streams = Streams(seed, rep)
        self.ledger = Ledger()
        self.tallies: dict[str, Tally] = {}
        self.levels: dict[str, Level] = {}
        self.counters: dict[str, PeriodCounter] = {}
        self._ids = itertools.count(1)

    # -- randomness --------------------------------------------------------
    def sampler(self, name: str, spec) -> Sampler:
        return spec.sampler(self.streams(name))

    def coin(self, name: str, p: float) -> Bernoulli:
        return Bernoulli(p, self.streams(name))

    def rng(self, name: str) -> np.random.Generator:
        return self.streams(name)

    # -- statistics --------------------------------------------------------
    def tally(self, name: str) -> Tally:
        t = self.tallies.get(name)
        if t is None:
            t = self.tallies[name] = Tally(name, self.warmup, self.streams("stats.reservoir." + name))
        return t

    def level(self, name: str, initial: float = 0.0) -> Level:
        lv = self.levels.get(name)
        if lv is None:
            lv = self.levels[name] = Level(name, self.horizon, self.period, self.warmup, initial)
        return lv

    def counter(self, name: str) -> PeriodCounter:
        c = self.counters.get(name)
        if c is None:
            c = self.counters[name] = PeriodCounter(name, self.horizon, self.period, self.warmup)
        return c

    def count(self) -> Count:
        """A plain count owned by one component (reported by that component's ``metrics``)."""
        return Count(self.warmup)

    def count_map(self) -> CountMap:
        """Plain sums by key owned by one component (see :class:`CountMap`)."""
        return CountMap(self.warmup)

    def level_tracker(self, name: str) -> Callable[[float, float], None]:
        """A callback ``(t, value)`` that keeps the named level up to date."""
        return self.level(name).set

    def collector_metrics(self, t_end: float) -> dict[str, float]:
        """The metrics of the shared collectors (catalogued in :mod:`sim.metrics`): per counter its
        ``total.`` and ``rate.`` over the observation window, per tally ``delay.<name>.mean/.max/.n``,
        per level its time average (``<name>.mean``; utilisation and downtime are fractions already
        and keep their own name)."""
        span = t_end - self.warmup
        m: dict[str, float] = {}
        for name, c in sorted(self.counters.items()):
            m[f"total.{name}"] = c.total
            m[f"rate.{name}"] = c.total / span
        for name, t in sorted(self.tallies.items()):
            m[f"delay.{name}.mean"] = t.mean if t.n else math.nan
            m[f"delay.{name}.max"] = t.max if t.n else math.nan
            m[f"delay.{name}.n"] = t.n
        for name, lv in sorted(self.levels.items()):
            lv.finish(t_end)
            m[name if name.startswith(("utilisation.", "downtime.")) else f"{name}.mean"] = lv.mean(t_end)
        return m

    def collector_series(self, t_end: float) -> dict[str, "np.ndarray"]:
        """Per-period series of every counter and level (``series.csv``)."""
        series = {name: c.series() for name, c in self.counters.items()}
        series.update({name: lv.series(t_end) for name, lv in self.levels.items()})
        return series

    def samples(self) -> dict[str, list[float]]:
        """The bounded sample of every tally (``delays.csv``)."""
        return {name: t.sample for name, t in self.tallies.items()}

    # -- misc ----------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def at(self, t: float, callback: Callable[[], None]) -> None:
        """Call *callback* at time *t* (now if *t* has passed) without a process."""
        ev = self.env.timeout(max(0.0, t - self.env.now))
        ev.callbacks.append(lambda _ev: callback())

    @property
    def now(self) -> float:
        return self.env._now  # hot: skip SimPy's own property

    def in_horizon(self, t: float) -> bool:
        return t <= self.horizon and not math.isinf(t)
