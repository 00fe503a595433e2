"""The what-if explorer's logic, without a browser: controls generated from the schema, edits validated
with the schema's messages by field, the downloaded YAML and command, the comparison with common random
numbers, background runs with cancel, and the folders a typed path may reach."""
from __future__ import annotations

import os
import zipfile
import io

import numpy as np
import pytest
from click.testing import CliRunner

from sim.cli import cli
from sim.explorer.fields import CHOICE, INTEGER, NUMBER, YAML, field_specs
from sim.explorer.jobs import Baselines, Job, Pool
from sim.explorer.paths import Roots
from sim.explorer.results import chart_options, figure_series, kpi_rows, results_zip
from sim.explorer.session import Session
from sim.explorer.whatifs import QUICK, TOUR, quick_fields
from sim.core.errors import ScenarioError
from sim.experiments.overrides import apply_overrides
from sim.experiments.run import run_experiment
from sim.scenario import load_default, load_scenario


@pytest.fixture(scope="module")
def base():
    return load_default()


def test_controls_come_from_the_schema(base):
    specs = {s.path: s for s in field_specs(base.model_dump())}
    h = specs["horizon"]
    assert (h.kind, h.value, h.minimum, h.exclusive_min, h.description) == (NUMBER, 1095.0, 0.0, True, "days simulated")
    q = specs["lines[0].qc_failure_prob"]  # a Probability: [0, 1)
    assert (q.minimum, q.maximum, q.exclusive_max) == (0.0, 1.0, True)
    b = specs["lines[0].batches"]
    assert (b.kind, b.minimum, b.maximum) == (INTEGER, 0.0, 100_000.0)
    # a distribution is expanded into its parameters, described with the field's unit
    m = specs["lines[0].qc_time.mean"]
    assert m.set_path == "lines.dp-batch.qc_time.mean" and m.component == "lines: dp-batch"
    assert m.description.startswith("lognormal distribution, days of QC release testing")
    assert specs["trials[0].regions[1].enrollment_rate"].component == "trials: P3-001 · regions: EU"
    assert specs["trials[0].regions[1].enrollment_rate"].maximum == 1000.0
    assert specs["lines[1].release"].kind == CHOICE and "end_of_run" in specs["lines[1].release"].choices
    # an optional section that is not set is one YAML control
    assert specs["suppliers[0].disruptions"].kind == YAML and specs["suppliers[0].disruptions"].value is None
    # every number of the scenario has a control
    numbers = [s for s in specs.values() if s.kind in (NUMBER, INTEGER)]
    assert len(numbers) > 100


def test_common_what_ifs_up_front(base):
    topics = dict(quick_fields(Session(base, "default").specs()))
    assert [t for t, _ in QUICK] == list(topics)
    paths = {s.path for group in topics.values() for s in group}
    assert {"lines[0].qc_time.mean", "lines[0].batch_size", "lines[0].cycle_time.mode", "lines[1].rate",
            "suppliers[0].lead_time.mean", "suppliers[0].disruptions", "trials[0].regions[0].enrollment_rate",
            "trials[0].regions[0].activation.mean", "trials[0].resupply.trigger", "trials[0].resupply.level",
            "packaging.shelf_life"} <= paths


def test_a_qc_lab_gets_its_analysts_up_front():
    sc = load_scenario("scenarios/mfg_multistage.yaml") if os.path.exists(
        "scenarios/mfg_multistage.yaml") else None
    if sc is None or not sc.qc_labs:
        pytest.skip("no example scenario with a QC lab")
    topics = dict(quick_fields(Session(sc, "x").specs()))
    assert any(s.path.endswith(".analysts") for s in topics["QC"])


