"""The Gantt chart of a replication's lines, drawn from timeline rows (``timeline.csv``, see
:class:`~sim.core.timeline.TimelineRow`): campaigns by product, changeovers, start-ups, breakdowns,
maintenance, waiting for material, tech transfer, and each lot's QC hold.  Colours are colour-blind
safe; in the grayscale style states are told apart by gray and hatch."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt

from sim.core.timeline import TimelineRow
from sim.experiments.tables import read_csv
from sim.figures.layout import legend, wrap
from sim.figures.output import save
from sim.figures.provenance import folder_provenance
from sim.figures.style import FigureStyle, scenario_name

STATE_COLOURS = {"changeover": "#E69F00", "startup": "#F0E442", "shutdown": "#b5b5b5", "breakdown": "#D55E00",
                 "maintenance": "#882255", "waiting_material": "#cfe3f5", "closed": "#eeeeee"}
PRODUCT_COLOURS = ["#0072B2", "#009E73", "#332288", "#CC79A7", "#56B4E9"]
"""Okabe-Ito and Tol colours, distinguishable with colour-vision deficiencies."""
STATE_GRAYS = {"changeover": ("#d9d9d9", "////"), "startup": ("#ffffff", "...."), "shutdown": ("#bdbdbd", ""),
               "breakdown": ("#000000", ""), "maintenance": ("#ffffff", "xxxx"),
               "waiting_material": ("#ffffff", "--"), "closed": ("#f2f2f2", "")}
PRODUCT_GRAYS = [("#5f5f5f", ""), ("#9a9a9a", "\\\\\\\\"), ("#333333", "++"), ("#bdbdbd", "oo")]
MAKING = ("production", "engineering", "ppq")
"""Timeline kinds drawn as making a product (engineering and PPQ batches paler)."""


# -- Gantt chart ---------------------------------------------------------------------------------
def gantt_from_table(results_dir: str | Path, style: FigureStyle | None = None) -> list[Path]:
    """The Gantt chart of a results folder, from its ``timeline.csv`` alone (no simulation);
    written to ``<results>/figures/gantt.<format>`` at the other figures' resolution."""
    results_dir = Path(results_dir)
    style = style or FigureStyle()
    if not style.provenance:
        style = style.with_provenance(folder_provenance(results_dir))
    rep, rows = read_timeline(results_dir / "timeline.csv")
    with plt.rc_context(style.rc(compact=True, screen_dpi=150)):
        return gantt_chart(rows, gantt_title(scenario_name(results_dir), rep), results_dir / "figures", "gantt",
                           style)


def read_timeline(path: Path) -> tuple[int, list[TimelineRow]]:
    """The replication a ``timeline.csv`` belongs to, and its rows."""
    table = read_csv(path)
    rows = [TimelineRow(r["line"], r["cdmo"], float(r["start"]), float(r["end"]), r["kind"], r["label"])
            for r in table]
    return (int(table[0]["rep"]) if table else 0), rows


def gantt_title(scenario: str, rep: int) -> str:
    return f"{scenario}: line activity (replication {rep}); thin bars below each line: lots in QC hold"


