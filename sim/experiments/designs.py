"""Experimental designs over scenario field paths.

A design is a list of :class:`DesignPoint` — which value each swept path
takes — and knows nothing of the model: :mod:`.batch` applies the points to a
base scenario with :mod:`.overrides`.

* :func:`full_grid` — every combination of the listed levels;
* :func:`one_at_a_time` — the base case, then each factor moved alone through
  its levels (the others at base): the input of a tornado chart;
* :func:`latin_hypercube`, :func:`sobol` — space-filling samples of ranges,
  from :mod:`scipy.stats.qmc`, reproducible from a seed.
"""
from __future__ import annotations

import inspect
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

@dataclass(frozen=True)
class Range:
    """A factor's interval for space-filling designs; *integer* draws whole numbers."""

    low: float
    high: float
    integer: bool = False


@dataclass(frozen=True)
class DesignPoint:
    id: str
    role: str                      # base | grid | ofat | lhs | sobol
    factors: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if not self.factors:
            return self.role
        return ", ".join(f"{p}={_show(v)}" for p, v in self.factors.items())


def _show(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _ids(prefix: str, n: int) -> list[str]:
    width = max(3, len(str(n - 1)))
    return [f"{prefix}{i:0{width}d}" for i in range(n)]


def full_grid(levels: Mapping[str, Sequence[Any]]) -> list[DesignPoint]:
    """Every combination of the factors' levels (the first factor varies slowest)."""
    paths = list(levels)
    combos = list(itertools.product(*(levels[p] for p in paths)))
    return [DesignPoint(i, "grid", dict(zip(paths, c))) for i, c in zip(_ids("p", len(combos)), combos)]


def one_at_a_time(levels: Mapping[str, Sequence[Any]], base: Mapping[str, Any]) -> list[DesignPoint]:
    """The base case (id ``base``), then each factor at each of its levels that
    differs from its base value, every other factor at base."""
    moves = [(p, v) for p in levels for v in levels[p] if v != base[p]]
    points = [DesignPoint("base", "base", {})]
    points += [DesignPoint(i, "ofat", {p: v}) for i, (p, v) in zip(_ids("p", len(moves)), moves)]
    return points


def _qmc_engine(cls, d: int, seed: int):
    # scipy >= 1.15 calls the seed `rng`; older versions call it `seed`.
    key = "rng" if "rng" in inspect.signature(cls.__init__).parameters else "seed"
    return cls(d, scramble=True, **{key: np.random.default_rng(seed)})


def _scale(unit: np.ndarray, ranges: Mapping[str, Range], role: str) -> list[DesignPoint]:
    paths = list(ranges)
    points = []
    for pid, row in zip(_ids("p", len(unit)), unit):
        values = {}
        for p, u in zip(paths, row):
            r = ranges[p]
            if r.integer:  # equal-width cells, one per whole number in [low, high]
                lo, hi = math.ceil(r.low), math.floor(r.high)
                values[p] = int(min(hi, lo + math.floor(float(u) * (hi - lo + 1))))
            else:
                values[p] = float(r.low + float(u) * (r.high - r.low))
        points.append(DesignPoint(pid, role, values))
    return points


def latin_hypercube(ranges: Mapping[str, Range], n: int, seed: int) -> list[DesignPoint]:
    """*n* points, one in each of *n* equal slices of every factor's range."""
    from scipy.stats import qmc  # only designs need it (slow to import)
    unit = _qmc_engine(qmc.LatinHypercube, len(ranges), seed).random(n)
    return _scale(unit, ranges, "lhs")


def sobol(ranges: Mapping[str, Range], n: int, seed: int) -> list[DesignPoint]:
    """The first *n* points (a power of 2) of a scrambled Sobol' sequence."""
    m = int(round(math.log2(n)))
    if n < 1 or 2**m != n:
        raise ValueError(f"Sobol' designs need a power of 2 points; got {n}")
    from scipy.stats import qmc
    unit = _qmc_engine(qmc.Sobol, len(ranges), seed).random_base2(m)
    return _scale(unit, ranges, "sobol")


def short_names(paths: Sequence[str]) -> dict[str, str]:
    """Each path's shortest dotted suffix that no other path ends with
    (``lines.dp-batch.qc_failure_prob`` -> ``qc_failure_prob``), for labels."""
    out = {}
    for p in paths:
        parts = p.split(".")
        for k in range(1, len(parts) + 1):
            tail = ".".join(parts[-k:])
            if not any(q != p and (q == tail or q.endswith("." + tail)) for q in paths):
                break
        out[p] = tail
    return out


def short_label(factors: Mapping[str, Any], names: Mapping[str, str]) -> str:
    return ", ".join(f"{names.get(p, p)}={_show(v)}" for p, v in factors.items())
