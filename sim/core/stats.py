"""Statistics collected while the simulation runs, and summaries across replications.

Two kinds of collector, kept apart because they average differently:

* :class:`Tally` — observations such as delays; each counts once.
* :class:`Level` — a quantity that holds a value over time (inventory, WIP,
  busy servers); averaged by time.

Both drop what happens before the warm-up, keep O(1) state plus one value per
reporting period (memory flat in the run length) and merge across
replications.  :class:`PeriodCounter` counts throughput per period, and
:class:`Count` is a plain count (batches made, orders placed) that, like the
others, ignores what happens before the warm-up, so no component needs a
warm-up guard of its own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.core.randomness import RngSource, resolve

RESERVOIR = 1000


class Tally:
    """Running count, mean, variance (Welford), min, max and a bounded sample."""

    __slots__ = ("name", "warmup", "n", "mean", "_m2", "min", "max", "_sample", "_rng", "_w", "_next", "_block")

    def __init__(self, name: str, warmup: float = 0.0, rng: RngSource | None = None) -> None:
        self.name = name
        self.warmup = warmup
        self.n = 0
        self.mean = 0.0
        self._m2 = 0.0
        self.min = math.inf
        self.max = -math.inf
        self._sample: list[float] = []  # the reservoir: n counts the observations it has seen
        self._rng = rng
        self._w = 0.0  # Algorithm L's running weight, once the reservoir is full
        self._next = 0  # the observation (count) that next enters the full reservoir

    def observe(self, value: float, now: float) -> None:
        if now < self.warmup:
            return
        self.n = n = self.n + 1
        mean = self.mean
        d = value - mean
        self.mean = mean = mean + d / n
        self._m2 += d * (value - mean)
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        if n <= RESERVOIR or n == self._next:
            self._keep(value, n)

    def _keep(self, value: float, n: int) -> None:
        """The reservoir sample for distribution plots, bounded memory: the *n*-th observation fills it or
        enters it when full, called only when Algorithm L (Li 1994) says: draws O(k log(n/k)), not one each."""
        if n <= RESERVOIR:
            self._sample.append(value)
            if n == RESERVOIR and self._rng is not None:
                self._block: list[float] = []
                self._w = math.exp(math.log(self._uniform()) / RESERVOIR)
                self._skip()
        else:
            self._enter(value)

    def _enter(self, value: float) -> None:
        """Into the full reservoir: a random slot, a new weight, the next skip (three :meth:`_uniform`
        draws, taken from the block here while it holds three: ~2,000 entries a replication)."""
        block = self._block
        if len(block) < 3:
            self._sample[int(self._uniform() * RESERVOIR)] = value
            self._w *= math.exp(math.log(self._uniform()) / RESERVOIR)
            self._skip()
            return
        self._sample[int(block.pop() * RESERVOIR)] = value  # a zero draw (5e-324 in _uniform): slot 0 too
        u = block.pop()
        self._w = w = self._w * math.exp(math.log(u if u > 0.0 else 5e-324) / RESERVOIR)
        u = block.pop()  # _skip's draw
        gap = math.log(u if u > 0.0 else 5e-324) / math.log1p(-w) if 0.0 < w < 1.0 else 0.0
        self._next = self.n + int(min(gap, 1e18)) + 1

    def _uniform(self) -> float:
        """A uniform draw in (0, 1), taken from a block drawn at once (a numpy call per draw costs ~1 µs)."""
        block = self._block
        if not block:
            self._rng = rng = resolve(self._rng)  # type: ignore[arg-type]  # a stream made on first use
            block.extend(rng.random(256).tolist())
            block.reverse()
        u = block.pop()
        return u if u > 0.0 else 5e-324

    def _skip(self) -> None:
        """Set the count of the next observation to enter the full reservoir (geometric skip)."""
        u, w = self._uniform(), self._w
        gap = math.log(u) / math.log1p(-w) if 0.0 < w < 1.0 else 0.0
        self._next = self.n + int(min(gap, 1e18)) + 1

    @property
    def variance(self) -> float:
        return self._m2 / (self.n - 1) if self.n > 1 else 0.0

    @property
    def sample(self) -> list[float]:
        return list(self._sample)

    def merge(self, other: "Tally") -> "Tally":
        """Pooled tally of two (Chan et al. parallel variance)."""
        out = Tally(self.name, self.warmup)
        n = self.n + other.n
        if n == 0:
            return out
        d = other.mean - self.mean
        out.n = n
        out.mean = self.mean + d * other.n / n
        out._m2 = self._m2 + other._m2 + d * d * self.n * other.n / n
        out.min = min(self.min, other.min)
        out.max = max(self.max, other.max)
        out._sample = (self._sample + other._sample)[: 2 * RESERVOIR]
        return out


class Level:
    """Time-weighted level with a per-period average series.

    ``set(t, x)`` records that the level became *x* at time *t*; the area under
    the step function is accumulated from ``warmup`` on, and split into
    reporting periods of width ``period`` for the over-time figures.
    """

    __slots__ = ("name", "warmup", "period", "value", "_t", "_area", "max", "_bins", "_last")

    def __init__(self, name: str, horizon: float, period: float, warmup: float = 0.0, initial: float = 0.0) -> None:
        self.name = name
        self.warmup = warmup
        self.period = period
        self.value = initial
        self._t = 0.0
        self._area = 0.0
        self.max = initial
        self._bins = [0.0] * max(1, math.ceil(horizon / period))
        self._last = len(self._bins) - 1

    def _accumulate(self, t: float) -> None:
        t0, v = self._t, self.value
        if t <= t0:
            return
        self._t = t
        if not v:
            return
        w = self.warmup
        if t > w:
            self._area += v * (t - (t0 if t0 > w else w))
        p = self.period
        bins = self._bins
        last = len(bins) - 1
        k = int(t0 // p)
        if k >= last or t <= (k + 1) * p:  # fast path: the step lies in one period
            bins[k if k < last else last] += v * (t - t0)
            return
        if (k + 1) * p <= t0:  # a boundary k x p that t0 // p rounds down (period 30.1, t0 = 150.5)
            k += 1
        a = t0
        while k < last:  # each piece ends at its period's end (k + 1) x p, from which the next one starts
            b = (k + 1) * p
            if t <= b:
                bins[k] += v * (t - a)
                return
            bins[k] += v * (b - a)
            a = b
            k += 1
        bins[last] += v * (t - a)

    def set(self, t: float, value: float) -> None:
        """The level becomes *value* at time *t*.  The step since the last change is integrated here
        when it lies after the warm-up and within one period or the last (nearly always: levels move
        at most events), otherwise by :meth:`_accumulate`; the arithmetic is the same either way."""
        t0 = self._t
        if t > t0:  # several changes at one instant integrate nothing in between
            k, last = int(t0 // self.period), self._last
            if t0 >= self.warmup and (k >= last or t <= (k + 1) * self.period):  # as _accumulate's fast path
                self._t = t
                v = self.value
                if v:
                    area = v * (t - t0)
                    self._area += area
                    self._bins[k if k < last else last] += area
            else:
                self._accumulate(t)
        self.value = value
        if value > self.max:
            self.max = value

    def add(self, t: float, delta: float) -> None:
        self.set(t, self.value + delta)

    def finish(self, t: float) -> None:
        self._accumulate(t)

    def assemble(self, parts: list["Level"], t_end: float) -> None:
        """Become the sum of *parts* (finished at *t_end*): areas, period bins and the final value
        add; the maximum of the sum is not known from the parts and is left as it is."""
        self._area = math.fsum(p._area for p in parts)
        self._bins = [math.fsum(b) for b in zip(*(p._bins for p in parts))] or self._bins
        self.value = math.fsum(p.value for p in parts)
        self._t = t_end

    def mean(self, t_end: float) -> float:
        """Time average over [warmup, t_end]; call :meth:`finish` first."""
        span = t_end - self.warmup
        return self._area / span if span > 0 else float("nan")

    def merge(self, other: "Level", t_end: float) -> "Level":
        """Pooled level of two replications of the same length: areas and period bins add,
        so the merged mean is the average over both observation windows.  Both must be finished."""
        out = Level(self.name, t_end, self.period, self.warmup)
        out._area = (self._area + other._area) / 2
        out._bins = [(a + b) / 2 for a, b in zip(self._bins, other._bins)]
        out._t = t_end
        out.max = max(self.max, other.max)
        return out

    def series(self, t_end: float) -> np.ndarray:
        """Average level in each reporting period (the last one may be partial)."""
        p = self.period
        bins = np.asarray(self._bins)
        widths = np.full(len(bins), p)
        widths[-1] = max(t_end - p * (len(bins) - 1), 1e-12)
        return bins / widths


class PeriodCounter:
    """Counts of something (units produced, kits shipped) per reporting period."""

    __slots__ = ("name", "warmup", "period", "total", "_bins", "_last")

    def __init__(self, name: str, horizon: float, period: float, warmup: float = 0.0) -> None:
        self.name = name
        self.warmup = warmup
        self.period = period
        self.total = 0.0
        self._bins = [0.0] * max(1, math.ceil(horizon / period))
        self._last = len(self._bins) - 1

    def count(self, t: float, amount: float = 1.0) -> None:
        k = int(t // self.period)
        self._bins[k if k < self._last else self._last] += amount
        if t >= self.warmup:
            self.total += amount

    def series(self) -> np.ndarray:
        return np.asarray(self._bins)


class Together:
    """Period counters of one context (one period, horizon and warm-up) and a tally always booked at one
    instant, in one call (a visit dosed on arrival books its kits, the visit, on time and its zero wait
    ~7,400 times a replication): the bins, totals and tally are those separate calls give."""

    __slots__ = ("counters", "tally", "period", "warmup", "_last")

    def __init__(self, counters: tuple[PeriodCounter, ...], tally: Tally) -> None:
        first = counters[0]
        if any((c.period, c.warmup, c._last) != (first.period, first.warmup, first._last) for c in counters):
            raise ValueError("counters booked together need one period, horizon and warm-up")
        self.counters = counters
        self.tally = tally
        self.period, self.warmup, self._last = first.period, first.warmup, first._last

    def book(self, t: float, amounts: tuple[float, ...], value: float) -> None:
        """``c.count(t, a)`` for each counter and its amount, then ``tally.observe(value, t)``."""
        k = int(t // self.period)
        if k > self._last:
            k = self._last
        if t >= self.warmup:
            for c, a in zip(self.counters, amounts):
                c._bins[k] += a
                c.total += a
        else:
            for c, a in zip(self.counters, amounts):
                c._bins[k] += a
        tally = self.tally  # tally.observe(value, t), inlined (a call fewer at every dose on arrival)
        if t < tally.warmup:
            return
        tally.n = n = tally.n + 1
        d = value - tally.mean
        tally.mean = mean = tally.mean + d / n
        tally._m2 += d * (value - mean)
        if value < tally.min:
            tally.min = value
        if value > tally.max:
            tally.max = value
        if n <= RESERVOIR or n == tally._next:
            tally._keep(value, n)


class Count:
    """A plain count or sum from the warm-up on; stays an ``int`` while only ints are added
    (tables print ``3``, not ``3.0``)."""

    __slots__ = ("warmup", "value")

    def __init__(self, warmup: float = 0.0) -> None:
        self.warmup = warmup
        self.value: int | float = 0  # int | float: compiled, a float would turn 3 into 3.0

    def add(self, t: float, amount: int | float = 1) -> None:
        if t >= self.warmup:
            self.value += amount


class CountMap(dict):
    """Plain sums by key (units by fate, material consumed) from the warm-up on.  A key appears once
    something is counted under it; reading a missing key gives 0.0 without adding it."""

    __slots__ = ("warmup",)

    def __init__(self, warmup: float = 0.0) -> None:
        super().__init__()
        self.warmup = warmup

    def __missing__(self, key):
        return 0.0

    def add(self, t: float, key, amount: float) -> None:
        if t >= self.warmup:
            self[key] = self.get(key, 0.0) + amount


@dataclass
class Summary:
    """Across-replication summary of one metric.

    ``half_width`` is the Student-t half-width (the precision a stopping rule aims at); the interval
    ``[ci_low, ci_high]`` is the one reported, by ``interval``: Student t, or — for a metric with a
    range (:func:`within_range`) — that interval kept inside the range, or Wilson's for a share of
    replications (:func:`share_of_runs`)."""

    metric: str
    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    half_width: float = math.nan
    interval: str = "Student t"

    def __post_init__(self) -> None:
        if math.isnan(self.half_width):
            self.half_width = (self.ci_high - self.ci_low) / 2


def summarize(metric: str, values: np.ndarray | list[float], confidence: float = 0.95) -> Summary:
    """Mean, sd and Student-t confidence interval of per-replication values (NaNs ignored)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Summary(metric, 0, math.nan, math.nan, math.nan, math.nan)
    m = float(x.mean())
    if n == 1:
        return Summary(metric, 1, m, math.nan, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    from scipy.special import stdtrit  # Student t quantile, without importing scipy.stats
    h = float(stdtrit(n - 1, 0.5 + confidence / 2)) * sd / math.sqrt(n)
    return Summary(metric, n, m, sd, m - h, m + h)


def within_range(s: Summary, low: float = 0.0, high: float = math.inf) -> Summary:
    """The Student-t interval of *s* cut to the metric's range [low, high].

    The true mean lies in the range, so the cut interval covers it whenever the uncut one does: the
    coverage stays at least the nominal level, and a proportion's interval no longer reaches past 1
    nor a count's below 0.  ``half_width`` keeps the t half-width."""
    if s.n < 2 or math.isnan(s.ci_low):
        return s
    name = f"Student t within [{low:g}, {high:g}]" if math.isfinite(high) else f"Student t, at least {low:g}"
    return Summary(s.metric, s.n, s.mean, s.sd, max(s.ci_low, low), min(s.ci_high, high), s.half_width, name)


def share_of_runs(metric: str, values: np.ndarray | list[float], confidence: float = 0.95) -> Summary:
    """Mean of 0/1 values (the share of replications in which something happened) with Wilson's
    score interval: inside [0, 1], and not of zero width when every replication agrees (0 of 10
    runs gives [0, 0.28], not [0, 0])."""
    s = summarize(metric, values, confidence)
    if s.n < 1:
        return s
    from scipy.special import ndtri  # the normal quantile
    z = float(ndtri(0.5 + confidence / 2))
    n, p = s.n, s.mean
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Summary(metric, n, p, s.sd, max(0.0, centre - h), min(1.0, centre + h), s.half_width,
                   "Wilson score")
