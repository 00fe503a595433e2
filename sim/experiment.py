"""Replications of one scenario: run them, summarise them, write a results folder."""
from __future__ import annotations

import datetime as _dt
import platform
import sys
import time
from dataclasses import dataclass
from importlib import metadata as _md
from pathlib import Path

import numpy as np

from sim import __version__
from sim.model import ReplicationResult, run_replication
from sim.results import SUMMARY_HEADER, summary_rows, write_csv, write_json, atomic_write_text
from sim.scenario import Scenario, dump_scenario
from sim.stats import Summary, summarize

PACKAGES = ("simpy", "numpy", "scipy", "matplotlib", "pydantic", "PyYAML", "click", "tqdm")


@dataclass
class ExperimentResult:
    scenario: Scenario
    seed: int
    reps: list[ReplicationResult]
    summaries: list[Summary]
    out_dir: Path | None = None

    def summary(self, metric: str) -> Summary:
        return next(s for s in self.summaries if s.metric == metric)


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = _md.version(p)
        except _md.PackageNotFoundError:
            out[p] = "not installed"
    return out


def summarize_reps(reps: list[ReplicationResult]) -> list[Summary]:
    names = sorted({k for r in reps for k in r.metrics})
    return [summarize(n, [r.metrics.get(n, np.nan) for r in reps]) for n in names]


def run_experiment(scenario: Scenario, reps: int | None = None, seed: int | None = None,
                   out_dir: str | Path | None = None, progress: bool | None = None,
                   figures: bool = True) -> ExperimentResult:
    """Run *reps* replications (default: the scenario's) with streams spawned from *seed*."""
    reps = scenario.replications if reps is None else reps
    seed = scenario.seed if seed is None else seed
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()
    results: list[ReplicationResult] = []
    for rep in _progress(range(reps), progress, total=reps):
        results.append(run_replication(scenario, seed, rep))
    exp = ExperimentResult(scenario, seed, results, summarize_reps(results))
    if out_dir is not None:
        exp.out_dir = Path(out_dir)
        write_results(exp, started, time.perf_counter() - t0)
        if figures:
            from sim.figures import make_figures
            make_figures(exp.out_dir)
    return exp


def _progress(it, enabled: bool | None, total: int):
    """A tqdm bar over replications; None means 'only when stderr is a terminal'."""
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if enabled is None else not enabled
    return tqdm(it, total=total, desc="replications", unit="rep", disable=disable, leave=False)


def write_results(exp: ExperimentResult, started: _dt.datetime, seconds: float) -> None:
    out = exp.out_dir
    assert out is not None
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "scenario.yaml", dump_scenario(exp.scenario))
    write_json(out / "metadata.json", {
        "tool": "pharmasim", "version": __version__, "scenario": exp.scenario.name,
        "seed": exp.seed, "replications": len(exp.reps), "started_utc": started.isoformat(),
        "wall_seconds": round(seconds, 3), "packages": package_versions(),
        "platform": platform.platform(),
    })
    write_csv(out / "metrics.csv", ["rep", "metric", "value"],
              ([r.rep, k, v] for r in exp.reps for k, v in sorted(r.metrics.items())))
    write_csv(out / "summary.csv", SUMMARY_HEADER, summary_rows(exp.summaries))
    period = exp.scenario.period
    write_csv(out / "series.csv", ["rep", "series", "period_start", "value"],
              ([r.rep, name, i * period, float(v)]
               for r in exp.reps for name, arr in sorted(r.series.items()) for i, v in enumerate(arr)))
    write_csv(out / "delays.csv", ["rep", "delay", "value"],
              ([r.rep, name, v] for r in exp.reps for name, vals in sorted(r.samples.items()) for v in vals))
    write_csv(out / "accounting.csv", ["rep", "material", "entry", "quantity"],
              ([r.rep, m, k, v] for r in exp.reps for m, row in sorted(r.accounting.items())
               for k, v in sorted(row.items())))
