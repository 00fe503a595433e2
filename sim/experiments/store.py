"""Results that survive: one folder per experiment, one file per replication.

Each replication is written atomically the moment its result reaches the main
process — its Parquet table parts, then its record ``reps/rep-00042.json``
(:mod:`sim.experiments.columnar`) — and a replication that raised leaves
``reps/rep-00042.failed.json`` (scenario, seed, error, traceback) instead.  So
an interrupted experiment loses at most the replications in flight, and
``--resume`` runs only what is missing.  The summary, accounting and timeline
tables are computed at the end from the stored replications, in scenario and
replication order, whatever order the replications finished in.

Layout of a batch (a plain ``run`` uses the scenario-folder layout at the top,
as described in ``results/README.md``)::

    plan.json          what was asked: scenarios (with fingerprints), seed, reps, design
    metadata.json      versions, timing, backend, counts
    scenarios.csv      scenario, role, label, replications, failed
    design.csv         scenario, factor, value (sweeps)
    metrics.parquet    tidy: scenario, rep, metric, value
    summary.csv        scenario, metric, n, mean, sd, ci_low, ci_high, half_width, interval
    failures.csv       scenario, rep, seed, error_type, message
    sequential.csv     scenario, round, replications, metric, mean, half_width, target, met
    scenarios/<id>/    scenario.yaml, reps/, metrics/, summary.csv, accounting.csv
                       (+ series/, delays/, timeline.csv when details are kept)
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sim.experiments.backends import Outcome
from sim.experiments.folder import PLAN, ResultsFolder, StoreError, read_plan  # noqa: F401 - part of this API
from sim.experiments.plan import Plan
from sim.model import ReplicationResult
from sim.experiments import columnar
from sim.experiments.columnar import write_batch_metrics, write_record_tables, write_summary
from sim.experiments.tables import SUMMARY_HEADER, atomic_write_text, read_csv, write_csv, write_json
from sim.scenario import dump_scenario
from sim.core.stats import Summary


class ScenarioFolder:
    """One scenario's replication records and tables (see :mod:`sim.experiments.columnar`)."""

    def __init__(self, path: Path, period: float) -> None:
        self.path = path
        self.period = period
        self.reps_dir = path / "reps"

    def _failed(self, rep: int) -> Path:
        return self.reps_dir / f"rep-{rep:05d}.failed.json"

    def save(self, outcome: Outcome) -> None:
        if outcome.result is not None:
            columnar.write_replication(self.path, outcome.result, outcome.point, self.period)
            self._failed(outcome.rep).unlink(missing_ok=True)  # a retried failure that now ran
        else:
            f = outcome.failure
            write_json(self._failed(outcome.rep), {
                "scenario": f.point, "rep": f.rep, "seed": f.seed, "error_type": f.error_type,
                "message": f.message, "traceback": f.traceback})

    def recover(self) -> list[Path]:
        """Before resuming: drop temporary files and table parts of writes a crash cut short, and set
        aside records that cannot be read (renamed ``*.damaged``) so that their replications run again;
        returns those."""
        if self.reps_dir.is_dir():
            for tmp in self.reps_dir.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        damaged = []
        for rep in self.done():
            try:
                columnar.check_replication(self.path, rep)
            except Exception:  # noqa: BLE001 - any unreadable record (JSON, Parquet, missing part) reruns
                path = columnar.record_path(self.path, rep)
                path.rename(path.with_name(path.name + ".damaged"))
                damaged.append(path)
        columnar.drop_orphans(self.path)
        return damaged

    def done(self) -> list[int]:
        """Replications with a stored result, in order."""
        return columnar.stored_reps(self.path)

    def failures(self) -> list[dict[str, Any]]:
        if not self.reps_dir.is_dir():
            return []
        return [json.loads(p.read_text(encoding="utf-8"))
                for p in sorted(self.reps_dir.glob("rep-?????.failed.json"))]

    def load(self, rep: int) -> ReplicationResult:
        return columnar.read_replication(self.path, rep)

    def load_metrics(self, rep: int) -> dict[str, float]:
        return columnar.read_metrics(self.path, rep)

    def records(self, reps: Iterable[int]) -> Iterator[dict[str, Any]]:
        """The JSON records (accounting, timeline, ...) of *reps*, in order."""
        for r in reps:
            yield json.loads(columnar.record_path(self.path, r).read_text(encoding="utf-8"))


