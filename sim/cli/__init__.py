"""Command-line interface: a thin layer over :mod:`sim.experiments.run` and friends.

``run_sim.py`` and the ``pharmasim`` console script both call :func:`main`.
Errors the user can fix (a bad scenario, override, batch file or scheduler)
are reported before any work, without a traceback, with exit status 2.
Replications that raise are recorded and reported at the end (exit status 3
for a conservation error, 1 otherwise); a lost worker (1) or Ctrl-C (130) keeps
what finished, for ``--resume``.  An error of the machine rather than the input
(a folder that cannot be written, a full disk) is one line and exit status 4.
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from sim import __version__
from sim.cli.catalogue import metrics
from sim.cli.common import fail as _fail
from sim.cli.common import fmt as _fmt
from sim.cli.common import load as _load
from sim.cli.common import user_errors
from sim.cli.explore import explore
from sim.cli.figure_options import FIGURE_OPTIONS, figure_options, figure_style
from sim.cli.optimise import optimise
from sim.cli.report import report
from sim.cli.study import study
from sim.cli.trace import trace
from sim.cli.summary import print_summary


def execution_options(fn):
    """Options shared by every command that runs replications."""
    for opt in reversed([
        click.option("--out", "-o", type=click.Path(file_okay=False),
                     help="results folder (default: results/NAME-TIME)"),
        click.option("--reps", "-n", type=click.IntRange(min=1, max=100_000),
                     help="replications (default: the scenario's)"),
        click.option("--seed", "-s", type=click.IntRange(min=0), help="experiment seed (default: the scenario's)"),
        click.option("--set", "sets", multiple=True, metavar="PATH=VALUE",
                     help="override a field, e.g. --set lines.dp-batch.batch_size=60000 (repeatable)"),
        click.option("--workers", "-j", type=click.IntRange(min=1),
                     help="local worker processes, or Dask workers with --scheduler local (default: all cores)"),
        click.option("--scheduler", metavar="tcp://HOST:PORT|local",
                     help="run on a Dask cluster: a running scheduler's address, or 'local' to start one"),
        click.option("--connect-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
                     help="seconds to wait for the Dask scheduler and its workers"),
        click.option("--resume", is_flag=True, help="continue the interrupted experiment in --out"),
        click.option("--overwrite", is_flag=True,
                     help="replace the earlier experiment in --out (only the files this tool wrote there)"),
        click.option("--no-figures", is_flag=True, help="skip the figures"),
        *FIGURE_OPTIONS,
        click.option("--csv", is_flag=True, help="also write the tables as tidy CSV (metrics.csv, series.csv, "
                                                 "delays.csv) beside the Parquet datasets"),
        click.option("--no-budget", is_flag=True,
                     help="run even if the experiment looks too big for this machine's memory or free disk"),
        click.option("--progress/--no-progress", default=None, help="progress bar (default: when on a terminal)"),
    ]):
        fn = opt(fn)
    return fn


def _execute(plan, opts: dict, figures: bool, announce: bool = False, after=None):
    """Run *plan* through the experiment API as the :func:`execution_options` in *opts* ask, into
    ``--out`` (default ``results/NAME-TIME``); returns the result and the folder."""
    from sim.api.experiment import execute
    if opts["resume"] and opts["out"] is None:
        _fail("--resume needs --out DIR: the folder of the experiment to continue")

    def started(plan, backend) -> None:
        click.echo(f"{plan.name}: {len(plan.points)} scenarios x {plan.reps} replications"
                   f"{' (sequential)' if plan.sequential else ''} on {backend.name} ({backend.workers} workers)",
                   err=True)

    return execute(plan, opts["out"], workers=opts["workers"], scheduler=opts["scheduler"],
                   connect_timeout=opts["connect_timeout"], resume=opts["resume"], overwrite=opts["overwrite"],
                   progress=opts["progress"], budget=not opts["no_budget"], csv=opts["csv"],
                   figures=figures and not opts["no_figures"], style=figure_style(opts),
                   on_start=started if announce else None, after=after)


def _prestart(opts: dict) -> None:
    """Start the workers' fork server first: it imports what draws figures (and the model, where the
    replication workers cannot be forked from this process) while this process imports the model;
    then fork the replication workers from this process, before it loads the scenario, so that they
    start at once."""
    from sim.experiments.startup import fork_workers, prestart
    prestart(opts["workers"], opts["scheduler"], () if opts["no_figures"] else _figure_workers(), fork=True)
    fork_workers(opts["workers"], opts["scheduler"])


def _figure_workers() -> list[str]:
    """What the fork server of workers that draw imports: the figure modules, and this CLI, which
    multiprocessing imports in every worker it starts from a script (it runs ``run_sim.py`` or the
    console script there before the first task; on Python 3.11 the server's own ``"__main__"``
    preload cannot, lacking the script's path): imported once in the server, not once per worker."""
    from sim.figures import PRELOAD
    return [*PRELOAD, "sim.cli"]


def _sets(sets, source: str):
    from sim.experiments.overrides import parse_assignments
    return parse_assignments(sets, f"{source} with --set")


def _report_failures(outcome, out) -> None:
    if not outcome.failures:
        return
    kinds = sorted({f.error_type for f in outcome.failures})
    click.echo(f"\n{len(outcome.failures)} replication(s) raised ({', '.join(kinds)}); the others were kept. "
               f"Details: {Path(out) / 'failures.csv'}", err=True)
    sys.exit(3 if "ConservationError" in kinds else 1)


def _version(ctx: click.Context, _param, value: bool) -> None:
    """``--version``: the version, and whether the replication's hot modules are compiled (mypyc)."""
    if not value or ctx.resilient_parsing:
        return
    from sim.core._compiled import describe
    click.echo(f"pharmasim, version {__version__}\n{describe()}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show the version and whether the replication is compiled, and exit.")
@click.option("--debug", is_flag=True, help="show the traceback of an internal error (a bug) instead of one line")
def cli(debug: bool) -> None:
    """Discrete-event simulation of sponsor - CRO - CDMO pharmaceutical supply chains."""


@cli.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@execution_options
@click.option("--target-half-width", metavar="H|P%",
              help="add replications until each --target-metric's 95 % CI half-width is at most H "
                   "(absolute) or P % of its mean (relative)")
@click.option("--target-metric", multiple=True, metavar="METRIC",
              help="metric for --target-half-width (repeatable; default: dosed_fraction)")
@click.option("--max-reps", type=click.IntRange(min=2), default=1000, show_default=True,
              help="cap on replications with --target-half-width")
@click.option("--trace", is_flag=True, help="record the lot genealogy of the first replication (trace/; see "
                                            "`pharmasim trace`)")
@user_errors
def run(scenario, target_half_width, target_metric, max_reps, trace, **opts) -> None:
    """Run SCENARIO (a YAML file; the embedded default if omitted) and write a results folder."""
    _prestart(opts)
    from sim.experiments.run import single_plan
    from sim.experiments.overrides import apply_overrides

    sc = _load(scenario)
    source = scenario or "<default scenario>"
    sc = apply_overrides(sc, _sets(opts["sets"], source), f"{source} with --set")
    rule = _sequential_rule(target_half_width, target_metric, max_reps)
    plan = single_plan(sc, opts["reps"], opts["seed"], rule)
    res, out = _execute(plan, opts, figures=True)
    pid = plan.points[0].id
    if trace:
        from sim.experiments.trace import write_trace
        write_trace(out)
    print_summary(res.summaries[pid], len(res.outcome.reps[pid]))
    if rule is not None:
        _print_checks(res.outcome)
    click.echo(f"\nresults: {out}")
    _report_failures(res.outcome, out)


def _sequential_rule(target, metrics, max_reps):
    if target is None:
        if metrics:
            _fail("--target-metric needs --target-half-width")
        return None
    from sim.api.experiment import until
    return until(target, metrics or ("dosed_fraction",), max_reps, source="--target-half-width")


def _print_checks(outcome) -> None:
    for pid, checks in outcome.checks.items():
        n = len(outcome.reps[pid])
        for c in checks:
            state = "met" if c.met else "NOT met (cap reached)"
            prefix = f"{pid}: " if len(outcome.checks) > 1 else ""
            click.echo(f"{prefix}{c.metric}: half-width {c.half_width:.3g} vs target {c.target:.3g} "
                       f"after {n} replications: {state}")


@cli.command()
@click.argument("batch_file", type=click.Path(dir_okay=False))
@execution_options
@user_errors
def batch(batch_file, **opts) -> None:
    """Run every scenario of BATCH_FILE (listed scenarios and/or a sweep design).

    Every scenario uses the same seed (common random numbers).  See
    ``sim/experiments/batch.py`` and ``scenarios/batches/*.yaml`` for the format.
    """
    _prestart(opts)
    from sim.experiments.batch import load_batch

    plan = load_batch(batch_file, _sets(opts["sets"], batch_file), opts["reps"], opts["seed"])
    res, out = _execute(plan, opts, figures=True, announce=True)
    _print_batch(res)
    _note_unknown_metrics(plan.metrics, {s.metric for ss in res.summaries.values() for s in ss}, batch_file)
    if plan.sequential is not None:
        _print_checks(res.outcome)
    click.echo(f"\nresults: {out}")
    _report_failures(res.outcome, out)


def _print_batch(res) -> None:
    """One line per scenario: its factor values, replications, and three headline metrics."""
    from sim.experiments.designs import short_names
    from sim.experiments.tables import headline_metrics
    plan = res.plan
    names = (plan.metrics or headline_metrics({s.metric for ss in res.summaries.values() for s in ss}))[:3]
    factors = (plan.design or {}).get("factors", [])
    short = short_names(factors)
    cols = [("scenario", [p.id for p in plan.points])]
    cols += [(short[f], [_cell(p.factors.get(f, (plan.design or {}).get("base_values", {}).get(f)))
                         for p in plan.points]) for f in factors]
    cols.append(("n", [str(len(res.outcome.reps[p.id])) for p in plan.points]))
    for m in names:
        by = [{s.metric: s for s in res.summaries[p.id]}.get(m) for p in plan.points]
        cols.append((m, [f"{_fmt(s.mean)} ± {_fmt(s.half_width)}" if s else "-" for s in by]))
    widths = [max(len(h), *(len(c) for c in cells)) for h, cells in cols]
    click.echo("\n" + "  ".join(f"{h:>{w}}" for (h, _), w in zip(cols, widths)))
    for i in range(len(plan.points)):
        click.echo("  ".join(f"{cells[i]:>{w}}" for (_, cells), w in zip(cols, widths)))


def _note_unknown_metrics(wanted, known, source) -> None:
    """The batch file's ``metrics`` that the model does not report (shown as '-', left out of figures)."""
    import difflib
    for m in wanted:
        if known and m not in known:
            close = difflib.get_close_matches(m, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            click.echo(f"note: {source}: metrics: the model reports no metric {m!r}{hint}", err=True)


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v) if not isinstance(v, (dict, list)) else "(set)"


@cli.command()
@click.argument("scenario_a", type=click.Path(dir_okay=False))
@click.argument("scenario_b", type=click.Path(dir_okay=False))
@execution_options
@click.option("--set-a", "sets_a", multiple=True, metavar="PATH=VALUE", help="override a field of A only")
@click.option("--set-b", "sets_b", multiple=True, metavar="PATH=VALUE", help="override a field of B only")
@click.option("--all", "show_all", is_flag=True, help="print every metric, not only the headline ones")
@user_errors
def compare(scenario_a, scenario_b, sets_a, sets_b, show_all, **opts) -> None:
    """Compare SCENARIO_A and SCENARIO_B ('default' = the embedded one) with common random numbers.

    Both run replication r from the same seed; the paired differences B - A of
    every metric are reported with 95 % CIs (comparison.csv), and a difference
    whose CI covers 0 is called not distinguishable from noise.
    """
    _prestart(opts)
    from sim.api.experiment import ComparisonTable
    from sim.experiments.compare import compare_plan
    from sim.experiments.overrides import apply_overrides
    from sim.scenario.resolve import experiment_seed

    scs = []
    for path, own in ((scenario_a, sets_a), (scenario_b, sets_b)):
        sc = _load(path)
        sc = apply_overrides(sc, [*_sets(opts["sets"], path), *_sets(own, path)], f"{path} with --set")
        scs.append(sc)
    a, b = scs
    seed = experiment_seed(a, opts["seed"])
    if b.seed != a.seed and seed == a.seed:
        click.echo(f"note: both scenarios use seed {seed} (common random numbers); B's own seed is ignored",
                   err=True)
    labels = tuple(Path(p).stem if p != "default" else "default" for p in (scenario_a, scenario_b))
    plan = compare_plan(a, b, labels, opts["reps"] or a.replications, seed)
    pa, pb = (p.id for p in plan.points)
    table = ComparisonTable(pa, pb)
    res, out = _execute(plan, opts, figures=True, after=table)
    _print_comparison(table.diffs, pa, pb, show_all, len(res.outcome.reps[pa]))
    click.echo(f"\nresults: {out}")
    _report_failures(res.outcome, out)


def _print_comparison(diffs, pa, pb, show_all, n) -> None:
    from sim.experiments.tables import headline_metrics
    by = {d.metric: d for d in diffs}
    names = sorted(by) if show_all else headline_metrics(by)
    w = max([len(m) for m in names] + [6])
    click.echo(f"\nB - A with common random numbers, paired over {n} replications; A = {pa}, B = {pb}")
    click.echo(f"{'metric':<{w}}  {'A':>10}  {'B':>10}  {'B - A':>10}  {'95% CI':>22}  verdict")
    for m in names:
        d = by[m]
        ci = f"[{_fmt(d.diff.ci_low)}, {_fmt(d.diff.ci_high)}]"
        click.echo(f"{m:<{w}}  {_fmt(d.mean_a):>10}  {_fmt(d.mean_b):>10}  {_fmt(d.diff.mean):>10}  {ci:>22}  "
                   f"{d.verdict}")
    real = sum(1 for d in diffs if d.verdict.startswith(pb))
    click.echo(f"\n{real} of {len(diffs)} metrics differ beyond noise (all of them in comparison.csv)")


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE", help="override a field (repeatable)")
@user_errors
def validate(scenario, sets) -> None:
    """Check SCENARIO (with any --set) against the schema; exit status 2 if it is invalid."""
    from sim.experiments.overrides import apply_overrides
    sc = apply_overrides(_load(scenario), _sets(sets, scenario), f"{scenario} with --set")
    n_sites = sum(t.n_sites for t in sc.trials)
    click.echo(f"{scenario}: valid ({sc.name}: {len(sc.suppliers)} suppliers, {len(sc.lines)} lines, "
               f"{len(sc.trials)} trials, {n_sites} sites, horizon {sc.horizon:g} days)")


@cli.command()
def default() -> None:
    """Print the embedded default scenario (a starting point for your own)."""
    from sim.scenario import default_text
    click.echo(default_text(), nl=False)


@cli.command()
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--per-scenario/--no-per-scenario", default=None,
              help="also each scenario's over-time figures (batches that kept details; default: compare only)")
