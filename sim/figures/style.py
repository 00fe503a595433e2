"""What every figure shares: one :class:`FigureStyle` built from the user's options (formats, width,
font size, screen / paper / grayscale, dpi) and passed down to every figure, the colour-blind-safe
palette, bands across replications, and the scenario a folder holds.

A style never changes matplotlib's global state: figures are drawn inside
``matplotlib.rc_context(style.rc())``; nor does it import matplotlib (a process that only parses the
figure options, such as ``run``'s main one, never loads it).  Figures are drawn from stored tables
only, never from live objects, so every figure can be rebuilt from a results folder without
re-simulating."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

KINDS = ("screen", "paper", "grayscale")
"""screen: today's look (PNG at 150 dpi, each figure its own size); paper: journal fonts and line
weights; grayscale: paper, with series told apart by line style, marker and hatch, not colour."""

FORMATS = ("png", "svg", "pdf")

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
"""Okabe & Ito's palette, distinguishable with every common colour-vision deficiency (yellow late:
it is pale on white)."""
GRAYS = ["#000000", "#5f5f5f", "#9a9a9a", "#333333", "#7a7a7a", "#b5b5b5"]
LINESTYLES = ["-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3))]
MARKERS = ["", "o", "s", "^", "D", "v", "x", "+"]
HATCHES = ["", "////", "....", "xxxx", "\\\\\\\\", "oo", "++", "--"]

SCREEN = {
    "figure.dpi": 100, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 10,
    "axes.labelsize": 9, "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3,
}
"""The screen style's settings (today's look)."""
COMPACT = {"figure.dpi": 100, "savefig.dpi": 200, "font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7,
           "axes.labelsize": "medium", "axes.grid": False,  # matplotlib's defaults, over SCREEN's
           "axes.spines.top": False, "axes.spines.right": False}
"""The screen style of the wide figures meant for documents (Gantt charts, study panels)."""

NARROW = 5.0
"""Below this width (inches) a figure is laid out for a single column: fewer panels per row, legends
below the axes, long labels wrapped."""


@dataclass(frozen=True)
class FigureStyle:
    """How figures are drawn and saved.  ``None`` fields take the style's default (screen: each figure's
    own size, 9 pt, 150 dpi; paper and grayscale: 8 pt, 300 dpi).  *provenance* (tool version, seed,
    scenario hash) is embedded in every file written; it is the folder's, not an option."""

    kind: str = "screen"
    width: float | None = None
    font_size: float | None = None
    dpi: int | None = None
    formats: tuple[str, ...] = ("png",)
    provenance: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"style {self.kind!r}: expected one of {', '.join(KINDS)}")
        bad = [f for f in self.formats if f not in FORMATS]
        if bad or not self.formats:
            raise ValueError(f"formats {list(self.formats)}: expected some of {', '.join(FORMATS)}")

    # -- options as the user gives them, and back (figures.yaml) -----------------------------------
    def options(self) -> dict[str, Any]:
        """The options that made this style (``None``: the style's default), as figures.yaml holds them."""
        return {"format": list(self.formats), "width": None if self.width is None else f"{self.width:g}in",
                "font_size": self.font_size, "style": self.kind, "dpi": self.dpi}

    def with_provenance(self, provenance: dict[str, str]) -> "FigureStyle":
        return dataclasses.replace(self, provenance=tuple(provenance.items()))

    # -- derived settings --------------------------------------------------------------------------
    @property
    def screen(self) -> bool:
        return self.kind == "screen"

    @property
    def gray(self) -> bool:
        return self.kind == "grayscale"

    @property
    def fixed(self) -> bool:
        """A width was asked for: the figure is exactly that wide, and laid out to fit it."""
        return self.width is not None

    @property
    def base_size(self) -> float:
        return float(self.font_size or (9 if self.screen else 8))

    def pt(self, screen_pt: float) -> float:
        """A font size a figure gives in points for the screen style (9 pt text), scaled to this
        style's size and never below 6 pt outside the screen default (journals' floor)."""
        size = screen_pt * self.base_size / 9
        return size if self.screen and self.font_size is None else max(size, min(6.0, self.base_size))

    def resolution(self, screen_dpi: int = 150) -> int:
        return self.dpi or (screen_dpi if self.screen else 300)

    def figwidth(self, default: float) -> float:
        return self.width if self.width is not None else default

    def narrow(self, default: float) -> bool:
        return self.figwidth(default) < NARROW

    def columns(self, preferred: int, default_width: float, min_panel: float = 1.6) -> int:
        """Panels per row: *preferred* at the figure's own width, fewer when the asked width has no
        room for panels at least *min_panel* inches wide."""
        if self.width is None:
            return preferred
        return max(1, min(preferred, int(self.width // min_panel)))

    def panel_height(self, panel_width: float, screen_height: float) -> float:
        """A panel's height: the figure's own at its own width, else following the panel's width
        (about the golden ratio, with room for a title and tick labels), within sensible bounds."""
        if self.width is None:
            return screen_height
        return float(np.clip(0.5 * panel_width + 0.45 * self.base_size / 8, 1.25, 2.8))

    def label_chars(self, default_width: float, share: float = 0.3) -> int:
        """How many characters of a tick label fit in *share* of the figure's width on one line."""
        return max(10, int(self.figwidth(default_width) * share * 72 / (0.6 * self.pt(7))))

    def rc(self, compact: bool = False, screen_dpi: int | None = None) -> dict[str, Any]:
        """The matplotlib settings of this style, for ``matplotlib.rc_context``."""
        base = dict(COMPACT if compact else SCREEN)
        base["savefig.dpi"] = self.resolution(screen_dpi or base["savefig.dpi"])
        base["pdf.fonttype"] = 42  # TrueType fonts embedded: journals refuse Type 3
        base["svg.hashsalt"] = "pharmasim"  # the same figure gives the same SVG
        # laid out as the figure is drawn, once (not tight_layout, then a tight crop that lays it out
        # twice more): every figure is exactly its size, margins included
        base.update({"savefig.bbox": "standard", "figure.autolayout": True})
        from cycler import cycler  # matplotlib's own dependency; here so that a style imports no matplotlib
        colours = GRAYS if self.gray else OKABE_ITO
        cyc = cycler(color=colours)
        if self.gray:
            cyc = cycler(color=GRAYS) + cycler(linestyle=LINESTYLES)
        base["axes.prop_cycle"] = cyc
        if not self.screen or self.font_size is not None:
            fs = self.base_size
            base.update({"font.size": fs, "axes.titlesize": fs + (0 if not self.screen else 1),
                         "axes.labelsize": fs, "legend.fontsize": self.pt(8), "xtick.labelsize": self.pt(8),
                         "ytick.labelsize": self.pt(8), "figure.titlesize": fs + 1})
        if not self.screen:
            base.update({"lines.linewidth": 1.0, "axes.linewidth": 0.6, "grid.linewidth": 0.4,
                         "xtick.major.width": 0.6, "ytick.major.width": 0.6, "patch.linewidth": 0.5,
                         "hatch.linewidth": 0.5, "legend.handlelength": 2.6 if self.gray else 2.0})
        if self.fixed:  # constrained layout: slower than the tight one, but it makes room for legends below
            base.update({"figure.autolayout": False, "figure.constrained_layout.use": True,
                         "figure.constrained_layout.h_pad": 0.03, "figure.constrained_layout.w_pad": 0.03})
        return base

    # -- series ------------------------------------------------------------------------------------
    def colour(self, i: int) -> str:
        return (GRAYS if self.gray else OKABE_ITO)[i % len(GRAYS if self.gray else OKABE_ITO)]

    def line(self, i: int) -> dict[str, Any]:
        """Line properties of the *i*-th series: colour; in grayscale also line style and marker."""
        if not self.gray:
            return {"color": self.colour(i)}
        return {"color": self.colour(i), "linestyle": LINESTYLES[i % len(LINESTYLES)],
                "marker": MARKERS[i % len(MARKERS)], "markevery": 0.12, "markersize": 3.5}

    def fill(self, i: int, colour: str | None = None) -> dict[str, Any]:
        """Bar / patch properties of the *i*-th category: colour; in grayscale a gray and a hatch."""
        if not self.gray:
            return {"color": colour or self.colour(i)}
        return {"facecolor": ["#ffffff", "#bdbdbd", "#7a7a7a", "#e0e0e0", "#4d4d4d"][i % 5],
                "edgecolor": "#000000", "hatch": HATCHES[i % len(HATCHES)], "linewidth": 0.5}


def band(ax, t, arr, label, color=None, style: FigureStyle | None = None):
    """The mean of *arr* (replications x periods) over *t*, with its 5-95 % band across replications;
    the series' look is *style*'s next one on *ax* (line style and marker too in grayscale)."""
    kw = (style or FigureStyle()).line(len(ax.get_lines()))
    if color is not None:
        kw["color"] = color
    mean = np.nanmean(arr, axis=0)
    line, = ax.plot(t, mean, label=label, lw=1.4 if style is None or style.screen else 1.0, **kw)
    if arr.shape[0] > 1:
        lo, hi = np.nanpercentile(arr, [5, 95], axis=0)
        ax.fill_between(t, lo, hi, color=line.get_color(), alpha=0.2 if not (style and style.gray) else 0.15, lw=0)
    return line


def scenario_name(results_dir: Path) -> str:
    """The scenario a results folder holds (from ``metadata.json``), for figure titles."""
    meta = results_dir / "metadata.json"
    return json.loads(meta.read_text()).get("scenario", results_dir.name) if meta.exists() else results_dir.name