class Store:
    """The folder of one experiment (see the module docstring for the layout)."""

    def __init__(self, root: str | Path, plan: Plan, resume: bool = False, overwrite: bool = False) -> None:
        self.root = Path(root)
        self.plan = plan
        self.guard = ResultsFolder(self.root, resume, overwrite, check_resume=self._check_stored)
        self.resumed = self.guard.resumed
        if self.resumed:
            for p in plan.points:
                self.folder(p.id).recover()
        write_json(self.root / PLAN, plan.describe())
        for p in plan.points:
            atomic_write_text(self.folder(p.id).path / "scenario.yaml", dump_scenario(p.scenario))

    def _check_stored(self) -> None:
        plan_file = self.root / PLAN
        if not plan_file.is_file():
            raise StoreError(f"{self.root}: nothing to resume (no {PLAN}); choose another --out")
        self._check_same(json.loads(plan_file.read_text(encoding="utf-8")))
        if next(self.root.glob("**/reps/rep-?????.json.gz"), None) is not None:
            raise StoreError(f"{self.root}: written by an earlier version of the tool (gzipped JSON records, CSV "
                             "tables), which cannot be resumed; rerun with --overwrite, or choose another --out")

    def close(self) -> None:
        self.guard.close()

    def _check_same(self, old: dict[str, Any]) -> None:
        new = self.plan.describe()
        problems = []
        for key in ("kind", "seed", "detail"):
            if old.get(key) != new[key]:
                problems.append(f"{key} was {old.get(key)!r}, now {new[key]!r}")
        before = {p["id"]: p["hash"] for p in old.get("points", [])}
        after = {p["id"]: p["hash"] for p in new["points"]}
        if before != after:
            changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
            problems.append(f"scenarios differ: {', '.join(changed)}")
        if problems:
            raise StoreError(f"{self.root}: cannot resume, this is not the experiment stored there "
                             f"({'; '.join(problems)}); use another --out or drop --resume")

    def folder(self, pid: str) -> ScenarioFolder:
        point = next(p for p in self.plan.points if p.id == pid)
        return ScenarioFolder(self.root if self.plan.single else self.root / "scenarios" / pid,
                              point.scenario.period)

    def save(self, outcome: Outcome) -> None:
        self.folder(outcome.point).save(outcome)

    def done(self) -> dict[str, list[int]]:
        return {p.id: self.folder(p.id).done() for p in self.plan.points}

    # -- tables ------------------------------------------------------------------
    def finalize(self, reps: dict[str, list[int]], metadata: dict[str, Any],
                 history: list[dict[str, Any]] | None = None,
                 ready: Callable[[Path], None] | None = None) -> dict[str, list[Summary]]:
        """Write every table from the stored records of replications *reps* (per scenario).  *ready* is
        called with the folder once ``metadata.json`` and each scenario's accounting and timeline are
        written, before the summaries: what figures read is then stored (e.g. to start drawing them
        while the summaries are computed)."""
        plan, root = self.plan, self.root
        write_json(root / "metadata.json", metadata)
        for p in plan.points:
            folder = self.folder(p.id)
            write_record_tables(folder.path, folder.records(reps[p.id]))
        if ready is not None:
            ready(root)
        summaries: dict[str, list[Summary]] = {}
        failures = []
        for p in plan.points:
            folder = self.folder(p.id)
            summaries[p.id] = write_summary(folder.path, reps[p.id])
            failures += folder.failures()
        if not plan.single:
            write_batch_metrics(root / "metrics.parquet", [(p.id, self.folder(p.id).path, reps[p.id])
                                                           for p in plan.points])
        self._write_failures(failures)
        if history:
            write_csv(root / "sequential.csv",
                      ["scenario", "round", "replications", "metric", "mean", "half_width", "target", "met"],
                      ([h[k] for k in ("scenario", "round", "replications", "metric", "mean", "half_width",
                                       "target", "met")] for h in history))
        if not plan.single:
            self._write_batch_tables(reps, summaries, failures)
        self.guard.complete()
        return summaries

    def _write_failures(self, failures: list[dict[str, Any]]) -> None:
        path = self.root / "failures.csv"
        if not failures:
            path.unlink(missing_ok=True)
            return
        write_csv(path, ["scenario", "rep", "seed", "error_type", "message"],
                  ([f["scenario"], f["rep"], f["seed"], f["error_type"], f["message"]] for f in failures))

    def _write_batch_tables(self, reps, summaries, failures) -> None:
        plan, root = self.plan, self.root
        failed = {}
        for f in failures:
            failed[f["scenario"]] = failed.get(f["scenario"], 0) + 1
        write_csv(root / "scenarios.csv", ["scenario", "role", "label", "replications", "failed"],
                  ([p.id, p.role, p.label or p.id, len(reps[p.id]), failed.get(p.id, 0)] for p in plan.points))
        write_csv(root / "summary.csv", ["scenario", *SUMMARY_HEADER],
                  ([p.id, s.metric, s.n, s.mean, s.sd, s.ci_low, s.ci_high, s.half_width, s.interval]
                   for p in plan.points for s in summaries[p.id]))
        if plan.design is not None:
            write_csv(root / "design.csv", ["scenario", "factor", "value"],
                      ([p.id, f, v] for p in plan.points for f, v in p.factors.items()))


def read_summary(root: str | Path) -> dict[str, dict[str, Summary]]:
    """summary.csv of a folder: scenario -> metric -> Summary (a single run's, which has no scenario
    column, under the scenario "")."""
    out: dict[str, dict[str, Summary]] = {}
    for r in read_csv(Path(root) / "summary.csv"):
        s = Summary(r["metric"], int(r["n"]), *(float(r[k]) if r.get(k, "") != "" else math.nan
                                                for k in ("mean", "sd", "ci_low", "ci_high", "half_width")),
                    r.get("interval") or "Student t")
        out.setdefault(r.get("scenario", ""), {})[s.metric] = s
    return out
