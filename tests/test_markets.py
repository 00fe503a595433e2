"""Outside demand at a stock point (markets) against inventory theory: base stock with backorders
(textbook fill rate and expected backorders, Little's law), (s, S) with lost sales against a Markov
chain solved here, time-varying demand by thinning, forecast files, and clear errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from scipy import stats

from sim.core.errors import ScenarioError
from sim.model import run_replication
from sim.scenario import dump_scenario, load_scenario, parse_scenario
from tests.conftest import scenario_dict

REPS = 8


def _scenario(material: dict, supplier: dict, market: dict, horizon: float = 4000, warmup: float = 200):
    """The deterministic chain of conftest kept idle (one batch, no patients) beside stock point m."""
    d = scenario_dict(horizon=horizon, warmup=warmup, period=horizon / 10)
    d["lines"][0]["batches"] = 1
    d["trials"][0]["regions"][0]["activation"] = horizon + 1
    d["suppliers"].append({"name": "m-sup", "material": "m", **supplier})
    d["materials"] = [{"name": "m", **material}]
    d["markets"] = [{"name": "shop", "stock": "m", **market}]
    return parse_scenario(d)


def _runs(sc, names, seed=5, reps=REPS):
    out = {n: [] for n in names}
    for r in range(reps):
        m = run_replication(sc, seed, r).metrics  # conservation is checked in every one
        for n in names:
            out[n].append(m[n])
    return {n: np.array(v) for n, v in out.items()}


def _within(values, theory, k=4.0):
    se = values.std(ddof=1) / math.sqrt(len(values))
    assert abs(values.mean() - theory) <= k * se + 1e-3 * abs(theory), (values.mean(), theory, se)


def test_base_stock_with_backorders_matches_the_textbook():
    """Poisson demand λ = 2/day of one unit, lead time L = 5 days, base stock S = 12: the fill rate is
    P(D ≤ S − 1) with D ~ Poisson(λL) (0.6968), the expected backlog E[(D − S)+], and the backlog's time
    average equals λ × the mean wait of all orders (Little's law; an order met at once waits 0)."""
    lam, lead, s_level = 2.0, 5.0, 12
    sc = _scenario({"policy": {"kind": "base_stock", "level": s_level}}, {"lead_time": lead, "initial_stock": s_level},
                   {"rate": lam})
    got = _runs(sc, ["fill_rate.market.shop", "backlog.shop.mean", "delay.backorder.shop.mean",
                     "delay.backorder.shop.n", "total.demand.shop"])
    d = stats.poisson(lam * lead)
    _within(got["fill_rate.market.shop"], d.cdf(s_level - 1))
    backlog = sum((k - s_level) * d.pmf(k) for k in range(s_level + 1, 80))
    _within(got["backlog.shop.mean"], backlog)
    little = lam * got["delay.backorder.shop.mean"] * got["delay.backorder.shop.n"] / got["total.demand.shop"]
    assert got["backlog.shop.mean"].mean() == pytest.approx(little.mean(), rel=0.03)


def _lost_sales_chain(lam: float, mu: float, s: int, big_s: int) -> np.ndarray:
    """Stationary law of the stock on hand under (s, S) with lost sales, unit Poisson demand and an
    exponential lead time (one order outstanding at most, since S − s > s): a birth-death-like CTMC."""
    q = np.zeros((big_s + 1, big_s + 1))
    for i in range(big_s + 1):
        if i > 0:
            q[i, i - 1] += lam
        if i <= s:
            q[i, i + big_s - s] += mu
        q[i, i] = -q[i].sum()
    a = np.vstack([q.T, np.ones(big_s + 1)])
    b = np.zeros(big_s + 2)
    b[-1] = 1.0
    return np.linalg.lstsq(a, b, rcond=None)[0]


def test_s_S_with_lost_sales_matches_the_markov_chain():
    lam, mean_lead, s, big_s = 1.0, 4.0, 3, 8
    pi = _lost_sales_chain(lam, 1 / mean_lead, s, big_s)
    sc = _scenario({"policy": {"kind": "sS", "reorder_point": s, "order_up_to": big_s}},
                   {"lead_time": {"dist": "exponential", "mean": mean_lead}, "initial_stock": big_s},
                   {"rate": lam, "unmet": "lost"})
    got = _runs(sc, ["fill_rate.market.shop", "rate.lost_sales.shop", "inventory.material.m.mean"])
    _within(got["fill_rate.market.shop"], 1 - pi[0])          # PASTA: an order finds 0 with prob. π0
    _within(got["rate.lost_sales.shop"], lam * pi[0])
    _within(got["inventory.material.m.mean"], float(np.arange(big_s + 1) @ pi))


def test_a_schedule_and_a_season_shape_the_demand():
    """Rate 1 until day 500, then 3, times a season of 0.5 (first half year) and 1.5 (second): the
    expected orders over [warm-up 100, 1000] are the integral of the rate (ample stock, none short)."""
    sc = _scenario({"policy": {"kind": "base_stock", "level": 1e6}}, {"lead_time": 1, "initial_stock": 1e6},
                   {"schedule": [[0, 1.0], [500, 3.0]], "season": [0.5, 1.5], "season_length": 365},
                   horizon=1000, warmup=100)

    def rate(t):
        return (1.0 if t < 500 else 3.0) * (0.5 if (t % 365) < 182.5 else 1.5)

    grid = np.linspace(100, 1000, 900_001)
    expected = float(np.mean([rate(t) for t in grid[::100]]) * 900)
    got = _runs(sc, ["total.demand.shop"])["total.demand.shop"]
    assert abs(got.mean() - expected) <= 4 * math.sqrt(expected / REPS)
    assert got.mean() == pytest.approx(expected, rel=0.05)


def test_a_forecast_file_is_read_into_the_scenario_which_stays_self_contained(tmp_path):
    (tmp_path / "demand.csv").write_text("day,rate\n0,0.5\n100,2\n")
    d = scenario_dict()
    d["suppliers"].append({"name": "m-sup", "material": "m", "lead_time": 2, "initial_stock": 50,
                           "reorder_point": 10, "order_quantity": 40})
    d["markets"] = [{"name": "shop", "stock": "m", "forecast": "demand.csv"}]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d))
    sc = load_scenario(path)
    assert sc.markets[0].schedule == [(0.0, 0.5), (100.0, 2.0)] and sc.markets[0].forecast is None
    again = yaml.safe_load(dump_scenario(sc))
    assert parse_scenario(again).markets[0].schedule == sc.markets[0].schedule  # no file needed any more