@click.option("--workers", "-j", type=click.IntRange(min=1),
              help="processes drawing a run's figures side by side (default: all cores; 1: in this one)")
@figure_options
@user_errors
def plot(results_dir, per_scenario, workers, **opts) -> None:
    """Rebuild the figures of RESULTS_DIR from its stored tables, without re-simulating, with the
    options of its figures.yaml (those the figures were last drawn with) unless flags override them."""
    from sim.experiments.backends import make_backend
    from sim.experiments.startup import prestart
    prestart(workers, None, _figure_workers(), replications=False)  # workers that draw from tables need no model
    from sim.figures import plot_results
    backend = make_backend(workers)
    try:
        paths = plot_results(results_dir, per_scenario, figure_style(opts, results_dir), map=backend.map)
    finally:
        backend.close()
    for p in paths:
        click.echo(p)


@cli.command()
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False))
@user_errors
def export(results_dir) -> None:
    """Write RESULTS_DIR's tables as tidy CSV too (metrics.csv, series.csv, delays.csv), for spreadsheets."""
    from sim.experiments.columnar import export_folder
    paths = export_folder(Path(results_dir))
    if not paths:
        _fail(f"{results_dir}: no tables to export (not a results folder, or an unfinished run)")
    for p in paths:
        click.echo(p)


cli.add_command(metrics)
cli.add_command(study)
cli.add_command(report)
cli.add_command(trace)
cli.add_command(explore)
cli.add_command(optimise)


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops a run as Ctrl-C does: workers stopped, finished replications kept


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="run_sim.py" if sys.argv and sys.argv[0].endswith("run_sim.py") else "pharmasim")


if __name__ == "__main__":  # pragma: no cover
    main()
