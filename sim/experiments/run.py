"""Running experiments: replications of one scenario (:func:`run_experiment`) or any
:class:`~sim.experiments.plan.Plan` — batches, sweeps, comparisons — (:func:`run_plan`),
on a chosen backend, into a results folder.
"""
from __future__ import annotations

import datetime as _dt
import functools
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata as _md
from pathlib import Path
from typing import Callable

from sim import __version__
from sim.core.errors import ConservationError
from sim.experiments.backends import Backend, make_backend
from sim.experiments.budget import check as check_budget
from sim.experiments.plan import Plan, Point, slug
from sim.experiments.runner import RunOutcome, execute
from sim.experiments.sequential import SequentialRule
from sim.experiments.store import Store
from sim.model import ReplicationResult
from sim.experiments.tables import summarize_metrics
from sim.scenario import Scenario
from sim.scenario.resolve import experiment_seed
from sim.core.stats import Summary

PACKAGES = ("simpy", "numpy", "scipy", "matplotlib", "pydantic", "PyYAML", "click", "tqdm", "dask",
            "distributed")


@dataclass
class ExperimentResult:
    scenario: Scenario
    seed: int
    reps: list[ReplicationResult]
    summaries: list[Summary]
    out_dir: Path | None = None
    failures: list = field(default_factory=list)
    outcome: RunOutcome | None = None

    def summary(self, metric: str) -> Summary:
        return next(s for s in self.summaries if s.metric == metric)


@dataclass
class BatchResult:
    plan: Plan
    outcome: RunOutcome
    summaries: dict[str, list[Summary]]
    out_dir: Path | None
    wall_seconds: float


class ReplicationsFailed(RuntimeError):
    """Some replications raised; they are recorded (failures.csv) and the rest were kept."""

    def __init__(self, failures: list) -> None:
        self.failures = failures
        first = failures[0]
        super().__init__(f"{len(failures)} replication(s) failed; first: scenario {first.point}, "
                         f"seed {first.seed}, rep {first.rep}: {first.error_type}: {first.message}")


def package_versions() -> dict[str, str]:
    """Versions of the packages a result depends on (``metadata.json``): looked up once per process
    (~30 ms of reading package metadata), on a local pool in the background while the workers run
    (:func:`sim.api.experiment.execute`), not between the last replication and the figures.  A copy:
    the caller may change it."""
    return dict(_versions())


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = _md.version(p)
        except _md.PackageNotFoundError:
            out[p] = "not installed"
    return out


def run_plan(plan: Plan, out_dir: str | Path | None = None, *, backend: Backend | None = None,
             workers: int | None = 1, scheduler: str | None = None, resume: bool = False,
             overwrite: bool = False, progress: bool | None = None, work=None,
             keep: bool = False, budget: bool = True,
             ready: Callable[[Path], None] | None = None) -> BatchResult:
    """Run *plan* and, with *out_dir*, write its results folder (tables; figures are drawn from them
    downstream: :func:`sim.figures.plot_results`).

    Without *backend*, one is made from *workers* / *scheduler* and closed at
    the end.  *out_dir* must be new or empty, or hold an earlier experiment of
    this tool and *resume* (continue it) or *overwrite* (replace it) be given:
    see :mod:`sim.experiments.folder`.  Replications that raise are recorded, not raised: see
    ``outcome.failures``.  With *budget*, an experiment that would not fit in memory or on disk is
    refused first (:mod:`sim.experiments.budget`).  *ready(folder)*: called once the replications and
    what figures read are stored, before the summary tables (see :meth:`Store.finalize`).
    """
    if budget:
        check_budget(plan, out_dir)
    store = Store(out_dir, plan, resume, overwrite) if out_dir is not None else None
    own = backend is None
    backend = make_backend(workers, scheduler) if own else backend
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()
    try:
        outcome = execute(plan, backend, store, progress, work, keep)
        seconds = time.perf_counter() - t0
        if store is None:
            summaries = {pid: summarize_metrics([m[r] for r in outcome.reps[pid]])
                         for pid, m in outcome.metrics.items()}
            return BatchResult(plan, outcome, summaries, None, seconds)
        meta = _metadata(plan, outcome, started, seconds, backend)
        summaries = store.finalize(outcome.reps, meta, outcome.history, ready)
    finally:
        if own:
            backend.close()
        if store is not None:
            store.close()
    return BatchResult(plan, outcome, summaries, store.root, seconds)


def _metadata(plan: Plan, outcome: RunOutcome, started, seconds: float, backend: Backend) -> dict:
    meta = {"tool": "pharmasim", "version": __version__, "kind": plan.kind, "name": plan.name,
            "seed": plan.seed, "started_utc": started.isoformat(), "wall_seconds": round(seconds, 3),
            "backend": backend.name, "workers": backend.workers, "replications_run": outcome.ran,
            "replications_reused": outcome.reused, "failures": len(outcome.failures),
            "packages": package_versions(), "platform": platform.platform()}
    if plan.single:
        meta["scenario"] = plan.points[0].scenario.name
        meta["replications"] = len(outcome.reps[plan.points[0].id])
    else:
        meta["scenarios"] = len(plan.points)
        meta["replications"] = {pid: len(r) for pid, r in outcome.reps.items()}
    if plan.sequential is not None:
        meta["sequential"] = {**plan.sequential.model_dump(), "met": {
            pid: all(c.met for c in checks) for pid, checks in outcome.checks.items()}}
    return meta


def single_plan(scenario: Scenario, reps: int | None = None, seed: int | None = None,
                sequential: SequentialRule | None = None) -> Plan:
    """The plan of a plain run: one scenario, its own seed and replications unless given."""
    return Plan("run", scenario.name, [Point(slug(scenario.name), scenario)],
                seed=experiment_seed(scenario, seed),
                reps=scenario.replications if reps is None else reps, sequential=sequential, detail=True)


def run_experiment(scenario: Scenario, reps: int | None = None, seed: int | None = None,
                   out_dir: str | Path | None = None, progress: bool | None = None,
                   *, workers: int | None = 1, scheduler: str | None = None,
                   backend: Backend | None = None, sequential: SequentialRule | None = None,
                   resume: bool = False, overwrite: bool = False, work=None,
                   raise_on_failure: bool = True) -> ExperimentResult:
    """Run *reps* replications (default: the scenario's) with streams spawned from *seed*.

    Results are identical whatever *workers* / *scheduler* run them.  If a
    replication raises, the others still run and are written; then
    :class:`~sim.core.errors.ConservationError` (if that was the error) or
    :class:`ReplicationsFailed` is raised, unless *raise_on_failure* is off.
    """
    plan = single_plan(scenario, reps, seed, sequential)
    batch = run_plan(plan, out_dir, backend=backend, workers=workers, scheduler=scheduler, resume=resume,
                     overwrite=overwrite,
                     progress=progress, work=work, keep=True)
    pid = plan.points[0].id
    results = [batch.outcome.results[pid][r] for r in batch.outcome.reps[pid]]
    exp = ExperimentResult(scenario, plan.seed, results, batch.summaries[pid], batch.out_dir,
                           batch.outcome.failures, batch.outcome)
    if raise_on_failure and exp.failures:
        conservation = [f for f in exp.failures if f.error_type == ConservationError.__name__]
        if conservation:
            f = conservation[0]
            raise ConservationError(f"rep {f.rep} (seed {f.seed}): {f.message}")
        raise ReplicationsFailed(exp.failures)
    return exp
