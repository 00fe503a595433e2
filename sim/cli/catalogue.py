"""``pharmasim metrics``: the metric catalogue (:mod:`sim.metrics`) on the command line."""
from __future__ import annotations

import click

from sim.cli.common import fail


@click.command()
@click.argument("name", required=False)
@click.option("--markdown", is_flag=True, help="print a Markdown table (as in results/README.md)")
@click.option("--series", is_flag=True, help="the per-period series (series table) instead of the metrics")
def metrics(name, markdown, series) -> None:
    """List the metric catalogue: every metric (or, with --series, series) a run can report, with its
    unit and meaning.  NAME filters: a concrete metric name (e.g. total.released.dp-batch) or any
    part of a pattern (e.g. released)."""
    from sim.metrics import CATALOGUE, Metric, lookup
    from sim.metrics import markdown as as_markdown
    table = "series" if series else "metrics"
    if markdown and name is None:
        click.echo(as_markdown(table))
        return
    found: list[Metric] = [m for m in CATALOGUE if m.table == table]
    if name is not None:
        exact = lookup(name, table)
        found = [exact] if exact is not None else [m for m in found if name in m.pattern]
        if not found:
            fail(f"no {table} entry matches {name!r}; `pharmasim metrics{' --series' if series else ''}` "
                  "lists them all", 1)
    width = max(len(m.pattern) for m in found)
    for m in found:
        interval = f"; 95 % interval: {m.interval}" if table == "metrics" else ""
        click.echo(f"{m.pattern:<{width}}  {m.unit:<14}  {m.meaning}  [{m.producer}{interval}]")
