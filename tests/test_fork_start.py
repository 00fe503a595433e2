"""A run's workers start without importing the model twice: where it is safe, the replication workers
are forked from the main process (which has the model and the scenario schema), and the figures are
drawn by workers of a fork server that imports no model; results are the same as on one process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from sim.experiments import startup
from sim.experiments.backends import LocalBackend, SerialBackend
from sim.experiments.run import run_plan, single_plan

from test_exp_support import ROOT, small, table_bytes

LINUX = sys.platform.startswith("linux")


def _one_thread() -> None:
    """Forking from a process with another thread is what the backend refuses; so does this test."""
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this test process (an earlier test's): it may not fork")


@pytest.mark.skipif(not LINUX, reason="replication workers are forked from the main process on Linux only")
def test_replication_workers_are_forked_from_this_process_and_figure_workers_from_the_server():
    _one_thread()
    backend = LocalBackend(2, fork=True)
    try:
        assert backend._pool.submit(os.getppid).result() == os.getpid()
        drawers = set(backend.map(os.getppid, [(), (), ()]))
        # idle while the replications run, they leave Ctrl-C to the main process (no traceback each)
        on_ctrl_c = set(backend.map(signal.getsignal, [(signal.SIGINT,)] * 3))
    finally:
        backend.close()
    assert len(drawers) == 1 and os.getpid() not in drawers  # the fork server's children
    assert on_ctrl_c == {signal.SIG_IGN}


def test_no_fork_while_another_thread_runs_or_when_not_asked(monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert startup.fork_context() is None
    assert startup.forked_pool(2) is None
    backend = LocalBackend(2, fork=True)  # falls back to one pool of the fork server's workers
    try:
        assert backend._drawing is backend._pool
        assert backend._pool.submit(os.getppid).result() != os.getpid()
    finally:
        backend.close()


@pytest.mark.skipif(not LINUX, reason="replication workers are forked from the main process on Linux only")
def test_prestart_with_fork_starts_a_server_only_for_figures_and_without_the_model(monkeypatch):
    _one_thread()
    preloads, started = [], []
    monkeypatch.setattr("multiprocessing.context.ForkServerContext.set_forkserver_preload",
                        lambda self, modules: preloads.append(list(modules)))
    monkeypatch.setattr("multiprocessing.forkserver.ensure_running", lambda: started.append(True))
    startup.prestart(2, fork=True)  # --no-figures: no server at all
    assert (preloads, started) == ([], [])
    startup.prestart(2, preload=["sim.figures.folder", "sim.cli"], fork=True)
    assert preloads == [["sim.experiments.backends", "sim.figures.folder", "sim.cli"]] and started == [True]


@pytest.mark.skipif(not LINUX, reason="replication workers are forked from the main process on Linux only")
def test_workers_forked_early_are_the_ones_the_backend_uses_and_give_the_serial_results(tmp_path):
    _one_thread()
    startup.fork_workers(2)
    early = startup._FORKED[(2, 0)]
    backend = LocalBackend(2, fork=True)
    plan = single_plan(small(), 4, 5)
    try:
        assert backend._pool is early and (2, 0) not in startup._FORKED
        run_plan(plan, tmp_path / "forked", backend=backend)
    finally:
        backend.close()
    run_plan(plan, tmp_path / "serial", backend=SerialBackend())
    assert table_bytes(tmp_path / "forked") == table_bytes(tmp_path / "serial")


def test_a_bad_scenario_after_the_workers_were_forked_ends_at_once_with_its_message(tmp_path):
    """The CLI forks the workers before it reads the scenario: a refused scenario still exits with
    status 2 and its message, and leaves no worker behind."""
    code = ("import sys; from sim.cli import main; "
            f"sys.argv = ['run_sim.py', 'run', '--set', 'horizon=nope', '--workers', '2', '--out', "
            f"{str(tmp_path / 'r')!r}, '--no-progress']; main()")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert res.returncode == 2, res.stderr
    assert "horizon: expected a valid number" in res.stderr and "Traceback" not in res.stderr


def test_the_api_package_imports_its_parts_when_used():
    """``run`` needs :mod:`sim.api.experiment` only; the optimiser and the report load when named."""
    code = ("import sys; import sim.api.experiment; "
            "print(sorted(m for m in sys.modules if m.startswith(('sim.optimise', 'sim.report')))); "
            "from sim import api; from sim.api import *; "
            "print(all(getattr(api, n) is not None for n in api.__all__), api.report.__name__, "
            "'sim.optimise' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True write_report True"]
