"""Inputs that would exhaust memory or time, or end in a traceback, get a one-line message instead."""
from __future__ import annotations

import time

import yaml

import pytest

from sim.core.errors import ScenarioError
from sim.scenario import load_scenario
from sim.scenario.yamlio import MAX_ITEMS, load_yaml
from tests.conftest import scenario_dict
from test_exp_support import cli_run
from test_scenario_errors import problems_of


def _bomb(levels: int = 9) -> str:
    """A 'billion laughs' document: 9 ** levels values once expanded, a few hundred bytes as text."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb())
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert time.perf_counter() - t0 < 2.0
    assert err.value.problems == [f"more than {MAX_ITEMS:,} values once its aliases (*name) are expanded; "
                                  "not a scenario"]
    assert load_yaml(_bomb(3))["l2"][0][0] == ["x"] * 9  # modest aliasing is fine


def test_deep_nesting_in_a_file_and_in_set_is_a_message(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("horizon: " + "[" * 1000)
    res = cli_run("validate", path)
    assert res.exit_code == 2 and res.stderr.splitlines()[1] == "  - nested too deeply"
    res = cli_run("run", "--set", "horizon=" + "[" * 1000, "--reps", "1")
    assert res.exit_code == 2 and "nested too deeply" in res.stderr


def test_huge_values_are_cut_before_they_are_formatted():
    d = scenario_dict()
    d["nmae"] = "a" * 1_000_000
    (p,) = problems_of(d)
    assert p.startswith("nmae: unknown field (value 'aaaa") and len(p) < 120


def test_budgets_and_bounds_name_the_field():
    d = scenario_dict()
    d["period"] = 1e-6
    (p,) = problems_of(d)
    assert p.startswith("period: expected at least horizon / 100,000") and "would not fit in memory" in p
    d = scenario_dict()
    d["lines"][0]["name"] = "x" * 101
    (p,) = problems_of(d)
    assert p.startswith("lines[0].name: expected at most 100 characters; got 'xxx")


def test_uneven_arm_ratios_are_a_message_not_a_crash():
    d = scenario_dict()
    d["trials"][0]["arms"] = [{"name": "a", "ratio": 1e-10}, {"name": "b", "ratio": 1}]
    (p,) = problems_of(d)
    assert p.startswith("trials[0].arms[*].ratio: ratios 1e-10, 1 are too uneven")


def test_machine_errors_are_one_line_with_exit_status_4(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    res = cli_run("run", "--set", "horizon=100", "--reps", "1", "--out", blocker / "sub", "--no-figures")
    assert res.exit_code == 4 and res.stderr.strip() == f"{blocker / 'sub'}: Not a directory"
    res = cli_run("run", "--reps", "1000000000")
    assert res.exit_code == 2 and "1000000000 is not in the range" in res.output


@pytest.mark.parametrize("sets, expected", [
    (["lines.dp-continuous.time_between_failures=0", "lines.dp-continuous.time_to_repair=0"],
     "lines[1].time_between_failures: expected a mean above 0 days"),
    (["lines.dp-continuous.lot_size=1e-300"], "lines[1].lot_size: expected a lot to take at least 0.0001 days"),
    (["lines.dp-batch.cycle_time=0"], "lines[0].cycle_time: expected a batch to take time"),
    (["trials.P3-001.regions.NA.enrollment_rate=5000"], "enrollment_rate: expected less than or equal to 1000"),
    (["lines.dp-batch.takt_time=1.0e-300"], "lines[0].takt_time: expected a batch to hold the first suite"),
    (["network.storage_excursions={interval: 1.0e-300}"],
     "network.storage_excursions.interval: expected a mean of at least a day between failures"),
    (["kit_types=[{name: kit, relabel: {lead: 10, extension: 1e-300, max_extension: 1e12}}]"],
     "kit_types[0].relabel.extension: expected greater than or equal to 1"),
    (["kit_types=[{name: kit, relabel: {lead: 10, extension: 1, max_extension: 1e12}}]"],
     "kit_types[0].relabel.max_extension: expected at most 100 extensions"),
    (["materials=[{name: api, policy: {kind: sQ, reorder_point: 1, order_quantity: 1}, incoming_qc: {time: 0},"
      " retest_period: 1e-300}]"], "materials[0].retest_period: expected greater than or equal to 1"),
])
def test_zero_time_loops_are_refused_before_the_run(sets, expected):
    args = ["run", "--reps", "1", "--no-figures"]
    for s in sets:
        args += ["--set", s]
    res = cli_run(*args)
    assert res.exit_code == 2 and expected in res.stderr, res.stderr


def test_odd_files_absurd_distributions_and_huge_designs_are_messages(tmp_path):
    import os
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    res = cli_run("validate", fifo)
    assert res.exit_code == 2 and "not a regular file" in res.stderr
    d = scenario_dict()
    d["lines"][0]["cycle_time"] = {"dist": "normal", "mean": -100, "sd": 1}
    (p,) = problems_of(d)
    assert p.startswith("lines[0].cycle_time: expected a normal truncated at 0 with its mean -100 more than 5 sd")
    d = scenario_dict()
    d["lines"][0]["yield_fraction"] = 5
    (p,) = problems_of(d)
    assert p == "lines[0].yield_fraction: expected a fraction of the batch size above 0 and at most 1 (a mean); got a mean of 5"
    batch = tmp_path / "grid.yaml"
    levels = list(range(100))
    batch.write_text(yaml.safe_dump({"sweep": {"design": "grid", "factors": {
        "lines.dp-batch.batch_size": [10000 + i for i in levels], "horizon": [500 + i for i in levels],
        "seed": levels}}}))
    res = cli_run("batch", batch, "--reps", "1")
    assert res.exit_code == 2 and "a grid of 1,000,000 points" in res.stderr


def test_experiments_too_big_for_the_machine_are_refused_with_the_estimate(tmp_path, monkeypatch):
    """The estimate counts the model's series (99 in the default scenario, one value per period) and
    scales with replications; over budget, the run stops before it starts, naming horizon / period,
    unless --no-budget is given."""
    from sim.experiments import budget
    from sim.experiments.run import single_plan
    from sim.scenario import load_default
    sc = load_default()
    est = budget.estimate(single_plan(sc, reps=10))
    assert (est.series, est.periods, est.replications) == (99, 80, 10)
    assert est.disk == 10 * (99 * 80 * budget.DISK_PER_VALUE + budget.DISK_PER_REPLICATION)
    assert budget.estimate(single_plan(sc, reps=1000)).disk == pytest.approx(100 * est.disk)

    monkeypatch.setattr(budget, "physical_memory", lambda: 2 * est.memory)  # exactly at the budget: runs
    budget.check(single_plan(sc, reps=10), tmp_path)
    monkeypatch.setattr(budget, "physical_memory", lambda: 1e6)
    out = tmp_path / "big"
    res = cli_run("run", "--reps", "2", "--out", out, "--no-figures")
    assert res.exit_code == 2 and not out.exists()
    assert "would need about" in res.stderr and "99 series x 80 periods (horizon / period)" in res.stderr
    assert "--no-budget" in res.stderr
    res = cli_run("run", "--reps", "2", "--out", out, "--no-figures", "--no-budget", "--workers", "1")
    assert res.exit_code == 0 and (out / "summary.csv").exists()

    monkeypatch.setattr(budget, "physical_memory", lambda: 1e15)
    monkeypatch.setattr(budget, "free_disk", lambda _: 1e5)
    res = cli_run("run", "--reps", "2", "--out", tmp_path / "full", "--no-figures")
    assert res.exit_code == 2 and "the results would take about" in res.stderr


def test_internal_errors_are_one_line_unless_debug(tmp_path, monkeypatch):
    import sim.scenario
    from click.testing import CliRunner
    from sim.cli import cli

    def broken(*_args, **_kw):
        raise ZeroDivisionError("float division by zero")
    monkeypatch.setattr(sim.scenario, "load_default", broken)
    res = CliRunner().invoke(cli, ["validate", "default"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.stderr.splitlines()[0] == "internal error: ZeroDivisionError: float division by zero"
    assert "--debug" in res.stderr
    res = CliRunner().invoke(cli, ["--debug", "validate", "default"])
    assert isinstance(res.exception, ZeroDivisionError)
