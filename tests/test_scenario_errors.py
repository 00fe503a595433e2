"""Bad scenario files: one clear line per problem (file, field path, value, expectation), exit 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sim.cli import cli
from sim.core.errors import ScenarioError
from sim.scenario import dump_scenario, load_default, load_scenario, parse_scenario
from tests.conftest import scenario_dict

ROOT = Path(__file__).resolve().parents[1]


def problems_of(d: dict) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(d, "x.yaml")
    return err.value.problems


def test_nested_path_value_and_expectation():
    d = scenario_dict()
    d["lines"].append(dict(d["lines"][0], name="line2", cycle_time={"dist": "exponential", "mean": -3}))
    (p,) = problems_of(d)
    assert p == "lines[1].cycle_time.mean: expected greater than 0; got -3"


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: d.pop("horizon"), "horizon: required field is missing"),
    (lambda d: d["packaging"].update(colour="blue"), "packaging.colour: unknown field"),
    (lambda d: d["trials"][0].update(visits=[0, 28, 14]), "trials[0].visits[2].day: 14 must come after the previous visit's day 28"),
    (lambda d: d["trials"][0]["resupply"].update(level=1, trigger=3), "trials[0].resupply.level: expected more than the trigger (3); got 1"),
    (lambda d: d["lines"][0].update(kind="semi"), "lines[0].kind: unknown value 'semi'; expected one of 'batch', 'continuous'"),
    (lambda d: d["lines"][0].update(material="excipient"), "lines[0].material: 'excipient' has no supplier"),
    (lambda d: d["lines"][0].update(qc_failure_prob=1.5), "lines[0].qc_failure_prob: expected less than 1; got 1.5"),
    (lambda d: d["suppliers"][0].update(lead_time={"dist": "weibull"}), "suppliers[0].lead_time.dist: unknown value 'weibull'"),
    (lambda d: d.update(warmup=60), "warmup: expected shorter than horizon (50); got 60"),
])
def test_each_problem_is_named(mutate, expected):
    d = scenario_dict()
    mutate(d)
    problems = problems_of(d)
    assert any(expected in p for p in problems), problems


def test_all_problems_reported_at_once():
    d = scenario_dict()
    d["horizon"] = -1
    d["packaging"]["units_per_kit"] = 0
    d["trials"][0]["target_patients"] = "many"
    assert len(problems_of(d)) == 3


def test_yaml_syntax_error_names_line(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("horizon: 10\nlines: [1,\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    assert str(f) in str(err.value) and "line 3" in str(err.value) and "not valid YAML" in str(err.value)


def test_yaml_is_read_safely(tmp_path):
    f = tmp_path / "evil.yaml"
    f.write_text("horizon: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(f)


def test_cli_validate_exit_codes_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    d = scenario_dict()
    d["lines"][0]["cycle_time"] = {"dist": "gamma", "mean": -2, "sd": 1}
    bad.write_text(yaml.safe_dump(d))
    res = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "validate", str(bad)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert f"{bad}: invalid scenario" in res.stderr
    assert "lines[0].cycle_time.mean: expected greater than 0; got -2" in res.stderr
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(scenario_dict()))
    ok = CliRunner().invoke(cli, ["validate", str(good)])
    assert ok.exit_code == 0 and "valid" in ok.output


def test_cli_run_on_bad_file_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    res = CliRunner().invoke(cli, ["run", str(bad), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "horizon: required field is missing" in res.output
    assert not (tmp_path / "out").exists()


def test_default_and_examples_validate_and_round_trip():
    sc = load_default()
    assert parse_scenario(yaml.safe_load(dump_scenario(sc))) == sc  # resolved scenario reproduces itself
    for f in sorted((ROOT / "scenarios").glob("*.yaml")):
        load_scenario(f)


def test_a_file_that_is_not_utf8_or_is_empty_is_named_without_a_traceback(tmp_path):
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(latin)
    assert err.value.problems == ["not a UTF-8 text file (byte 9: b'\\xe9'); save it as UTF-8 YAML"]
    empty = tmp_path / "empty.yaml"
    empty.write_text("# only a comment\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(empty)
    assert err.value.problems == ["the file is empty; expected the scenario's fields (name: value, one a line)"]
    res = CliRunner().invoke(cli, ["validate", str(latin)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert f"{latin}: invalid scenario (1 problem)" in res.output


@pytest.mark.parametrize("mutate,expected", [
    # a name with a space: the rule in words, not pydantic's regular expression
    (lambda d: d.update(name="my run"),
     "name: expected a name of letters, digits, '_', '.' and '-' (no spaces, at most 100 characters); got 'my run'"),
    # a number where a section belongs: no "or instance of Region" (a class name the user never wrote)
    (lambda d: d["trials"][0].update(regions=[5]), "trials[0].regions[0]: expected a valid dictionary; got 5"),
    # a model's own checks name the field that is wrong, not the whole section with its mapping
    (lambda d: d["trials"][0]["resupply"].update(level=1, trigger=3),
     "trials[0].resupply.level: expected more than the trigger (3); got 1"),
    (lambda d: d["trials"][0]["resupply"].update(policy="predictive", short_window=20, prediction_window=10),
     "trials[0].resupply.prediction_window: expected at least the short_window (20); got 10"),
    (lambda d: d["trials"][0]["resupply"].pop("level"), "trials[0].resupply.level: required by the trigger resupply policy"),
    (lambda d: d.update(warmup=60), "warmup: expected shorter than horizon (50); got 60"),
    (lambda d: d["lines"][0].update(slots=[{"start": 10, "end": 5}]), "lines[0].slots[0].end: expected after start (10); got 5"),
    (lambda d: d["lines"][0].update(time_to_repair=1),
     "lines[0].time_between_failures: required with time_to_repair (give both, or neither)"),
    (lambda d: d["lines"][0].update(plan={"policy": "make_to_stock", "campaign": 2}),
     "lines[0].plan.reorder_point: required by the make_to_stock production plan"),
])
def test_problems_name_the_exact_field_in_plain_words(mutate, expected):
    d = scenario_dict()
    mutate(d)
    assert problems_of(d) == [expected]


def test_duplicate_keys_and_non_finite_numbers_are_refused(tmp_path):
    from sim.scenario import load_scenario
    dup = tmp_path / "dup.yaml"
    dup.write_text("name: a\nhorizon: 10\nname: b\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(dup)
    assert err.value.problems == ["line 3, column 1: not valid YAML: key 'name' is given twice in one mapping "
                                  "(YAML would keep the last)"]
    merged = tmp_path / "merged.yaml"  # a merge key's fields may be overridden: not a duplicate
    merged.write_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n")
    from sim.scenario import read_yaml
    assert read_yaml(merged)["other"] == {"x": 3, "y": 2}
    d = scenario_dict()
    d["horizon"] = float("inf")
    d["lines"][0]["cycle_time"] = {"dist": "normal", "mean": float("nan"), "sd": 1}
    assert problems_of(d) == ["horizon: expected a finite number; got inf",
                              "lines[0].cycle_time.mean: expected a finite number; got nan"]


def test_a_forecast_plan_is_derived_only_once_the_trials_references_hold():
    """A time-phased make-to-forecast plan walks the trials' sites and countries: an unknown country is
    reported as such, not as a crash of the derivation."""
    d = yaml.safe_load((Path(__file__).resolve().parents[1] / "scenarios" / "clinical_phase3_biologic.yaml")
                       .read_text())
    line = d["lines"][1]
    line.pop("batches", None)
    line["plan"] = {"policy": "make_to_forecast", "campaign": 2, "time_phased": {"lead_time": 30}}
    d["trials"][0]["sites"][0]["country"] = "Nowhere"
    (problem,) = problems_of(d)
    assert problem.startswith("trials[0].sites[0].country: 'Nowhere' is not a declared country")
