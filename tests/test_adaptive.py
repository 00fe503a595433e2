"""Interim analyses (adaptive designs), by hand: dropping an arm, re-estimating the sample size,
terminating; the decision's probability; clear errors."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from sim.core.errors import ScenarioError
from sim.model import run_replication
from sim.scenario import parse_scenario
from tests.conftest import scenario_dict

TRIAL = ("trial.t.enrolled", "trial.t.completed", "trial.t.discontinued", "trial.t.arm.A.randomised",
         "trial.t.arm.B.randomised", "total.visits.dosed", "trial.t.last_patient_last_visit")


def _scenario(interims, target=8, rate=1.0):
    """One site, active at once, a patient every 1/rate days (days 1, 2, 3 ...), randomised 1:1 in
    blocks of 2 trial-wide, dosed on days 0 and 10 after randomisation, from ample depot stock."""
    d = scenario_dict(horizon=60)
    d["depot"] = {"name": "central", "initial_kits": 100}
    d["network"] = {"countries": [{"name": "C", "site_startup": 0, "lane": {"transit_time": 0}}]}
    t = d["trials"][0]
    del t["regions"]
    t["sites"] = [{"country": "C", "count": 1, "recruitment_rate": rate, "arrivals": "regular"}]
    t.update(target_patients=target, visits=[0, 10], stratify="trial", block_size=2,
             arms=[{"name": "A", "ratio": 1}, {"name": "B", "ratio": 1}], interims=interims,
             resupply={"trigger": 5, "level": 20})
    return parse_scenario(d)


def _metrics(interims, **kw):
    m = run_replication(_scenario(interims, **kw), 1, 0).metrics  # conservation checked, patients included
    return m, tuple(m.get(k, 0) for k in TRIAL)  # a trial without interims reports no discontinued


def test_without_an_interim_every_patient_completes():
    _, got = _metrics([])
    assert got == (8, 8, 0, 4, 4, 16, 18)  # LPLV: the 8th patient (day 8) dosed again on day 18


def test_dropping_an_arm_at_the_fourth_patient():
    """After 4 patients (two blocks: 2 A, 2 B) arm B is dropped: patients 5-8 all get A; the two on B
    stop at their day-10 visit (no dose).  Doses: 8 first visits + 6 second ones."""
    m, got = _metrics([{"at_patients": 4, "drop_arms": ["B"]}])
    assert got == (8, 6, 2, 6, 2, 14, 18)
    assert m["trial.t.interims_acted"] == 1 and math.isnan(m["trial.t.terminated"])
    _, finish = _metrics([{"at_patients": 4, "drop_arms": ["B"], "stop_dropped": False}])
    assert finish == (8, 8, 0, 6, 2, 16, 18)  # B's patients finish their schedule


def test_sample_size_re_estimation_and_termination():
    _, smaller = _metrics([{"at_patients": 2, "new_target": 6}])
    assert smaller[:2] == (6, 6) and smaller[-1] == 16  # the 6th patient (day 6) is the last
    _, larger = _metrics([{"at_patients": 2, "new_target": 10}])
    assert larger[:2] == (10, 10) and larger[-1] == 20
    m, stopped = _metrics([{"day": 5.5, "terminate": True}])
    # patients of days 1-5 randomised; each stops at its day-10 visit; the last at day 15
    assert stopped == (5, 0, 5, m["trial.t.arm.A.randomised"], m["trial.t.arm.B.randomised"], 5, 15)
    assert m["trial.t.terminated"] == 5.5 and m["trial.t.last_patient_in"] == 5


def test_a_decision_is_taken_with_its_probability():
    """probability 0: the same trial as with no interim; 0.3: taken in 30 % of replications (4 SE)."""
    _, never = _metrics([{"at_patients": 4, "drop_arms": ["B"], "probability": 0.0}])
    assert never == _metrics([])[1]
    sc = _scenario([{"at_patients": 2, "new_target": 4, "probability": 0.3}], target=6, rate=2.0)
    acted = np.array([run_replication(sc, 3, r).metrics["trial.t.interims_acted"] for r in range(60)])
    assert abs(acted.mean() - 0.3) <= 4 * math.sqrt(0.3 * 0.7 / 60)


@pytest.mark.parametrize("interim, message", [
    ({"at_patients": 4, "drop_arms": ["C"]}, "interims[0].drop_arms: no arm 'C'"),
    ({"at_patients": 4, "drop_arms": ["A", "B"]}, "every arm would be dropped"),
    ({"at_patients": 4, "day": 3, "terminate": True}, "exactly one of at_patients, day"),
    ({"at_patients": 4}, "expected a decision"),
])
def test_bad_interims_are_named(interim, message):
    with pytest.raises(ScenarioError, match=re.escape(message)):
        _scenario([interim])


def test_damaged_or_lost_kits_are_replaced_from_the_shelf():
    """Each dispensed kit is lost with probability 0.3 and replaced at once while a spare is on hand: the
    losses (replaced + not) are 30 % of the planned doses (4 SE over replications), every replacement is
    dispensed too, and ample stock leaves none unreplaced."""
    d = scenario_dict(horizon=200)
    d["depot"] = {"name": "central", "initial_kits": 2000}
    d["network"] = {"countries": [{"name": "C", "site_startup": 0, "lane": {"transit_time": 0}}]}
    t = d["trials"][0]
    del t["regions"]
    t["sites"] = [{"country": "C", "count": 2, "recruitment_rate": 0.5}]
    t.update(target_patients=60, visits=[0, 10, 20], kit_loss_prob=0.3, resupply={"trigger": 10, "level": 30})
    sc = parse_scenario(d)
    shares = []
    for r in range(10):
        m = run_replication(sc, 4, r).metrics
        planned = m["total.dispensed.kits"] - m["total.replaced.kits"]
        assert planned == m["total.visits.dosed"] and m["total.unreplaced.kits"] == 0
        shares.append((m["total.replaced.kits"] + m["total.unreplaced.kits"]) / planned)
    shares = np.array(shares)
    assert abs(shares.mean() - 0.3) <= 4 * shares.std(ddof=1) / math.sqrt(len(shares))


def test_weight_based_dosing_draws_each_patients_dose_level_by_share():
    """One arm, two weight bands: 'light' (share 1) gets one K10 kit a visit, 'heavy' (share 3) one K10 and
    one K20.  Kits dispensed are light + 2 x heavy exactly; heavy is 3/4 of patients (4 SE); the
    make-to-forecast demand expects 1.75 kits a visit (K10 1, K20 0.75)."""
    from sim.scenario.forecast import kits_per_patient
    d = scenario_dict(horizon=100)
    d["kit_types"] = [{"name": "K10"}, {"name": "K20"}]
    d["depot"] = {"name": "central", "initial_kits": 500}
    t = d["trials"][0]
    t["arms"] = [{"name": "act", "dose_levels": [{"name": "light", "share": 1, "kits": {"K10": 1}},
                                                 {"name": "heavy", "share": 3, "kits": {"K10": 1, "K20": 1}}]}]
    t["regions"][0]["activation"] = 1
    t["target_patients"] = 40
    t["resupply"] = {"trigger": 20, "level": 40}  # ample: every patient dosed ...
    t["screening_time"] = 5  # ... once the site's first kits have arrived
    sc = parse_scenario(d)
    assert kits_per_patient(sc.trials[0], ["K10", "K20"]) == {"K10": 1.0, "K20": 0.75}
    heavy = []
    for r in range(20):
        m = run_replication(sc, 6, r).metrics
        light, hv = m["trial.t.arm.act.level.light.randomised"], m["trial.t.arm.act.level.heavy.randomised"]
        assert light + hv == m["trial.t.arm.act.randomised"] and m["total.dispensed.kits"] == light + 2 * hv
        heavy.append(hv / (light + hv))
    heavy = np.array(heavy)
    assert abs(heavy.mean() - 0.75) <= 4 * heavy.std(ddof=1) / math.sqrt(len(heavy))
    d["trials"][0]["arms"][0]["kits"] = {"K10": 1}
    with pytest.raises(ScenarioError, match="give kits or dose_levels"):
        parse_scenario(d)


def _autologous(**spec):
    d = scenario_dict(horizon=100)
    d["network"] = {"countries": [{"name": "C", "site_startup": 0, "lane": {"transit_time": 1}}]}
    t = d["trials"][0]
    del t["regions"]
    t["sites"] = [{"country": "C", "count": 1, "recruitment_rate": 1.0, "arrivals": "regular"}]
    t.update(target_patients=3, autologous={"to_cdmo": 1, "slots": 1, "manufacturing": 10, "release": 2,
                                            "to_site": 1, "vein_to_vein_limit": 30, **spec})
    return parse_scenario(d)


def test_autologous_vein_to_vein_by_hand():
    """Patients randomised on days 1, 2, 3; 1 day to the CDMO, one slot of 10 days, 2 days of release,
    1 day back: infused on days 15, 25, 35 (slot waits 0, 9, 18; vein to vein 14, 23, 32), the last one
    beyond the 30-day limit; the slot busy 30 of 100 days; no kit shipped."""
    m = run_replication(_autologous(), 1, 0).metrics
    assert (m["total.infused.t"], m["delay.vein_to_vein.t.mean"], m["delay.vein_to_vein.t.max"]) == (3, 23, 32)
    assert (m["delay.slot_wait.t.mean"], m["total.late_infusions.t"], m["trial.t.completed"]) == (9, 1, 3)
    assert m["utilisation.slots.t"] == pytest.approx(0.3) and m["total.shipped.kits"] == 0


def test_autologous_failures_are_collected_again_or_not_treated():
    """Every manufacture fails with probability 0.5 and two collections are allowed: a patient is not
    treated with probability 0.25 (4 SE over replications); every patient is accounted for."""
    sc = _autologous(failure_prob=0.5, attempts=2, recollection=5)
    shares = []
    for r in range(30):
        m = run_replication(sc, 8, r).metrics
        assert m["total.infused.t"] + m["total.not_treated.t"] == m["trial.t.enrolled"]
        shares.append(m["total.not_treated.t"] / m["trial.t.enrolled"])
    shares = np.array(shares)
    assert abs(shares.mean() - 0.25) <= 4 * shares.std(ddof=1) / math.sqrt(len(shares))
