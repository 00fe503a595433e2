"""Starting local workers sooner.  Where it is safe (Linux, one thread), a run's replication workers
are forked from the main process itself once it has imported the model and the scenario schema, so
that no second process imports and compiles them and builds the schema again; a fork server started
first thing imports what draws figures (matplotlib, no model) meanwhile, on the other core, and forks
the workers that draw.  Elsewhere the fork server imports the model too and forks every worker.  The
main process's own later imports are made while it waits (:mod:`sim.experiments.backends` makes the
pools)."""
from __future__ import annotations

import gc
import importlib
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Sequence


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


def local_workers(workers: int | None) -> int:
    """The number of local workers ``--workers`` asks for: every core unless given."""
    return workers or os.cpu_count() or 1


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
    if scheduler is not None or local_workers(workers) == 1:
        return
    if replications and fork and fork_context() is not None:
        if not preload:
            return
        replications = False
    ctx = mp_context(preload, replications)
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver
        forkserver.ensure_running()


def exit_with_main(main_pid: int, nice: int = 0, forked: bool = False, drawing: bool = False) -> None:
    """Worker initializer: a daemon thread ends this worker once the main process is gone (even if it
    was killed with SIGKILL and could not shut its pool down), so no worker is left running.  *nice*:
    a lower CPU priority (an interactive main process is served first).  The fork server's imports are
    frozen out of the garbage collector's sight here too (:func:`freeze_imports`), so that a worker
    that only draws figures (``plot``) does not rescan them either (~5 % of drawing).  *forked*: from
    the main process itself, whose SIGTERM handler (stop the run, keep what finished) is not a
    worker's: a worker ends on SIGTERM as one from the fork server does.  *drawing*: a worker that only
    draws, started while the replications run and idle until then, ignores Ctrl-C (which reaches the
    whole process group and would make it print a traceback); the main process stops it."""
    import time

    if forked:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if drawing:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:
        os.nice(nice)
    freeze_imports()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(main_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # alive, owned by someone else: cannot be ours, but do not guess
                pass

    threading.Thread(target=watch, name="exit-with-main", daemon=True).start()


def freeze_imports() -> None:
    """Once per process, after the model is imported: move what exists now (modules, the scenario
    schema, ~80 k objects) out of the garbage collector's sight, so that its collections during
    replications do not rescan them, and collect the young generation every 20,000 allocations
    instead of 700 (a replication's objects live as long as it does; SimPy's events die young by
    reference counting).  Measured: collections ~8 % of a replication before, ~4 % after."""
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.freeze()
        gc.set_threshold(20_000, 10, 10)


_FROZEN = False


def _fork_pool(workers: int, nice: int) -> ProcessPoolExecutor:
    """A pool whose workers are forked from this process now, with the model imported first."""
    import sim.model  # noqa: F401 - the workers are forked with it
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=fork_context(), initializer=exit_with_main,
                               initargs=(os.getpid(), nice, True))
    pool.submit(int)  # forks every worker now, before this process starts any thread
    return pool


_FORKED: dict[tuple[int, int], ProcessPoolExecutor] = {}
"""Pools forked by :func:`fork_workers`, by (workers, nice), each for the next ``LocalBackend(fork=True)``."""


def forked_pool(workers: int, nice: int = 0) -> ProcessPoolExecutor | None:
    """A pool of *workers* forked from this process: the one :func:`fork_workers` made, or a new one;
    None where :func:`fork_context` does not allow it."""
    pool = _FORKED.pop((workers, nice), None)
    if pool is None and fork_context() is not None:
        pool = _fork_pool(workers, nice)
    return pool


def fork_workers(workers: int | None = None, scheduler: str | None = None) -> None:
    """Fork the local replication workers now, as soon as the model is imported, for the next
    ``make_backend(workers, scheduler, fork=True)`` (:mod:`sim.experiments.backends`): they wait
    while this process loads the scenario and prepares the run, instead of being forked after that.
    Nothing without local workers, or where :func:`fork_context` does not allow it (the backend's
    workers come from the fork server then); an unused pool ends with this process."""
    n = local_workers(workers)
    if scheduler is None and n > 1 and (n, 0) not in _FORKED and fork_context() is not None:
        _FORKED[(n, 0)] = _fork_pool(n, 0)


AFTER_REPLICATIONS = ["pyarrow.parquet", "scipy.special"]
"""What the main process imports to store replications (Parquet) and to summarise them (the Student t
quantile) once the workers have run them (see :func:`import_while_waiting`)."""


def import_while_waiting(modules: Sequence[str] = AFTER_REPLICATIONS,
                         then: Callable[[], object] | None = None) -> None:
    """Import *modules* in a background thread.  Called once a local pool is made: this process then
    waits for the workers' first results (or for the fork server to import the model and fork the
    workers), and storing and summarising the replications later no longer waits for these imports
    (~0.7 s).  Started after the pool's workers are forked (:func:`fork_context` needs one thread).
    *then*: called after the imports, e.g. to look up what the results folder's metadata records."""
    def work() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a missing package is reported where it is used
                pass
        if then is not None:
            then()
    threading.Thread(target=work, name="import-while-waiting", daemon=True).start()
