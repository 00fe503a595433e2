"""What the page shows of two runs: KPIs with CIs and paired differences, overlaid series, a zip.

The comparison is the experiment API's own (:func:`sim.experiments.compare.paired_differences`): both
runs use the same seed, so replication *r* of the what-if draws the same random numbers as replication
*r* of the baseline (common random numbers), and the difference is taken replication by replication.
With partial results, only the replications both runs have finished are paired.
"""
from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from sim.core.stats import summarize
from sim.experiments.compare import paired_differences
from sim.explorer.whatifs import kpi_names
from sim.metrics import lookup


@dataclass(frozen=True)
class KpiRow:
    metric: str
    unit: str
    meaning: str
    n: int
    base: str            # "0.951 ± 0.004"
    whatif: str
    difference: str      # "-0.012 [-0.018, -0.006]"
    verdict: str         # "what-if lower" / "not distinguishable from noise" ...
    significant: bool


def fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax >= 1e5:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:,.1f}"
    return f"{x:.3g}" if ax >= 0.001 else f"{x:.2e}"


def _mean_ci(values: list[float]) -> str:
    s = summarize("x", np.asarray([v for v in values if v == v], dtype=float))
    if s.n == 0:
        return "–"
    return fmt(s.mean) if s.n < 2 else f"{fmt(s.mean)} ± {fmt(s.half_width)}"


def kpi_rows(base: Mapping[int, Mapping[str, float]], whatif: Mapping[int, Mapping[str, float]] | None,
             names: list[str] | None = None) -> list[KpiRow]:
    """One row per KPI (default: the headline ones): baseline and what-if means with 95 % CIs, and
    the paired difference what-if − baseline with its CI and verdict.  Without a what-if, the
    baseline alone."""
    known = {k for r in base.values() for k in r}
    names = kpi_names(known) if names is None else [n for n in names if n in known]
    keep = set(names)  # pair only the metrics shown (a run reports hundreds)
    base = {r: {k: v for k, v in row.items() if k in keep} for r, row in base.items()}
    if whatif:
        whatif = {r: {k: v for k, v in row.items() if k in keep} for r, row in whatif.items()}
    diffs = {d.metric: d for d in paired_differences(base, whatif, "what-if")} if whatif else {}
    rows = []
    for m in names:
        entry = lookup(m)
        unit, meaning = (entry.unit, entry.meaning) if entry is not None else ("", "")
        b = _mean_ci([r[m] for r in base.values() if m in r])
        d = diffs.get(m)
        if d is None:
            w = _mean_ci([r[m] for r in whatif.values() if m in r]) if whatif else ""
            rows.append(KpiRow(m, unit, meaning, len(base), b, w, "", "", False))
            continue
        w = _mean_ci([r[m] for r in whatif.values() if m in r])
        diff = f"{fmt(d.diff.mean)} [{fmt(d.diff.ci_low)}, {fmt(d.diff.ci_high)}]" if d.diff.n > 1 else fmt(d.diff.mean)
        significant = d.verdict.startswith("what-if")  # its CI excludes 0 (or it differs in every replication)
        verdict = d.verdict
        if significant:
            verdict = f"significant: {verdict}"
        rows.append(KpiRow(m, unit, meaning, d.diff.n, b, w, diff, verdict, significant))
    return rows


FIGURES = (
    ("throughput", "Throughput: kits packaged and dispensed per period", ("packaged.kits", "dispensed.kits"), False),
    ("enrollment", "Patients randomised (cumulative)", ("enrolled.*",), True),
    ("inventory", "Kits in stock", ("inventory.depot.*", "inventory.sites_total"), False),
    ("not_dosed", "Visits not dosed per period", ("visits.out_of_stock", "visits.missed_dispensing"), False),
)
"""The overlaid figures: key, title, series patterns, cumulative."""


def figure_series(series: Mapping[str, np.ndarray], patterns: tuple[str, ...], cumulative: bool
                  ) -> dict[str, np.ndarray]:
    """The series matching *patterns* (``released.*`` summed into one line: all lines' output)."""
    import fnmatch
    out = {}
    for p in patterns:
        hits = sorted(k for k in series if fnmatch.fnmatchcase(k, p))
        if not hits:
            continue
        label = p.removesuffix(".*") + " (all)" if p.endswith("*") and len(hits) > 1 else hits[0]
        values = np.sum([series[k] for k in hits], axis=0)
        out[label] = np.cumsum(values) if cumulative else values
    heads = {k.split(".", 1)[0] for k in out}
    if len(out) > 1 and len(heads) == 1 and all("." in k for k in out):  # "inventory.depot.x" -> "depot.x"
        out = {k.split(".", 1)[1]: v for k, v in out.items()}
    return out


def chart_options(title: str, period: float, base: Mapping[str, np.ndarray],
                  whatif: Mapping[str, np.ndarray] | None) -> dict:
    """An ECharts option: each series of the baseline (dashed) and of the what-if (solid), over days."""
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    lines = []
    for i, (name, values) in enumerate(base.items()):
        color = palette[i % len(palette)]
        for label, data, dashed in (("baseline", values, True), ("what-if", (whatif or {}).get(name), False)):
            if data is None:
                continue
            pts = [[round(j * period, 3), round(float(v), 4)] for j, v in enumerate(data)]
            lines.append({"name": f"{name} · {label}", "type": "line", "showSymbol": False, "data": pts,
                          "lineStyle": {"type": "dashed" if dashed else "solid", "width": 1.5 if dashed else 2.2,
                                        "color": color}, "itemStyle": {"color": color}})
    return {"title": {"text": title, "textStyle": {"fontSize": 13}},
            "tooltip": {"trigger": "axis"},
            "legend": {"type": "scroll", "bottom": 0, "textStyle": {"fontSize": 10}},
            "grid": {"left": 55, "right": 15, "top": 35, "bottom": 55},
            "xAxis": {"type": "value", "name": "day", "nameLocation": "middle", "nameGap": 22},
            "yAxis": {"type": "value"}, "animation": False, "series": lines}


def results_zip(folders: Mapping[str, Path], extra: Mapping[str, str]) -> bytes:
    """A zip of results folders (under their given names) and extra text files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, folder in folders.items():
            folder = Path(folder)
            for p in sorted(folder.rglob("*")):
                if p.is_file() and not p.name.startswith(".") and p.suffix != ".lock":
                    z.write(p, f"{name}/{p.relative_to(folder).as_posix()}")
        for name, text in extra.items():
            z.writestr(name, text)
    return buf.getvalue()
