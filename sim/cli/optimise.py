"""``pharmasim optimise FILE``: simulation optimisation of supply parameters (:mod:`sim.optimise`)."""
from __future__ import annotations

import click

from sim.cli.common import user_errors


@click.command()
@click.argument("optimisation_file", type=click.Path(dir_okay=False))
@click.option("--out", "-o", type=click.Path(file_okay=False), help="results folder (default: results/NAME-TIME)")
@click.option("--budget", type=click.IntRange(min=1), help="most replications to spend (search and selection)")
@click.option("--workers", "-j", type=click.IntRange(min=1), help="local worker processes (default: all cores)")
@click.option("--resume", is_flag=True, help="continue the optimisation in --out (nothing already run runs again)")
@user_errors
def optimise(optimisation_file, out, budget, workers, resume) -> None:
    """Find the best configuration of OPTIMISATION_FILE's decision variables: an Optuna search with common
    random numbers, then Kim-Nelson ranking and selection among the best feasible candidates (see
    docs/optimisation.md).  Writes best.yaml, candidates.csv, optimisation.json and tradeoff.png."""
    from sim.optimise.run import optimise as run
    res = run(optimisation_file, out, workers, budget, resume)
    click.echo(f"best: {', '.join(f'{k} = {v!r}' for k, v in res.best.items())}")
    chosen = next(c for c in res.candidates if c.values == res.best)
    click.echo(f"objective {chosen.objective.mean:.4g} [{chosen.objective.ci_low:.4g}, {chosen.objective.ci_high:.4g}]"
               f" over {chosen.objective.n} replications; feasible: {chosen.feasible}")
    click.echo(f"{res.guarantee}\n{res.replications} replications run; results: {res.out}")
