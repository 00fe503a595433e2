"""Load, run, compare and batch: the experiment API that the CLI, the explorer and notebooks share.

Every run writes a results folder (``out``, default ``results/<name>-<time>``) and the answer is read
back from it, so a notebook, the command line and a cluster run give the same numbers from the same
files.  Errors a user can fix raise :class:`~sim.core.errors.ScenarioError` (or a subclass) with the
source and field path; nothing has run when they do.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from sim.api.results import BatchResults, Comparison, Results
from sim.core.errors import ScenarioError
from sim.experiments.folder import default_out
from sim.scenario import Scenario

Overrides = Mapping[str, Any] | Iterable[str] | Iterable[tuple[str, Any]] | None
"""``{"horizon": 730}``, ``["horizon=730"]`` (``--set`` text) or ``[("horizon", 730)]``."""


def load(source: str | Path | Mapping | Scenario | None = None, *, set: Overrides = None) -> Scenario:
    """A validated scenario from a YAML file, a dict, a :class:`Scenario`, or the embedded default
    (``None`` or ``"default"``), with *set* overrides applied (validated like the file)."""
    from sim.experiments.overrides import apply_overrides
    from sim.scenario import load_default, load_scenario, parse_scenario
    if isinstance(source, Scenario):
        sc, name = source, source.name
    elif source is None or (isinstance(source, str) and source == "default"):
        sc, name = load_default(), "<default scenario>"
    elif isinstance(source, Mapping):
        sc, name = parse_scenario(dict(source), "<scenario dict>"), "<scenario dict>"
    else:
        sc, name = load_scenario(source), str(source)
    pairs = assignments(set, name)
    return apply_overrides(sc, pairs, f"{name} with set") if pairs else sc


def assignments(overrides: Overrides, source: str) -> list[tuple[str, Any]]:
    """*overrides* as ``(path, value)`` pairs; ``PATH=VALUE`` text is read as ``--set`` reads it."""
    from sim.experiments.overrides import PathError, parse_assignment
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    if isinstance(overrides, str):
        overrides = [overrides]
    pairs = []
    for item in overrides:
        if isinstance(item, str):
            try:
                pairs.append(parse_assignment(item))
            except PathError as err:
                raise ScenarioError(f"{source} with set", [str(err)]) from None
        else:
            path, value = item
            pairs.append((path, value))
    return pairs


def until(target_half_width: float | str, metrics: Sequence[str] = ("dosed_fraction",), max_reps: int = 1000,
          source: str = "target_half_width"):
    """A sequential stopping rule: add replications until each metric's 95 % CI half-width is at most
    *target_half_width* — a number (absolute) or a percentage of the mean (``"2%"``)."""
    from pydantic import ValidationError
    from sim.experiments.sequential import SequentialRule
    from sim.scenario import format_errors
    text = str(target_half_width).strip()
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise ScenarioError(source, [f"{target_half_width!r}: expected a number (absolute) or a percentage "
                                     "like 5%"]) from None
    kind = "relative" if text.endswith("%") else "absolute"
    try:
        return SequentialRule(metrics=list(metrics) or ["dosed_fraction"], max_reps=max_reps,
                              **{kind: value / 100 if kind == "relative" else value})
    except ValidationError as err:
        raise ScenarioError(source, format_errors(err)) from None


def execute(plan, out: str | Path | None = None, *, workers: int | None = None, scheduler: str | None = None,
            connect_timeout: float = 10.0, resume: bool = False, overwrite: bool = False,
            progress: bool | None = None, budget: bool = True, csv: bool = False, figures: bool = True,
            formats: Sequence[str] | None = None, style: Any = None,
            on_start: Callable[[Any, Any], None] | None = None,
            after: Callable[[Any, Path], None] | None = None):
    """Run *plan* (:mod:`sim.experiments.plan`) into *out*: budget check, backend, replications, tables,
    then *after* (e.g. a comparison table), CSV copies and figures (in *style*, a
    :class:`~sim.figures.style.FigureStyle`, default the screen style; *formats* alone replaces its
    formats).  A single run on local workers starts its figures there as soon as what they read is
    stored, while the summaries are written.  Returns the :class:`~sim.experiments.run.BatchResult`
    and the folder."""
    from sim.experiments.backends import make_backend
    from sim.experiments.budget import check as check_budget
    from sim.experiments.run import package_versions, run_plan
    from sim.experiments.startup import import_while_waiting
    if resume and out is None:
        raise ScenarioError("resume", ["needs out: the folder of the experiment to continue"])
    out = Path(out) if out is not None else default_out(plan.name)
    if budget:
        check_budget(plan, out)
    backend = make_backend(workers, scheduler, connect_timeout, fork=True)
    if figures and hasattr(backend, "prepare_drawing"):
        backend.prepare_drawing()
    if backend.name == "local":
        import_while_waiting(then=package_versions)
    if on_start is not None:
        on_start(plan, backend)
    drawing: list[Callable[[], list[Path]]] = []

    def ready(folder: Path) -> None:  # a run's figures start on the workers while its summaries are written
        from sim.experiments.backends import map_later
        from sim.experiments.columnar import has_table
        from sim.figures.folder import start_run_figures, with_formats
        if has_table(folder, "metrics"):
            drawing.append(start_run_figures(folder, with_formats(style, formats),
                                             lambda fn, calls: map_later(backend, fn, calls)))
    try:
        res = run_plan(plan, out, backend=backend, resume=resume, overwrite=overwrite, progress=progress,
                       budget=False, ready=ready if figures and plan.single and backend.name == "local" else None)
        if after is not None:
            after(res, out)
        if csv:
            from sim.experiments.columnar import export_folder
            export_folder(out)
        if drawing:
            drawing[0]()
        elif figures:  # on the workers while they are there: a run's figures are drawn side by side
            from sim.figures import plot_results
            plot_results(out, style=style, formats=tuple(formats) if formats else None, map=backend.map)
    finally:
        backend.close()
    return res, out


def run(scenario: str | Path | Mapping | Scenario | None = None, *, reps: int | None = None,
        seed: int | None = None, set: Overrides = None, out: str | Path | None = None,
        target_half_width: float | str | None = None, target_metrics: Sequence[str] = ("dosed_fraction",),
        max_reps: int = 1000, trace: bool | int = False, **options) -> Results:
    """Run replications of one scenario (a file, dict, :class:`Scenario` or the default) and return its
    :class:`Results`.  *options* are those of :func:`execute` (``workers``, ``scheduler``, ``resume``,
    ``overwrite``, ``progress``, ``figures``, ``formats``, ``csv``, ``budget``).  Same scenario and seed
    give the same numbers on any backend and from the CLI.  *trace* records the lot genealogy of the
    first replication (or of replication *trace*, an int): :meth:`Results.trace`."""
    from sim.experiments.run import single_plan
    sc = load(scenario, set=set)
    rule = until(target_half_width, target_metrics, max_reps) if target_half_width is not None else None
    plan = single_plan(sc, reps, seed, rule)
    res, folder = execute(plan, out, **options)
    if trace is not False:
        from sim.experiments.trace import write_trace
        write_trace(folder, None if trace is True else int(trace))
    return Results(folder, res)


def compare(a: str | Path | Mapping | Scenario | None, b: str | Path | Mapping | Scenario | None, *,
            set: Overrides = None, set_a: Overrides = None, set_b: Overrides = None,
            labels: tuple[str, str] | None = None, reps: int | None = None, seed: int | None = None,
            out: str | Path | None = None, **options) -> Comparison:
    """Run *a* and *b* with common random numbers (one seed, A's unless *seed*) and return the paired
    differences B − A of every metric with their CIs (``comparison.csv``)."""
    from sim.experiments.compare import compare_plan
    from sim.scenario.resolve import experiment_seed
    scs = [load(load(src, set=set), set=own) for src, own in ((a, set_a), (b, set_b))]
    labels = labels or (_label(a, scs[0]), _label(b, scs[1]))
    plan = compare_plan(scs[0], scs[1], labels, reps or scs[0].replications, experiment_seed(scs[0], seed))
    res, folder = execute(plan, out, after=ComparisonTable(*(p.id for p in plan.points)), **options)
    return Comparison(folder, res)


class ComparisonTable:
    """What a comparison writes after its replications: ``comparison.csv``, the paired differences B − A
    (before the figures, which draw it).  The differences stay on ``diffs`` for a caller that prints
    them, so they are computed once."""

    def __init__(self, pa: str, pb: str) -> None:
        self.pa, self.pb = pa, pb
        self.diffs: list = []

    def __call__(self, res, folder: Path) -> None:
        from sim.experiments.compare import paired_differences, write_comparison
        self.diffs = paired_differences(res.outcome.metrics[self.pa], res.outcome.metrics[self.pb], self.pb)
        write_comparison(folder / "comparison.csv", self.diffs)


def _label(source, sc: Scenario) -> str:
    if source is None or source == "default":
        return "default"
    return Path(source).stem if isinstance(source, (str, Path)) else sc.name


def batch(design: str | Path | Mapping, *, set: Overrides = None, reps: int | None = None,
          seed: int | None = None, out: str | Path | None = None, **options) -> BatchResults:
    """Run a batch: a batch file (or the same content as a dict: listed scenarios and/or a sweep —
    grid, one factor at a time, Latin hypercube, Sobol'), every scenario with one seed (common random
    numbers).  See ``docs/experiments.md``."""
    from sim.experiments.batch import batch_plan, load_batch
    if isinstance(design, Mapping):
        path = Path.cwd() / "<batch dict>"
        plan = batch_plan(dict(design), path, assignments(set, str(path)), reps, seed)
    else:
        plan = load_batch(design, assignments(set, str(design)), reps, seed)
    res, folder = execute(plan, out, **options)
    return BatchResults(folder, res)
