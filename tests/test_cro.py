"""CROs: a finite team of CRAs starts sites up (in waves) and monitors them; hand-computed traces,
the start-up-before-monitoring priority, and clear errors for unknown CROs."""
from __future__ import annotations

import pytest

from sim.core.errors import ScenarioError
from sim.model import run_replication
from sim.scenario import parse_scenario
from tests.conftest import scenario_dict


def _trial_with_cro(regions: list[dict], cro: dict, horizon: float = 100) -> dict:
    d = scenario_dict(horizon=horizon)
    t = d["trials"][0]
    t["visits"] = [0, 500]  # patients stay on treatment: sites stay open past the horizon
    t["target_patients"] = 100
    t["regions"] = [{"name": f"r{i}", "enrollment_rate": 0.1, "transit_time": 1, **r} for i, r in enumerate(regions)]
    t["cro"] = "acme"
    d["cros"] = [{"name": "acme", **cro}]
    return d


def test_two_cras_start_five_sites_in_waves_and_monitor_them():
    """Five sites ready at day 0, two CRAs, 10 days of start-up work each: active at 10, 10, 20, 20, 30
    (waits 0, 0, 10, 10, 20); then a 1-day visit every 30 days: at 40 and 70, 50 and 80, 60 and 90
    (the ones due at the horizon do not finish): 10 visits.  CRAs busy (5 x 10 + 10 x 1) / (2 x 100)."""
    d = _trial_with_cro([{"sites": 5, "activation": 0}],
                        {"cras": 2, "startup_work": 10, "monitoring": {"every": 30, "work": 1}})
    m = run_replication(parse_scenario(d), 1, 0).metrics
    assert [m[f"site.t.r0-{k:02d}.activated"] for k in range(1, 6)] == [10, 10, 20, 20, 30]
    assert (m["delay.cra_wait.acme.mean"], m["delay.cra_wait.acme.max"], m["delay.cra_wait.acme.n"]) == (8, 20, 5)
    assert m["total.monitoring_visits.acme"] == 10
    assert m["utilisation.cro.acme"] == pytest.approx(60 / 200)


def test_a_start_up_goes_before_a_monitoring_visit():
    """One CRA.  Sites 1 and 2 are ready at 0, site 3 at 16; start-up 10 days, a 3-day visit every 5 days.
    Site 1 is active at 10 and asks for its visit at 15; site 2's start-up holds the CRA until 20.  At 20
    site 3's start-up (asked at 16) goes before site 1's visit (asked at 15): site 3 is active at 30, not
    33 as first come first served would have it."""
    d = _trial_with_cro([{"sites": 2, "activation": 0}, {"sites": 1, "activation": 16}],
                        {"cras": 1, "startup_work": 10, "monitoring": {"every": 5, "work": 3}}, horizon=40)
    m = run_replication(parse_scenario(d), 1, 0).metrics
    assert (m["site.t.r0-01.activated"], m["site.t.r0-02.activated"], m["site.t.r1-01.activated"]) == (10, 20, 30)
    assert m["delay.cra_wait.acme.mean"] == pytest.approx((0 + 10 + 4) / 3)  # site 3: asked at 16, served at 20


def test_a_region_may_use_another_cro_and_unknown_ones_are_named():
    d = _trial_with_cro([{"sites": 2, "activation": 0}, {"sites": 2, "activation": 0, "cro": "local"}],
                        {"cras": 1, "startup_work": 10})
    d["cros"].append({"name": "local", "cras": 2, "startup_work": 5})
    m = run_replication(parse_scenario(d), 1, 0).metrics
    assert [m[f"site.t.r0-{k:02d}.activated"] for k in (1, 2)] == [10, 20]   # acme: one CRA
    assert [m[f"site.t.r1-{k:02d}.activated"] for k in (1, 2)] == [5, 5]     # local: two CRAs
    d["trials"][0]["regions"][1]["cro"] = "nobody"
    with pytest.raises(ScenarioError, match=r"trials\[0\].regions\[1\].cro: no CRO 'nobody'"):
        parse_scenario(d)
