"""``pharmasim study NAME``: the studies of :mod:`sim.studies`, each with its figure."""
from __future__ import annotations

from pathlib import Path

import click

from sim.cli.common import load, user_errors
from sim.cli.figure_options import figure_options, figure_style


@click.group()
def study() -> None:
    """Studies: fixed sets of scenario variants that answer one question, with their figure."""


@study.command("batch-vs-continuous")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False),
              help="folder for batch_vs_continuous.{csv,png} and the base scenario's Gantt chart "
                   "(default: results/NAME-batch-vs-continuous-TIME)")
@click.option("--reps", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--seed", type=int, default=None, help="experiment seed (default: the scenario's)")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="local worker processes (results are identical whatever the number)")
@figure_options
@user_errors
def batch_vs_continuous(scenario, out, reps, seed, workers, **opts) -> None:
    """Batch versus continuous manufacturing in SCENARIO (one batch line, one continuous line): side by
    side, and their sensitivity to breakdowns and QC capacity, with common random numbers."""
    import matplotlib.pyplot as plt

    from sim import __version__

    from sim.figures.gantt import gantt_chart, gantt_title
    from sim.figures.studies import batch_vs_continuous_figure
    from sim.scenario.resolve import experiment_seed
    from sim.studies.batch_vs_continuous import lines_compared, run_study

    sc = load(scenario)
    if out is None:
        from sim.experiments.folder import default_out
        out = default_out(f"{sc.name}-batch-vs-continuous")
    rows, timeline = run_study(sc, out, reps, seed, workers=workers)
    b, c = lines_compared(sc)
    style = figure_style(opts).with_provenance({"tool": f"pharmasim {__version__}", "scenario": sc.name,
                                                "seed": str(experiment_seed(sc, seed)),
                                                "replications": str(reps)})
    with plt.rc_context(style.rc(compact=True)):
        paths = [Path(out) / "batch_vs_continuous.csv",
                 *batch_vs_continuous_figure(rows, b, c, sc.name, reps, Path(out), style)]
        paths += gantt_chart(timeline, gantt_title(sc.name, 0), Path(out), f"gantt_{sc.name}", style)
    for p in paths:
        click.echo(p)
