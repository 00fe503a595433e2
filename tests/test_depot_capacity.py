"""A depot's storage capacity by a hand trace: three batches packed into 10 kits each reach a central
depot that holds 15; what does not fit waits at the dock (and moves in as kits leave) or is refused."""
from __future__ import annotations

import pytest

from sim.core.errors import ScenarioError
from sim.model import SupplyChainModel
from sim.scenario import parse_scenario
from tests.conftest import scenario_dict


def _run(room: dict):
    """The deterministic chain of conftest making 3 batches (material on hand): 10 kits are packed on
    days 8, 12 and 16; the one site activates on day 20 (no patients) and orders its level of 2 kits."""
    d = scenario_dict(horizon=50)
    d["lines"][0]["batches"] = 3
    d["suppliers"][0]["initial_stock"] = 30
    d["depot"] = {"name": "central", "storage": room}
    d["trials"][0]["regions"][0].update(activation=20, enrollment_rate=1e-9)
    model = SupplyChainModel(parse_scenario(d), 1, 0)
    model.run()
    accounting = model.check_conservation()  # kits at the dock and refused are accounted for
    return model.results().metrics, accounting["kit:kit"]


def test_what_does_not_fit_waits_at_the_dock():
    """Room for 15: 10 kits on day 8, 5 of the next 10 on day 12 (5 wait), the third lot waits whole
    on day 16; on day 20 two kits leave for the site and two move in at once.  Occupancy: 10 for 4 days,
    then 15 for 38 = 610 / 50 = 12.2; full 38 days; at the dock 5 for 4 days, 15 for 4, 13 for 30 =
    470 / 50 = 9.4; 13 still waiting at the end (no lot has got in whole: no wait observed)."""
    m, kits = _run({"capacity": 15})
    assert m["occupancy.depot.central.all.mean"] == pytest.approx(12.2)
    assert m["days_full.depot.central.all"] == pytest.approx(38.0)
    assert m["full.depot.central.all.mean"] == pytest.approx(38 / 50)
    assert m["awaiting_room.central.mean"] == pytest.approx(9.4)
    assert kits["held:awaiting_room"] == 13
    assert m["total.room_refused.central"] == 0
    assert m["delay.room_wait.central.n"] == 0


def test_what_does_not_fit_is_refused():
    """The same with when_full: refuse: 5 kits refused on day 12 and 10 on day 16; the shelf holds 15
    until day 20, then 13: occupancy (10 x 4 + 15 x 8 + 13 x 30) / 50 = 11.0, full for 8 days."""
    m, kits = _run({"capacity": 15, "when_full": "refuse"})
    assert m["total.room_refused.central"] == 15
    assert kits["out:refused_no_room"] == 15
    assert m["occupancy.depot.central.all.mean"] == pytest.approx(11.0)
    assert m["days_full.depot.central.all"] == pytest.approx(8.0)
    assert m["awaiting_room.central.mean"] == 0


def test_pallet_positions():
    """Two pallet positions of 8 kits: the first 10 kits take both (8 + 2), the next lot fills the part
    pallet (6 in, 4 wait) and the third waits; on day 20 two kits leave and two move in: 2 positions
    used from day 8 on (84 % of the time full), 16 kits on the shelf; at the dock 4 (days 12-16), 14
    (16-20), then 12."""
    m, kits = _run({"capacity": 2, "kits_per_pallet": 8})
    assert m["occupancy.depot.central.all.mean"] == pytest.approx(2 * 42 / 50)
    assert m["days_full.depot.central.all"] == pytest.approx(42.0)
    assert kits["held:awaiting_room"] == 12
    assert m["awaiting_room.central.mean"] == pytest.approx((4 * 4 + 14 * 4 + 12 * 30) / 50)


def test_a_bad_capacity_is_a_clear_error():
    d = scenario_dict()
    d["depot"] = {"storage": {"capacity": {"2-8C": -1}}}
    with pytest.raises(ScenarioError) as err:
        parse_scenario(d)
    assert "depot.storage.capacity" in str(err.value)
    d["depot"] = {"storage": {"capacity": 5, "when_full": "overflow"}}
    with pytest.raises(ScenarioError) as err:
        parse_scenario(d)
    assert "depot.storage.when_full" in str(err.value) and "wait" in str(err.value)