def test_launch_stock_build_by_hand():
    """Base stock 30 with 10 on hand and a 7-day lead time: the order of 20 placed on day 0 arrives on
    day 7, so a launch stock of 25 is first on hand on day 7, and on the launch day (start 50, or the
    first day a schedule's rate is above 0) the stock point holds 30 (no demand before the launch)."""
    for market, launch in (({"rate": 1.0, "start": 50}, 50.0), ({"schedule": [[0, 0.0], [120, 1.0]]}, 120.0)):
        sc = _scenario({"policy": {"kind": "base_stock", "level": 30}}, {"lead_time": 7, "initial_stock": 10},
                       {**market, "launch_stock": 25}, horizon=200, warmup=0)
        assert sc.markets[0].launch_day() == launch
        m = run_replication(sc, 1, 0).metrics
        assert m["launch_stock_built.shop"] == 7.0
        assert m["stock_at_launch.shop"] == 30.0
        assert m["first_sale.shop"] > launch
    never = _scenario({"policy": {"kind": "base_stock", "level": 30}}, {"lead_time": 7, "initial_stock": 10},
                      {"rate": 1.0, "start": 50, "launch_stock": 31}, horizon=200, warmup=0)
    assert math.isnan(run_replication(never, 1, 0).metrics["launch_stock_built.shop"])


@pytest.mark.parametrize("market, message", [
    ({"stock": "nothing", "rate": 1}, "markets[0].stock: no stock point 'nothing'"),
    ({"stock": "api", "rate": 1, "interarrival": 2}, "expected exactly one of rate, interarrival, schedule"),
    ({"stock": "api", "schedule": [[5, 1], [2, 1]]}, "increasing order of day"),
    ({"stock": "api", "forecast": "missing.csv"}, "cannot read"),
])
def test_bad_markets_are_named(market, message):
    d = scenario_dict()
    d["markets"] = [{"name": "shop", **market}]
    with pytest.raises(ScenarioError) as err:
        parse_scenario(d, "s.yaml")
    assert message in str(err.value) and "s.yaml" in str(err.value)
