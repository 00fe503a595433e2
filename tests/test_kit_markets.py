"""Outside demand for a depot's kits (a commercial pack market) against known answers: one-for-one
base stock with backorders (the textbook fill rate and backlog), with lost sales (Erlang's loss formula),
a hand trace of backorders met first come first served, expired and short-dated kits not sold, and clear
errors.  A regional depot resupplied from an ample central depot over a fixed-time lane is the base-stock
policy: trigger S - 1, level S, one kit a order, lead time = the lane's transit time."""
from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from scipy import stats

from sim.core.errors import ScenarioError
from sim.model import run_replication
from sim.scenario import parse_scenario
from tests.conftest import scenario_dict
from tests.test_markets import _runs, _within

REPS = 5


def _dict(market: dict, S: int = 5, lead: float = 4.0, horizon: float = 2000, warmup: float = 100,
          central: int = 1_000_000, **depot) -> dict:
    """The idle deterministic chain of conftest (no patients) with a regional depot 'shop' that sells kits."""
    d = scenario_dict(horizon=horizon, warmup=warmup, period=horizon / 10)
    d["lines"][0]["batches"] = 1
    d["trials"][0]["regions"][0]["activation"] = horizon + 1
    d["depot"] = {"initial_kits": central, "initial_shelf_life": 1e6}
    d["network"] = {"depots": [{"name": "shop", "lane": {"transit_time": lead}, "trigger": S - 1, "level": S,
                                "initial_kits": S, "initial_shelf_life": 1e6, **depot}]}
    d["markets"] = [{"name": "packs", "stock": "kit", "depot": "shop", **market}]
    return d


def test_base_stock_of_kits_with_backorders_matches_the_textbook():
    """λ = 1 kit/day, L = 4 days, S = 5: fill rate P(D ≤ S − 1) = 0.6288 with D ~ Poisson(λL), expected
    backlog E[(D − S)+] and on hand E[(S − D)+] (measured 0.626 ± 0.004 over 10 seeds while building)."""
    lam, lead, s_level = 1.0, 4.0, 5
    sc = parse_scenario(_dict({"rate": lam}, S=s_level, lead=lead))
    got = _runs(sc, ["fill_rate.market.packs", "backlog.packs.mean", "inventory.depot.shop.mean",
                     "total.demand.packs", "total.sold.packs"], seed=7, reps=REPS)
    d = stats.poisson(lam * lead)
    _within(got["fill_rate.market.packs"], d.cdf(s_level - 1))
    k = np.arange(0, 80)
    _within(got["backlog.packs.mean"], float(np.sum(np.maximum(k - s_level, 0) * d.pmf(k))))
    _within(got["inventory.depot.shop.mean"], float(np.sum(np.maximum(s_level - k, 0) * d.pmf(k))))
    # every order is met in the end, but the few still waiting at the horizon
    assert np.all(got["total.demand.packs"] - got["total.sold.packs"] <= 12)


def test_base_stock_of_kits_with_lost_sales_matches_erlangs_loss_formula():
    """With lost sales the kits on order form an M/D/S/S loss system: an order is lost when all S are on
    order, with probability Erlang B(S, λL) (PASTA); S = 4, λL = 4 gives B = 0.3107."""
    lam, lead, s_level = 1.0, 4.0, 4
    a = lam * lead
    erlang_b = a ** s_level / math.factorial(s_level) / sum(a ** i / math.factorial(i) for i in range(s_level + 1))
    sc = parse_scenario(_dict({"rate": lam, "unmet": "lost"}, S=s_level, lead=lead))
    got = _runs(sc, ["fill_rate.market.packs", "rate.lost_sales.packs"], seed=7, reps=REPS)
    _within(got["fill_rate.market.packs"], 1 - erlang_b)
    _within(got["rate.lost_sales.packs"], lam * erlang_b)


def test_backorders_are_met_first_come_first_served_by_hand():
    """Orders of 2 kits every 1.5 days at a depot holding none, trigger 2, level 5, lead time 4.
    Day 0: order 5 (arrives day 4).  1.5: backorder #1, position 5 - 2 = 3.  3.0: #2, position 1 -> order 4
    (arrives 7).  4: 5 kits meet #1 (waited 2.5) and #2 (1.0), 1 left.  4.5: #3 waits (1 < 2).  6.0: #4,
    position 1 + 4 - 4 = 1 -> order 4.  7: 4 kits meet #3 (2.5) and #4 (1.0), 1 left.  Horizon 7.2."""
    d = _dict({"interarrival": 1.5, "order_size": 2}, horizon=7.2, warmup=0)
    d["network"]["depots"][0].update(trigger=2, level=5, initial_kits=0)
    res = run_replication(parse_scenario(d), 1, 0)
    m = res.metrics
    assert m["total.demand.packs"] == 8 and m["total.sold.packs"] == 8
    assert m["fill_rate.market.packs"] == 0.0 and m["first_sale.packs"] == 4.0
    assert sorted(res.samples["backorder.packs"]) == pytest.approx([1.0, 1.0, 2.5, 2.5])
    assert m["delay.backorder.packs.mean"] == pytest.approx(1.75)
    assert res.accounting["kit:kit"]["out:sold"] == 8  # kits leave the chain as sold (conservation holds)


