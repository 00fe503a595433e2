"""Probability distributions: scenario-side specifications and fast samplers.

A specification is a small pydantic model (``{dist: gamma, mean: 10, sd: 3}``),
validated when the scenario is read.  At run time it becomes a :class:`Sampler`
that draws blocks of values from a numpy ``Generator`` and hands them out one
at a time: a draw costs a list index, not a ``scipy.stats`` call.

Names follow ``scipy.stats`` (``expon``, ``gamma``, ``lognorm``, ``truncnorm``,
``triang``, ``uniform``); the friendlier aliases users type (``exponential``,
``lognormal``, ``normal``, ``triangular``) are accepted too.  All parameters are
given in the units of the field that holds the distribution (days, units, ...).
"""
from __future__ import annotations

import math
from array import array
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.core.randomness import RngSource, resolve

BLOCK = 512
FIRST_BLOCK = 32
"""A sampler's first block, for families that draw element by element (:data:`_ELEMENTWISE`): the
values are the same as in a block of :data:`BLOCK` (tests/test_distributions.py checks), and most of a
replication's ~300 samplers draw fewer than 32 (a site's recruitment rate, activation, dropouts),
so ~150,000 draws a replication are not made only to be thrown away."""


MAX_VALUE = 1e12
"""Draws (days, units, kg) beyond this are not meaningful and overflow the arithmetic built on them."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _usable(self):
        """Parameters valid for the family: its mean, variance and a few draws are finite, non-negative
        and below :data:`MAX_VALUE` (checked once, when the scenario is read)."""
        self._check_family()
        try:
            with np.errstate(all="raise"):
                values = [self.mean_value, self.variance, *self.draw_block(np.random.default_rng(0), 4)]
        except TypeError:  # parameters missing: the family's own check (run next) says which
            return self
        except (OverflowError, ZeroDivisionError, FloatingPointError, ValueError):
            values = [math.inf]
        if not all(math.isfinite(v) and 0 <= v <= MAX_VALUE ** 2 for v in values) or self.mean_value > MAX_VALUE:
            raise ValueError(f"parameters out of range for a {self.dist} distribution: its mean, variance and "
                             f"draws must be finite, at least 0 and at most {MAX_VALUE:g}")
        return self

    def _check_family(self) -> None:
        """A family's own plausibility rule (raises ValueError), checked before the generic one."""

    def sampler(self, rng: RngSource) -> "Sampler":
        return Sampler(self, rng)

    def draw_block(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    @property
    def mean_value(self) -> float:  # pragma: no cover
        raise NotImplementedError

    @property
    def variance(self) -> float:  # pragma: no cover
        raise NotImplementedError


class Deterministic(_Spec):
    """Always *value*."""

    dist: Literal["deterministic", "constant"] = "deterministic"
    value: float = Field(ge=0)

    def draw_block(self, rng, n):
        return np.full(n, self.value)

    @property
    def mean_value(self):
        return self.value

    @property
    def variance(self):
        return 0.0


class Exponential(_Spec):
    """Exponential with the given *mean* (scipy ``expon(scale=mean)``)."""

    dist: Literal["exponential", "expon"]
    mean: float = Field(gt=0)

    def draw_block(self, rng, n):
        return rng.exponential(self.mean, n)

    @property
    def mean_value(self):
        return self.mean

    @property
    def variance(self):
        return self.mean**2


class Gamma(_Spec):
    """Gamma given either (*mean*, *sd*) or (*shape*, *scale*)."""

    dist: Literal["gamma"]
    mean: float | None = Field(default=None, gt=0)
    sd: float | None = Field(default=None, gt=0)
    shape: float | None = Field(default=None, gt=0)
    scale: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _params(self):
        by_moments = self.mean is not None and self.sd is not None
        by_shape = self.shape is not None and self.scale is not None
        if by_moments == by_shape:
            raise ValueError("either mean and sd, or shape and scale")
        return self

    @property
    def k(self) -> float:
        return self.shape if self.shape is not None else (self.mean / self.sd) ** 2

    @property
    def theta(self) -> float:
        return self.scale if self.scale is not None else self.sd**2 / self.mean

    def draw_block(self, rng, n):
        return rng.gamma(self.k, self.theta, n)

    @property
    def mean_value(self):
        return self.k * self.theta

    @property
    def variance(self):
        return self.k * self.theta**2


class LogNormal(_Spec):
    """Log-normal given the *mean* and *sd* of the variable itself (not of its log)."""

    dist: Literal["lognormal", "lognorm"]
    mean: float = Field(gt=0)
    sd: float = Field(gt=0)

    def _log_params(self) -> tuple[float, float]:
        s2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - s2 / 2, math.sqrt(s2)

    def draw_block(self, rng, n):
        mu, s = self._log_params()
        return rng.lognormal(mu, s, n)

    @property
    def mean_value(self):
        return self.mean

    @property
    def variance(self):
        return self.sd**2


class TruncNormal(_Spec):
    """Normal(*mean*, *sd*) truncated at 0 (scipy ``truncnorm`` with a = -mean/sd).

    *mean* and *sd* are those of the parent normal; for sd << mean the
    truncation is immaterial.
    """

    dist: Literal["normal", "truncnorm"]
    mean: float
    sd: float = Field(gt=0)

    def _check_family(self) -> None:
        if self.mean < -5 * self.sd:
            raise ValueError(f"a normal truncated at 0 with its mean {self.mean:g} more than 5 sd ({self.sd:g}) "
                             "below 0 is almost all truncation; give a positive mean")

    def draw_block(self, rng, n):
        # Inverse-CDF on a uniform block: exact and vectorised.
        a = -self.mean / self.sd
        from scipy import special  # ~0.25 s to import: only truncated normals need it
        lo = special.ndtr(a)
        u = lo + (1.0 - lo) * rng.random(n)
        return np.maximum(self.mean + self.sd * special.ndtri(u), 0.0)

    def _frozen(self):
        from scipy import stats  # slow to import; only a truncated normal's moments need it
        return stats.truncnorm(-self.mean / self.sd, np.inf, loc=self.mean, scale=self.sd)

    @property
    def mean_value(self):
        return float(self._frozen().mean())

    @property
    def variance(self):
        return float(self._frozen().var())


class Triangular(_Spec):
    """Triangular on [*low*, *high*] with mode *mode* (scipy ``triang``)."""

    dist: Literal["triangular", "triang"]
    low: float = Field(ge=0)
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError("low <= mode <= high and low < high")
        return self

    def draw_block(self, rng, n):
        return rng.triangular(self.low, self.mode, self.high, n)

    @property
    def mean_value(self):
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self):
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18


