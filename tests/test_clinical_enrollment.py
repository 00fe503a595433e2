"""Recruitment against the Poisson-Gamma results of ../shared/domain-notes.md, caps, the
trial-wide stop, screen failures and block randomisation (batched shuffles = one per block)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from sim.model import run_replication
from test_clinical_base import base_dict, metric_over_reps, scenario, trial_dict


def _pg_scenario(K: int, alpha: float, beta: float, n: int) -> dict:
    """K sites open at day 0 with rates ~ Gamma(shape alpha, rate beta) per day; target n."""
    t = trial_dict(target_patients=n, visits=[0], regions=[],
                   sites=[{"country": "X", "count": K, "startup": 0,
                           "recruitment_rate": {"dist": "gamma", "shape": alpha, "scale": 1 / beta}}])
    return base_dict(horizon=5000, trials=[t], network={"countries": [{"name": "X"}]})


def test_poisson_gamma_time_to_recruit_n():
    # E[T_n] = n beta / (K alpha - 1); P(T_n <= t) = I_{t/(t+beta)}(n, K alpha).
    K, alpha, beta, n, R = 10, 2.0, 50.0, 40, 300
    sc = scenario(_pg_scenario(K, alpha, beta, n))
    T = metric_over_reps(sc, "trial.T.last_patient_in", R)
    mean = n * beta / (K * alpha - 1)  # 105.3 days
    sd = math.sqrt(beta**2 * n * (n + K * alpha - 1) / ((K * alpha - 2) * (K * alpha - 1) ** 2))
    se = sd / math.sqrt(R)
    assert abs(T.mean() - mean) < 4 * se, (T.mean(), mean, se)
    for t in (80.0, 120.0):
        p = special.betainc(n, K * alpha, t / (t + beta))
        emp = float(np.mean(T <= t))
        assert abs(emp - p) < 4 * math.sqrt(p * (1 - p) / R), (t, emp, p)


def test_fixed_rate_counts_have_poisson_mean_and_variance():
    lam, t, R = 0.5, 100.0, 300
    tr = trial_dict(target_patients=10**6, visits=[0], regions=[],
                    sites=[{"country": "X", "count": 1, "startup": 0, "recruitment_rate": lam}])
    sc = scenario(base_dict(horizon=t, trials=[tr], network={"countries": [{"name": "X"}]}))
    N = metric_over_reps(sc, "trial.T.enrolled", R)
    m = lam * t
    assert abs(N.mean() - m) < 4 * math.sqrt(m / R)
    # Var of a sample variance of Poisson counts: m^2 * 2/(R-1) + m/R (fourth cumulant m).
    assert abs(N.var(ddof=1) - m) < 4 * math.sqrt(2 * m * m / (R - 1) + m / R)


def test_trial_wide_stop_and_site_caps():
    # Target below the total cap: exactly the target, no site above its cap.
    tr = trial_dict(target_patients=7, regions=[],
                    sites=[{"country": "X", "count": 5, "startup": 0, "recruitment_rate": 0.2, "cap": 2}])
    res = run_replication(scenario(base_dict(trials=[tr], network={"countries": [{"name": "X"}]})), 3, 0)
    m = res.metrics
    per_site = [v for k, v in m.items() if k.startswith("site.") and k.endswith(".randomised")]
    assert m["trial.T.enrolled"] == 7 and m["trial.T.screened"] == 7
    assert len(per_site) == 5 and max(per_site) <= 2 and sum(per_site) == 7
    # Target above the total cap: sites stop at their caps and the trial never fills.
    tr["target_patients"] = 50
    m = run_replication(scenario(base_dict(trials=[tr], network={"countries": [{"name": "X"}]})), 3, 0).metrics
    assert m["trial.T.enrolled"] == 10
    assert math.isnan(m["trial.T.last_patient_in"]) and math.isnan(m["trial.T.last_patient_last_visit"])


def test_screen_failures_follow_the_negative_binomial():
    # Screening until `target` successes: failures ~ NegBin, mean target p / (1 - p).  Exactly so under
    # the 'screening' stop rule (nobody screened beyond what the target needs); the default rule
    # over-enrols those still in screening when the target is met.
    target, p, R = 60, 0.25, 100
    tr = trial_dict(target_patients=target, screen_failure=p, screening_time=14, visits=[0],
                    enrollment_stop="screening",
                    regions=[{"name": "R", "sites": 6, "activation": 0, "enrollment_rate": 0.3, "transit_time": 2}])
    sc = scenario(base_dict(trials=[tr]))
    fails, screened = [], []
    for r in range(R):
        m = run_replication(sc, 5, r).metrics
        assert m["trial.T.enrolled"] == target
        assert m["trial.T.screened"] - m["trial.T.screen_failed"] == target
        fails.append(m["trial.T.screen_failed"])
    mean, var = target * p / (1 - p), target * p / (1 - p) ** 2
    assert abs(np.mean(fails) - mean) < 4 * math.sqrt(var / R)


def test_block_randomiser_batches_are_the_per_block_permutations():
    # The randomiser shuffles its blocks a batch at a time: the arms must come out exactly as one
    # ``permutation`` call per block would give them (this is what keeps results of a seed unchanged).
    from sim.clinical.randomisation import BlockRandomiser
    for seed in range(20):
        for ratios, size in (([1], None), ([1, 1], 4), ([2, 1], 6), ([1, 1, 1], None)):
            r = BlockRandomiser(np.random.default_rng(seed), ratios, size)
            rng, block, expect = np.random.default_rng(seed), r._block, []
            while len(expect) < 700:
                expect += rng.permutation(block).tolist()
            assert [r.next() for _ in range(700)] == expect[:700]


def test_block_randomisation_is_exact_at_block_ends():
    # One site, ratio 2:1, blocks of 6: after 60 patients exactly 40 : 20.
    arms = [{"name": "active", "ratio": 2}, {"name": "placebo", "ratio": 1}]
    tr = trial_dict(target_patients=60, arms=arms, block_size=6, visits=[0],
                    regions=[{"name": "R", "sites": 1, "activation": 0, "enrollment_rate": 1, "transit_time": 1}])
    sc = scenario(base_dict(trials=[tr]))
    for rep in range(3):
        m = run_replication(sc, 1, rep).metrics
        assert (m["trial.T.arm.active.randomised"], m["trial.T.arm.placebo.randomised"]) == (40, 20)
    # Fractions summing to 1 are accepted and mean the same thing as whole numbers.
    arms = [{"name": "a", "ratio": 0.5}, {"name": "b", "ratio": 0.25}, {"name": "c", "ratio": 0.25}]
    tr.update(arms=arms, block_size=None, target_patients=40)
    m = run_replication(scenario(base_dict(trials=[tr])), 1, 0).metrics
    assert [m[f"trial.T.arm.{a}.randomised"] for a in "abc"] == [20, 10, 10]


def test_dropout_hazard_gives_exponential_time_on_study():
    # Constant hazard h, a visit every 10 days for 200 days: P(drop before completion) = 1 - exp(-200 h).
    h, N = 0.002, 400
    tr = trial_dict(target_patients=N, dropout_hazard=h, visits=[0, 100, 200],
                    regions=[{"name": "R", "sites": 20, "activation": 0, "enrollment_rate": 1, "transit_time": 1}])
    m = run_replication(scenario(base_dict(horizon=1000, trials=[tr])), 2, 0).metrics
    p = 1 - math.exp(-200 * h)
    assert m["trial.T.dropped"] + m["trial.T.completed"] == N
    assert abs(m["trial.T.dropped"] / N - p) < 4 * math.sqrt(p * (1 - p) / N)


def test_dropout_time_of_any_distribution():
    """Time to dropout ~ gamma(mean 400, sd 800) — shape 0.25, hazard highest early: P(drop before the
    last visit on day 200) = the gamma's CDF at 200 (scipy), within 4 binomial standard errors."""
    from scipy import stats
    N = 400
    tr = trial_dict(target_patients=N, dropout_time={"dist": "gamma", "mean": 400, "sd": 800},
                    visits=[0, 100, 200],
                    regions=[{"name": "R", "sites": 20, "activation": 0, "enrollment_rate": 1, "transit_time": 1}])
    m = run_replication(scenario(base_dict(horizon=1000, trials=[tr])), 2, 0).metrics
    p = stats.gamma(a=0.25, scale=1600).cdf(200)
    assert m["trial.T.dropped"] + m["trial.T.completed"] == N
    assert abs(m["trial.T.dropped"] / N - p) < 4 * math.sqrt(p * (1 - p) / N)
    with pytest.raises(Exception, match="give dropout_time or dropout_hazard, not both"):
        scenario(base_dict(trials=[dict(tr, dropout_hazard=0.01)]))
