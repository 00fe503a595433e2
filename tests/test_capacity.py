"""Capacities by hand: a site's storage per temperature class cuts resupply orders; shipments travel in
shippers of a given size, each with its cost."""
from __future__ import annotations

import pytest

from sim.model import run_replication
from sim.scenario import parse_scenario
from tests.conftest import scenario_dict


def _scenario(capacity, shipper=None):
    """One site (no patients), active on day 1, trigger 2 / level 10 for an ambient and a 2-8 °C kit
    type, 2 days from a central depot holding 100 of each."""
    d = scenario_dict(horizon=60)
    d["depot"] = {"name": "central", "initial_kits": 100}
    d["kit_types"] = [{"name": "AMB"}, {"name": "COLD", "temperature": "2-8C"}]
    lane = {"transit_time": 2, **({"shipper": shipper} if shipper else {})}
    d["network"] = {"countries": [{"name": "C", "site_startup": 1, "lane": lane}]}
    t = d["trials"][0]
    del t["regions"]
    t["arms"] = [{"name": "a", "kits": {"AMB": 1, "COLD": 1}}]
    t["sites"] = [{"country": "C", "count": 1, "recruitment_rate": 1e-9, "capacity": capacity}]
    t["resupply"] = {"trigger": 2, "level": 10}
    return parse_scenario(d)


def test_a_fridge_holds_three_kits_and_shippers_hold_four():
    """The initial order (10 + 10) is cut to 10 ambient + 3 cold (7 left out); 13 kits leave in
    ceil(13 / 4) = 4 shippers at 50 each; on the shelf from day 3 to 60: mean 13 x 57 / 60."""
    m = run_replication(_scenario({"2-8C": 3}, {"kits": 4, "cost": 50}), 1, 0).metrics
    assert (m["total.shipped.kits"], m["total.no_room.kits"], m["total.shippers"]) == (13, 7, 4)
    assert m["total.cost.shipping"] == 200
    assert m["inventory.site.t.C-01.mean"] == pytest.approx(13 * 57 / 60)


def test_one_number_is_room_for_every_kit_type():
    """Room for 12 kits in all: the ambient order (10, first) fits, the cold one is cut to 2."""
    m = run_replication(_scenario(12), 1, 0).metrics
    assert (m["total.shipped.kits"], m["total.no_room.kits"]) == (12, 8)
    assert "total.shippers" not in m


def _country_rules(min_shelf_life=0.0, own_resupply=None, initial_kits=0):
    """One site in country C, active on day 1, fed only from 20 initial kits expiring on day 40 (the line
    gets no material); the trial's policy is trigger 2 / level 5."""
    d = scenario_dict(horizon=60)
    d["suppliers"][0].update(initial_stock=0, lead_time=1000)
    d["depot"] = {"name": "central", "initial_kits": 20, "initial_shelf_life": 40}
    d["network"] = {"countries": [{"name": "C", "site_startup": 1, "lane": {"transit_time": 2},
                                   "min_shelf_life": min_shelf_life}]}
    t = d["trials"][0]
    del t["regions"]
    group = {"country": "C", "count": 1, "recruitment_rate": 1e-9, "initial_kits": initial_kits}
    if own_resupply is not None:
        group["resupply"] = own_resupply
    t["sites"] = [group]
    t["resupply"] = {"trigger": 2, "level": 5}
    return parse_scenario(d)


def test_country_rules_shelf_life_on_shipment_and_resupply_per_site_group():
    """Kits with 39 days left on day 1 go to the site under no rule, not under a 45-day national rule;
    a site group's own policy (level 3) replaces the trial's (level 5)."""
    shipped = [run_replication(sc, 1, 0).metrics["total.shipped.kits"] for sc in
               (_country_rules(), _country_rules(min_shelf_life=45), _country_rules(own_resupply={"trigger": 1, "level": 3}))]
    assert shipped == [5, 0, 3]


def test_kits_on_a_sites_shelf_at_day_0():
    """Three kits on the shelf from day 0 (carried over): above the trigger (2) at activation, so nothing
    is shipped, and the site holds 3 kits all run long."""
    m = run_replication(_country_rules(initial_kits=3), 1, 0).metrics
    assert m["total.shipped.kits"] == 0 and m["inventory.site.t.C-01.mean"] == pytest.approx(3.0)
