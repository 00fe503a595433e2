"""Kits and patients are accounted for at any moment, in every place they can be."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.core.errors import ConservationError
from sim.model import run_replication
from test_clinical_base import base_dict, model, scenario, trial_dict


def _busy_network(horizon: float) -> dict:
    """Cut off mid-trial: kits awaiting dispatch, in transit, in customs, at hubs, sites and homes."""
    tr = trial_dict(target_patients=80, screen_failure=0.2, screening_time=10, dosing_window=3,
                    arms=[{"name": "A", "ratio": 1, "kits": {"cold": 1}}, {"name": "B", "ratio": 1, "kits": {"amb": 2}}],
                    regions=[], sites=[
                        {"country": "DE", "count": 5, "startup": 5, "recruitment_rate": 0.2},
                        {"country": "DE", "count": 1, "startup": 5, "recruitment_rate": 0.2, "direct_to_patient": True}])
    lane = {"transit_time": 3, "dispatch_days": ["mon", "thu"], "excursion_prob": 0.2}
    net = {"central_country": "US",
           "countries": [{"name": "US"}, {"name": "DE", "depot": "eu", "customs": 4, "lane": lane, "home_lane": lane}],
           "depots": [{"name": "eu", "lane": {"transit_time": 6, "excursion_prob": 0.1}, "country": "DE",
                       "trigger": 40, "level": 120}]}
    kit_types = [{"name": "cold", "temperature": "2-8C", "shelf_life": 80}, {"name": "amb", "shelf_life": 80}]
    return base_dict(horizon=horizon, trials=[tr], network=net, kit_types=kit_types,
                     depot={"initial_kits": 3000, "initial_shelf_life": 100})


def test_mid_run_every_state_is_held_somewhere():
    mdl = model(_busy_network(60.0))
    mdl.run()
    acc = mdl.check_conservation()
    states = {k for row in acc.values() for k, v in row.items() if v}
    for s in ("held:in_transit", "held:on_hand", "in:screened", "held:active", "out:lost", "out:dispensed"):
        assert s in states, s
    assert acc["kit:cold"]["out:lost"] > 0 and "out:lost" not in acc["kit:amb"]


def test_a_missing_holder_is_caught():
    mdl = model(_busy_network(60.0))
    mdl.run()
    holders = [h for h in mdl.nodes() if h not in mdl.network.lanes.values()]
    from sim.core import conservation
    with pytest.raises(ConservationError, match="kit:"):
        conservation.check(mdl.ctx.ledger, holders)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(horizon=st.floats(20, 400), target=st.integers(1, 40), fail=st.floats(0, 0.5),
       hazard=st.floats(0, 0.01), window=st.integers(0, 5), shelf=st.floats(30, 400), seed=st.integers(0, 99))
def test_conservation_holds_for_random_designs(horizon, target, fail, hazard, window, shelf, seed):
    d = _busy_network(horizon)
    t = d["trials"][0]
    t.update(target_patients=target, screen_failure=fail, dropout_hazard=hazard, dosing_window=window)
    d["kit_types"][0]["shelf_life"] = shelf
    d["depot"]["initial_shelf_life"] = shelf
    res = run_replication(scenario(d), seed, 0)  # raises on any imbalance
    m = res.metrics
    due = res.accounting.get("visit", {}).get("in:due", 0)
    waiting = res.accounting.get("visit", {}).get("held:waiting_for_kit", 0)
    assert m["total.visits.dosed"] + m["total.visits.not_dosed"] + waiting == due
    assert m["total.visits.not_dosed"] == m["total.visits.missed_dispensing"] + m["total.visits.out_of_stock"]
