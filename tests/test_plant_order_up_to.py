"""The plant's continuous-review (s, S) plan and partial last batches, against hand computations:
deterministic demand gives the exact sawtooth, Poisson demand the uniform inventory position of
(s, S) with unit demand, and the last batch of a plan makes only what is still needed."""
from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core.errors import ScenarioError
from sim.model import SupplyChainModel, run_replication
from sim.scenario import parse_scenario
from sim.scenario.forecast import last_batch_share
from sim.scenario.resolve import resolve
from tests.conftest import scenario_dict


def _chain(plan: dict, market: dict, batch: float = 80.0, horizon: float = 420, warmup: float = 100):
    """A drug-substance line (2 days a batch, yield 1, no QC time, no material) whose stock 'ds' only a
    market draws on (the drug-product line that consumes it makes nothing)."""
    d = scenario_dict(horizon=horizon, warmup=warmup, period=horizon / 10)
    d["lines"] = [
        {"name": "ds-line", "kind": "batch",
         "products": [{"product": "ds", "batch_size": batch, "cycle_time": 2, "plan": plan}]},
        {"name": "dp-line", "kind": "batch",
         "products": [{"product": "drug_product", "bom": {"ds": 1.0}, "batch_size": 100, "cycle_time": 1,
                       "plan": {"batches": 0}}]},
    ]
    d["trials"][0]["regions"][0]["activation"] = horizon + 1
    d["markets"] = [{"name": "shop", "stock": "ds", "start": 20, **market}]
    return parse_scenario(d)


def test_deterministic_demand_gives_the_sawtooth_by_hand():
    """10 units a day (one order a day), s = 50, S = 130, one 80-unit batch of 2 days per campaign: the
    position falls from 130 to 60 in steps of 10 and a campaign starts when it reaches 50, so there is
    one campaign per (S - s) / 10 = 8 days (40 in the 320-day window) and the stock on hand averages
    (S + s + 10) / 2 - D L = 95 - 20 = 75 (50, 40, 110, 100, ..., 60 over the 8 days), never short."""
    sc = _chain({"policy": "order_up_to", "reorder_point": 50, "order_up_to": 130},
                {"interarrival": 1.0, "order_size": 10.0})
    m = run_replication(sc, 1, 0).metrics  # conservation checked
    assert m["plan.campaigns.ds-line.ds"] == 320 * 10 / 80
    assert m["batches.ds-line"] == 40
    assert m["inventory.material.ds.mean"] == pytest.approx(75.0, abs=1e-9)
    assert m["fill_rate.market.shop"] == 1.0
    assert m["plan.partial_batches.ds-line.ds"] == 0


def test_poisson_demand_gives_the_uniform_position():
    """Unit orders at λ = 2 a day, s = 20, S = 60, a 40-unit batch of L = 2 days: the position is
    uniform on s+1..S (mean 40.5), a batch is in process λL = 4 units on average, so the stock on hand
    averages 36.5 (demand over the lead time never exceeds 20 here); campaigns = λT / (S - s) = 25 per
    500 days.  Eight replications, within 4 standard errors."""
    sc = _chain({"policy": "order_up_to", "reorder_point": 20, "order_up_to": 60},
                {"rate": 2.0, "order_size": 1.0}, batch=40.0, horizon=600, warmup=100)
    inv, camps = [], []
    for r in range(8):
        m = run_replication(sc, 3, r).metrics
        inv.append(m["inventory.material.ds.mean"])
        camps.append(m["plan.campaigns.ds-line.ds"] / m["total.demand.shop"] * 40)
    inv = np.array(inv)
    se = inv.std(ddof=1) / math.sqrt(len(inv))
    assert abs(inv.mean() - 36.5) <= 4 * se + 0.05, (inv.mean(), se)
    assert np.mean(camps) == pytest.approx(1.0, abs=0.03)  # one campaign per S - s units demanded


def test_order_up_to_ends_on_a_partial_batch():
    """S - s = 80 with 60-unit batches and min_batch 0.25: a campaign started at the position s = 50 is a
    whole batch and a third of one (20 units), so it releases exactly 80; the first, from a position of
    0, makes 130 / 60 = 2 batches + 1/6 of one raised to 0.25 (2 x 60 + 15 = 135), the second, from
    135 - 9 x 10 = 45, 85 (1 + 25/60).  With S = 120 the first is 2 whole batches (120), and every later
    one starts at 50 or 45 and needs 70 or 75: 1 batch + 10 or 15 units, raised to 15 (75 a campaign)."""
    for big_s, made, partial in ((130, lambda n: 135 + 85 + (n - 2) * 80.0, lambda n: n),
                                 (120, lambda n: 120 + (n - 1) * 75.0, lambda n: n - 1)):
        sc = _chain({"policy": "order_up_to", "reorder_point": 50, "order_up_to": big_s, "min_batch": 0.25},
                    {"interarrival": 1.0, "order_size": 10.0}, batch=60.0, horizon=301, warmup=0)
        model = SupplyChainModel(sc, 1, 0)
        model.run()
        model.check_conservation()
        m = model.results().metrics
        n = m["plan.campaigns.ds-line.ds"]
        assert n > 30
        assert m["plan.partial_batches.ds-line.ds"] == partial(n)
        started = m["total.released.ds-line"] + model.lines[0].pipeline("ds")  # the last may be in process
        assert started == pytest.approx(made(n))


def test_a_period_boundary_that_rounds_down_is_crossed():
    """Periods of 30.1 days: 150.5 // 30.1 is 4.0 although 150.5 = 5 x 30.1, which made the level's
    integration loop forever at that boundary; now the level crosses it (and the total area is right)."""
    from sim.core.stats import Level
    lv = Level("x", 301.0, 30.1)
    lv.set(100.0, 2.0)
    lv.set(200.0, 0.0)
    assert lv.mean(301.0) == pytest.approx(200.0 / 301.0)


def test_make_to_forecast_makes_only_what_is_needed():
    """10 patients x 1 kit x 100 units = 1,000 units needed; batches of 300: 3 whole batches and a last
    one of 100 units (1/3 of nominal, above min_batch 0.1) instead of a fourth full batch; its BOM is
    scaled alike (10 kg a batch: 33.3 kg in all)."""
    d = scenario_dict(horizon=200)
    line = d["lines"][0]
    line.update(batch_size=300, plan={"policy": "make_to_forecast", "min_batch": 0.1})
    d["suppliers"][0]["initial_stock"] = 100
    sc = parse_scenario(d)
    plan = resolve(sc)
    assert plan.forecast["line", "drug_product"] == 4
    assert plan.last_batch["line", "drug_product"] == pytest.approx(1 / 3)
    m = run_replication(sc, 1, 0).metrics
    assert m["total.released.line"] == pytest.approx(1000.0)
    assert m["batches.line"] == 4


def test_last_batch_share_by_hand():
    assert last_batch_share(3.25, 4, 0.1) == pytest.approx(0.25)
    assert last_batch_share(3.05, 4, 0.1) == pytest.approx(0.1)  # raised to the minimum batch
    assert last_batch_share(4.0, 4, 0.1) == 1.0
    assert last_batch_share(3.25, 4, None) == 1.0  # whole batches without min_batch


def test_order_up_to_below_reorder_point_is_a_clear_error():
    with pytest.raises(ScenarioError) as err:
        _chain({"policy": "order_up_to", "reorder_point": 50, "order_up_to": 40}, {"rate": 1.0})
    assert "lines[0].products[0].plan.order_up_to" in str(err.value)
    assert "expected more than reorder_point" in str(err.value)
