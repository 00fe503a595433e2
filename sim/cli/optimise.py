"""``pharmasim optimise FILE``: simulation optimisation of supply parameters (:mod:`sim.optimise`), a thin
layer over :func:`sim.api.optimise`."""
from __future__ import annotations

import sys

import click

from sim.cli.common import user_errors


@click.command()
@click.argument("optimisation_file", type=click.Path(dir_okay=False))
@click.option("--out", "-o", type=click.Path(file_okay=False), help="results folder (default: results/NAME-TIME)")
@click.option("--budget", type=click.IntRange(min=1), help="most replications to spend (search and selection)")
@click.option("--workers", "-j", type=click.IntRange(min=1),
              help="local worker processes, or Dask workers with --scheduler local (default: all cores)")
@click.option("--scheduler", metavar="tcp://HOST:PORT|local",
              help="run on a Dask cluster: a running scheduler's address, or 'local' to start one")
@click.option("--connect-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="seconds to wait for the Dask scheduler and its workers")
@click.option("--resume", is_flag=True, help="continue the optimisation in --out (nothing already run runs again)")
@click.option("--progress/--no-progress", default=None, help="a progress line (default: when on a terminal)")
@user_errors
def optimise(optimisation_file, out, budget, workers, scheduler, connect_timeout, resume, progress) -> None:
    """Find the best configuration of OPTIMISATION_FILE's decision variables: an Optuna search with common
    random numbers, then Kim-Nelson ranking and selection among the best feasible candidates (see
    docs/optimisation.md).  Writes best.yaml, candidates.csv, optimisation.json and tradeoff.png."""
    from sim.api import optimise as run
    from sim.experiments.backends import make_backend
    backend = make_backend(workers, scheduler, connect_timeout) if scheduler is not None else None
    show = sys.stderr.isatty() if progress is None else progress
    try:
        res = run(optimisation_file, out, workers, budget, resume, backend=backend,
                  progress=_show_progress if show else None)
    finally:
        if show:
            click.echo("", err=True)
        if backend is not None:
            backend.close()
    click.echo(f"best: {', '.join(f'{k} = {v!r}' for k, v in res.best.items())}")
    chosen = next(c for c in res.candidates if c.values == res.best)
    click.echo(f"objective {chosen.objective.mean:.4g} [{chosen.objective.ci_low:.4g}, {chosen.objective.ci_high:.4g}]"
               f" over {chosen.objective.n} replications; feasible: {chosen.feasible}")
    click.echo(f"{res.guarantee}\n{res.replications} replications run; results: {res.out}")


def _show_progress(p) -> None:
    """One line, rewritten: phase, candidates or finalists in contention, replications, the best so far."""
    if p.phase == "search":
        where = f"search {p.evaluated}/{p.planned} candidates"
    else:
        where = f"selection: {p.in_contention} in contention, {p.stage_reps}/{p.cap} replications each"
    best = ""
    if p.best is not None:
        o = p.best.objective
        sign = -1 if p.sense == "maximise" else 1
        lo, hi = sorted((sign * o.ci_low, sign * o.ci_high))
        best = f"; best {', '.join(f'{v!r}' for v in p.best.values.values())}: {sign * o.mean:.4g} [{lo:.4g}, {hi:.4g}]"
    click.echo(f"\r{p.fraction:4.0%} {where}, {p.replications} replications{best}\033[K", err=True, nl=False)