class Uniform(_Spec):
    """Uniform on [*low*, *high*]."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float

    @model_validator(mode="after")
    def _order(self):
        if not self.low < self.high:
            raise ValueError("low < high")
        return self

    def draw_block(self, rng, n):
        return rng.uniform(self.low, self.high, n)

    @property
    def mean_value(self):
        return (self.low + self.high) / 2

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12


class Empirical(_Spec):
    """Resample (with replacement) from a list of observed values."""

    dist: Literal["empirical"]
    observations: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)

    def draw_block(self, rng, n):
        return rng.choice(np.asarray(self.observations, dtype=float), n)

    @property
    def mean_value(self):
        return float(np.mean(self.observations))

    @property
    def variance(self):
        return float(np.var(self.observations))


Distribution = Annotated[
    Union[Deterministic, Exponential, Gamma, LogNormal, TruncNormal, Triangular, Uniform, Empirical],
    Field(discriminator="dist"),
]
"""A distribution specification; a bare number in YAML means deterministic."""

DIST_NAMES = {"deterministic", "constant", "exponential", "expon", "gamma", "lognormal", "lognorm",
              "normal", "truncnorm", "triangular", "triang", "uniform", "empirical"}


def coerce_number(value):
    """Let a bare number stand for a deterministic distribution."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"dist": "deterministic", "value": value}
    return value


def _flat(block: np.ndarray):
    """A block of draws as a flat ``array('d')`` of the same doubles (an item read is a Python float):
    the garbage collector does not traverse an array, while a list would add its 512 references to
    every collection's work, for each of a replication's hundreds of samplers (~a sixth of a
    collection's time).  A block of another type (integers, say) stays a list of its values."""
    return array("d", block.tobytes()) if block.dtype == np.float64 else block.tolist()


_ELEMENTWISE = (Exponential, Gamma, LogNormal, TruncNormal, Triangular, Uniform)
"""Families whose ``draw_block(rng, a + b)`` equals ``draw_block(rng, a)`` then ``draw_block(rng, b)``
(not :class:`Empirical`: numpy's bounded integers keep a buffer per call)."""


class Sampler:
    """Hands out draws from blocks of ``BLOCK`` values (the first of :data:`FIRST_BLOCK`, where that
    gives the same draws); ``next()`` is the hot path.

    A block is kept flat (:func:`_flat`), not as a list of floats, for the garbage collector.  A sampler
    must own its stream (two sharing one would take other values with another block size)."""

    __slots__ = ("_spec", "_rng", "_buf", "_i", "_n", "constant")

    def __init__(self, spec: _Spec, rng: RngSource) -> None:
        self._spec = spec
        self._rng = rng
        self._buf = array("d")
        self._i = 0
        self._n = 0
        self.constant = spec.value if isinstance(spec, Deterministic) else None

    def __call__(self) -> float:
        if self.constant is not None:
            return self.constant
        i = self._i
        if i >= self._n:
            n = FIRST_BLOCK if self._n == 0 and type(self._spec) in _ELEMENTWISE else BLOCK
            self._rng = rng = resolve(self._rng)  # a stream made on first use
            self._buf = _flat(self._spec.draw_block(rng, n))
            self._n = len(self._buf)
            i = 0
        self._i = i + 1
        return self._buf[i]


class Bernoulli:
    """Block-drawn coin flips with success probability *p*."""

    __slots__ = ("p", "_rng", "_buf", "_i")

    def __init__(self, p: float, rng: RngSource) -> None:
        self.p = p
        self._rng = rng
        self._buf = array("d")  # as Sampler's
        self._i = BLOCK

    def __call__(self) -> bool:
        if self.p <= 0.0:
            return False
        if self._i >= BLOCK:
            self._rng = rng = resolve(self._rng)
            self._buf = _flat(rng.random(BLOCK))
            self._i = 0
        u = self._buf[self._i]
        self._i += 1
        return u < self.p
