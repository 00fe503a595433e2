"""Replications in the background: one shared pool of worker processes, one thread per run.

A :class:`Job` runs one scenario's replications through the experiment API
(:func:`sim.experiments.run.run_plan` on a :func:`~sim.experiments.run.single_plan`) into its own
results folder, on the :class:`Pool`'s worker processes (both cores).  It records each replication as
it arrives, so the page shows progress and partial results, and it can be cancelled: the replications
not started are dropped.  Baselines are shared between tabs through :class:`Baselines` — the same
scenario, seed and replications give the same numbers, so computing them once mixes nothing — and a
baseline no tab wants any more is cancelled.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from sim.core.errors import ScenarioError
from sim.explorer.cache import Finished, RunCache
from sim.experiments.backends import LocalBackend, SerialBackend
from sim.experiments.plan import scenario_hash
from sim.experiments.run import run_plan, single_plan
from sim.scenario import Scenario


class Cancelled(Exception):
    """The run was cancelled (its tab closed, or the user pressed Cancel)."""


class Pool:
    """The worker processes every tab's runs share (started once, on first use)."""

    NICE = 5
    """The workers' niceness: replications take every core left over, but the page (this process) is
    served first when a browser asks for it."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or min(2, os.cpu_count() or 1)
        self._backend = None
        self._lock = threading.Lock()

    def backend(self):
        with self._lock:
            if self._backend is None:
                self._backend = SerialBackend() if self.workers <= 1 else LocalBackend(self.workers, nice=self.NICE)
            return self._backend

    def warm_up(self) -> None:
        """Start the workers now (they import the model), so the first run does not wait for them."""
        backend = self.backend()
        pool = getattr(backend, "_pool", None)
        if pool is not None:
            for f in [pool.submit(os.getpid) for _ in range(self.workers)]:
                f.result()

    def close(self) -> None:
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None


class _Tracked:
    """A backend that hands each outcome to its job first and stops when the job is cancelled."""

    def __init__(self, inner, job: "Job") -> None:
        self.inner, self.job = inner, job
        self.name, self.workers = inner.name, inner.workers

    def run(self, tasks, work=None, detail=True):
        # Slices of four replications per worker: the backend then sends them one at a time, so progress
        # moves by single replications and a cancel waits for at most one replication per worker.
        step = 4 * max(1, self.workers)
        for i in range(0, len(tasks), step):
            self.job._check()
            stream = self.inner.run(tasks[i:i + step], work, detail)
            try:
                for o in stream:
                    self.job._record(o)
                    yield o
                    self.job._check()
            finally:
                stream.close()  # cancels the replications not started

    def close(self) -> None:
        pass


class Background:
    """Work in a daemon thread that a tab polls: its ``state``, a ``version`` bumped on every change, and
    a cancel the work checks between steps."""

    def __init__(self, name: str) -> None:
        self.error: str | None = None
        self.state = "waiting"                               # running | done | cancelled | failed
        self.version = 0                                     # bumped on every change (the page polls it)
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    cancelled_by: type[Exception] = Cancelled  # what the work raises when cancel() stops it

    def _work(self) -> None:  # pragma: no cover - each kind of work has its own
        raise NotImplementedError

    def _main(self) -> None:
        try:
            self._work()
            self.state = "done"
        except self.cancelled_by:
            self.state = "cancelled"
        except ScenarioError as err:
            self.error = "; ".join(err.problems)[:500]
            self.state = "failed"
        except Exception as err:  # noqa: BLE001 - shown on the page, in one line
            self.error = f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"
            self.state = "failed"
        finally:
            self.version += 1

    def start(self):
        self.state = "running"
        self._thread.start()
        return self

    @property
    def finished(self) -> bool:
        return self.state in ("done", "cancelled", "failed")

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread.ident is None:  # never started (a run restored from the cache)
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()


class Job(Background):
    """One scenario's replications, run in a background thread into *out_dir*."""

    def __init__(self, scenario: Scenario, reps: int, seed: int, out_dir: Path, pool: Pool,
                 cache: RunCache | None = None) -> None:
        self.scenario, self.reps, self.seed, self.out_dir, self.pool = scenario, reps, seed, Path(out_dir), pool
        self.cache = cache
        self.metrics: dict[int, dict[str, float]] = {}      # rep -> metrics, as they arrive
        self.failures: list = []
        self.series_sum: dict[str, np.ndarray] = {}         # name -> sum over replications per period
        self.series_n: dict[str, int] = {}
        self.restored = False                               # True: taken from the cache, not run
        self._lock = threading.Lock()
        super().__init__(f"explore-{scenario.name}")

    @property
    def done(self) -> int:
        return len(self.metrics) + len(self.failures)

    def series(self) -> dict[str, np.ndarray]:
        """Mean per period of every series over the replications so far."""
        with self._lock:
            return {k: v / self.series_n[k] for k, v in self.series_sum.items()}

    def metrics_so_far(self) -> dict[int, dict[str, float]]:
        with self._lock:
            return dict(self.metrics)

    def _check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def _record(self, outcome) -> None:
        with self._lock:
            if outcome.result is None:
                self.failures.append(outcome.failure)
            else:
                self.metrics[outcome.rep] = outcome.result.metrics
                for k, v in outcome.result.series.items():
                    v = np.nan_to_num(np.asarray(v, dtype=float))
                    old = self.series_sum.get(k)
                    if old is not None and len(old) != len(v):
                        continue
                    self.series_sum[k] = v.copy() if old is None else old + v
                    self.series_n[k] = self.series_n.get(k, 0) + 1
            self.version += 1

    def _work(self) -> None:
        plan = single_plan(self.scenario, self.reps, self.seed)
        run_plan(plan, self.out_dir, backend=_Tracked(self.pool.backend(), self), progress=False)
        if self.cache is not None and not self.failures:
            self.cache.store(self.scenario, self.reps, self.seed,
                             Finished(self.metrics, self.series_sum, self.series_n, self.out_dir))

    @classmethod
    def start_or_restore(cls, scenario: Scenario, reps: int, seed: int, out_dir: Path, pool: Pool,
                         cache: RunCache | None = None) -> "Job":
        """The run finished at once from *cache* when it holds this scenario, seed and replications
        (its results folder copied to *out_dir*), else started in the background and kept there when
        it finishes."""
        found = cache.load(scenario, reps, seed) if cache is not None else None
        job = cls(scenario, reps, seed, out_dir, pool, cache)
        try:
            if found is not None:
                shutil.copytree(found.folder, job.out_dir)  # ours: the cache may evict its copy
        except OSError:  # evicted by another explorer meanwhile, or a full disk: compute it
            shutil.rmtree(job.out_dir, ignore_errors=True)
            found = None
        if found is None:
            return job.start()
        job.metrics, job.series_sum, job.series_n = found.metrics, found.series_sum, found.series_n
        job.state, job.version, job.restored = "done", 1, True
        return job


