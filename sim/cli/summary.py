"""What a run prints: the headline KPIs, grouped as the report groups them (:mod:`sim.report.kpis`),
each with its 95 % interval and unit.  Every metric is in ``summary.csv``."""
from __future__ import annotations

import click

from sim.cli.common import fmt

MAX_PER_KPI = 3
"""Components shown per KPI (lines, suppliers ...); the others are counted, and are in summary.csv."""
FEW = 10
"""Fewer replications than this get a note: their intervals are wide and lean on normality."""


def print_summary(summaries, reps: int) -> None:
    """The headline KPIs of one scenario's *summaries* (about a dozen lines)."""
    from sim.experiments.tables import NOT_REACHED
    from sim.report.kpis import GROUPS, rows
    by_name = {s.metric: s for s in summaries}
    chosen = rows(by_name, headline_only=True)
    shown: list[tuple[str, list[tuple[str, str, str, str]]]] = []
    for group in GROUPS:
        lines, per_kpi = [], {}
        for r in (r for r in chosen if r.kpi.group == group):
            per_kpi[r.kpi] = per_kpi.get(r.kpi, 0) + 1
            if per_kpi[r.kpi] > MAX_PER_KPI:
                continue
            s = by_name[r.metric]
            missed = by_name.get(r.metric + NOT_REACHED)
            ci = f"[{fmt(s.ci_low)}, {fmt(s.ci_high)}]" if s.n > 1 and s.ci_low == s.ci_low else ""
            if missed is not None and missed.mean > 0:
                ci = f"not reached in {round(missed.mean * missed.n)} of {missed.n} runs"
            lines.append((r.label, fmt(s.mean), ci, r.unit))
        more = sum(n - MAX_PER_KPI for n in per_kpi.values() if n > MAX_PER_KPI)
        if more:
            lines.append((f"(+{more} more like these in summary.csv)", "", "", ""))
        if lines:
            shown.append((group, lines))
    width = max([len(label) + 2 for _, ls in shown for label, *_ in ls] + [20])
    click.echo(f"\n{'':<{width}}  {'mean':>12}  {'95% interval':>26}  unit")
    for group, lines in shown:
        click.echo(group)
        for label, mean, ci, unit in lines:
            click.echo(f"  {label:<{width - 2}}  {mean:>12}  {ci:>26}  {unit}")
    click.echo(f"\n{reps} replications; every metric, with its interval's method, is in summary.csv "
               "(intervals: pharmasim metrics NAME)")
    if reps < FEW:
        click.echo(f"note: {reps} replication{'s' if reps != 1 else ''} give wide intervals that lean on "
                   "approximate normality; use 20 or more (--reps, or --target-half-width)", err=True)
    shown_metrics = {r.metric for r in chosen}
    for s in summaries:
        milestone = s.metric.removesuffix(NOT_REACHED)
        if milestone != s.metric and milestone in shown_metrics and s.mean > 0:
            click.echo(f"note: {milestone} not reached by the horizon in {round(s.mean * s.n)} of {s.n} "
                       "replications: its mean is not reported (it would be biased low); lengthen the horizon",
                       err=True)
