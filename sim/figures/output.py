"""Writing figures: atomically, in each format a :class:`~sim.figures.style.FigureStyle` asks for, with
the results folder's provenance (tool version, seed, scenario and its fingerprint) embedded, so a
figure found in a manuscript's folder says where it came from.  PDF and SVG get it in their document
information (Title, Subject / Description, Keywords, Creator), PNG as text chunks.  Dates are left out
so the same figure from the same folder gives the same file."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # files only, never a window: every figure module saves through this one
import matplotlib.image  # noqa: E402,F401 - mpl.image.imsave
import matplotlib.pyplot as plt  # noqa: E402

from sim.experiments.tables import atomic_write_bytes  # noqa: E402
from sim.figures.layout import finish  # noqa: E402
from sim.figures.style import FigureStyle  # noqa: E402


def metadata(fmt: str, name: str, provenance: dict[str, str]) -> dict[str, Any]:
    """The *metadata* argument of ``savefig`` for format *fmt*."""
    tool = provenance.get("tool", "pharmasim")
    title = f"{name}: {provenance['scenario']}" if "scenario" in provenance else name
    pairs = [f"{k}={v}" for k, v in provenance.items()]
    summary = "; ".join(pairs)
    if fmt == "pdf":
        return {"Title": title, "Subject": summary, "Keywords": summary, "Creator": tool, "CreationDate": None}
    if fmt == "svg":
        return {"Title": title, "Description": summary, "Keywords": pairs, "Creator": tool, "Date": None}
    if fmt == "png":
        return {"Title": title, "Software": tool, "Description": summary,
                **{f"pharmasim:{k}": v for k, v in provenance.items()}}
    return {}


def save_figure(fig, path: Path, rendered: bool = False, **kwargs) -> Path:
    """Write *fig* to *path* (format from the suffix) atomically, like every table.  *rendered*: the
    canvas already holds the final picture at the figure's dpi, so a PNG is encoded from it as
    ``savefig`` would (same bytes) without drawing the figure again."""
    buf = io.BytesIO()
    fmt = path.suffix.lstrip(".")
    if rendered and fmt == "png":
        mpl.image.imsave(buf, fig.canvas.buffer_rgba(), format="png", origin="upper", dpi=fig.dpi,
                         metadata=kwargs.get("metadata"))
    else:
        fig.savefig(buf, format=fmt, **kwargs)
    atomic_write_bytes(path, buf.getvalue())
    return path


def save(fig, out: Path, name: str, style: FigureStyle | None = None) -> list[Path]:
    """Fit *fig* to *style* (:func:`~sim.figures.layout.finish`), write it as ``<out>/<name>.<ext>``
    for each of the style's formats with the provenance embedded, close it, return the paths.

    The figure is drawn at the resolution it is saved at, so the last layout check's drawing is the
    PNG: one drawing per figure unless labels had to be thinned."""
    style = style or FigureStyle()
    try:
        dpi = mpl.rcParams["savefig.dpi"]
        if dpi != "figure":
            fig.set_dpi(dpi)
        rendered = finish(fig, style, render="png" in style.formats)
        provenance = dict(style.provenance)
        return [save_figure(fig, out / f"{name}.{ext}", rendered=rendered, metadata=metadata(ext, name, provenance))
                for ext in style.formats]
    finally:
        plt.close(fig)
