"""Drawing every figure a results folder supports, from its tables: a run's own figures (one by one, or
each on a worker), a batch's and a comparison's (:mod:`sim.figures`).

matplotlib and the figure modules are imported by the process that draws, when it draws: a run that
hands its figures to workers never loads them in its main process (the workers' fork server has
them, :data:`sim.figures.PRELOAD`)."""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Callable, Sequence

from sim.experiments.columnar import has_table, load_series
from sim.experiments.folder import read_marker, read_plan
from sim.experiments.tables import ResultsFolderError
from sim.figures.options import write_options
from sim.figures.provenance import folder_provenance
from sim.figures.style import FigureStyle

RUN_FIGURES = ("throughput", "delays", "clinical", "inventory", "gantt")
"""A single run's figures, the slowest to draw first (so that two workers finish together)."""


def make_figures(results_dir: str | Path, style: FigureStyle | None = None, map=None) -> list[Path]:
    """Build every figure of a single-scenario results folder in *style*; returns the files written.
    *map*: how to make the calls, e.g. a backend's ``map`` to draw the figures on its workers, one
    figure each (default: here, one after the other, reading the series once)."""
    results_dir = Path(results_dir)
    style = (style or FigureStyle()).with_provenance(folder_provenance(results_dir))
    kinds = [k for k in RUN_FIGURES if _supports(results_dir, k)]
    if map is not None and len(kinds) > 1:
        return [p for paths in map(draw_figure, [(results_dir, k, style) for k in kinds]) for p in paths]
    loaded = load_series(results_dir) if has_table(results_dir, "series") else None
    return [p for k in kinds for p in draw_figure(results_dir, k, style, loaded)]


def start_run_figures(results_dir: str | Path, style: FigureStyle, map_later) -> Callable[[], list[Path]]:
    """Start drawing a run's figures with *map_later* (:func:`sim.experiments.backends.map_later`: on the
    workers, one figure each) once its replication tables, timeline and metadata are stored, while the
    main process writes the summaries; returns a function that waits for them, records the options in
    ``figures.yaml`` (as :func:`plot_results` does) and returns the files written."""
    results_dir = Path(results_dir)
    drawn = style.with_provenance(folder_provenance(results_dir))
    pending = map_later(draw_figure, [(results_dir, k, drawn) for k in RUN_FIGURES if _supports(results_dir, k)])

    def collect() -> list[Path]:
        paths = [p for ps in pending() for p in ps]
        write_options(results_dir, style)
        return paths
    return collect


_last_series: list = []
"""[(folder, the series folder's modification time), its series]: a worker drawing several figures
of one folder reads its series once."""


def _series(results_dir: Path):
    key = (str(results_dir.resolve()), (results_dir / "series").stat().st_mtime_ns)
    if not _last_series or _last_series[0] != key:
        _last_series[:] = [key, load_series(results_dir)]
    return _last_series[1]


def _supports(results_dir: Path, kind: str) -> bool:
    if kind == "gantt":
        return (results_dir / "timeline.csv").exists()
    if kind == "delays":
        return has_table(results_dir, "delays")
    return has_table(results_dir, "series") and (kind != "clinical" or has_table(results_dir, "metrics"))


def draw_figure(results_dir: Path, kind: str, style: FigureStyle, loaded=None) -> list[Path]:
    """One of :data:`RUN_FIGURES` of a run's folder (*style* with the folder's provenance), from its
    tables (*loaded*: the folder's series, if read already); returns the files written."""
    import matplotlib.pyplot as plt
    from sim.figures.clinical import clinical_figure, has_clinical_series
    from sim.figures.gantt import gantt_from_table
    from sim.figures.results import delay_figure, inventory_figure, throughput_figure
    if kind == "gantt":
        return gantt_from_table(results_dir, style)
    out = results_dir / "figures"
    with plt.rc_context(style.rc()):
        if kind == "delays":
            return delay_figure(results_dir, out, style)
        series, t = loaded if loaded is not None else _series(results_dir)
        period = float(t[1] - t[0]) if len(t) > 1 else 1.0
        if kind == "throughput":
            return throughput_figure(series, t, out, period, style)
        if kind == "inventory":
            return inventory_figure(series, t, out, style)
        return clinical_figure(results_dir, loaded=(series, t), style=style) if has_clinical_series(series) else []


def _check_tables(results_dir: Path, table: str) -> None:
    marker = read_marker(results_dir)
    if marker is not None and marker.get("state") != "complete":
        raise ResultsFolderError(f"{results_dir}: the experiment stored there did not finish (its tables may be "
                                 f"an earlier one's); finish it with the same command plus --resume --out "
                                 f"{results_dir}")
    if (results_dir / table).is_file() or has_table(results_dir, table):
        return
    if (results_dir / "plan.json").is_file():
        raise ResultsFolderError(f"{results_dir}: no {table} yet: the experiment stored there did not finish; "
                                 f"finish it with the same command plus --resume --out {results_dir}")
    raise ResultsFolderError(f"{results_dir}: not a results folder (no {table}); give the folder a "
                             f"run, batch or compare command wrote")


def plot_results(results_dir: str | Path, per_scenario: bool | None = None,
                 style: FigureStyle | None = None, formats: Sequence[str] | None = None, map=None) -> list[Path]:
    """Rebuild every figure a results folder supports, from its tables only, in *style* (default:
    the screen style, PNG), and record the options in ``<results>/figures.yaml``.

    *per_scenario*: also the single-run figures of each scenario of a batch that
    kept its series (default: for a paired comparison only).  *formats*, if given, replaces the
    style's formats (a shorthand for callers that only choose formats).  *map*: see
    :func:`make_figures` (a backend's ``map`` draws a run's figures on its workers).  Raises
    :class:`ResultsFolderError` for a folder without tables.
    """
    results_dir = Path(results_dir)
    style = with_formats(style, formats)
    paths = _plot(results_dir, per_scenario, style, map)
    write_options(results_dir, style)
    return paths


def with_formats(style: FigureStyle | None, formats: Sequence[str] | None) -> FigureStyle:
    """*style* (default: the screen style) with its formats replaced by *formats*, if given."""
    style = style or FigureStyle()
    return dataclasses.replace(style, formats=tuple(formats)) if formats else style


def _plot(results_dir: Path, per_scenario: bool | None, style: FigureStyle, map=None) -> list[Path]:
    try:
        plan = read_plan(results_dir)
        _check_tables(results_dir, "metrics" if plan is None or plan["kind"] == "run" else "summary.csv")
        if plan is None or plan["kind"] == "run":
            return make_figures(results_dir, style, map)
        import matplotlib.pyplot as plt
        from sim.figures.batch import batch_figures
        batch_style = style.with_provenance(folder_provenance(results_dir))
        with plt.rc_context(batch_style.rc()):
            paths = batch_figures(results_dir, plan, batch_style)
        if per_scenario if per_scenario is not None else plan["kind"] == "compare":
            for p in plan["points"]:
                paths += make_figures(results_dir / "scenarios" / p["id"], style, map)
        return paths
    except (KeyError, ValueError, IndexError, TypeError, csv.Error) as err:
        if isinstance(err, ResultsFolderError):
            raise
        raise ResultsFolderError(f"{results_dir}: a stored table is damaged ({type(err).__name__}: "
                                 f"{str(err)[:100]}); rerun the experiment, or --resume it") from None
