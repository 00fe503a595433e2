"""The run command end to end: results folder, summary, figures, rebuild from stored tables."""
from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from sim.cli import cli
from sim.scenario import load_scenario
from tests.conftest import scenario_dict
from tests.test_exp_support import read_table

ROOT = Path(__file__).resolve().parents[1]


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_run_writes_a_complete_results_folder(tmp_path):
    scen = tmp_path / "s.yaml"
    d = scenario_dict(horizon=120)
    d["trials"][0]["regions"][0]["activation"] = 20
    scen.write_text(yaml.safe_dump(d))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(scen), "--reps", "3", "--seed", "9", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "visits dosed on the day" in res.output and "95% interval" in res.output
    assert "trial.t.completed" not in res.output  # KPIs grouped, not every metric (they are in summary.csv)
    for f in ["scenario.yaml", "metadata.json", "metrics/rep-00000.parquet", "summary.csv", "series/rep-00002.parquet",
              "delays/rep-00001.parquet", "accounting.csv", "figures/throughput.png", "figures/inventory.png",
              "figures/delays.png"]:
        assert (out / f).is_file(), f
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 9 and meta["replications"] == 3 and "simpy" in meta["packages"]
    assert load_scenario(out / "scenario.yaml").horizon == 120  # the resolved scenario reloads
    metrics = read_table(out / "metrics")
    assert {r["rep"] for r in metrics} == {0, 1, 2}
    summary = {r["metric"]: r for r in _rows(out / "summary.csv")}
    released = [r["value"] for r in metrics if r["metric"] == "total.released.line"]
    assert float(summary["total.released.line"]["mean"]) == sum(released) / 3
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporaries
    # ... and give their files the permissions any other file gets (not mkstemp's owner-only 0600)
    umask = os.umask(0)
    os.umask(umask)
    for f in ("metrics/rep-00000.parquet", "metadata.json", "reps/rep-00000.json", "figures/throughput.png"):
        assert (out / f).stat().st_mode & 0o777 == 0o666 & ~umask, f
    # figures are rebuilt from the tables alone
    for p in (out / "figures").iterdir():
        p.unlink()
    res = CliRunner().invoke(cli, ["plot", str(out)])
    assert res.exit_code == 0 and (out / "figures" / "throughput.png").is_file()


def test_same_seed_same_tables(tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"o{k}"
        CliRunner().invoke(cli, ["run", "--reps", "2", "--seed", "3", "--out", str(out), "--no-figures"])
        outs.append(out)
    for f in ["metrics/rep-00001.parquet", "series/rep-00000.parquet", "delays/rep-00001.parquet", "summary.csv"]:
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", readme, re.S)
    test_cmd = next(c for c in commands if "pytest" in c)
    assert test_cmd.strip() in ci


def test_csv_copies_of_the_parquet_tables(tmp_path):
    """`--csv` (or `export` afterwards) writes tidy CSV with the datasets' rows, values round-tripping."""
    import csv as _csv
    out = tmp_path / "o"
    res = CliRunner().invoke(cli, ["run", "--set", "horizon=200", "--reps", "2", "--seed", "3", "--out", str(out),
                                   "--no-figures", "--csv"])
    assert res.exit_code == 0, res.output
    for table, header in (("metrics", ["rep", "metric", "value"]), ("series", ["rep", "series", "period_start",
                                                                               "value"]),
                          ("delays", ["rep", "delay", "value"])):
        with open(out / f"{table}.csv", newline="") as fh:
            rows = list(_csv.DictReader(fh))
        stored = read_table(out / table)
        assert list(rows[0]) == header and len(rows) == len(stored) > 0
        assert repr([float(r["value"]) for r in rows[:50]]) == repr([r["value"] for r in stored[:50]])
    for f in ("metrics.csv", "series.csv", "delays.csv"):
        (out / f).unlink()
    res = CliRunner().invoke(cli, ["export", str(out)])
    assert res.exit_code == 0 and (out / "series.csv").is_file()
    res = CliRunner().invoke(cli, ["export", str(tmp_path)])
    assert res.exit_code == 2 and "no tables to export" in res.stderr
