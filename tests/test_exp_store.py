"""Results that survive: per-replication records, resume, failures, tidy tables."""
from __future__ import annotations

import csv
import json
import math
import signal
import subprocess
import time

import numpy as np
import pytest
from scipy import stats

from sim.experiments.run import ReplicationsFailed, run_experiment, run_plan
from sim.experiments.backends import LocalBackend
from sim.experiments.plan import Plan, Point
from sim.experiments.columnar import read_replication, write_replication
from sim.model import run_replication

from test_exp_support import (PYTHON, ROOT, cli_run, dies_on_rep_3, fails_on_rep_2, read_table, small,
                              subprocess_env, table_bytes)

RUN_LAYOUT = {"scenario.yaml", "metadata.json", "metrics", "summary.csv", "series", "delays", "accounting.csv"}


def test_record_round_trip_is_exact(tmp_path):
    res = run_replication(small(), 5, 2)
    res.metrics["odd"] = math.nan
    write_replication(tmp_path, res, "p", 14.0)
    back = read_replication(tmp_path, 2)
    # every bit is kept (NaN too); counts come back as floats
    assert repr(sorted(back.metrics.items())) == repr(sorted((k, float(v)) for k, v in res.metrics.items()))
    assert back.series.keys() == res.series.keys()
    assert all(np.array_equal(back.series[k], res.series[k]) for k in res.series)
    assert back.samples == res.samples and back.accounting == res.accounting


def test_run_folder_keeps_its_layout_and_the_tables_agree(tmp_path):
    out = tmp_path / "run"
    exp = run_experiment(small(), reps=4, seed=9, out_dir=out)
    assert RUN_LAYOUT <= {p.name for p in out.iterdir()}
    assert sorted(p.name for p in (out / "reps").iterdir()) == [f"rep-{r:05d}.json" for r in range(4)]
    assert sorted(p.name for p in (out / "series").iterdir()) == [f"rep-{r:05d}.parquet" for r in range(4)]
    rows = read_table(out / "metrics")
    assert list(rows[0]) == ["rep", "metric", "value"]
    assert len(rows) == 4 * len(exp.reps[0].metrics)
    # summary.csv is the Student-t interval of the tidy values
    values = [float(r["value"]) for r in rows if r["metric"] == "dosed_on_day_fraction"]
    with open(out / "summary.csv", newline="") as fh:
        s = next(r for r in csv.DictReader(fh) if r["metric"] == "dosed_on_day_fraction")
    m, h = np.mean(values), stats.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert float(s["mean"]) == pytest.approx(m, rel=1e-12) and float(s["half_width"]) == pytest.approx(h, rel=1e-9)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["replications"] == 4 and meta["seed"] == 9 and meta["scenario"] == "phase3-small-molecule"


def test_batch_tidy_table_has_a_row_per_scenario_rep_metric(tmp_path):
    plan = Plan("batch", "tidy", [Point("a", small()), Point("b", small(horizon=330))], seed=2, reps=3,
                detail=False)
    res = run_plan(plan, tmp_path / "b", workers=1)
    rows = read_table(tmp_path / "b" / "metrics.parquet")
    assert list(rows[0]) == ["scenario", "rep", "metric", "value"]
    per = {pid: len(res.outcome.metrics[pid][0]) for pid in ("a", "b")}
    assert len(rows) == 3 * (per["a"] + per["b"])
    assert len({(r["scenario"], r["rep"], r["metric"]) for r in rows}) == len(rows)
    with open(tmp_path / "b" / "summary.csv", newline="") as fh:
        summary = list(csv.DictReader(fh))
    assert list(summary[0])[:3] == ["scenario", "metric", "n"] and {r["scenario"] for r in summary} == {"a", "b"}
    assert not (tmp_path / "b" / "scenarios" / "a" / "series").exists()     # details not kept
    assert not (tmp_path / "b" / "scenarios" / "a" / "timeline.csv").exists()


