"""Kits bought in ready to use (a comparator): (s, Q) at the central depot by hand, never packed from a
line's product, traced to their purchase order."""
from __future__ import annotations

import pytest

from sim.core.errors import ScenarioError
from sim.model import run_replication
from sim.scenario import parse_scenario
from tests.conftest import scenario_dict


def _scenario(**sourcing):
    d = scenario_dict(horizon=100)
    d["kit_types"] = [{"name": "kit"}, {"name": "CMP", "sourcing": {"lead_time": 10, "order_quantity": 20,
                                                                    "reorder_point": 5, "shelf_life": 300,
                                                                    "cost_per_kit": 7, **sourcing}}]
    t = d["trials"][0]
    t["arms"] = [{"name": "new", "kits": {"kit": 1}}, {"name": "comparator", "kits": {"CMP": 1}}]
    t["regions"][0]["activation"] = 1
    t["target_patients"] = 20
    return d


def test_comparator_bought_at_the_reorder_point_and_never_packed():
    """Position 0 <= s = 5 at day 0: one order of Q = 20 (cost 140) arrives on day 10; the trial's 8
    comparator patients use 8 of them, so the position never falls to 5 again.  Packaging packs the
    line's product into the other kit type only, and every comparator dose traces to the purchase."""
    res = run_replication(parse_scenario(_scenario()), 1, 0, trace=True)
    m = res.metrics
    assert (m["total.sourced.kits"], m["total.cost.sourcing"]) == (20, 140)
    comparator = [d for d in res.genealogy.doses if d[3] == "kit:CMP"]
    assert len(comparator) == m["trial.t.arm.comparator.randomised"] == 8
    lots = {row[0]: row for row in res.genealogy.lots}
    assert all(lots[d[4].split(".")[0]][3] == "PO:CMP-source" and lots[d[4].split(".")[0]][8] == 10
               for d in comparator)  # parents, created
    assert all(row[1] != "kit:CMP" for row in res.genealogy.lots if row[4] == "packaging")
    assert min(d[1] for d in comparator) >= 10


def test_a_sourced_kit_has_no_product():
    d = _scenario()
    d["kit_types"][1]["product"] = "drug_product"
    with pytest.raises(ScenarioError, match="a kit bought in is packed from no product"):
        parse_scenario(d)