class Baselines:
    """Baseline runs shared by the tabs that want them, keyed by scenario, seed and replications."""

    def __init__(self, pool: Pool, root: Path, keep: int = 6, cache: RunCache | None = None) -> None:
        self.pool, self.root, self.keep, self.cache = pool, Path(root), keep, cache
        self._jobs: dict[tuple, Job] = {}
        self._users: dict[tuple, set] = {}
        self._lock = threading.Lock()
        self._made = 0
        self._hashes: dict[int, tuple[Scenario, str]] = {}  # id -> (the scenario, kept alive; its hash)

    def _hash(self, scenario: Scenario) -> str:
        """The scenario's hash, once per scenario object (every tab asks for the start-up one's)."""
        known = self._hashes.get(id(scenario))
        if known is None or known[0] is not scenario:
            if len(self._hashes) > 4 * self.keep:
                self._hashes.clear()
            known = self._hashes[id(scenario)] = (scenario, scenario_hash(scenario))
        return known[1]

    def get(self, scenario: Scenario, reps: int, seed: int, user: object) -> Job:
        key = (self._hash(scenario), reps, seed)
        with self._lock:
            job = self._jobs.get(key)
            if job is None or job.state in ("cancelled", "failed"):
                self._made += 1
                folder = self.root / f"baseline-{self._made}-{key[0]}"
                job = self._jobs[key] = Job.start_or_restore(scenario, reps, seed, folder, self.pool, self.cache)
                self._evict()
            self._users.setdefault(key, set()).add(id(user))
            return job

    def release(self, user: object, stop: Callable[[Job], None] = Job.cancel) -> None:
        """*user* (a tab) wants none of its baselines any more; one that nobody wants is cancelled."""
        with self._lock:
            for key, users in self._users.items():
                users.discard(id(user))
                job = self._jobs.get(key)
                if not users and job is not None and not job.finished:
                    stop(job)

    def _evict(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.finished and not self._users.get(k)]
        while len(self._jobs) > self.keep and finished:
            k = finished.pop(0)
            del self._jobs[k]
            self._users.pop(k, None)
