"""Titration: a patient's dose level changes at given visits (a Markov chain over the dose levels, or
a forced schedule), the kits dispensed follow the level, and the forecast of kits follows the chain:
the share at each level at visit k is the initial shares x P^(changes up to k)."""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from sim.core.errors import ScenarioError
from sim.model import SupplyChainModel
from sim.scenario import parse_scenario
from sim.scenario.forecast import kits_per_patient
from tests.conftest import scenario_dict

LEVELS = ["low", "mid", "high"]
P = np.array([[0.5, 0.5, 0.0],   # low -> mid with 0.5
              [0.1, 0.6, 0.3],   # mid -> low 0.1, -> high 0.3
              [0.0, 0.0, 1.0]])  # high stays
PI0 = np.array([0.75, 0.25, 0.0])


def _scenario(titration: dict, patients: int = 3000):
    """One arm with three dose levels (low: 1 kit A, mid: 2 kits A, high: 1 kit B), visits on days
    0, 7, 14, 21; every site gets plenty of kits at activation, so every visit is dosed."""
    d = scenario_dict(horizon=400)
    d["depot"] = {"name": "central", "initial_kits": 20000, "initial_shelf_life": 1000}
    d["kit_types"] = [{"name": "A"}, {"name": "B"}]
    t = d["trials"][0]
    t.update(target_patients=patients, visits=[0, 7, 14, 21], screening_time=2)  # kits arrive first
    t["regions"][0].update(activation=1, enrollment_rate=20, sites=2)
    t["resupply"] = {"trigger": 20, "level": 60, "initial": 8000}
    t["arms"] = [{"name": "x", "titration": titration,
                  "dose_levels": [{"name": "low", "share": 3, "kits": {"A": 1}},
                                  {"name": "mid", "share": 1, "kits": {"A": 2}},
                                  {"name": "high", "share": 0, "kits": {"B": 1}}]}]
    return parse_scenario(d)


MARKOV = {"at_visits": [2, 3, 4], "transitions": {"low": {"mid": 0.5}, "mid": {"high": 0.3, "low": 0.1}}}


@functools.lru_cache(maxsize=1)
def _markov():
    """The Markov-chain scenario and its run (shared by two tests)."""
    sc = _scenario(MARKOV)
    return (sc, *_run(sc))


def _run(sc, seed=1):
    model = SupplyChainModel(sc, seed, 0)
    model.run()
    accounting = model.check_conservation()
    return model, accounting, model.results().metrics


def test_levels_at_each_visit_follow_the_markov_chain():
    """3,000 patients (and a few over-enrolled): the share at each level at visit k is within 4 binomial standard errors of
    PI0 x P^(k-1); the arm's expected shares (Arm.level_shares) are the same vectors; every visit is
    dosed and the kits each site still counted as needed end at 0."""
    sc, model, acc, m = _markov()
    assert m["trial.t.visits_not_dosed"] == 0
    at = model.trials[0].titration.at_visit
    n = m["trial.t.enrolled"]  # the target and those in screening when it was met
    expected = list(sc.trials[0].arms[0].level_shares(4))
    for k in range(1, 5):
        pi = PI0 @ np.linalg.matrix_power(P, k - 1)
        assert [expected[k - 1][lv] for lv in LEVELS] == pytest.approx(pi)
        for j, lv in enumerate(LEVELS):
            got = at.get((k, "x", lv), 0) / n
            se = math.sqrt(max(pi[j] * (1 - pi[j]), 1e-12) / n)
            assert abs(got - pi[j]) <= 4 * se + 1e-12, (k, lv, got, pi[j])
    for site in model.sites:
        assert all(abs(v) < 1e-9 for v in site.remaining.values())


def test_kits_dispensed_and_forecast_follow_the_levels():
    """Kits per patient = sum over visits of the level shares x the level's kits (A: low 1, mid 2;
    B: high 1): what make to forecast plans for; the kits dispensed match it within 4 standard errors
    (the per-patient sd is at most 4 kits here, so 4 x 4 / sqrt(3000) kits per patient)."""
    sc, _, acc, m = _markov()
    shares = [PI0 @ np.linalg.matrix_power(P, k) for k in range(4)]
    want_a = sum(s[0] * 1 + s[1] * 2 for s in shares)
    want_b = sum(s[2] for s in shares)
    assert kits_per_patient(sc.trials[0], ["A", "B"]) == pytest.approx({"A": want_a, "B": want_b})
    n = m["trial.t.enrolled"]
    tol = 4 * 4 / math.sqrt(n)
    assert acc["kit:A"]["out:dispensed"] / n == pytest.approx(want_a, abs=tol)
    assert acc["kit:B"]["out:dispensed"] / n == pytest.approx(want_b, abs=tol)


def test_a_forced_schedule_moves_every_patient():
    """Schedule: everyone to mid at visit 2 and to high at visit 4: visits 2 and 3 all mid, visit 4 all
    high; kits: (A) 1 x low-starters + 2 x mid-starters at visit 1, 2 x 2 x n at visits 2-3, n B."""
    sc = _scenario({"schedule": {2: "mid", 4: "high"}}, patients=200)
    model, acc, m = _run(sc)
    at = model.trials[0].titration.at_visit
    low, n = m["trial.t.arm.x.level.low.randomised"], m["trial.t.enrolled"]
    assert at[(2, "x", "mid")] == at[(3, "x", "mid")] == at[(4, "x", "high")] == n
    assert acc["kit:A"]["out:dispensed"] == low + 2 * (n - low) + 2 * 2 * n
    assert acc["kit:B"]["out:dispensed"] == n
    assert m["trial.t.titrations"] == n + low  # low-starters move to mid, then every patient to high


@pytest.mark.parametrize("titration, where, says", [
    ({"at_visits": [2], "transitions": {"low": {"top": 0.5}}}, "arms[0].titration", "unknown dose level"),
    ({"at_visits": [2]}, "arms[0].titration.transitions", "exactly one"),
    ({"transitions": {"low": {"mid": 0.5}}}, "arms[0].titration.at_visits", "required with transitions"),
    ({"at_visits": [2], "transitions": {"low": {"mid": 0.7, "high": 0.6}}}, "transitions.low", "at most 1"),
])
def test_bad_titration_is_a_clear_error(titration, where, says):
    with pytest.raises(ScenarioError) as err:
        _scenario(titration)
    assert where in str(err.value) and says in str(err.value)