def gantt_chart(rows: Sequence[TimelineRow], title: str, out: Path, name: str,
                style: FigureStyle | None = None) -> list[Path]:
    """One replication's timeline of every line: campaigns by product, changeovers, start-ups,
    breakdowns, maintenance, waiting for material, tech transfer, and each lot's QC hold.

    Lines are drawn top to bottom in the order they first appear in *rows* (the scenario's);
    the x axis ends a little after the last activity (closed slots and idling do not count)."""
    style = style or FigureStyle()
    lines = list(dict.fromkeys((r.line, r.cdmo) for r in rows))
    lane = {line: len(lines) - 1 - i for i, (line, _) in enumerate(lines)}
    products = sorted({r.label for r in rows if r.kind in MAKING + ("startup", "tech_transfer")})
    looks = {p: _product_look(style, i) for i, p in enumerate(products)}
    width = style.figwidth(9)
    fig, ax = plt.subplots(figsize=(width, 0.9 + 0.75 * len(lines) + (0.0 if style.fixed else 0.5)))  # + legend
    used: dict[str, object] = {}  # legend entry -> an artist, in order of first appearance
    qc_seen: dict[str, int] = defaultdict(int)
    last = 0.0
    for r in rows:
        drawn = _gantt_bar(ax, r, lane[r.line], looks, qc_seen[r.line], style)
        if r.kind == "qc_hold":
            qc_seen[r.line] += 1
        if drawn is not None:
            key, artist, activity = drawn
            used[key] = artist
            if activity:
                last = max(last, r.end)
    t_end = max((r.end for r in rows), default=0.0)
    chars = style.label_chars(9, 0.25) if style.fixed else 60
    ax.set_yticks([len(lines) - 1 - i + 0.5 for i in range(len(lines))])
    ax.set_yticklabels([f"{wrap(line, chars)}\n({wrap(cdmo, chars)})" for line, cdmo in lines])
    ax.set_xlim(0, min(t_end, last * 1.05) if last > 0 else t_end)
    ax.set_xlabel("day")
    ax.set_title(title)
    if style.fixed:
        leg = legend(ax, style, 9, below=True, handles=list(used.values()), labels=list(used))
        n_rows = -(-len(used) // max(1, leg._ncols if leg is not None else 1))
        fig.set_size_inches(width, 1.2 + 0.45 * len(lines) * max(1.0, style.base_size / 8) + 0.17 * n_rows
                            * style.base_size / 8)
    else:
        ax.legend(list(used.values()), list(used), ncol=4, frameon=False, loc="upper center",
                  bbox_to_anchor=(0.5, -0.18 - 0.02 * len(lines)))
    return save(fig, out, name, style)


def _product_look(style: FigureStyle, i: int) -> dict[str, str]:
    if style.gray:
        face, hatch = PRODUCT_GRAYS[i % len(PRODUCT_GRAYS)]
        return {"facecolor": face, "hatch": hatch, "edgecolor": "#000000", "linewidth": 0.3}
    return {"color": PRODUCT_COLOURS[i % len(PRODUCT_COLOURS)]}


def _state_look(style: FigureStyle, kind: str) -> dict[str, str]:
    if style.gray:
        face, hatch = STATE_GRAYS[kind]
        return {"facecolor": face, "hatch": hatch, "edgecolor": "#000000", "linewidth": 0.3}
    return {"color": STATE_COLOURS[kind]}


def _gantt_bar(ax, r: TimelineRow, y: float, looks: dict[str, dict], qc_index: int,
               style: FigureStyle) -> tuple[str, object, bool] | None:
    """Draw one timeline row in the lane of its line (bottom at *y*): a state or campaign bar,
    a thin tech-transfer bar on top, or a thin QC-hold bar in one of three sub-lanes below.
    Returns (legend entry, artist, counts as activity), or None for rows not drawn (idling)."""
    span = [(r.start, r.end - r.start)]
    if r.kind in MAKING:
        trial = r.kind != "production"
        key = f"making {r.label}" + (" (engineering / PPQ)" if trial else "")
        return key, ax.broken_barh(span, (y + 0.3, 0.5), alpha=0.45 if trial else 1.0, **looks[r.label]), True
    if r.kind in STATE_COLOURS:
        bar = ax.broken_barh(span, (y + 0.3, 0.5), **_state_look(style, r.kind))
        return r.kind.replace("_", " "), bar, r.kind != "closed"
    if r.kind == "tech_transfer":
        return "tech transfer", ax.broken_barh(span, (y + 0.82, 0.1), color="#444444"), False
    if r.kind == "qc_hold":
        released = r.label == "released"
        colour = ("#bdbdbd" if released else "#000000") if style.gray else ("#9ab8d8" if released else "#D55E00")
        bar = ax.broken_barh(span, (y + 0.05 + 0.2 * (qc_index % 3) / 3, 0.05), color=colour)
        return f"QC hold ({r.label})", bar, True
    return None