def test_a_failing_replication_is_recorded_and_the_others_carry_on(tmp_path):
    sc = small(horizon=320)
    out = tmp_path / "f"
    backend = LocalBackend(2)
    try:
        exp = run_experiment(sc, reps=5, seed=4, out_dir=out, backend=backend,
                             work=fails_on_rep_2, raise_on_failure=False)
    finally:
        backend.close()
    assert [r.rep for r in exp.reps] == [0, 1, 3, 4]
    (f,) = exp.failures
    assert (f.rep, f.seed, f.error_type, f.message) == (2, 4, "RuntimeError", "injected failure (rep 2)")
    with open(out / "failures.csv", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row == {"scenario": "phase3-small-molecule", "rep": "2", "seed": "4", "error_type": "RuntimeError",
                   "message": "injected failure (rep 2)"}
    record = json.loads((out / "reps" / "rep-00002.failed.json").read_text())
    assert "fails_on_rep_2" in record["traceback"]
    assert json.loads((out / "metadata.json").read_text())["failures"] == 1
    # the API raises (after writing everything) unless told not to
    with pytest.raises(ReplicationsFailed, match="scenario phase3-small-molecule, seed 4, rep 2"):
        run_experiment(sc, reps=3, seed=4, out_dir=tmp_path / "g", work=fails_on_rep_2)
    # resuming retries the failed replication only; success removes the failure record
    exp = run_experiment(sc, reps=5, seed=4, out_dir=out, resume=True)
    assert exp.outcome.ran == 1 and exp.outcome.reused == 4 and not exp.failures
    assert not (out / "failures.csv").exists() and not (out / "reps" / "rep-00002.failed.json").exists()
    fresh = run_experiment(sc, reps=5, seed=4, out_dir=tmp_path / "fresh")
    assert table_bytes(out) == table_bytes(fresh.out_dir)


def test_cli_reports_failures_with_exit_status(tmp_path, monkeypatch):
    import sim.model as model
    monkeypatch.setattr(model, "run_replication", fails_on_rep_2)
    res = cli_run("run", "--set", "horizon=320", "--reps", "3", "--workers", "1", "--out", tmp_path / "x",
                  "--no-figures")
    assert res.exit_code == 1
    assert "1 replication(s) raised (RuntimeError); the others were kept" in res.stderr
    assert (tmp_path / "x" / "failures.csv").exists()


def test_interrupted_run_resumes_and_loses_nothing(tmp_path):
    """Kill a real CLI run mid-way (SIGKILL: no chance to clean up), resume it, and get exactly the
    tables of an uninterrupted run."""
    out = tmp_path / "killed"
    args = ["run_sim.py", "run", "--reps", "16", "--seed", "5", "--workers", "1", "--out", str(out),
            "--no-figures", "--set", "horizon=800"]
    proc = subprocess.Popen([PYTHON, *args], cwd=ROOT, env=subprocess_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((out / "reps").glob("rep-?????.json"))) < 4:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((out / "reps").glob("rep-?????.json")))
    assert 4 <= done < 16, "the run was not interrupted mid-way"
    res = cli_run("run", "--reps", "16", "--seed", "5", "--workers", "2", "--out", out, "--no-figures",
                  "--set", "horizon=800", "--resume")
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["replications_reused"] == done and meta["replications_run"] == 16 - done
    assert not list((out / "reps").glob(".*")), "temporary files of the killed run are cleaned up"
    reference = run_experiment(small(horizon=800), reps=16, seed=5, out_dir=tmp_path / "ref")
    assert table_bytes(out) == table_bytes(reference.out_dir)


def test_resume_refuses_a_different_experiment_and_overwrite_starts_over(tmp_path):
    out = tmp_path / "r"
    assert cli_run("run", "--set", "horizon=300", "--reps", "2", "--workers", "1", "--out", out,
                   "--no-figures").exit_code == 0
    res = cli_run("run", "--set", "horizon=310", "--reps", "2", "--workers", "1", "--out", out, "--no-figures",
                  "--resume")
    assert res.exit_code == 2 and "cannot resume, this is not the experiment stored there" in res.stderr
    res = cli_run("run", "--set", "horizon=300", "--reps", "4", "--workers", "1", "--out", out, "--no-figures",
                  "--resume")                                            # more replications: extends
    assert res.exit_code == 0 and json.loads((out / "metadata.json").read_text())["replications_reused"] == 2
    res = cli_run("run", "--set", "horizon=310", "--reps", "1", "--workers", "1", "--out", out, "--no-figures")
    assert res.exit_code == 2 and "holds an earlier experiment (complete)" in res.stderr  # neither flag: refused
    res = cli_run("run", "--set", "horizon=310", "--reps", "1", "--workers", "1", "--out", out, "--no-figures",
                  "--overwrite")
    assert res.exit_code == 0                                            # --overwrite: start afresh
    assert sorted(p.name for p in (out / "reps").iterdir()) == ["rep-00000.json"]
    assert cli_run("run", "--resume", "--reps", "1").exit_code == 2     # --resume needs --out


def test_a_lost_worker_stops_the_run_and_resume_completes_it(tmp_path):
    from sim.experiments.backends import WorkerLost
    out = tmp_path / "lost"
    backend = LocalBackend(2)
    try:
        with pytest.raises(WorkerLost, match="a worker process died"):
            run_experiment(small(), reps=8, seed=6, out_dir=out, backend=backend,
                           work=dies_on_rep_3)
    finally:
        backend.close()
    kept = sorted(p.name for p in (out / "reps").glob("rep-?????.json"))
    # rep 3 starts only once its worker finished an earlier one: what finished is kept
    assert "rep-00003.json" not in kept and len(kept) >= 2
    exp = run_experiment(small(), reps=8, seed=6, out_dir=out, resume=True)
    assert exp.outcome.reused == len(kept) and exp.outcome.ran == 8 - len(kept)
    fresh = run_experiment(small(), reps=8, seed=6, out_dir=tmp_path / "fresh")
    assert table_bytes(out) == table_bytes(fresh.out_dir)
