"""What-if overrides: `--set path=value`, validated like the scenario file itself."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from sim.core.errors import ScenarioError
from sim.experiments.overrides import apply_overrides, get_path, parse_assignment, parse_assignments
from sim.model import run_replication
from sim.scenario import dump_scenario, load_default, load_scenario

from test_exp_support import cli_run, small


@pytest.fixture(scope="module")
def base():
    return load_default()


def test_paths_by_name_index_bracket_and_yaml_values(base):
    sc = apply_overrides(base, parse_assignments([
        "lines.dp-batch.batch_size=60000",                  # list item by name
        "lines[1].rate=15000",                              # by index
        "trials[P3-001].regions.EU.sites=30",               # bracketed name, then name
        "trials.0.visits=[0, 28, 56]",                      # YAML list (of visit days)
        "packaging.time={dist: exponential, mean: 4}",      # YAML mapping (a distribution)
        "trials.P3-001.resupply.trigger=3",
    ]))
    assert sc.lines[0].batch_size == 60000.0
    assert sc.lines[1].rate == 15000.0
    assert sc.trials[0].regions[1].name == "EU" and sc.trials[0].regions[1].sites == 30
    assert len(sc.trials[0].visits) == 3
    assert sc.packaging.time.dist == "exponential" and sc.packaging.time.mean == 4.0
    assert sc.trials[0].resupply.trigger == 3
    # nothing else moved
    untouched = base.model_dump()
    for path in ("horizon", "lines.dp-continuous.lot_size", "suppliers.api-supplier.lead_time", "depot"):
        assert get_path(sc.model_dump(), path) == get_path(untouched, path)


def test_no_override_is_the_identity(base):
    assert apply_overrides(base, {}) is base
    assert dump_scenario(apply_overrides(base, {"horizon": base.horizon})) == dump_scenario(base)


def test_item_names_containing_dots(base):
    data = base.model_dump()
    data["lines"][0]["name"] = "dp.batch.v2"
    from sim.scenario import parse_scenario
    sc = parse_scenario(data)
    assert apply_overrides(sc, {"lines.dp.batch.v2.batch_size": 7}).lines[0].batch_size == 7.0


def test_override_equals_editing_the_file(tmp_path, base):
    """`--set x=v` on the default is the same scenario, and the same results, as a file with x: v."""
    data = yaml.safe_load(dump_scenario(base))
    data["horizon"] = 300
    data["trials"][0]["resupply"]["level"] = 9
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(data))
    via_set = apply_overrides(base, parse_assignments(["horizon=300", "trials.P3-001.resupply.level=9"]))
    from_file = load_scenario(path)
    assert dump_scenario(via_set) == dump_scenario(from_file)
    np.testing.assert_equal(run_replication(via_set, 3, 1).metrics, run_replication(from_file, 3, 1).metrics)


@pytest.mark.parametrize("text, expected", [
    ("lines.dp-batch.rat=5", ["lines.dp-batch.rat=5", "lines[0] has no field 'rat'", "fields: name"]),
    ("lines.dp-bach.batches=5", ["no item named 'dp-bach'", "did you mean 'dp-batch'"]),
    ("lines[7].rate=1", ["index 7 is out of range", "has 2 items"]),
    ("horizon.days=3", ["horizon is a single value (1095.0)"]),
    ("lines.dp-batch.cycle_time.mean=3", ["lines[0].cycle_time has no field 'mean'", "low, mode, high"]),
    ("horizn=3", ["has no field 'horizn'", "did you mean 'horizon'"]),
    # a section that is not set: the hint is about that section, not a distribution
    ("lines.dp-batch.plan.policy=make_to_stock",
     ["lines[0].plan is not set, so it has no field 'policy' yet",
      "set it as a whole, e.g. lines[0].plan={policy: ...} with every field it needs"]),
])
def test_paths_that_do_not_exist(base, text, expected):
    with pytest.raises(ScenarioError) as err:
        apply_overrides(base, parse_assignments([text]), "default.yaml with --set")
    msg = str(err.value)
    assert msg.startswith("default.yaml with --set: invalid scenario")
    for part in expected:
        assert part in msg


@pytest.mark.parametrize("text, expected", [
    ("lines.dp-batch.batch_size=abc", ["lines[0].batch_size", "valid number", "'abc'"]),
    ("horizon=-5", ["horizon: expected", "greater than 0", "-5"]),
    ("trials.P3-001.resupply.level=1", ["trials[0].resupply", "level", "trigger"]),
    ("packaging.time={dist: weibull, k: 2}", ["packaging.time", "weibull"]),
])
def test_wrong_values_are_reported_like_a_bad_file(base, text, expected):
    with pytest.raises(ScenarioError) as err:
        apply_overrides(base, parse_assignments([text]), "default.yaml with --set")
    msg = str(err.value)
    assert text.split("=")[0] in msg.splitlines()[0]      # the assignment is named in the heading
    for part in expected:
        assert part in msg


def test_assignment_syntax():
    assert parse_assignment("a.b=12") == ("a.b", 12)
    assert parse_assignment("a=0.5") == ("a", 0.5)
    assert parse_assignment("a=true") == ("a", True)
    assert parse_assignment("name=x=y") == ("name", "x=y")
    with pytest.raises(ScenarioError, match="expected PATH=VALUE"):
        parse_assignments(["horizon"])
    with pytest.raises(ScenarioError, match="not valid YAML"):
        parse_assignments(["a={b: ["])


def test_cli_bad_override_exits_2_before_any_work(tmp_path):
    out = tmp_path / "never"
    res = cli_run("run", "--set", "lines.dp-batch.rat=5", "--reps", "2", "--out", out, "--workers", "1")
    assert res.exit_code == 2
    assert "lines[0] has no field 'rat'" in res.stderr
    assert "Traceback" not in res.output
    assert not out.exists()


def test_cli_validate_and_run_with_set(tmp_path):
    res = cli_run("validate", "default", "--set", "trials.P3-001.regions.NA.sites=40")
    assert res.exit_code == 0 and "75 sites" in res.stdout   # 40 + 25 + 10 sites
    out = tmp_path / "r"
    res = cli_run("run", "--set", "horizon=300", "--set", "trials.P3-001.resupply.level=9", "--reps", "2",
                  "--workers", "1", "--out", out, "--no-figures")
    assert res.exit_code == 0, res.output
    stored = yaml.safe_load((out / "scenario.yaml").read_text())
    assert stored["horizon"] == 300 and stored["trials"][0]["resupply"]["level"] == 9
    expected = small(**{"trials.P3-001.resupply.level": 9})
    assert expected.model_dump() == load_scenario(out / "scenario.yaml").model_dump()
