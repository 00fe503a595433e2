"""The Gantt chart of a replication's lines, drawn from timeline rows (``timeline.csv``, see
:class:`~sim.core.timeline.TimelineRow`): campaigns by product, changeovers, start-ups, breakdowns,
maintenance, waiting for material, tech transfer, and each lot's QC hold."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt

from sim.core.timeline import TimelineRow
from sim.experiments.tables import read_csv
from sim.figures.style import COMPACT, STYLE, save, scenario_name

STATE_COLOURS = {"changeover": "#f2b134", "startup": "#8fd175", "shutdown": "#b5b5b5", "breakdown": "#d1495b",
                 "maintenance": "#7a5195", "waiting_material": "#cfe3f5", "closed": "#eeeeee"}
PRODUCT_COLOURS = ["#2e6fac", "#1b998b", "#5c4d7d", "#ed6a5a", "#3d5a80"]
MAKING = ("production", "engineering", "ppq")
"""Timeline kinds drawn as making a product (engineering and PPQ batches paler)."""


# -- Gantt chart ---------------------------------------------------------------------------------
def gantt_from_table(results_dir: str | Path) -> list[Path]:
    """The Gantt chart of a results folder, from its ``timeline.csv`` alone (no simulation);
    written to ``<results>/figures/gantt.<format>`` at the other figures' resolution."""
    results_dir = Path(results_dir)
    rep, rows = read_timeline(results_dir / "timeline.csv")
    with plt.rc_context({**COMPACT, "savefig.dpi": STYLE["savefig.dpi"]}):
        return gantt_chart(rows, gantt_title(scenario_name(results_dir), rep), results_dir / "figures", "gantt",
                           None)


def read_timeline(path: Path) -> tuple[int, list[TimelineRow]]:
    """The replication a ``timeline.csv`` belongs to, and its rows."""
    table = read_csv(path)
    rows = [TimelineRow(r["line"], r["cdmo"], float(r["start"]), float(r["end"]), r["kind"], r["label"])
            for r in table]
    return (int(table[0]["rep"]) if table else 0), rows


def gantt_title(scenario: str, rep: int) -> str:
    return f"{scenario}: line activity (replication {rep}); thin bars below each line: lots in QC hold"


def gantt_chart(rows: Sequence[TimelineRow], title: str, out: Path, name: str,
                formats: Sequence[str] = ("png",)) -> list[Path]:
    """One replication's timeline of every line: campaigns by product, changeovers, start-ups,
    breakdowns, maintenance, waiting for material, tech transfer, and each lot's QC hold.

    Lines are drawn top to bottom in the order they first appear in *rows* (the scenario's);
    the x axis ends a little after the last activity (closed slots and idling do not count)."""
    lines = list(dict.fromkeys((r.line, r.cdmo) for r in rows))
    lane = {line: len(lines) - 1 - i for i, (line, _) in enumerate(lines)}
    products = sorted({r.label for r in rows if r.kind in MAKING + ("startup", "tech_transfer")})
    colours = {p: PRODUCT_COLOURS[i % len(PRODUCT_COLOURS)] for i, p in enumerate(products)}
    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.75 * len(lines)))
    used: dict[str, object] = {}  # legend entry -> an artist, in order of first appearance
    qc_seen: dict[str, int] = defaultdict(int)
    last = 0.0
    for r in rows:
        drawn = _gantt_bar(ax, r, lane[r.line], colours, qc_seen[r.line])
        if r.kind == "qc_hold":
            qc_seen[r.line] += 1
        if drawn is not None:
            key, artist, activity = drawn
            used[key] = artist
            if activity:
                last = max(last, r.end)
    t_end = max((r.end for r in rows), default=0.0)
    ax.set_yticks([len(lines) - 1 - i + 0.5 for i in range(len(lines))])
    ax.set_yticklabels([f"{line}\n({cdmo})" for line, cdmo in lines])
    ax.set_xlim(0, min(t_end, last * 1.05) if last > 0 else t_end)
    ax.set_xlabel("day")
    ax.set_title(title)
    ax.legend(list(used.values()), list(used), ncol=4, frameon=False, loc="upper center",
              bbox_to_anchor=(0.5, -0.18 - 0.02 * len(lines)))
    return save(fig, out, name, formats)


def _gantt_bar(ax, r: TimelineRow, y: float, colours: dict[str, str],
               qc_index: int) -> tuple[str, object, bool] | None:
    """Draw one timeline row in the lane of its line (bottom at *y*): a state or campaign bar,
    a thin tech-transfer bar on top, or a thin QC-hold bar in one of three sub-lanes below.
    Returns (legend entry, artist, counts as activity), or None for rows not drawn (idling)."""
    span = [(r.start, r.end - r.start)]
    if r.kind in MAKING:
        trial = r.kind != "production"
        key = f"making {r.label}" + (" (engineering / PPQ)" if trial else "")
        return key, ax.broken_barh(span, (y + 0.3, 0.5), color=colours[r.label], alpha=0.45 if trial else 1.0), True
    if r.kind in STATE_COLOURS:
        bar = ax.broken_barh(span, (y + 0.3, 0.5), color=STATE_COLOURS[r.kind])
        return r.kind.replace("_", " "), bar, r.kind != "closed"
    if r.kind == "tech_transfer":
        return "tech transfer", ax.broken_barh(span, (y + 0.82, 0.1), color="#444444"), False
    if r.kind == "qc_hold":
        colour = "#9ab8d8" if r.label == "released" else "#d1495b"
        bar = ax.broken_barh(span, (y + 0.05 + 0.2 * (qc_index % 3) / 3, 0.05), color=colour)
        return f"QC hold ({r.label})", bar, True
    return None
