"""A results folder read into KPI tables, and those tables as Markdown and LaTeX.

One column per scenario (a run has one; a batch or comparison has each of its scenarios side by
side) and, where scenarios were run with common random numbers, the paired difference of each
against the first with its 95 % interval and verdict.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from sim.core.stats import Summary
from sim.experiments.columnar import batch_metrics
from sim.experiments.compare import NOISE, paired_differences
from sim.experiments.folder import read_marker
from sim.experiments.store import read_summary
from sim.experiments.tables import NOT_REACHED, ResultsFolderError, read_csv
from sim.report.kpis import GROUPS, TIME, Row, rows

MAX_DIFFERENCES = 5
"""Scenarios beyond the first that get a paired-difference column; a larger sweep shows means only."""


@dataclass(frozen=True)
class Cell:
    mean: float
    low: float = math.nan
    high: float = math.nan
    note: str = ""          # "not reached in 2 of 4 runs", a comparison's verdict

    def text(self) -> str:
        if self.note and math.isnan(self.mean):
            return self.note
        ci = f" [{number(self.low)}, {number(self.high)}]" if not math.isnan(self.low) else ""
        return f"{number(self.mean)}{ci}"


@dataclass
class Line:
    row: Row
    cells: list[Cell]
    differences: list[Cell] = field(default_factory=list)


@dataclass
class Report:
    """Everything the page and the tables show, read from one folder."""

    folder: Path
    title: str
    meta: dict
    scenarios: list[str]
    reference: str | None                      # what the differences are taken against
    compared: list[str]                        # the scenarios with a difference column
    groups: list[tuple[str, list[Line]]]
    replications: dict[str, int]

    @property
    def chain(self) -> list[tuple[Line, float]]:
        """The time-to-market milestones (days from day 0) in the order the first scenario reaches them,
        each with the days since the previous one (the first scenario's means)."""
        lines = [ln for g, ls in self.groups if g == TIME for ln in ls if ln.row.entry.unit == "day"]
        lines.sort(key=lambda ln: (math.isnan(ln.cells[0].mean), ln.cells[0].mean))
        out, before = [], 0.0
        for ln in lines:
            m = ln.cells[0].mean
            out.append((ln, m - before if not math.isnan(m) else math.nan))
            before = m if not math.isnan(m) else before
        return out


def number(x: float) -> str:
    if x is None or math.isnan(x):
        return "–"
    if x != 0 and abs(x) < 0.01:
        return f"{x:.2g}"
    return f"{x:,.3f}" if abs(x) < 10 else f"{x:,.1f}" if abs(x) < 1e5 else f"{x:,.0f}"


def _cell(s: Summary | None, by: dict[str, Summary]) -> Cell:
    if s is None:
        return Cell(math.nan)
    missed = by.get(s.metric + NOT_REACHED)
    if missed is not None and missed.mean > 0:
        return Cell(math.nan, note=f"not reached in {round(missed.mean * missed.n)} of {missed.n} runs")
    return Cell(s.mean, s.ci_low, s.ci_high)


def read_report(folder: str | Path) -> Report:
    """The KPI tables of a run, batch or comparison folder (it must have finished: ``summary.csv``)."""
    folder = Path(folder)
    marker = read_marker(folder)
    if marker is not None and marker.get("state") != "complete":
        raise ResultsFolderError(f"{folder}: the experiment stored there did not finish; finish it with the same "
                                 f"command plus --resume --out {folder}")
    if not (folder / "summary.csv").is_file():
        raise ResultsFolderError(f"{folder}: no summary.csv (not a results folder, or its run did not finish)")
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8")) \
        if (folder / "metadata.json").is_file() else {}
    by_scenario = read_summary(folder)
    if (folder / "scenarios.csv").is_file():
        listed = read_csv(folder / "scenarios.csv")
        scenarios = [r["scenario"] for r in listed]
        reps = {r["scenario"]: int(r["replications"]) for r in listed}
    else:
        scenarios = [meta.get("scenario", folder.name)]
        by_scenario = {scenarios[0]: by_scenario.get("", {})}
        reps = {scenarios[0]: int(meta.get("replications", 0) or 0)}
    reference = scenarios[0] if len(scenarios) > 1 else None
    names = {m for by in by_scenario.values() for m in by}
    diffs = _differences(folder, reference, scenarios[1:1 + MAX_DIFFERENCES]) if reference else {}
    compared = scenarios[1:1 + MAX_DIFFERENCES] if diffs else []
    groups = []
    for g in GROUPS:
        lines = []
        for r in (r for r in rows(names) if r.kpi.group == g):
            cells = [_cell(by_scenario.get(s, {}).get(r.metric), by_scenario.get(s, {})) for s in scenarios]
            lines.append(Line(r, cells, [diffs.get((s, r.metric), Cell(math.nan)) for s in compared]))
        if lines:
            groups.append((g, lines))
    title = meta.get("scenario") or meta.get("name") or folder.name
    return Report(folder, str(title), meta, scenarios, reference if compared else None, compared, groups, reps)


def _differences(folder: Path, reference: str, others: list[str]) -> dict[tuple[str, str], Cell]:
    """Paired differences (other − reference) per metric with 95 % CIs and verdicts, from the folder's
    per-replication metrics (common random numbers: replication r of every scenario shares its seed)."""
    path = folder / "metrics.parquet"
    if not path.is_file():
        return {}
    per = batch_metrics(path)
    out = {}
    for other in others:
        for d in paired_differences(per.get(reference, {}), per.get(other, {}), other):
            out[other, d.metric] = Cell(d.diff.mean, d.diff.ci_low, d.diff.ci_high, _short(d.verdict, other))
    return out


def _short(verdict: str, name: str) -> str:
    """A verdict as a table cell says it: "lower", "noise", "same in every run"."""
    if verdict == NOISE:
        return "noise"
    if verdict.startswith("identical"):
        return "same in every run"
    return verdict.replace(name, "").replace("in every replication", "in every run").strip()


def markdown(report: Report) -> str:
    """The KPI tables as one Markdown table per group."""
    head = ["KPI", "unit", *report.scenarios, *(f"{s} − {report.reference}" for s in report.compared)]
    out = [f"# KPIs: {report.title}", ""]
    if report.chain:
        out += ["## time-to-market chain", "", "| milestone | " + " | ".join(report.scenarios) + " | days after the "
                "previous |", "|---|" + "---|" * (len(report.scenarios) + 1)]
        out += [f"| {ln.row.label} | " + " | ".join(c.text() for c in ln.cells) + f" | {number(gap)} |"
                for ln, gap in report.chain]
        out.append("")
    for group, lines in report.groups:
        out += [f"## {group}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for ln in lines:
            cells = [c.text() for c in ln.cells] + [cell_text(c) for c in ln.differences]
            out.append("| " + " | ".join([ln.row.label, ln.row.unit, *cells]).replace("\n", " ") + " |")
        out.append("")
    out.append("Means with 95 % intervals (the method per metric is in the metric catalogue: "
               "`pharmasim metrics NAME`); differences are paired by replication (common random numbers).")
    return "\n".join(out) + "\n"


def cell_text(c: Cell) -> str:
    return f"{c.text()} ({c.note})" if c.note and not math.isnan(c.mean) else c.text()


_TEX = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}", "\\": r"\textbackslash{}", "–": "--", "−": "$-$"}


def tex(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text)


def latex(report: Report) -> str:
    """The KPI tables as one LaTeX ``tabular`` (booktabs), a group per block."""
    cols = [*report.scenarios, *(f"{s} − {report.reference}" for s in report.compared)]
    spec = "ll" + "r" * len(cols)
    out = [f"% KPIs of {tex(report.title)}: written by pharmasim report; needs \\usepackage{{booktabs}}",
           f"\\begin{{tabular}}{{{spec}}}", r"\toprule",
           " & ".join(["KPI", "unit", *(tex(c) for c in cols)]) + r" \\", r"\midrule"]
    for i, (group, lines) in enumerate(report.groups):
        if i:
            out.append(r"\midrule")
        out.append(f"\\multicolumn{{{len(cols) + 2}}}{{l}}{{\\textit{{{tex(group)}}}}} \\\\")
        for ln in lines:
            cells = [c.text() for c in ln.cells] + [cell_text(c) for c in ln.differences]
            out.append(" & ".join(tex(x) for x in [ln.row.label, ln.row.unit, *cells]) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(out) + "\n"
