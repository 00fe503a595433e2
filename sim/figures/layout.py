"""Fitting a figure into the width it is given: long labels wrapped, legends moved below the axes
when a single column has no room beside the data, and tick labels thinned (or rotated) until no two
overlap.  Each figure calls :func:`legend` for its legends and :func:`finish` before it is saved."""
from __future__ import annotations

import re

from matplotlib.layout_engine import TightLayoutEngine
from matplotlib.legend import Legend
from matplotlib.ticker import FixedLocator, LogLocator, MaxNLocator, NullFormatter, NullLocator
from matplotlib.transforms import ScaledTranslation

from sim.figures.style import FigureStyle

_BELOW = "_pharmasim_below"
"""Attribute marking a legend placed below its axes (its offset is measured in :func:`finish`)."""


def wrap(text: str, chars: int, max_lines: int = 2) -> str:
    """*text* broken into lines of at most *chars* characters, at spaces or after '.', '_', ',',
    '/', '-' (names like ``delay.cycle_time.cont-line.mean`` have no spaces); beyond *max_lines* the
    rest is abbreviated with an ellipsis."""
    if len(text) <= chars or chars <= 0:
        return text
    lines: list[str] = []
    current = ""
    for token in re.split(r"(?<=[ ._,/-])", text):
        if current and len(current) + len(token.rstrip()) > chars:
            lines.append(current.rstrip())
            current = ""
        current += token
        while len(current) > chars:  # a token longer than a line: cut it
            lines.append(current[:chars])
            current = current[chars:]
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, chars - 1)] + "…"
    return "\n".join(lines)


