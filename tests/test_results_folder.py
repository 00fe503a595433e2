"""A results folder never loses a file the tool did not write: the tool writes only into a new or empty
folder or one carrying its marker, replaces an earlier experiment only when told to, locks the folder
while it runs, and never presents an unfinished experiment's tables as finished."""
from __future__ import annotations

import json

import pytest

from sim.core import conservation
from sim.core.errors import ConservationError
from sim.experiments.folder import LOCK, MARKER, ResultsFolder, StoreError, read_marker
from test_exp_support import cli_run

RUN = ("run", "--set", "horizon=200", "--reps", "1", "--workers", "1", "--no-figures")


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_folder_that_is_not_ours_is_refused_and_left_untouched(tmp_path):
    """The reproducer: a run with --out pointing at a project checkout (here: a folder holding a
    scenarios/ directory and a plan.json of the user's own) must not write or delete anything."""
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "mine.yaml").write_text("name: mine\n")
    (tmp_path / "plan.json").write_text('{"my": "plan"}')
    before = _tree(tmp_path)
    for extra in ((), ("--overwrite",), ("--resume",)):
        res = cli_run(*RUN, "--out", tmp_path, *extra)
        assert res.exit_code == 2, res.output
        assert "not a results folder of this tool" in res.stderr or "nothing to resume" in res.stderr
    assert _tree(tmp_path) == before and (tmp_path / "plan.json").read_text() == '{"my": "plan"}'


def test_an_earlier_experiment_is_replaced_only_with_overwrite_and_only_its_own_files(tmp_path):
    out = tmp_path / "r"
    assert cli_run(*RUN, "--out", out).exit_code == 0
    marker = read_marker(out)
    assert marker["state"] == "complete" and {"metrics", "reps", "plan.json"} <= set(marker["written"])
    (out / "notes.txt").write_text("my notes")          # the user's own file in our folder
    res = cli_run(*RUN, "--out", out)
    assert res.exit_code == 2 and "holds an earlier experiment (complete)" in res.stderr
    assert cli_run(*RUN, "--out", out, "--overwrite", "--seed", "5").exit_code == 0
    assert (out / "notes.txt").read_text() == "my notes"
    new = read_marker(out)
    assert new["id"] != marker["id"] and new["state"] == "complete"
    assert json.loads((out / "metadata.json").read_text())["seed"] == 5
    assert not (out / LOCK).exists()


def test_a_second_run_into_a_folder_in_use_stops_at_once(tmp_path):
    out = tmp_path / "busy"
    holder = ResultsFolder(out)                            # a run in progress holds the lock
    try:
        assert read_marker(out)["state"] == "running"
        res = cli_run(*RUN, "--out", out, "--overwrite")
        assert res.exit_code == 2 and "in use by another run" in res.stderr
        with pytest.raises(StoreError, match="in use by another run"):
            ResultsFolder(out, resume=True)
    finally:
        holder.close()


def test_an_unfinished_experiment_is_not_plotted_as_finished(tmp_path):
    out = tmp_path / "r"
    assert cli_run(*RUN, "--out", out).exit_code == 0
    marker = read_marker(out)
    marker["state"] = "running"                            # as a run killed before its tables were rewritten
    (out / MARKER).write_text(json.dumps(marker))
    res = cli_run("plot", out)
    assert res.exit_code == 2 and "did not finish" in res.stderr and "--resume" in res.stderr
    assert cli_run(*RUN, "--out", out, "--resume").exit_code == 0
    assert read_marker(out)["state"] == "complete" and cli_run("plot", out).exit_code == 0


def test_a_folder_written_by_an_earlier_version_counts_as_ours(tmp_path):
    out = tmp_path / "old"
    assert cli_run(*RUN, "--out", out).exit_code == 0
    (out / MARKER).unlink()                                # no marker, but plan.json and reps/
    res = cli_run(*RUN, "--out", out)
    assert res.exit_code == 2 and "earlier version" in res.stderr
    assert cli_run(*RUN, "--out", out, "--resume").exit_code == 0


def test_conservation_refuses_nan_and_inf():
    ledger = conservation.Ledger()
    ledger.inflow("api", "ordered", float("nan"))
    with pytest.raises(ConservationError, match="api: not a finite quantity in in:ordered"):
        conservation.check(ledger, [])
    ledger = conservation.Ledger()
    ledger.inflow("api", "ordered", 5.0)

    class Holder:
        def holdings(self):
            yield "api", "on_hand", float("inf")

    with pytest.raises(ConservationError, match="held:on_hand"):
        conservation.check(ledger, [Holder()])


