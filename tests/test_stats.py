"""Collectors against hand computations."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.core.stats import RESERVOIR, Level, PeriodCounter, Tally, Together, summarize


def test_tally_matches_numpy_and_drops_warmup():
    rng = np.random.default_rng(1)
    x = rng.gamma(2.0, 3.0, 5000)
    t = Tally("d", warmup=10.0, rng=rng)
    for i, v in enumerate(x):
        t.observe(v, now=float(i))  # observations at t < 10 are warm-up
    kept = x[10:]
    assert t.n == len(kept)
    assert t.mean == pytest.approx(kept.mean(), rel=1e-12)
    assert t.variance == pytest.approx(kept.var(ddof=1), rel=1e-10)
    assert (t.min, t.max) == (kept.min(), kept.max())
    assert len(t.sample) == 1000 and set(t.sample) <= set(kept)


def test_reservoir_sample_is_uniform_over_the_stream():
    """Algorithm L keeps each of n observations with probability k/n: over 200 tallies of the stream
    0..9,999 (k = 1,000), the mean number kept from each tenth of the stream is 100 (sd of the count
    ~9.5 per tally, so the mean over 200 tallies is within 100 +/- 2 at 3 standard errors), and the
    sample's mean index is 4,999.5 within 3 standard errors."""
    rng = np.random.default_rng(7)
    counts = np.zeros(10)
    means = []
    for _ in range(200):
        t = Tally("d", rng=rng)
        for i in range(10_000):
            t.observe(float(i), 0.0)
        s = np.asarray(t.sample)
        assert len(s) == 1000 and len(set(s)) == 1000
        counts += np.bincount((s // 1000).astype(int), minlength=10)
        means.append(s.mean())
    assert counts / 200 == pytest.approx(np.full(10, 100.0), abs=2.0)
    se = math.sqrt(10_000 ** 2 / 12 / 1000 * (1 - 1000 / 10_000)) / math.sqrt(200)
    assert abs(np.mean(means) - 4999.5) < 3 * se


def test_reservoir_is_algorithm_l_drawn_one_uniform_at_a_time():
    """The reservoir (its three draws per entry taken from the block, or through ``_uniform`` where the
    block runs out) keeps exactly the sample of Algorithm L written plainly, one numpy draw per
    uniform: 20,000 observations, ~3,000 entries, blocks of 256 ending at every offset."""
    def plain(values, rng, k=RESERVOIR):
        def u():
            x = rng.random()
            return x if x > 0.0 else 5e-324
        sample, w, nxt = [], 0.0, 0
        for n, v in enumerate(values, 1):
            if n <= k:
                sample.append(v)
                if n == k:
                    w = math.exp(math.log(u()) / k)
                    nxt = n + int(min(math.log(u()) / math.log1p(-w), 1e18)) + 1
            elif n == nxt:
                sample[int(u() * k)] = v
                w *= math.exp(math.log(u()) / k)
                nxt = n + int(min(math.log(u()) / math.log1p(-w), 1e18)) + 1
        return sample
    values = [float(i) for i in range(20_000)]
    t = Tally("d", rng=np.random.default_rng(11))
    for v in values:
        t.observe(v, 0.0)
    assert t.sample == plain(values, np.random.default_rng(11))
    assert t._next > 20_000 and sum(v >= 18_000 for v in t.sample) > 50  # entries up to the end


def test_tally_merge_is_pooled():
    rng = np.random.default_rng(2)
    a, b = rng.normal(5, 2, 300), rng.normal(8, 1, 700)
    ta, tb = Tally("a"), Tally("b")
    for v in a:
        ta.observe(v, 0)
    for v in b:
        tb.observe(v, 0)
    m = ta.merge(tb)
    both = np.concatenate([a, b])
    assert m.n == 1000
    assert m.mean == pytest.approx(both.mean(), rel=1e-12)
    assert m.variance == pytest.approx(both.var(ddof=1), rel=1e-10)


def test_level_time_average_by_hand():
    # level 0 on [0,2), 4 on [2,5), 1 on [5,10): area = 12 + 5 = 17 over 10 days
    lv = Level("inv", horizon=10, period=5)
    lv.set(2, 4)
    lv.set(5, 1)
    lv.finish(10)
    assert lv.mean(10) == pytest.approx(1.7)
    # periods [0,5): area 12 -> 2.4 ; [5,10): area 5 -> 1.0
    assert lv.series(10) == pytest.approx([2.4, 1.0])
    assert lv.max == 4


def test_level_warmup_excludes_early_area():
    lv = Level("inv", horizon=10, period=5, warmup=4)
    lv.set(2, 4)
    lv.set(5, 1)
    lv.finish(10)
    # from t=4: 4 on [4,5) + 1 on [5,10) = 9 over 6 days
    assert lv.mean(10) == pytest.approx(9 / 6)


def test_level_merge_pools_replications():
    a = Level("inv", horizon=10, period=5, warmup=2)
    a.set(0, 3)
    a.finish(10)  # 3 throughout: mean 3
    b = Level("inv", horizon=10, period=5, warmup=2)
    b.set(6, 8)
    b.finish(10)  # 0 then 8 on [6,10): area 32 over [2,10] -> 4
    m = a.merge(b, 10)
    assert (a.mean(10), b.mean(10), m.mean(10)) == pytest.approx((3, 4, 3.5))
    assert m.series(10) == pytest.approx([1.5, 3 / 2 + 8 * 4 / 5 / 2])
    assert m.max == 8


def test_period_counter_bins_and_warmup():
    c = PeriodCounter("out", horizon=30, period=10, warmup=5)
    for t, q in [(1, 2), (9.99, 1), (10, 5), (29, 1), (30, 7)]:
        c.count(t, q)
    assert list(c.series()) == [3, 5, 8]  # t=30 falls in the last bin
    assert c.total == 14  # only t=1 is before the warm-up


def test_level_step_over_several_periods_by_hand():
    # 3 on [5, 37) with periods of 10 (the last, [40, 50), also takes what lies past the horizon):
    # 3 x 5, 3 x 10, 3 x 10, 3 x 7; then 2 on [37, 62): 2 x 3 in [30, 40), 2 x 22 in the last
    lv = Level("inv", horizon=50, period=10)
    lv.set(5, 3)
    lv._accumulate(37)  # the walk over periods itself (set takes it for any step over a boundary)
    lv.set(37, 2)
    lv.finish(62)
    assert lv._bins == pytest.approx([15, 30, 30, 21 + 6, 44])
    assert lv._area == pytest.approx(96 + 50)
    # a step from a boundary that // rounds down: 150.5 // 30.1 = 4, but 150.5 = 5 x 30.1 starts period 5
    lv = Level("inv", horizon=301, period=30.1)
    lv.set(150.5, 1)
    lv.set(200.0, 0)
    assert lv._bins[4] == 0 and lv._bins[5] == pytest.approx(30.1) and lv._bins[6] == pytest.approx(200 - 180.6)


def test_counters_and_a_tally_booked_together_as_by_separate_calls():
    rng = np.random.default_rng(3)
    mk = lambda: [PeriodCounter(n, horizon=30, period=10, warmup=5) for n in "abc"]  # noqa: E731
    apart, joint = mk(), mk()
    ta, tj = Tally("w", warmup=5, rng=np.random.default_rng(1)), Tally("w", warmup=5, rng=np.random.default_rng(1))
    both = Together(tuple(joint), tj)
    for t in sorted(rng.uniform(0, 35, 3000)):  # before and after the warm-up, past the horizon
        n, w = int(rng.integers(1, 4)), float(rng.exponential())
        for c, a in zip(apart, (n, 1, 1)):
            c.count(t, a)
        ta.observe(w, t)
        both.book(t, (n, 1, 1), w)
    assert [list(c.series()) for c in joint] == [list(c.series()) for c in apart]
    assert [c.total for c in joint] == [c.total for c in apart]
    assert (tj.n, tj.mean, tj.variance, tj.sample) == (ta.n, ta.mean, ta.variance, ta.sample)
    with pytest.raises(ValueError, match="one period"):
        Together((apart[0], PeriodCounter("d", horizon=30, period=5)), ta)


def test_summarize_student_t():
    x = [1.0, 2.0, 4.0, 7.0]
    s = summarize("m", x)
    h = stats.t.ppf(0.975, 3) * np.std(x, ddof=1) / 2
    assert s.mean == pytest.approx(3.5)
    assert s.ci_low == pytest.approx(3.5 - h) and s.ci_high == pytest.approx(3.5 + h)
    assert s.half_width == pytest.approx(h)
    assert summarize("m", [2.0]).n == 1 and math.isnan(summarize("m", [2.0]).sd)
    assert summarize("m", [1.0, float("nan"), 3.0]).n == 2


def test_a_total_level_is_the_sum_of_its_parts():
    """Level.assemble: the all-sites stock (summed from the sites' levels when the run ends) has the
    sites' summed time average and period series, as a level moved at every change would."""
    from sim.model import run_replication
    from tests.test_exp_support import small
    res = run_replication(small(), 3, 0)
    m, s = res.metrics, res.series
    sites = [k for k in s if k.startswith("inventory.site.")]
    assert len(sites) > 10
    assert m["inventory.sites_total.mean"] == pytest.approx(sum(m[f"{k}.mean"] for k in sites), rel=1e-12)
    assert s["inventory.sites_total"] == pytest.approx(sum(s[k] for k in sites), rel=1e-12)
    assert m["inventory.sites_total.mean"] > 0


def test_wilson_interval_of_a_share_of_runs_against_published_values():
    """Wilson score interval, 95 %: 8 of 10 -> [0.4902, 0.9433] (Newcombe 1998, Table I method 3);
    0 of 10 -> [0, z²/(n+z²)] = [0, 0.2775], not the zero-width [0, 0] of Student t."""
    from sim.core.stats import share_of_runs
    s = share_of_runs("risk.x", [1] * 8 + [0] * 2)
    assert s.interval == "Wilson score" and s.mean == pytest.approx(0.8)
    assert (s.ci_low, s.ci_high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    z = 1.959963984540054
    s0 = share_of_runs("risk.x", [0] * 10)
    assert (s0.ci_low, s0.ci_high) == pytest.approx((0.0, z * z / (10 + z * z)), abs=1e-12)


def test_interval_kept_inside_the_metrics_range_keeps_the_t_half_width():
    """A proportion near 1 and a count near 0 with few replications: the t interval crosses the
    bound; the reported one stops at it, the precision (half-width) is the t one."""
    from sim.core.stats import summarize, within_range
    x = [1.0, 1.0, 0.9, 1.0]
    t = summarize("dosed_fraction", x)
    assert t.ci_high > 1
    b = within_range(t, 0.0, 1.0)
    assert b.ci_high == 1.0 and b.ci_low == pytest.approx(t.ci_low) and b.half_width == pytest.approx(t.half_width)
    assert b.interval == "Student t within [0, 1]"
    c = within_range(summarize("total.visits.not_dosed", [0, 0, 12, 0]), 0.0)
    assert c.ci_low == 0.0 and c.ci_high == pytest.approx(3 + 3.182446305 * 6 / 2, rel=1e-6)


def test_summary_table_names_each_metrics_interval():
    from sim.experiments.tables import summarize_columns
    names = ["dosed_fraction", "risk.out_of_stock", "total.visits.not_dosed", "not.catalogued"]
    values = np.array([[1.0, 0, 0, -1], [0.9, 1, 12, 1], [1.0, 0, 0, -1]])
    by = {s.metric: s for s in summarize_columns(names, values)}
    assert by["dosed_fraction"].ci_high == 1.0
    assert by["risk.out_of_stock"].interval == "Wilson score"
    assert by["total.visits.not_dosed"].ci_low == 0.0
    assert by["not.catalogued"].interval == "Student t" and by["not.catalogued"].ci_low < -1