def test_invalid_values_get_the_schema_message_beside_their_field(base):
    s = Session(base, "default")
    s.set("lines[0].qc_time.mean", -3)
    s.set("packaging.shelf_life", "abc")
    s.set("trials[0].resupply.level", 1)  # a cross-field check of the resupply policy
    check = s.check()
    assert not check.ok
    assert check.by_field["lines[0].qc_time.mean"] == ["expected greater than 0; got -3"]
    assert check.by_field["packaging.shelf_life"][0].startswith("expected a valid number")
    assert check.by_field["trials[0].resupply.level"] == ["expected more than the trigger (2); got 1"]
    # the same messages as --set gives
    with pytest.raises(ScenarioError) as err:
        apply_overrides(base, [("lines.dp-batch.qc_time.mean", -3)])
    assert "expected greater than 0; got -3" in str(err.value)
    s.reset()
    assert s.check().ok and s.check().by_field == {}


def test_setting_a_value_back_drops_the_edit(base):
    s = Session(base, "default")
    s.set("lines[0].batch_size", 60000.0)
    assert s.edits == {"lines[0].batch_size": 60000.0}
    s.set("lines[0].batch_size", 50000.0)
    assert s.edits == {}


def test_command_and_yaml_reproduce_the_what_if(base, tmp_path):
    s = Session(base, "default", reps=2)
    s.set("lines[0].qc_time.mean", 45.0)
    s.set("suppliers[0].disruptions", {"time_between": 100, "duration": 20})
    cmd = s.command()
    assert cmd == ("python run_sim.py run --reps 2 --seed 20261123 --set lines.dp-batch.qc_time.mean=45.0 "
                   "--set 'suppliers.api-supplier.disruptions={duration: 20, time_between: 100}'")
    scenario = s.check().scenario
    path = tmp_path / "whatif.yaml"
    path.write_text(s.yaml_text(scenario), encoding="utf-8")
    loaded = load_scenario(path)
    assert loaded.replications == 2 and loaded.seed == base.seed
    assert loaded == s.run_scenario(scenario)
    # the file alone gives the numbers the explorer shows (same seed, same replications)
    a = run_experiment(loaded, progress=False)
    b = run_experiment(scenario, 2, s.seed, progress=False)
    assert [r.metrics for r in a.reps] == [r.metrics for r in b.reps]


def test_every_tour_item_is_valid_and_changes_something(base):
    s = Session(base, "default")
    assert [t.key for t in s.tours()] == [t.key for t in TOUR]
    for t in TOUR:
        s.apply_tour(t)
        assert s.edits and s.check().ok, t.key
        assert t.look_for


def test_tour_items_a_scenario_lacks_are_not_offered(base):
    other = apply_overrides(base, [("suppliers.api-supplier.name", "api-source"),
                                   ("materials", [])])
    assert "outage" not in {t.key for t in Session(other, "x").tours()}


def test_kpis_paired_with_common_random_numbers():
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1, 10)
    base = {r: {"dosed_fraction": 0.9 + 0.01 * noise[r], "cost.total": 100.0 + noise[r]} for r in range(10)}
    shifted = {r: {"dosed_fraction": base[r]["dosed_fraction"] - 0.001, "cost.total": base[r]["cost.total"]
                   + rng.normal(0, 1)} for r in range(10)}
    rows = {r.metric: r for r in kpi_rows(base, shifted)}
    # a shift far smaller than the spread across replications is still seen, since the noise cancels
    assert rows["dosed_fraction"].significant and "lower" in rows["dosed_fraction"].verdict
    assert not rows["cost.total"].significant
    assert rows["cost.total"].verdict == "not distinguishable from noise"
    assert rows["dosed_fraction"].unit == "fraction"
    only = kpi_rows(base, None)
    assert only[0].whatif == "" and only[0].base.startswith("0.9")
    partial = {r: v for r, v in shifted.items() if r < 4}  # pairs only the replications both have
    assert {r.n for r in kpi_rows(base, partial)} == {4}


