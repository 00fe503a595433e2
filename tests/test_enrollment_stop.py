"""The enrollment stop rule: by default patients are screened until the target is randomised, and
those in screening then are randomised too (over-enrollment); the 'screening' rule turns newcomers
away once randomised + in-screening fill the target.  Hand trace with regular arrivals."""
from __future__ import annotations

import pytest

from sim.model import run_replication
from tests.conftest import scenario_dict
from sim.scenario import parse_scenario


def _trial(rule: str) -> dict:
    """One site opening at day 0, a patient every day (regular), 10 days' screening, no failures:
    patients arrive on days 1, 2, 3, ... and are randomised 10 days later; target 5."""
    d = scenario_dict()
    t = d["trials"][0]
    t.update(target_patients=5, screening_time=10, enrollment_stop=rule, visits=[0])
    t.pop("regions", None)
    t["sites"] = [{"country": "X", "count": 1, "recruitment_rate": 1.0, "arrivals": "regular"}]
    d["horizon"] = 100
    d["network"] = {"countries": [{"name": "X", "site_startup": 0, "lane": {"transit_time": 1}}]}
    return d


@pytest.mark.parametrize("rule, screened, randomised, lpi", [
    # usual rule: the 5th randomisation, on day 15, closes the trial; it was scheduled (on day 5) before
    # the day-15 arrival (on day 14), so it comes first and arrivals 1..14 are screened; those still
    # screening (arrived 6..14) are randomised too, the last on day 24
    ("randomised", 14, 14, 24.0),
    # screening rule: arrivals 1..5 fill the target; later ones are turned away
    ("screening", 5, 5, 15.0),
])
def test_stop_rules_by_hand(rule, screened, randomised, lpi):
    m = run_replication(parse_scenario(_trial(rule)), seed=1).metrics
    n = "trial.t"
    assert m[f"{n}.screened"] == screened and m[f"{n}.enrolled"] == randomised
    assert m[f"{n}.over_enrolled"] == randomised - 5
    assert m[f"{n}.last_patient_in"] == pytest.approx(lpi)


def test_study_start_shifts_site_start_up():
    """Site start-up counts from the study start: with the study starting on day 10 every milestone of
    the hand trace above moves by exactly 10 days."""
    d = _trial("screening")
    d["trials"][0]["start"] = 10
    m = run_replication(parse_scenario(d), seed=1).metrics
    assert m["trial.t.first_patient_in"] == pytest.approx(11 + 10)  # arrival on day 1, 10 days screening
    assert m["trial.t.last_patient_in"] == pytest.approx(15 + 10)
