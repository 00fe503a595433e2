"""Sampled moments against theory, and the parameterisations against scipy.stats."""
from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from sim.core.distributions import Bernoulli, Distribution
from sim.scenario.base import Dist

DIST = TypeAdapter(Dist)
N = 200_000

CASES = [
    ({"dist": "deterministic", "value": 3.5}, None),
    ({"dist": "exponential", "mean": 4.0}, stats.expon(scale=4.0)),
    ({"dist": "gamma", "mean": 10.0, "sd": 3.0}, stats.gamma(a=(10 / 3) ** 2, scale=0.9)),
    ({"dist": "gamma", "shape": 2.0, "scale": 1.5}, stats.gamma(a=2.0, scale=1.5)),
    ({"dist": "lognormal", "mean": 30.0, "sd": 7.0},
     stats.lognorm(s=math.sqrt(math.log1p((7 / 30) ** 2)), scale=30 / math.sqrt(1 + (7 / 30) ** 2))),
    ({"dist": "normal", "mean": 2.0, "sd": 1.5}, stats.truncnorm(-2 / 1.5, np.inf, loc=2.0, scale=1.5)),
    ({"dist": "triangular", "low": 10, "mode": 14, "high": 21}, stats.triang(c=4 / 11, loc=10, scale=11)),
    ({"dist": "uniform", "low": 1, "high": 10}, stats.uniform(1, 9)),
    ({"dist": "empirical", "observations": [1, 2, 2, 7]}, None),
]


@pytest.mark.parametrize("spec,ref", CASES, ids=[c[0]["dist"] + str(i) for i, c in enumerate(CASES)])
def test_sampled_moments_match_theory(spec, ref):
    d = DIST.validate_python(spec)
    if ref is not None:  # our analytic moments agree with scipy's for the same parameters
        assert d.mean_value == pytest.approx(ref.mean(), rel=1e-9, abs=1e-12)
        assert d.variance == pytest.approx(ref.var(), rel=1e-9, abs=1e-12)
    draw = d.sampler(np.random.default_rng(7))
    x = np.array([draw() for _ in range(N)])
    assert (x >= 0).all()
    se_mean = math.sqrt(d.variance / N)
    assert abs(x.mean() - d.mean_value) <= 4 * se_mean + 1e-12
    if d.variance > 0:
        m4 = np.mean((x - x.mean()) ** 4)
        se_var = math.sqrt(max(m4 - x.var() ** 2, 0) / N)
        assert abs(x.var(ddof=1) - d.variance) <= 4 * se_var
    else:
        assert x.var() == 0


def test_bare_number_is_deterministic():
    d = DIST.validate_python(12)
    assert d.dist == "deterministic" and d.value == 12


def test_empirical_resamples_only_observed_values():
    d = DIST.validate_python({"dist": "empirical", "observations": [1, 2, 7]})
    draw = d.sampler(np.random.default_rng(1))
    assert {draw() for _ in range(1000)} == {1.0, 2.0, 7.0}


@pytest.mark.parametrize("bad", [
    {"dist": "exponential", "mean": -1},
    {"dist": "gamma", "mean": 3},  # neither parameter pair complete
    {"dist": "gamma", "mean": 3, "sd": 1, "shape": 2, "scale": 1},
    {"dist": "triangular", "low": 5, "mode": 2, "high": 9},
    {"dist": "uniform", "low": 3, "high": 3},
    {"dist": "weibull", "shape": 2},
    {"dist": "empirical", "observations": []},
    {"dist": "lognormal", "mean": 3},
])
def test_invalid_parameters_are_rejected(bad):
    with pytest.raises(ValidationError):
        DIST.validate_python(bad)


def test_block_sampler_is_reproducible_and_stream_bound():
    d = DIST.validate_python({"dist": "exponential", "mean": 2})
    a = d.sampler(np.random.default_rng(5))
    b = d.sampler(np.random.default_rng(5))
    assert [a() for _ in range(1500)] == [b() for _ in range(1500)]


def test_bernoulli_frequency():
    coin = Bernoulli(0.05, np.random.default_rng(3))
    n = 100_000
    hits = sum(coin() for _ in range(n))
    assert abs(hits / n - 0.05) <= 4 * math.sqrt(0.05 * 0.95 / n)
    assert not any(Bernoulli(0.0, np.random.default_rng(3))() for _ in range(100))


@pytest.mark.parametrize("spec", [c for c, _ in CASES])
def test_first_small_block_gives_the_same_draws(spec):
    """A sampler's first block is FIRST_BLOCK draws for families drawn element by element: its values are
    those of one BLOCK-sized draw from the same stream (the results of every scenario depend on it)."""
    from sim.core.distributions import BLOCK, FIRST_BLOCK, Sampler
    d = DIST.validate_python(spec)
    n = FIRST_BLOCK + BLOCK + 7  # into the third block
    for seed in range(3):
        s = Sampler(d, np.random.default_rng(seed))
        got = [s() for _ in range(n)]
        rng = np.random.default_rng(seed)
        want = [*d.draw_block(rng, BLOCK), *d.draw_block(rng, BLOCK)]  # whole blocks, as before
        assert got == want[:n], spec
