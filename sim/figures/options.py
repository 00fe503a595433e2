"""The figure options as a user writes them (``--width 3.5in``, ``--format pdf,png`` ...), checked and
turned into a :class:`~sim.figures.style.FigureStyle`, and ``figures.yaml``: the options a results
folder's figures were drawn with, written beside them so that ``plot DIR`` draws the same set again
(flags given to ``plot`` override it)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import yaml

from sim.experiments.tables import ResultsFolderError, atomic_write_text
from sim.figures.style import FORMATS, KINDS, FigureStyle

FIGURES_YAML = "figures.yaml"
UNITS = {"in": 1.0, "cm": 1 / 2.54, "mm": 1 / 25.4, "pt": 1 / 72}
MIN_WIDTH, MAX_WIDTH = 2.0, 20.0  # inches: narrower has no room for an axis; wider is no page
MIN_FONT, MAX_FONT = 5.0, 24.0
MIN_DPI, MAX_DPI = 50, 1200


def parse_formats(value: str | list | tuple) -> tuple[str, ...]:
    """``"png,svg"`` (or a list) -> ("png", "svg"), each a format figures can be saved in."""
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in items if f.strip()))
    if not chosen or any(f not in FORMATS for f in chosen):
        raise ValueError(f"expected formats among {', '.join(FORMATS)}; got {value!r}")
    return chosen


AUTO = "auto"
"""The value of --width, --font-size and --dpi that asks for the style's default (overriding figures.yaml)."""


def _auto(parse):
    def parse_or_auto(value):
        return AUTO if str(value).strip().lower() == AUTO else parse(value)
    parse_or_auto.__doc__ = parse.__doc__
    return parse_or_auto


def parse_width(value: str | float) -> float:
    """``"3.5in"``, ``"8.9cm"``, ``"89mm"`` (a bare number is inches) -> inches, within sensible bounds."""
    text = str(value).strip().lower()
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*(in|cm|mm|pt)?", text)
    if m is None:
        raise ValueError(f"expected a width such as 3.5in, 7in, 8.9cm or 89mm; got {value!r}")
    inches = float(m.group(1)) * UNITS[m.group(2) or "in"]
    if not MIN_WIDTH <= inches <= MAX_WIDTH:
        raise ValueError(f"width {value!r} is {inches:.3g} in; expected {MIN_WIDTH:g} to {MAX_WIDTH:g} in "
                         f"(a journal column is 3.5in, a page 7in)")
    return round(inches, 4)


def parse_font_size(value: str | float) -> float:
    try:
        size = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a font size in points such as 8; got {value!r}") from None
    if not MIN_FONT <= size <= MAX_FONT:
        raise ValueError(f"font size {value!r}: expected {MIN_FONT:g} to {MAX_FONT:g} points")
    return size


def parse_style(value: str) -> str:
    if str(value).lower() not in KINDS:
        raise ValueError(f"expected one of {', '.join(KINDS)}; got {value!r}")
    return str(value).lower()


def parse_dpi(value: str | int) -> int:
    try:
        dpi = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected dots per inch as a whole number such as 300; got {value!r}") from None
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"dpi {value!r}: expected {MIN_DPI} to {MAX_DPI}")
    return dpi


PARSERS = {"format": parse_formats, "width": _auto(parse_width), "font_size": _auto(parse_font_size),
           "style": parse_style, "dpi": _auto(parse_dpi)}
"""Option -> its parser (raising ValueError with a message naming what was expected)."""


def make_style(options: Mapping[str, Any]) -> FigureStyle:
    """A style from parsed options (missing or ``None``: the default)."""
    o = {k: v for k, v in options.items() if v is not None and v != AUTO}
    return FigureStyle(kind=o.get("style", "screen"), width=o.get("width"), font_size=o.get("font_size"),
                       dpi=o.get("dpi"), formats=tuple(o.get("format", ("png",))))


def read_options(results_dir: Path) -> dict[str, Any]:
    """The parsed options of a folder's ``figures.yaml`` ({} when there is none)."""
    path = Path(results_dir) / FIGURES_YAML
    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ValueError("expected a mapping of option: value")
        unknown = sorted(set(raw) - set(PARSERS))
        if unknown:
            raise ValueError(f"unknown option {unknown[0]!r}; expected some of {', '.join(PARSERS)}")
        return {k: PARSERS[k](v) for k, v in raw.items() if v is not None}
    except (yaml.YAMLError, ValueError, UnicodeDecodeError) as err:
        raise ResultsFolderError(f"{path}: {' '.join(str(err).split())}; fix it, delete it, or give the "
                                 f"options as flags") from None


def write_options(results_dir: Path, style: FigureStyle) -> Path:
    """Record *style*'s options as ``<results>/figures.yaml``."""
    o = style.options()
    text = ("# The options the figures in figures/ were drawn with: `pharmasim plot DIR` draws them the same\n"
            "# way again (flags given to plot override these).  null: the style's default.\n"
            + yaml.safe_dump({"format": o["format"], "width": o["width"], "font_size": o["font_size"],
                              "style": o["style"], "dpi": o["dpi"]}, sort_keys=False, default_flow_style=None))
    path = Path(results_dir) / FIGURES_YAML
    atomic_write_text(path, text)
    return path
