"""``pharmasim report RESULTS_DIR``: the KPI report of a results folder (:mod:`sim.report`)."""
from __future__ import annotations

import click

from sim.cli.common import user_errors


@click.command()
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="folder for the report (default: RESULTS_DIR)")
@click.option("--no-figures", is_flag=True, help="leave the figures out of the page")
@user_errors
def report(results_dir, out, no_figures) -> None:
    """Write RESULTS_DIR's KPI report: report.html (one self-contained page, figures embedded) and the KPI
    tables as kpis.md and kpis.tex, grouped as time to market, supplier performance, quality and
    compliance, cost of quality, resource utilisation and patient service; a batch or comparison shows
    its scenarios side by side with paired differences."""
    from sim.report.html import write_report
    for p in write_report(results_dir, out, figures=not no_figures):
        click.echo(p)
