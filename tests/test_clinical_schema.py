"""Bad clinical input gets one clear line naming the field path, the bad value and what was expected."""
from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.core.errors import ScenarioError
from sim.scenario import parse_scenario
from test_clinical_base import base_dict, trial_dict

ROOT = Path(__file__).resolve().parents[1]


def _problems(d: dict) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(copy.deepcopy(d), "bad.yaml")
    return err.value.problems


def _with_trial(**over) -> dict:
    return base_dict(trials=[trial_dict(**over)])


def test_visit_schedule_out_of_order():
    (p,) = _problems(_with_trial(visits=[0, 28, 14]))
    assert p.startswith("trials[0].visits[2].day: 14") and "increasing order" in p


def test_visit_window_reaching_the_next_visit():
    (p,) = _problems(_with_trial(visits=[0, {"day": 7, "window": 7}, 14]))
    assert p.startswith("trials[0].visits[1].window: 7") and "shorter than the gap" in p


def test_ratios_that_do_not_sum_sensibly():
    arms = [{"name": "a", "ratio": 0.6}, {"name": "b", "ratio": 0.6}]
    (p,) = _problems(_with_trial(arms=arms))
    assert p.startswith("trials[0].arms[*].ratio:") and "sum 1.2" in p and "whole numbers" in p
    arms = [{"name": "a", "ratio": 2}, {"name": "b", "ratio": 1}]
    (p,) = _problems(_with_trial(arms=arms, block_size=4))
    assert p.startswith("trials[0].block_size: 4") and "multiple" in p and "2:1" in p
    (p,) = _problems(_with_trial(arms=[{"name": "a", "ratio": 0}]))
    assert p.startswith("trials[0].arms[0].ratio: expected") and "greater than 0" in p


def test_site_in_an_undeclared_country():
    t = trial_dict(regions=[], sites=[{"country": "FR", "count": 2, "startup": 10, "recruitment_rate": 0.1}])
    (p,) = _problems(base_dict(trials=[t], network={"countries": [{"name": "DE"}]}))
    assert p == ("trials[0].sites[0].country: 'FR' is not a declared country "
                 "(declared in network.countries: ['DE'])")


def test_kit_type_that_no_arm_uses():
    kit_types = [{"name": "act"}, {"name": "pbo"}, {"name": "spare"}]
    arms = [{"name": "A", "kits": {"act": 1}}, {"name": "P", "kits": {"pbo": 1}}]
    (p,) = _problems(base_dict(kit_types=kit_types, trials=[trial_dict(arms=arms)]))
    assert p.startswith("kit_types[2].name: kit type 'spare' is used by no arm")


def test_arm_naming_an_undeclared_kit_type_and_missing_arms():
    kit_types = [{"name": "act"}, {"name": "pbo"}]
    arms = [{"name": "A", "kits": {"act": 1}}, {"name": "P", "kits": {"placebo": 1}}]
    (p,) = _problems(base_dict(kit_types=kit_types, trials=[trial_dict(arms=arms)]))
    assert p == "trials[0].arms[1].kits: 'placebo' is not a declared kit type (declared: ['act', 'pbo'])"
    (p,) = _problems(base_dict(kit_types=kit_types, trials=[trial_dict()]))
    assert p.startswith("trials[0].arms: required when several kit types")


def test_network_cross_references():
    net = {"countries": [{"name": "DE", "depot": "eu"}]}
    (p,) = _problems(base_dict(network=net))
    assert p.startswith("network.countries[0].depot: 'eu' is not a declared depot")
    net = {"countries": [{"name": "DE"}],
           "depots": [{"name": "eu", "supplied_from": "asia", "lane": {"transit_time": 5}, "trigger": 1, "level": 2}]}
    (p,) = _problems(base_dict(network=net))
    assert p.startswith("network.depots[0].supplied_from: 'asia'")
    net["depots"][0].update(supplied_from=None, level=1)
    (p,) = _problems(base_dict(network=net))
    assert p.startswith("network.depots[0].level: 1") and "exceed the trigger 1" in p


def test_resupply_policy_fields():
    (p,) = _problems(_with_trial(resupply={"policy": "predictive", "short_window": 14}))
    assert p == "trials[0].resupply.prediction_window: required by the predictive resupply policy"
    (p,) = _problems(_with_trial(resupply={"trigger": 5, "level": 3}))
    assert p == "trials[0].resupply.level: expected more than the trigger (5); got 3"
    (p,) = _problems(_with_trial(resupply={"trigger": 1, "level": 3, "do_not_ship": 10, "do_not_dispense": 30}))
    assert p == ("trials[0].resupply.do_not_ship: expected at least do_not_dispense (30), or shipped kits could "
                 "never be dispensed; got 10")
    (p,) = _problems(_with_trial(resupply={"policy": "guess", "trigger": 1, "level": 3}))
    assert p == ("trials[0].resupply.policy: unknown value 'guess'; expected one of 'trigger', 'predictive', "
                 "'buffer_prediction'")


def test_bad_weekday_and_temperature():
    net = {"countries": [{"name": "X", "lane": {"transit_time": 2, "dispatch_days": ["mon", "funday"]}}]}
    (p,) = _problems(base_dict(network=net))
    assert p == ("network.countries[0].lane.dispatch_days[1]: expected a weekday: mon, tue, wed, thu, fri, sat, "
                 "sun (or 0-6, day 0 a Monday); got 'funday'")
    (p,) = _problems(base_dict(kit_types=[{"name": "kit", "temperature": "cold"}]))
    assert p.startswith("kit_types[0].temperature: expected '15-25C'")


def test_cli_reports_file_path_and_exits_2_without_traceback(tmp_path):
    d = _with_trial(visits=[0, 28, 14])
    f = tmp_path / "bad_trial.yaml"
    f.write_text(yaml.safe_dump(d))
    r = subprocess.run([sys.executable, "run_sim.py", "validate", str(f)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2
    assert str(f) in r.stderr and "trials[0].visits[2].day: 14" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_kit_without_a_product_is_refused_when_several_products_reach_packaging():
    """Another trial's product on a shared line must not end up in this trial's kits unnoticed."""
    from sim.core.errors import ScenarioError
    from sim.scenario import parse_scenario
    from tests.conftest import scenario_dict
    d = scenario_dict()
    d["lines"].append(dict(d["lines"][0], name="line2", product="other"))
    with pytest.raises(ScenarioError, match=r"kit_types: the default kit type \(no kit_types given\) has no "
                                            r"product, but several final products reach packaging "
                                            r"\(\['drug_product', 'other'\]\)"):
        parse_scenario(d)
    d["kit_types"] = [{"name": "kit", "product": "drug_product"}]
    assert parse_scenario(d).kit_types[0].product == "drug_product"  # the other product: not packed
