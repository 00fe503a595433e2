"""Starting local workers sooner.  Where it is safe (Linux, one thread), a run's replication workers
are forked from the main process itself once it has imported the model and the scenario schema, so
that no second process imports and compiles them and builds the schema again; a fork server started
first thing imports what draws figures (matplotlib, no model) meanwhile, on the other core, and forks
the workers that draw.  Elsewhere the fork server imports the model too and forks every worker.  The
main process's own later imports are made while it waits (:mod:`sim.experiments.backends` makes the
pools)."""
from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
import threading
from typing import Sequence


PRELOAD = ["sim.model", "sim.experiments.backends"]
"""What the fork server imports before it forks a worker (a worker then starts with it imported); the
model first (workers that only draw figures go without it)."""


def mp_context(preload: Sequence[str] = (), replications: bool = True):
    """How local workers start: forked from a clean server (no threads inherited, unlike plain fork)
    with the model already imported (cheaper than spawn), or spawned where there is no fork server.
    Without *replications* (workers that only draw figures) the server imports no model."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([*(PRELOAD if replications else PRELOAD[1:]), *preload])
        return ctx
    return multiprocessing.get_context("spawn")


def fork_context():
    """The plain ``fork`` context when forking this very process is safe: on Linux (fork is the
    platform's own way; macOS frameworks are not fork-safe) and while this process runs no other
    thread (a thread holding a lock at the fork would leave it held in the child); else None."""
    if sys.platform.startswith("linux") and threading.active_count() == 1 \
            and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def prestart(workers: int | None = None, scheduler: str | None = None, preload: Sequence[str] = (),
             replications: bool = True, fork: bool = False) -> None:
    """Start the fork server now, when local worker processes will be used, so that it imports the
    model (and the modules in *preload*, e.g. those that draw figures) while this process is still
    loading the scenario, instead of after: the workers then start at once.  Harmless if no pool is
    made after all (the server ends with this process).  *replications*: see :func:`mp_context`.
    *fork*: the replications will run on workers forked from this process (:func:`fork_context`,
    ``LocalBackend(fork=True)``), so the server imports no model, and none is started without
    *preload*."""
    if scheduler is not None or (workers or os.cpu_count() or 1) == 1:
        return
    if replications and fork and fork_context() is not None:
        if not preload:
            return
        replications = False
    ctx = mp_context(preload, replications)
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver
        forkserver.ensure_running()


AFTER_REPLICATIONS = ["pyarrow.parquet", "scipy.special"]
"""What the main process imports to store replications (Parquet) and to summarise them (the Student t
quantile) once the workers have run them (see :func:`import_while_waiting`)."""


def import_while_waiting(modules: Sequence[str] = AFTER_REPLICATIONS) -> None:
    """Import *modules* in a background thread.  Called once a local pool is made: this process then
    waits for the fork server to import the model and fork the workers, a core is idle, and storing
    and summarising the replications later no longer waits for these imports (~0.7 s)."""
    def work() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a missing package is reported where it is used
                pass
    threading.Thread(target=work, name="import-while-waiting", daemon=True).start()
