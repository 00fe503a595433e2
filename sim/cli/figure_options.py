"""The figure options every command that draws figures takes (``run``, ``batch``, ``compare``,
``study``, ``plot``): one group, checked by :mod:`sim.figures.options`' parsers, so a bad value is the
same clear error (exit status 2) everywhere.  An option not given is ``None``: ``plot`` then takes it
from the folder's ``figures.yaml``, the other commands from the style's defaults; ``auto`` (width, font
size, dpi) asks for the style's default even over figures.yaml."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

OPTIONS = {"formats": "format", "width": "width", "font_size": "font_size", "style": "style", "dpi": "dpi"}
"""Click parameter name -> figures.yaml key."""


def _parser(key: str):
    def check(ctx, param, value):
        if value is None:
            return None
        from sim.figures.options import PARSERS  # not at import: `--help` need not load matplotlib
        try:
            return PARSERS[key](value)
        except ValueError as err:
            raise click.BadParameter(str(err)) from None
    return check


FIGURE_OPTIONS = [
    click.option("--format", "formats", metavar="png,svg,pdf", callback=_parser("format"),
                 help="figure formats, comma-separated: png, svg, pdf  [default: png]"),
    click.option("--width", metavar="3.5in|7in|8.9cm|89mm", callback=_parser("width"),
                 help="figure width (a journal column: 3.5in, a page: 7in; auto: each figure's own); "
                      "heights follow  [default: auto]"),
    click.option("--font-size", "font_size", metavar="PT", callback=_parser("font_size"),
                 help="text size in points (auto: the style's)  [default: 9 screen, 8 paper]"),
    click.option("--style", metavar="screen|paper|grayscale", callback=_parser("style"),
                 help="screen; paper (journal line weights); grayscale (paper, series told apart by line "
                      "style, marker and hatch)  [default: screen]"),
    click.option("--dpi", metavar="N", callback=_parser("dpi"),
                 help="resolution of PNG figures (auto: the style's)  [default: 150 screen, 300 paper]"),
]


def figure_options(fn):
    """Add the figure options to a command."""
    for opt in reversed(FIGURE_OPTIONS):
        fn = opt(fn)
    return fn


def given(opts: dict[str, Any]) -> dict[str, Any]:
    """The figure options given on the command line, by figures.yaml key (their values parsed)."""
    return {key: opts[name] for name, key in OPTIONS.items() if opts.get(name) is not None}


def figure_style(opts: dict[str, Any], results_dir: str | Path | None = None):
    """The :class:`~sim.figures.style.FigureStyle` the options ask for; with *results_dir*, options not given
    come from its figures.yaml."""
    from sim.figures.options import make_style, read_options
    saved = read_options(Path(results_dir)) if results_dir is not None else {}
    return make_style({**saved, **given(opts)})