def test_sigterm_stops_a_run_like_ctrl_c_and_resume_completes_it(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    from test_exp_support import ROOT, subprocess_env
    out = tmp_path / "term"
    args = [sys.executable, "run_sim.py", "run", "--reps", "16", "--seed", "5", "--workers", "1", "--out", str(out),
            "--no-figures", "--set", "horizon=800"]
    proc = subprocess.Popen(args, cwd=ROOT, env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((out / "reps").glob("rep-?????.json"))) < 3:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted: finished replications are stored" in err
    assert read_marker(out)["state"] == "running" and not (out / LOCK).exists()
    res = cli_run("run", "--reps", "16", "--seed", "5", "--workers", "1", "--out", out, "--no-figures",
                  "--set", "horizon=800", "--resume")
    assert res.exit_code == 0 and read_marker(out)["state"] == "complete"


def test_damaged_records_are_run_again_and_damaged_tables_are_a_message(tmp_path):
    from test_exp_support import table_bytes
    out = tmp_path / "r"
    args = ("run", "--set", "horizon=200", "--reps", "3", "--workers", "1", "--no-figures", "--out", out)
    assert cli_run(*args).exit_code == 0
    reference = table_bytes(out)
    (out / "reps" / "rep-00001.json").write_bytes(b'{"truncated')
    (out / "metrics" / "rep-00002.parquet").write_bytes(b"")
    res = cli_run(*args, "--resume")
    assert res.exit_code == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert (meta["replications_reused"], meta["replications_run"]) == (1, 2)
    assert table_bytes(out) == reference
    assert sorted(p.name for p in (out / "reps").glob("*.damaged")) == ["rep-00001.json.damaged",
                                                                         "rep-00002.json.damaged"]
    (out / "series" / "rep-00000.parquet").write_bytes(b"PAR1 not parquet")
    res = cli_run("plot", out)
    assert res.exit_code == 2 and "a stored table is damaged" in res.stderr


def test_booleans_are_not_numbers():
    from test_scenario_errors import problems_of
    from tests.conftest import scenario_dict
    d = scenario_dict()
    d["horizon"] = True
    assert problems_of(d) == ["horizon: expected a number or a name, not true / false; got True"]


def test_killing_the_main_process_leaves_no_worker_running(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    import psutil
    from test_exp_support import ROOT, subprocess_env
    out = tmp_path / "k"
    proc = subprocess.Popen([sys.executable, "run_sim.py", "run", "--reps", "40", "--workers", "2", "--out", str(out),
                             "--no-figures"], cwd=ROOT, env=subprocess_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    kids: list = []
    while time.monotonic() < deadline and not list((out / "reps").glob("rep-?????.json")):
        kids = psutil.Process(proc.pid).children(recursive=True) or kids
        time.sleep(0.02)
    assert len(kids) >= 2, "the run did not start its workers"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(kids, timeout=10)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []


def test_scheduler_addresses_other_than_tcp_are_refused():
    for address in ("inproc://x", "tls://host:8786", "host:8786", "tcp://"):
        res = cli_run("run", "--reps", "1", "--scheduler", address)
        assert res.exit_code == 2 and "expected tcp://HOST:PORT" in res.stderr, (address, res.stderr)


def test_a_folder_of_an_earlier_version_is_not_resumed_into(tmp_path):
    """Records of the earlier storage (reps/*.json.gz beside CSV tables) cannot be read: resuming would
    rerun everything and leave the old CSV tables beside the new ones, so it is refused, with the way out."""
    out = tmp_path / "r"
    args = ("run", "--set", "horizon=200", "--reps", "2", "--workers", "1", "--no-figures", "--out", out)
    assert cli_run(*args).exit_code == 0
    (out / "reps" / "rep-00002.json.gz").write_bytes(b"old")
    res = cli_run(*args, "--resume")
    assert res.exit_code == 2 and "written by an earlier version of the tool" in res.stderr
    assert cli_run(*args, "--overwrite").exit_code == 0 and not (out / "reps" / "rep-00002.json.gz").exists()
