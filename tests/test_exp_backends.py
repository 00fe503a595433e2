"""Execution backends: serial, local processes, a real local Dask cluster.

Replications are a pure function of (scenario, seed, rep), so every table must
be byte-identical whichever backend, and however many workers, ran them.
"""
from __future__ import annotations

import gc
import json
import socket
import time
import weakref

import pytest

from sim.experiments.run import run_experiment, run_plan
from sim.experiments.backends import (BackendError, DaskBackend, LocalBackend, SerialBackend, Task, chunks,
                                      make_backend, run_chunk)
from sim.experiments.plan import Plan, Point
from sim.model import ReplicationResult

from test_exp_support import cli_run, small, table_bytes


def _plan():
    return Plan("batch", "backends", [Point("short", small()), Point("longer", small(horizon=360))],
                seed=11, reps=5, detail=True)


def test_results_are_bit_identical_on_every_backend(tmp_path):
    plan = _plan()
    folders = {}
    backends = {"serial": SerialBackend(), "local-2": LocalBackend(2),
                "dask-local-2": DaskBackend(None, workers=2, timeout=30)}
    try:
        for name, backend in backends.items():
            folders[name] = tmp_path / name
            res = run_plan(plan, folders[name], backend=backend)
            assert res.outcome.ran == 10 and not res.outcome.failures
    finally:
        for b in backends.values():
            b.close()
    reference = table_bytes(folders["serial"])
    assert {"metrics.parquet", "summary.csv", "scenarios/short/series/rep-00000.parquet",
            "scenarios/longer/delays/rep-00004.parquet", "scenarios/longer/accounting.csv"} <= set(reference)
    for name in ("local-2", "dask-local-2"):
        assert table_bytes(folders[name]) == reference, name


def test_in_memory_results_do_not_depend_on_workers():
    sc = small()
    one = run_experiment(sc, reps=6, seed=3, workers=1)
    two = run_experiment(sc, reps=6, seed=3, workers=2)
    assert [r.rep for r in two.reps] == list(range(6))
    for a, b in zip(one.reps, two.reps):
        assert repr(a.metrics) == repr(b.metrics)                 # repr: NaN-aware, exact
        assert all((a.series[k] == b.series[k]).all() for k in a.series)
        assert a.samples == b.samples and a.accounting == b.accounting
    assert [s.mean for s in one.summaries if s.n] == [s.mean for s in two.summaries if s.n]


def test_cli_on_a_running_dask_scheduler_matches_serial(tmp_path):
    """`--scheduler tcp://HOST:PORT`: a cluster someone else started (here: this test)."""
    from distributed import LocalCluster
    args = ["run", "--set", "horizon=300", "--reps", "6", "--seed", "8", "--no-figures"]
    assert cli_run(*args, "--workers", "1", "--out", tmp_path / "serial").exit_code == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        res = cli_run(*args, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "dask")
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "dask" / "metadata.json").read_text())
    assert meta["backend"] == "dask" and meta["workers"] == 2
    assert table_bytes(tmp_path / "dask") == table_bytes(tmp_path / "serial")


def test_replications_are_independent_but_reproducible():
    sc = small()
    a = run_experiment(sc, reps=3, seed=3).reps
    b = run_experiment(sc, reps=3, seed=3).reps
    c = run_experiment(sc, reps=3, seed=4).reps
    key = "delay.order_to_delivery.mean"
    assert [r.metrics[key] for r in a] == [r.metrics[key] for r in b]
    assert len({r.metrics[key] for r in a}) == 3                   # each replication its own streams
    assert [r.metrics[key] for r in a] != [r.metrics[key] for r in c]


def test_chunks_balance_and_bound_the_work_in_flight():
    tasks = [Task("p", None, 1, r) for r in range(100)]
    cs = chunks(tasks, workers=2)
    assert [t.rep for c in cs for t in c] == list(range(100))
    sizes = [len(c) for c in cs]
    assert sizes == [8] * 9 + [7, 5, 4, 3, 2] + [1] * 7             # <= 8, then half of what is left a worker
    assert [len(c) for c in chunks(tasks[:5], workers=4)] == [1] * 5
    assert [len(c) for c in chunks(tasks[:24], workers=2)] == [3] * 5 + [2] + [1] * 7  # >= 4 a worker
    assert [len(c) for c in chunks(tasks[:8], workers=2)] == [1] * 8


class _Web:
    """A replication's model in miniature: objects that reference each other."""

    def __init__(self) -> None:
        self.me = self


def test_a_replications_cycles_are_freed_when_it_returns():
    """run_chunk collects after each replication: its model (cycles) is gone before the next starts,
    not left to the collector's thresholds (which a default replication does not reach)."""
    alive = []

    def work(scenario, seed, rep):
        for r in alive:
            assert r() is None, "the previous replication's model is still in memory"
        web = _Web()
        alive.append(weakref.ref(web))
        return ReplicationResult(rep, seed, {"x": 1.0}, {}, {})
    threshold = gc.get_threshold()
    gc.set_threshold(10**9, 10, 10)  # no automatic collection in this test
    try:
        outs = run_chunk([Task("p", None, 1, r) for r in range(3)], work)
    finally:
        gc.set_threshold(*threshold)
    assert [o.rep for o in outs if o.result is not None] == [0, 1, 2]
    assert [r() for r in alive] == [None, None, None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_an_error_before_any_work(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(BackendError, match="cannot connect to the Dask scheduler"):
        make_backend(scheduler=address, timeout=0.5)
    out = tmp_path / "never"
    res = cli_run("run", "--scheduler", address, "--connect-timeout", "0.5", "--out", out)
    assert res.exit_code == 2
    assert f"cannot connect to the Dask scheduler at {address} within 0.5 s" in res.stderr
    assert "Traceback" not in res.output and not out.exists()
    res = cli_run("run", "--scheduler", "127.0.0.1:8786", "--out", out)
    assert res.exit_code == 2 and "expected tcp://HOST:PORT or 'local'" in res.stderr


def test_workers_default_to_every_core_and_one_means_in_process():
    import os
    assert isinstance(make_backend(1), SerialBackend)
    b = make_backend(None)
    try:
        assert b.workers == (os.cpu_count() or 1)
    finally:
        b.close()


def test_a_server_that_is_not_dask_is_an_error_within_the_timeout(tmp_path):
    """A web server accepts the connection but never answers the Dask handshake: Dask's client would
    wait forever; the backend gives up a couple of seconds after --connect-timeout."""
    import http.server
    import threading
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.server_address[1]}"
    try:
        t0 = time.perf_counter()
        res = cli_run("run", "--scheduler", address, "--connect-timeout", "1", "--out", tmp_path / "x")
        assert time.perf_counter() - t0 < 15
    finally:
        server.shutdown()
    assert res.exit_code == 2
    assert "did not answer as a Dask scheduler" in res.stderr and "Traceback" not in res.output