def test_figure_series_and_charts():
    series = {"released.a": np.ones(4), "released.b": np.ones(4), "enrolled.T": np.array([1.0, 2, 0, 1])}
    s = figure_series(series, ("released.*",), False)
    assert list(s) == ["released (all)"] and s["released (all)"].tolist() == [2, 2, 2, 2]
    assert figure_series(series, ("enrolled.*",), True)["enrolled.T"].tolist() == [1, 3, 3, 4]
    opt = chart_options("t", 7.0, s, {"released (all)": np.zeros(4)})
    names = [x["name"] for x in opt["series"]]
    assert names == ["released (all) · baseline", "released (all) · what-if"]
    assert opt["series"][0]["data"][1] == [7.0, 2.0]


def test_results_zip(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "summary.csv").write_text("x\n")
    data = results_zip({"whatif": tmp_path / "a"}, {"command.txt": "python run_sim.py run\n"})
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert sorted(names) == ["command.txt", "whatif/summary.csv"]


def test_paths_cannot_escape_the_start_folders(tmp_path):
    inside = tmp_path / "work"
    (inside / "sub").mkdir(parents=True)
    (inside / "sub" / "a.yaml").write_text("x: 1\n")
    outside = tmp_path / "secret.yaml"
    outside.write_text("x: 1\n")
    (inside / "link.yaml").symlink_to(outside)
    roots = Roots([inside])
    assert roots.resolve("sub/a.yaml") == (inside / "sub" / "a.yaml").resolve()
    assert roots.scenario_files() == ["sub/a.yaml"]  # not the link that leads out
    for bad in ("../secret.yaml", str(outside), "link.yaml", "sub/../../secret.yaml", "/etc/passwd"):
        with pytest.raises(ScenarioError, match="outside the folders|ending in .yaml"):
            roots.resolve(bad)


def test_a_job_runs_in_the_background_and_can_be_cancelled(base, tmp_path):
    pool = Pool(1)
    try:
        job = Job(base, 2, base.seed, tmp_path / "a", pool).start()
        assert job.wait(120) and job.state == "done" and job.done == 2
        assert set(job.metrics_so_far()) == {0, 1}
        assert job.series()["enrolled.P3-001"].shape == (79,)
        assert (tmp_path / "a" / "summary.csv").exists()   # a results folder as run_sim.py writes it
        direct = run_experiment(base, 2, base.seed, progress=False)
        assert [job.metrics[r] for r in (0, 1)] == [r.metrics for r in direct.reps]

        long = Job(base, 50, base.seed, tmp_path / "b", pool).start()
        while long.done == 0:
            long.wait(0.05)
        long.cancel()
        assert long.wait(60) and long.state == "cancelled" and long.done < 50
    finally:
        pool.close()


def test_baselines_are_shared_and_cancelled_when_no_tab_wants_them(base, tmp_path):
    pool = Pool(1)
    try:
        cache = Baselines(pool, tmp_path)
        tab_a, tab_b = object(), object()
        a = cache.get(base, 30, base.seed, tab_a)
        assert cache.get(base, 30, base.seed, tab_b) is a
        cache.release(tab_a)
        assert not a._cancel.is_set()
        cache.release(tab_b)
        assert a.wait(60) and a.state == "cancelled"
        assert cache.get(base, 30, base.seed, tab_a) is not a  # asked again: run again
        cache.release(tab_a)
    finally:
        pool.close()


def test_explore_command_reports_a_bad_scenario_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("horizon: -1\n")
    res = CliRunner().invoke(cli, ["explore", str(bad)])
    assert res.exit_code == 2
    assert "bad.yaml: invalid scenario" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["explore", "--help"])
    assert res.exit_code == 0 and "127.0.0.1" in res.output


def test_explore_refuses_a_taken_port_in_one_line():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = CliRunner().invoke(cli, ["explore", "--port", str(port)])
    assert res.exit_code == 4, res.output
    assert f"cannot listen on 127.0.0.1:{port}" in res.output and "Traceback" not in res.output
