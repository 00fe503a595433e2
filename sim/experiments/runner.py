"""Run a :class:`Plan` on a backend, storing each replication as it arrives.

Rounds: the first asks for ``plan.reps`` replications of every scenario; with
a sequential rule, later rounds add replications to the scenarios whose
confidence intervals are still too wide (see :mod:`.sequential`).  Stored
replications of a resumed experiment are counted, not rerun.
"""
from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field
from typing import Any

from sim.experiments.backends import Backend, Failure, Task, Work
from sim.experiments.plan import Plan
from sim.experiments.sequential import Check, SequentialRule, assess, next_reps
from sim.experiments.store import Store
from sim.model import ReplicationResult


class MetricNameError(ValueError):
    """A sequential target names a metric the model does not report."""


@dataclass
class RunOutcome:
    plan: Plan
    reps: dict[str, list[int]]                                  # successful replications, in order
    failures: list[Failure]                                     # of this session
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per scenario x round x metric
    checks: dict[str, list[Check]] = field(default_factory=dict)
    ran: int = 0                                                # replications run in this session
    reused: int = 0                                             # taken from the store (resume)
    metrics: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)
    results: dict[str, dict[int, ReplicationResult]] = field(default_factory=dict)


def progress_bar(total: int, desc: str, enabled: bool | None):
    """A tqdm bar with ETA over the whole experiment; None means 'only on a terminal'.  No bar shown:
    a stand-in that counts, without importing tqdm (~0.15 s)."""
    if not ((sys.stderr.isatty()) if enabled is None else enabled):
        return _NoBar(total)
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="rep", leave=False, dynamic_ncols=True)


class _NoBar:
    """What the runner uses of a tqdm bar, doing nothing."""

    def __init__(self, total: int) -> None:
        self.total = total

    def update(self, n: int = 1) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


def execute(plan: Plan, backend: Backend, store: Store | None = None, progress: bool | None = None,
            work: Work | None = None, keep: bool = False) -> RunOutcome:
    """Run *plan*; with *keep*, the full results stay in memory as well (single runs)."""
    rule = plan.sequential
    first = min(plan.reps, rule.max_reps) if rule else plan.reps
    targets = {p.id: first for p in plan.points}
    stored = {pid: set(reps) for pid, reps in store.done().items()} if store and store.resumed else {}
    out = RunOutcome(plan, {}, [], metrics={p.id: {} for p in plan.points},
                     results={p.id: {} for p in plan.points})
    failed: dict[str, set[int]] = {p.id: set() for p in plan.points}
    bar = progress_bar(sum(targets.values()), plan.name, progress)
    try:
        for round_no in range(10_000):
            tasks = []
            for p in plan.points:
                for rep in range(targets[p.id]):
                    if rep in out.metrics[p.id] or rep in failed[p.id]:
                        continue
                    if rep in stored.get(p.id, ()):
                        folder = store.folder(p.id)
                        if keep:
                            _keep(out, p.id, folder.load(rep), keep)
                        else:  # only the metrics are kept in memory: read nothing else
                            out.metrics[p.id][rep] = folder.load_metrics(rep)
                        out.reused += 1
                        bar.update(1)
                    else:
                        tasks.append(Task(p.id, p.scenario, plan.seed, rep))
            for o in backend.run(tasks, work, plan.detail):
                if store is not None:
                    store.save(o)
                if o.result is not None:
                    _keep(out, o.point, o.result, keep)
                else:
                    failed[o.point].add(o.rep)
                    out.failures.append(o.failure)
                out.ran += 1
                bar.update(1)
            if rule is None or not _grow(out, rule, targets, round_no):
                break
            bar.total = sum(targets.values())
            bar.refresh()
    finally:
        bar.close()
    out.reps = {pid: sorted(m) for pid, m in out.metrics.items()}
    return out


def _keep(out: RunOutcome, pid: str, res: ReplicationResult, keep: bool) -> None:
    out.metrics[pid][res.rep] = res.metrics
    if keep:
        out.results[pid][res.rep] = res


def _grow(out: RunOutcome, rule: SequentialRule, targets: dict[str, int], round_no: int) -> bool:
    """After a round: record each scenario's state and raise the targets of those
    that miss; False when no scenario needs more replications."""
    if round_no == 0:
        _check_metric_names(rule.metrics, out.metrics)
    grown = False
    for pid, per_rep in out.metrics.items():
        values = {m: [r[m] for _, r in sorted(per_rep.items()) if m in r] for m in rule.metrics}
        checks = out.checks[pid] = assess(rule, values)
        out.history += [{"scenario": pid, "round": round_no, "replications": targets[pid],
                         "metric": c.metric, "mean": c.mean, "half_width": c.half_width,
                         "target": c.target, "met": c.met} for c in checks]
        if not per_rep:
            continue  # every replication failed: more of them will not help
        n = next_reps(rule, targets[pid], checks)
        if n > targets[pid]:
            targets[pid], grown = n, True
    return grown


def _check_metric_names(wanted: list[str], metrics: dict[str, dict[int, dict[str, float]]]) -> None:
    known = {k for per_point in metrics.values() for row in per_point.values() for k in row}
    if not known:
        return  # nothing ran successfully; the failures say why
    for m in wanted:
        if m not in known:
            close = difflib.get_close_matches(m, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise MetricNameError(f"sequential target: the model reports no metric {m!r}{hint}")
