"""Command-line interface: a thin layer over :mod:`sim.experiment` and friends.

``run_sim.py`` and the ``pharmasim`` console script both call :func:`main`.
"""
from __future__ import annotations

import datetime as _dt
import math
import sys
from pathlib import Path

import click

from sim.errors import ScenarioError

KEY_METRICS = [
    ("service_level", "visits dosed on time (fraction)"),
    ("dosed_fraction", "visits dosed within window (fraction)"),
    ("total.visits.not_dosed", "visits not dosed"),
    ("total.packaged.kits", "kits packaged"),
    ("total.dispensed.kits", "kits dispensed"),
    ("total.expired.", "kits expired at "),
    ("trial.", ""),
    ("delay.", ""),
    ("utilisation.", "utilisation "),
    ("inventory.depot.", "mean kits at "),
]


def _load(path: str | None):
    from sim.scenario import load_default, load_scenario
    return load_default() if path is None else load_scenario(path)


def _fail(err: Exception, code: int = 2):
    click.echo(str(err), err=True)
    sys.exit(code)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.3f}" if abs(x) < 10 else f"{x:,.1f}"


def print_summary(summaries, reps: int) -> None:
    """A short table of the headline metrics (all of them are in summary.csv)."""
    by_name = {s.metric: s for s in summaries}
    chosen = []
    for key, _ in KEY_METRICS:
        for name in sorted(by_name):
            if (name == key or (key.endswith(".") and name.startswith(key))) and name not in chosen:
                if name.startswith("delay.") and not name.endswith(".mean"):
                    continue
                chosen.append(name)
    width = max(len(n) for n in chosen) if chosen else 10
    click.echo(f"\n{'metric':<{width}}  {'mean':>12}  {'95% CI':>25}   (n={reps})")
    for name in chosen:
        s = by_name[name]
        ci = f"[{_fmt(s.ci_low)}, {_fmt(s.ci_high)}]" if s.n > 1 else ""
        click.echo(f"{name:<{width}}  {_fmt(s.mean):>12}  {ci:>25}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pharmasim")
def cli() -> None:
    """Discrete-event simulation of sponsor - CRO - CDMO pharmaceutical supply chains."""


@cli.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--reps", "-n", type=click.IntRange(min=1), help="replications (default: the scenario's)")
@click.option("--seed", "-s", type=click.IntRange(min=0), help="experiment seed (default: the scenario's)")
@click.option("--out", "-o", type=click.Path(file_okay=False), help="results folder (default: results/NAME-TIME)")
@click.option("--no-figures", is_flag=True, help="skip the figures")
@click.option("--progress/--no-progress", default=None, help="progress bar (default: when on a terminal)")
def run(scenario, reps, seed, out, no_figures, progress) -> None:
    """Run SCENARIO (a YAML file; the embedded default if omitted) and write a results folder."""
    from sim.experiment import run_experiment
    from sim.errors import ConservationError

    try:
        sc = _load(scenario)
    except ScenarioError as err:
        _fail(err)
    if out is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("results") / f"{sc.name}-{stamp}"
    try:
        exp = run_experiment(sc, reps, seed, out, progress=progress, figures=not no_figures)
    except ConservationError as err:
        _fail(err, 3)
    print_summary(exp.summaries, len(exp.reps))
    click.echo(f"\nresults: {out}")


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
def validate(scenario) -> None:
    """Check SCENARIO against the schema; exit status 2 if it is invalid."""
    try:
        sc = _load(scenario)
    except ScenarioError as err:
        _fail(err)
    n_sites = sum(r.sites for t in sc.trials for r in t.regions)
    click.echo(f"{scenario}: valid ({sc.name}: {len(sc.suppliers)} suppliers, {len(sc.lines)} lines, "
               f"{len(sc.trials)} trials, {n_sites} sites, horizon {sc.horizon:g} days)")


@cli.command()
def default() -> None:
    """Print the embedded default scenario (a starting point for your own)."""
    from sim.scenario import default_text
    click.echo(default_text(), nl=False)


@cli.command()
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False))
def plot(results_dir) -> None:
    """Rebuild the figures of RESULTS_DIR from its stored tables, without re-simulating."""
    from sim.figures import make_figures
    for p in make_figures(results_dir):
        click.echo(p)


def main() -> None:
    cli(prog_name="run_sim.py" if sys.argv and sys.argv[0].endswith("run_sim.py") else "pharmasim")


if __name__ == "__main__":  # pragma: no cover
    main()