def legend(ax, style: FigureStyle, default_width: float, below: bool | None = None, handles=None,
           labels=None, **kw) -> Legend | None:
    """*ax*'s legend (no frame): inside the axes as usual, or centred below them (in columns) when the
    figure is narrow and the entries are many or long, so that it covers no data; *below* forces it.
    *handles* and *labels*: the entries, if not the labelled artists of *ax*."""
    max_columns = kw.pop("max_columns", 4)
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    if below is None:
        below = style.fixed and style.narrow(default_width) and (len(labels) > 2 or max(map(len, labels)) > 18)
    if not below:
        return ax.legend(handles, labels, frameon=False, **kw)
    kw.pop("loc", None)
    kw.pop("bbox_to_anchor", None)
    kw.pop("ncol", None)
    spec = ax.get_subplotspec()
    share = len(spec.colspan) / spec.get_gridspec().ncols if spec is not None else 1.0
    chars = style.label_chars(default_width, 0.9 * share)
    labels = [wrap(label, chars) for label in labels]
    longest = max(len(line) for label in labels for line in label.split("\n"))
    ncol = max(1, min(len(labels), max_columns, chars // (longest + 9)))
    leg = ax.legend(handles, labels, frameon=False, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol,
                    **kw)
    setattr(leg, _BELOW, True)
    return leg


def finish(fig, style: FigureStyle, render: bool = True) -> bool:
    """Make *fig* fit its width before saving: titles wrapped to their axes, legends below the axes
    moved clear of the tick labels, overlapping tick labels thinned.  Nothing changes at a figure's own
    width unless labels overlap there.  *render*: the last check draws the picture too; returns whether
    *fig*'s canvas then holds its final picture (a PNG can be written from it without drawing again)."""
    engine = fig.get_layout_engine()
    if type(engine) is TightLayoutEngine:
        fig.set_layout_engine(MeasureOnceTight(**engine.get()))
    if style.fixed:
        fig.draw_without_rendering()
        if fig.get_layout_engine() is None:
            fig.set_layout_engine("constrained", h_pad=0.03, w_pad=0.03)
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            box = ax.get_window_extent()
            for text, room in ((ax.title, box.width), (ax.xaxis.label, box.width), (ax.yaxis.label, box.height)):
                if text.get_text():
                    text.set_text(wrap(text.get_text().replace("\n", " "), _chars(room / fig.dpi, text.get_fontsize()),
                                       3))
        if fig._suptitle is not None:
            st = fig._suptitle
            st.set_text(wrap(st.get_text().replace("\n", " "), _chars(fig.get_figwidth(), st.get_fontsize()), 3))
        declutter(fig)
        _place_legends_below(fig)
    return declutter(fig, render=render)


class MeasureOnceTight(TightLayoutEngine):
    """matplotlib's tight layout (same margins, same spacing), measuring each axes' decorations once per
    layout: its second pass (the spacing within the margins of the first) measures the same axes at
    the same positions again, and measuring (ticks, tick labels, titles) is most of a screen figure's
    drawing time."""

    def execute(self, fig) -> None:
        axes = list(fig.axes)
        try:
            for ax in axes:
                ax.get_tightbbox = _measured_once(ax.get_tightbbox)
            super().execute(fig)
        finally:
            for ax in axes:
                ax.__dict__.pop("get_tightbbox", None)


def _measured_once(measure):
    seen: dict = {}

    def once(*args, **kwargs):
        key = (args, tuple(sorted(kwargs.items(), key=lambda kv: kv[0])))
        if key not in seen:
            seen[key] = measure(*args, **kwargs)
        return seen[key]
    return once


def _chars(width_in: float, fontsize: float) -> int:
    return max(8, int(width_in * 72 / (0.56 * fontsize)))


def _place_legends_below(fig) -> None:
    legends = [ax.get_legend() for ax in fig.axes if getattr(ax.get_legend(), _BELOW, False)]
    for _ in range(4):  # fewer columns for a legend wider than the figure
        fig.draw_without_rendering()
        wide = [leg for leg in legends if leg._ncols > 1 and leg.get_window_extent().width > 0.97 * fig.bbox.width]
        for leg in wide:
            leg.set_ncols(leg._ncols - 1)
        if not wide:
            break
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    for leg in legends:
        ax = leg.axes
        axis_box = ax.xaxis.get_tightbbox(renderer)
        drop = max(0.0, ax.bbox.y0 - axis_box.y0) if axis_box is not None else 0.0
        offset = ScaledTranslation(0, -(drop / fig.dpi + 0.04), fig.dpi_scale_trans)
        leg.set_bbox_to_anchor((0.5, 0.0), transform=ax.transAxes + offset)


def overlapping(boxes, tolerance: float = 0.5) -> bool:
    """Whether any two of *boxes* (display bounding boxes) overlap by more than *tolerance* pixels."""
    items = sorted(boxes, key=lambda b: b.x0)
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if b.x0 >= a.x1 - tolerance:
                break
            if min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance:
                return True
    return False


def visible_ticklabels(axis, renderer, which: str = "major"):
    """The tick labels *axis* draws (text shown, tick inside the view), with their boxes."""
    ax = axis.axes
    lo, hi = sorted(axis.get_view_interval())
    locs = axis.get_majorticklocs() if which == "major" else axis.get_minorticklocs()
    labels = axis.get_majorticklabels() if which == "major" else axis.get_minorticklabels()
    out = []
    for loc, label in zip(locs, labels):
        if not label.get_visible() or not label.get_text().strip() or not ax.get_visible():
            continue
        span = hi - lo
        if not (lo - 1e-9 * abs(span) <= loc <= hi + 1e-9 * abs(span)):
            continue
        out.append((label, label.get_window_extent(renderer)))
    return out


def declutter(fig, rounds: int = 4, render: bool = False) -> bool:
    """Thin the numeric tick labels of every axis whose labels overlap (half as many ticks each round),
    drop overlapping minor labels of log axes, and rotate overlapping category labels.  *render*: draw
    the picture itself (not only the layout) for each check; returns whether the last drawing shows
    the final state (no label changed after it)."""
    for _ in range(rounds):
        if render:
            fig.canvas.draw()
        else:
            fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        changed = False
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                # no minor labels without a minor locator (the usual case): skip recomputing the ticks
                minor = ([] if isinstance(axis.get_minor_locator(), NullLocator)
                         else visible_ticklabels(axis, renderer, "minor"))
                major = visible_ticklabels(axis, renderer, "major")
                if minor and overlapping([b for _, b in minor + major]):
                    axis.set_minor_formatter(NullFormatter())
                    changed = True
                    continue
                if len(major) < 2 or not overlapping([b for _, b in major]):
                    continue
                changed |= _thin(axis, len(major))
        if not changed:
            return render
    return False


def _thin(axis, n: int) -> bool:
    locator = axis.get_major_locator()
    if isinstance(locator, FixedLocator):  # categories: wrap them, then stand them on end
        labels = axis.get_majorticklabels()
        if axis.axis_name != "x" or any(t.get_rotation() for t in labels):
            return False
        texts = [t.get_text() for t in labels]
        longest = max(len(line) for text in texts for line in text.split("\n"))
        wrapped = [wrap(text.replace("\n", " "), max(4, longest // 2 + 1)) for text in texts]
        if longest > 8 and wrapped != texts:
            for t, text in zip(labels, wrapped):
                t.set_text(text)
            axis.set_ticklabels(wrapped)
            return True
        for t in labels:
            t.set_rotation(90)
            t.set_rotation_mode("anchor")
            t.set_horizontalalignment("right")
            t.set_verticalalignment("center")
        return True
    if axis.get_scale() == "log":
        axis.set_major_locator(LogLocator(base=getattr(locator, "_base", 10.0), numticks=max(2, n // 2 + 1)))
        return True
    axis.set_major_locator(MaxNLocator(nbins=max(1, n // 2), steps=[1, 2, 2.5, 5, 10]))
    return n > 2