def test_expired_and_short_dated_kits_are_not_sold():
    """10 kits expiring on day 5 and no resupply; one kit ordered every 2 days, lost when short: days 2
    and 4 sell, the other orders are lost and the 8 kits left expire.  With 2 days of shelf life required
    only day 2's order sells (day 4 leaves 1 day)."""
    for min_life, sold in ((0.0, 2), (2.0, 1)):
        d = _dict({"interarrival": 2, "unmet": "lost", "min_shelf_life": min_life}, horizon=9, warmup=0,
                  central=0, lead=50)
        d["network"]["depots"][0].update(trigger=0, level=1, initial_kits=10, initial_shelf_life=5)
        m = run_replication(parse_scenario(d), 1, 0).metrics
        assert m["total.sold.packs"] == sold and m["total.lost_sales.packs"] == 4 - sold
        assert m["total.expired.depot"] == 10 - sold


@pytest.mark.parametrize("market, message", [
    ({"stock": "kit", "depot": "nowhere", "rate": 1}, "markets[0].depot: no depot 'nowhere'"),
    ({"stock": "box", "depot": "central", "rate": 1}, "markets[0].stock: no kit type 'box'"),
    ({"stock": "kit", "rate": 1}, "markets[0].stock: no stock point 'kit'"),
    ({"stock": "api", "rate": 1, "priority": "market"}, "a priority applies to a market at a depot"),
    ({"stock": "api", "rate": 1, "min_shelf_life": 30}, "applies to a market at a depot"),
    ({"stock": "kit", "depot": "central", "rate": 1, "order_size": 1.5}, "markets[0].order_size: kits are whole"),
])
def test_bad_kit_markets_are_named(market, message):
    d = scenario_dict()
    d["markets"] = [{"name": "packs", **market}]
    with pytest.raises(ScenarioError) as err:
        parse_scenario(d, "s.yaml")
    assert message in str(err.value) and "s.yaml" in str(err.value)


@pytest.mark.parametrize("priority, sold, shipped", [("clinical", 0, 2), ("market", 9, 1)])
def test_who_is_served_first_when_kits_arrive(priority, sold, shipped):
    """The central depot holds no kits; the site opens on day 1 and asks for 2 (left short); the market
    orders 9 on day 5 (backordered); the line's 10 kits arrive on day 8.  Clinical first: the site gets 2,
    the 8 left do not meet the order of 9.  Market first: the order takes 9, the site gets the last one."""
    d = scenario_dict(horizon=9.5, warmup=0, period=1)
    d["trials"][0]["regions"][0]["activation"] = 1
    d["markets"] = [{"name": "packs", "stock": "kit", "depot": "central", "interarrival": 5, "order_size": 9,
                     "priority": priority}]
    res = run_replication(parse_scenario(d), 1, 0)
    assert res.metrics["total.sold.packs"] == sold and res.metrics["total.shipped.kits"] == shipped
    assert res.metrics["first_sale.packs"] == 8.0 if sold else math.isnan(res.metrics["first_sale.packs"])
    kits = res.accounting["kit:kit"]
    assert kits.get("out:sold", 0.0) == sold and kits["held:on_hand"] == 10 - sold  # at the depot or the site


def test_make_to_stock_at_the_plant_answers_the_market():
    """scenarios/commercial_packs.yaml: the drug-product line makes to stock against the central depot's
    packs; the packs sold and dispensed beyond the 700 on hand at day 0 were all packed (the ledger of
    the whole run), while without the markets the study alone needs the first campaign of 2 batches only."""
    from pathlib import Path
    d = yaml.safe_load((Path(__file__).resolve().parents[1] / "scenarios" / "commercial_packs.yaml").read_text())
    res = run_replication(parse_scenario(d), 1, 0)
    packs = res.accounting["kit:pack"]
    assert packs["out:sold"] > 10_000 and packs["in:initial"] == 700
    assert packs["in:packed"] >= packs["out:sold"] + packs["out:dispensed"] - 700
    alone = run_replication(parse_scenario({**d, "markets": []}), 1, 0).metrics
    assert alone["batches.dp-line"] == 2 and res.metrics["batches.dp-line"] > 10 * alone["batches.dp-line"]
