"""Figures from stored results: every figure is rebuilt from a results folder's tables alone.

A single run gets throughput, inventory and delay figures, the clinical
four-panel figure (when it has trials) and a Gantt chart of its lines (from
``timeline.csv``); a batch gets a scenario comparison (means with 95 % CIs),
response curves with CI bands for sweeps, a tornado chart for
one-factor-at-a-time designs, and, for a paired comparison, the differences
with their CIs.  :func:`plot_results` picks what a folder supports.  Each
figure is written into ``<results>/figures`` in the formats, width, font size, style and resolution
of one :class:`~sim.figures.style.FigureStyle` (default: PNG at 150 dpi, each figure its own size),
and those options are recorded in ``<results>/figures.yaml`` so the same set can be drawn again.

Modules: :mod:`.style` (the style), :mod:`.options` (the options as given, figures.yaml),
:mod:`.layout` (fitting a width), :mod:`.output` (saving with provenance), :mod:`.results`,
:mod:`.clinical`, :mod:`.gantt`, :mod:`.batch` (batches and comparisons), :mod:`.studies`.
"""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt

from sim.experiments.columnar import has_table, load_series
from sim.experiments.folder import read_marker
from sim.experiments.store import read_plan
from sim.experiments.tables import ResultsFolderError
from sim.figures.batch import batch_figures
from sim.figures.clinical import clinical_figure, has_clinical_series
from sim.figures.gantt import gantt_from_table
from sim.figures.results import delay_figure, inventory_figure, throughput_figure
from sim.figures.options import write_options
from sim.figures.output import folder_provenance
from sim.figures.style import FigureStyle

__all__ = ["FigureStyle", "make_figures", "plot_results"]


def make_figures(results_dir: str | Path, style: FigureStyle | None = None) -> list[Path]:
    """Build every figure of a single-scenario results folder in *style*; returns the files written."""
    results_dir = Path(results_dir)
    style = (style or FigureStyle()).with_provenance(folder_provenance(results_dir))
    out = results_dir / "figures"
    paths: list[Path] = []
    with plt.rc_context(style.rc()):
        if has_table(results_dir, "series"):
            series, t = load_series(results_dir)
            period = float(t[1] - t[0]) if len(t) > 1 else 1.0
            paths += throughput_figure(series, t, out, period, style)
            paths += inventory_figure(series, t, out, style)
            if has_clinical_series(series) and has_table(results_dir, "metrics"):
                paths += clinical_figure(results_dir, loaded=(series, t), style=style)
        if has_table(results_dir, "delays"):
            paths += delay_figure(results_dir, out, style)
    if (results_dir / "timeline.csv").exists():
        paths += gantt_from_table(results_dir, style)
    return paths


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
                 style: FigureStyle | None = None, formats: Sequence[str] | None = None) -> list[Path]:
    """Rebuild every figure a results folder supports, from its tables only, in *style* (default:
    the screen style, PNG), and record the options in ``<results>/figures.yaml``.

    *per_scenario*: also the single-run figures of each scenario of a batch that
    kept its series (default: for a paired comparison only).  *formats*, if given, replaces the
    style's formats (a shorthand for callers that only choose formats).  Raises
    :class:`ResultsFolderError` for a folder without tables.
    """
    results_dir = Path(results_dir)
    style = style or FigureStyle()
    if formats:
        style = dataclasses.replace(style, formats=tuple(formats))
    paths = _plot(results_dir, per_scenario, style)
    write_options(results_dir, style)
    return paths


def _plot(results_dir: Path, per_scenario: bool | None, style: FigureStyle) -> list[Path]:
    try:
        plan = read_plan(results_dir)
        _check_tables(results_dir, "metrics" if plan is None or plan["kind"] == "run" else "summary.csv")
        if plan is None or plan["kind"] == "run":
            return make_figures(results_dir, style)
        batch_style = style.with_provenance(folder_provenance(results_dir))
        with plt.rc_context(batch_style.rc()):
            paths = batch_figures(results_dir, plan, batch_style)
        if per_scenario if per_scenario is not None else plan["kind"] == "compare":
            for p in plan["points"]:
                paths += make_figures(results_dir / "scenarios" / p["id"], style)
        return paths
    except (KeyError, ValueError, IndexError, TypeError, csv.Error) as err:
        if isinstance(err, ResultsFolderError):
            raise
        raise ResultsFolderError(f"{results_dir}: a stored table is damaged ({type(err).__name__}: "
                                 f"{str(err)[:100]}); rerun the experiment, or --resume it") from None
