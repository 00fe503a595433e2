"""Where replications run: in this process, in local worker processes, or on a Dask cluster.

Every backend runs the same picklable unit of work — ``work(scenario, seed,
rep)``, :func:`sim.model.run_replication` unless a test says otherwise — on
:class:`Task` objects grouped in chunks (one round trip per chunk, not per
replication), and yields an :class:`Outcome` per task as chunks finish, in
whatever order they finish.  A replication that raises becomes a
:class:`Failure` record and the others carry on.  Since the work is a pure
function of its task, the results do not depend on the backend or the number
of workers; the store puts them back in order.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import threading
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol, Sequence

from sim.experiments.startup import exit_with_main, freeze_imports, forked_pool, local_workers, mp_context

if TYPE_CHECKING:  # not at run time: this module is imported first, to start the workers early
    from sim.model import ReplicationResult
    from sim.scenario import Scenario

Work = Callable[["Scenario", int, int], "ReplicationResult"]


class BackendError(RuntimeError):
    """The execution backend cannot be used (unreachable scheduler, no workers): bad input."""


class WorkerLost(RuntimeError):
    """A worker died mid-run (killed, out of memory); what finished is stored, resume for the rest."""


@dataclass(frozen=True)
class Task:
    point: str
    scenario: "Scenario"
    seed: int
    rep: int


@dataclass(frozen=True)
class Failure:
    """A replication that raised: enough to reproduce it (scenario, seed, rep) and the error."""

    point: str
    rep: int
    seed: int
    error_type: str
    message: str
    traceback: str


@dataclass(frozen=True)
class Outcome:
    point: str
    rep: int
    seed: int
    result: "ReplicationResult | None" = None
    failure: Failure | None = None


def run_chunk(tasks: Sequence[Task], work: Work | None = None, detail: bool = True) -> list[Outcome]:
    """Run *tasks* one after the other (in a worker); errors are caught per task.

    *work* defaults to :func:`sim.model.run_replication`, looked up when called.
    """
    if work is None:
        import sim.model as model
        work = model.run_replication
    freeze_imports()
    out = []
    for t in tasks:
        try:
            res = work(t.scenario, t.seed, t.rep)
            if not detail:  # do not ship what will not be stored
                res = replace(res, series={}, samples={}, timeline=[])
            out.append(Outcome(t.point, t.rep, t.seed, result=res))
        except Exception as err:  # noqa: BLE001 - recorded, reported, and the batch carries on
            out.append(Outcome(t.point, t.rep, t.seed, failure=Failure(
                t.point, t.rep, t.seed, type(err).__name__, str(err), traceback.format_exc())))
        collect_replication()
    return out


def collect_replication() -> None:
    """After a replication: free its model now.  The model is a web of cycles (nodes, context, SimPy
    processes) that reference counting cannot free; left to the collector's thresholds, it waits in
    the young generations while the next replication allocates, and is scanned again by collections
    in the middle of that replication (each traversing ~20,000 live young objects) until a
    generation-1 collection frees it.  Collected here, when almost nothing else is young, one
    collection scans little more than the garbage, the next replication reuses its memory (warm in
    the caches) and the thresholds are not reached within a default replication.  Measured over 30
    replications in one process: the collector's time ~9 -> ~5.5 ms a replication, resident memory
    85 -> 60 MB.  No effect on results (nothing in the model depends on when memory is freed)."""
    gc.collect(1)


def chunks(tasks: Sequence[Task], workers: int, max_size: int = 8) -> list[list[Task]]:
    """Consecutive groups: at least about four per worker (load balance), at most *max_size*
    replications each (results are stored as soon as their chunk returns), and shrinking towards the
    end, each at most half of what is left per worker, so that the last ones are single replications
    and no worker waits at the end for another's long chunk (guided self-scheduling; a pool takes
    chunks in this order).  With one size throughout, 200 replications on 2 workers went in 25 chunks
    of 8, 13 on one worker and 12 on the other: the second idled ~1.6 s of a ~20 s phase."""
    out, start, n = [], 0, len(tasks)
    w = max(1, workers)
    first = max(1, min(max_size, n // (4 * w)))
    while start < n:
        size = max(1, min(first, (n - start) // (2 * w)))
        out.append(list(tasks[start:start + size]))
        start += size
    return out


class Backend(Protocol):
    name: str
    workers: int

    def run(self, tasks: Sequence[Task], work: Work | None = None,
            detail: bool = True) -> Iterator[Outcome]: ...

    def map(self, fn: Callable[..., Any], calls: Iterable[tuple]) -> list: ...

    def close(self) -> None: ...


def _in_process(fn: Callable[..., Any], calls: Iterable[tuple]) -> list:
    return [fn(*args) for args in calls]


class SerialBackend:
    """In this process, one replication after the other: no start-up cost."""

    name = "serial"
    workers = 1

    def run(self, tasks, work=None, detail=True):
        for t in tasks:
            yield from run_chunk([t], work, detail)

    def map(self, fn, calls):
        """``fn(*args)`` for each of *calls*, here, in order."""
        return _in_process(fn, calls)

    def close(self) -> None:
        pass


class LocalBackend:
    """A pool of local worker processes (the standard library's), fed in chunks.

    With *fork* (where :func:`~sim.experiments.startup.fork_context` allows it) the workers that run
    replications are forked from this process now, with the model and the scenario schema it has
    imported (none imports, compiles or builds them again), and :meth:`map` (figures) runs on workers
    of the fork server, which imports what draws and no model; without, one pool of the fork server's
    workers does both."""

    name = "local"

    def __init__(self, workers: int, nice: int = 0, fork: bool = False) -> None:
        self.workers = workers
        self._nice = nice
        pool = forked_pool(workers, nice) if fork else None
        if pool is None:
            self._pool = self._drawing = self._server_pool()
        else:
            self._pool, self._drawing = pool, None

    def _server_pool(self, replications: bool = True) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=mp_context(replications=replications),
                                   initializer=exit_with_main, initargs=(os.getpid(), self._nice, False,
                                                                         not replications))

    def _draw_pool(self) -> ProcessPoolExecutor:
        if self._drawing is None:
            self._drawing = self._server_pool(replications=False)
        return self._drawing

    def prepare_drawing(self) -> None:
        """Start the workers that will draw now, while the replications run, so that drawing starts at
        once when asked (measured: 0.3-0.4 s from the last replication to the first figure when they
        were started then, at load 3-4).  In a thread: the fork server forks them only once it has
        imported what draws, and the replications must not wait for that."""
        if self._drawing is None:
            pool = self._draw_pool()

            def start() -> None:  # the pool starts a worker per task until it has them all
                for _ in range(self.workers):
                    pool.submit(int)
            threading.Thread(target=start, name="start-drawing-workers", daemon=True).start()

    def run(self, tasks, work=None, detail=True):
        pending = {self._pool.submit(run_chunk, c, work, detail) for c in chunks(tasks, self.workers)}
        lost = None
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:  # hand over every finished chunk before reporting a lost worker
                    if isinstance(fut.exception(), BrokenProcessPool):
                        lost = lost or fut.exception()
                    else:
                        yield from fut.result()
        finally:
            for fut in pending:
                fut.cancel()
        if lost is not None:
            raise WorkerLost(f"a worker process died ({lost}); finished replications are stored")

    def map(self, fn, calls):
        """``fn(*args)`` for each of *calls*, on the workers (each call a task, so the slowest
        goes first if listed first), results in order."""
        calls = list(calls)
        if len(calls) < 2:
            return _in_process(fn, calls)
        pool = self._draw_pool()
        return [f.result() for f in [pool.submit(fn, *args) for args in calls]]

    def map_later(self, fn, calls):
        """Start ``fn(*args)`` for each of *calls* on the workers now; returns a function that waits
        for their results (in order)."""
        pool = self._draw_pool()
        futures = [pool.submit(fn, *args) for args in calls]
        return lambda: [f.result() for f in futures]

    def close(self) -> None:
        for pool in {self._pool, self._drawing} - {None}:
            pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _workers_ignore_sigint():
    """Start worker processes with SIGINT ignored (an ignored signal survives fork and exec): Ctrl-C
    in a terminal reaches the whole process group, and Dask's workers would each print a traceback.
    This process alone handles it and stops the workers itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _connect_within(connect: Callable[[], object], timeout: float):
    """``connect()`` with a hard deadline: a Dask client pointed at a server that accepts the connection
    but never speaks Dask (a web server, say) waits forever despite its own timeout.  The attempt runs
    in a daemon thread that is abandoned, not joined, if it overruns."""
    box: dict = {}

    def attempt() -> None:
        try:
            box["client"] = connect()
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            box["error"] = err

    t = threading.Thread(target=attempt, name="dask-connect", daemon=True)
    t.start()
    t.join(timeout + 2.0)  # Dask's own timeout first; ours only for a peer that never answers
    if t.is_alive():
        raise TimeoutError("the peer accepted the connection but did not answer as a Dask scheduler")
    if "error" in box:
        raise box["error"]
    return box["client"]


def _probe() -> str:
    from sim import __version__
    return __version__


class DaskBackend:
    """A Dask distributed cluster: a running one at *address*, or a local one started here.

    Workers must be able to import this package (same version); that is checked
    before any work is sent.
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int | None = None, timeout: float = 10.0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as err:  # pragma: no cover - a declared dependency
            raise BackendError(f"the Dask backend needs the 'distributed' package ({err})") from None
        self.address = address
        self._cluster = None
        try:
            if address is None:
                with _workers_ignore_sigint():
                    self._cluster = LocalCluster(n_workers=local_workers(workers), threads_per_worker=1,
                                                 processes=True, dashboard_address=None,
                                                 silence_logs=logging.ERROR)
                self._client = Client(self._cluster, timeout=timeout)
            else:
                self._client = _connect_within(lambda: Client(address, timeout=timeout), timeout)
        except (OSError, TimeoutError) as err:
            self.close()
            where = f"the Dask scheduler at {address}" if address else "a local Dask cluster"
            raise BackendError(f"cannot connect to {where} within {timeout:g} s ({err})") from None
        try:
            self._client.wait_for_workers(1, timeout=timeout)
            versions = set(self._client.run(_probe).values())
        except Exception as err:  # noqa: BLE001 - any failure here means: do not start
            self.close()
            raise BackendError(f"the Dask cluster at {address or 'localhost'} has no usable worker "
                               f"within {timeout:g} s: {type(err).__name__}: {err}") from None
        from sim import __version__
        if versions != {__version__}:
            self.close()
            raise BackendError(f"Dask workers run pharmasim {sorted(versions)}, this is {__version__}")
        self.workers = sum(self._client.nthreads().values())

    def run(self, tasks, work=None, detail=True):
        from distributed import as_completed
        futures = self._client.map(run_chunk, chunks(tasks, self.workers), work=work, detail=detail, pure=False)
        lost = None
        try:
            for fut in as_completed(futures):
                if fut.status == "error":  # a lost worker (model errors are caught in run_chunk)
                    err = fut.exception()
                    lost = lost or f"{type(err).__name__}: {err}"
                    continue
                yield from fut.result()
        finally:
            self._client.cancel([f for f in futures if not f.done()])
        if lost is not None:
            raise WorkerLost(f"a Dask task failed ({lost}); finished replications are stored")

    def map(self, fn, calls):
        """``fn(*args)`` for each of *calls*, in this process (short jobs: not worth a round trip)."""
        return _in_process(fn, calls)

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()


def map_later(backend: Backend, fn: Callable[..., Any], calls: Iterable[tuple]) -> Callable[[], list]:
    """``fn(*args)`` for each of *calls*, started now on *backend*'s workers if it has a pool (else made
    when the results are asked for, as ``backend.map`` makes them); returns a function that returns
    the results in order."""
    later = getattr(backend, "map_later", None)
    if later is not None:
        return later(fn, calls)
    calls = list(calls)
    return lambda: backend.map(fn, calls)


def make_backend(workers: int | None = None, scheduler: str | None = None, timeout: float = 10.0,
                 fork: bool = False) -> Backend:
    """The backend for ``--workers`` / ``--scheduler``; raises :class:`BackendError` before any work.

    *scheduler* is ``tcp://HOST:PORT`` (a running Dask cluster), ``local`` (a
    Dask cluster started here with *workers* workers) or None (local processes;
    *workers* defaults to every core, and 1 runs in this process; *fork*: see :class:`LocalBackend`).
    """
    if scheduler is not None:
        if scheduler == "local":
            return DaskBackend(None, workers, timeout)
        scheme, _, address = scheduler.partition("://")
        if scheme != "tcp" or not address:
            raise BackendError(f"--scheduler {scheduler!r}: expected tcp://HOST:PORT or 'local' "
                               "(a running Dask scheduler, or one started here)")
        return DaskBackend(scheduler, None, timeout)
    n = local_workers(workers)
    return SerialBackend() if n == 1 else LocalBackend(n, fork=fork)
