"""The Python API (sim.api): the same numbers as the CLI, DataFrames read from the results folder,
clear errors, and the example study of docs/examples runs end to end."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from sim import api
from sim.cli import cli
from sim.experiments.tables import ResultsFolderError
from tests.conftest import scenario_dict

ROOT = Path(__file__).resolve().parents[1]


def _small(tmp_path) -> Path:
    d = scenario_dict(horizon=120)
    d["trials"][0]["regions"][0]["activation"] = 20
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d))
    return path


def test_api_run_gives_the_clis_numbers_as_dataframes(tmp_path):
    scen = _small(tmp_path)
    res = api.run(scen, reps=3, seed=9, set={"horizon": 100}, out=tmp_path / "api", figures=False, workers=1)
    cli_out = tmp_path / "cli"
    done = CliRunner().invoke(cli, ["run", str(scen), "--reps", "3", "--seed", "9", "--set", "horizon=100",
                                    "--out", str(cli_out), "--no-figures", "--workers", "1"])
    assert done.exit_code == 0, done.output
    again = api.open_results(cli_out)
    assert isinstance(res.metrics, pd.DataFrame) and list(res.metrics.columns) == ["rep", "metric", "value"]
    pd.testing.assert_frame_equal(res.metrics, again.metrics)
    pd.testing.assert_frame_equal(res.series, again.series)
    pd.testing.assert_frame_equal(res.summary, again.summary)
    assert res.replications == 3 and res.seed == 9 and res.scenario.horizon == 100
    released = res.metrics.query("metric == 'total.released.line'")["value"]
    assert res.mean("total.released.line") == pytest.approx(released.mean(), rel=1e-12)
    assert res.wide().shape[0] == 3 and "dosed_fraction" in res.wide().columns
    assert set(res.series.columns) == {"rep", "series", "period_start", "value"}
    assert res.failures.empty


def test_api_load_accepts_a_dict_and_overrides_and_names_bad_fields():
    sc = api.load(scenario_dict(), set=["horizon=80"])
    assert sc.horizon == 80
    assert api.load(sc, set={"period": 5}).period == 5
    with pytest.raises(api.ScenarioError) as err:
        api.load(scenario_dict(), set={"lines.line.batch_size": -1})
    assert "lines[0].batch_size" in str(err.value) or "lines.line.batch_size" in str(err.value)
    with pytest.raises(api.ScenarioError, match="expected PATH=VALUE"):
        api.load(None, set=["horizon"])
    with pytest.raises(api.ScenarioError, match="percentage"):
        api.until("fast")


def test_open_results_refuses_a_folder_that_is_not_one(tmp_path):
    with pytest.raises(ResultsFolderError, match="not a scenario's results folder"):
        api.open_results(tmp_path)


def test_example_study_runs_end_to_end(tmp_path):
    """docs/examples/first_study.py with 3 replications: a run, a comparison with common random
    numbers (slower couriers lower the dosed fraction in every pair or within noise, never raise it)
    and a sweep, reopened from their folders."""
    spec = importlib.util.spec_from_file_location("first_study", ROOT / "docs" / "examples" / "first_study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(3, tmp_path / "study")
    cmp = out["compare"].comparison.set_index("metric")
    assert cmp.loc["delay.order_to_delivery.mean", "difference"] > 1.0  # 2 days slower on average
    assert cmp.loc["dosed_fraction", "difference"] <= 0
    sweep = out["sweep"]
    assert sorted(sweep.scenarios["scenario"]) == ["p000", "p001", "p002"]
    assert len(sweep.design) == 3
    diffs = sweep.differences("p000", "p002").set_index("metric")
    assert diffs.loc["dosed_fraction", "mean_b"] <= diffs.loc["dosed_fraction", "mean_a"]
    reopened = api.open_results(tmp_path / "study" / "compare")
    assert isinstance(reopened, api.Comparison) and reopened.b.replications == 3
