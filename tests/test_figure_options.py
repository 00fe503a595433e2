"""Paper-ready figures: every figure kind drawn at a journal column (3.5 in, 8 pt) keeps every label inside
the figure and no two labels on top of each other; grayscale tells series apart without colour; the
options are recorded in figures.yaml and reused by `plot`; the folder's provenance is in the files;
bad options are clear errors (exit status 2)."""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import matplotlib.colors as mcolors
import pytest
from matplotlib.ticker import FixedLocator

import sim.figures.output as output
from sim.figures.layout import overlapping, visible_ticklabels
from sim.figures.studies import batch_vs_continuous_figure
from sim.figures.style import FigureStyle

from test_exp_support import cli_run

SMALL = ["--set", "horizon=300", "--reps", "2", "--workers", "1", "--no-figures"]
HERE = ["--workers", "1"]
"""plot draws a run's figures on worker processes by default: in this one, `drawn` sees them."""
COLUMN = ["--width", "3.5in", "--font-size", "8"]
KINDS = {"run": ["clinical", "delays", "gantt", "inventory", "throughput"], "ofat": ["comparison", "tornado"],
         "grid": ["comparison", "response"], "compare": ["comparison", "differences"]}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """Small results folders of every kind: a run, a one-factor-at-a-time and a grid batch, a comparison."""
    root = tmp_path_factory.mktemp("figopts")
    out = {k: root / k for k in KINDS}
    assert cli_run("run", *SMALL, "--out", out["run"]).exit_code == 0
    for kind, factors in (("ofat", "trials.P3-001.resupply.level: [4, 10]\n    packaging.shelf_life: [200, 900]"),
                          ("grid", "trials.P3-001.resupply.trigger: [1, 3]\n    trials.P3-001.resupply.level: [6, 9]")):
        batch = root / f"{kind}.yaml"
        batch.write_text(f"set: {{horizon: 300}}\nreplications: 2\nsweep:\n  design: {kind}\n  factors:\n    {factors}\n")
        assert cli_run("batch", batch, *SMALL[2:], "--out", out[kind]).exit_code == 0
    res = cli_run("compare", "default", "default", "--set-b", "trials.P3-001.resupply.level=4", *SMALL,
                  "--out", out["compare"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture
def drawn(monkeypatch) -> dict[str, list]:
    """Every figure saved, by name: checked as it is written (after layout, before it is closed)."""
    seen: dict[str, list] = {}
    original = output.save_figure

    def capture(fig, path, **kwargs):
        if path.stem not in seen:  # the first of its name (a comparison draws each scenario's too)
            problems = _problems(fig)
            problems += [f"{t.get_text()!r} at {t.get_fontsize():.3g} pt" for _, t, _ in _texts(fig)
                         if t.get_fontsize() < 6]
            problems += [f"no unit on {u}" for u in _unlabelled_scales(fig)]
            seen[path.stem] = [problems, fig]
        return original(fig, path, **kwargs)
    monkeypatch.setattr(output, "save_figure", capture)
    return seen


def _texts(fig):
    """(what, text artist, window box) of every label the figure draws."""
    fig.draw_without_rendering()
    r = fig.canvas.get_renderer()
    out = []
    if fig._suptitle is not None and fig._suptitle.get_text():
        out.append(("suptitle", fig._suptitle))
    for leg in fig.legends:
        out += [("legend", t) for t in leg.get_texts()]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        out += [("title", t) for t in (ax.title, ax._left_title, ax._right_title) if t.get_text()]
        out += [("label", a.label) for a in (ax.xaxis, ax.yaxis) if a.label.get_text() and a.label.get_visible()]
        for axis in (ax.xaxis, ax.yaxis):
            out += [(f"tick {axis.axis_name}", t) for which in ("major", "minor")
                    for t, _ in visible_ticklabels(axis, r, which)]
        if ax.get_legend() is not None:
            out += [("legend", t) for t in ax.get_legend().get_texts()]
        out += [("annotation", t) for t in ax.texts if t.get_text()]
    return [(what, t, t.get_window_extent(r)) for what, t in out]


def _unlabelled_scales(fig) -> list[str]:
    """Numeric axes drawn with tick labels but without a label (a unit) in their row (y) or column (x)."""
    r = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    bad = []
    for ax in axes:
        spec = ax.get_subplotspec()
        for axis, same in ((ax.xaxis, lambda a: a.get_subplotspec().colspan.start == spec.colspan.start),
                           (ax.yaxis, lambda a: a.get_subplotspec().rowspan.start == spec.rowspan.start)):
            if isinstance(axis.get_major_locator(), FixedLocator) or not visible_ticklabels(axis, r):
                continue
            if not any((a.xaxis if axis is ax.xaxis else a.yaxis).label.get_text() for a in axes if same(a)):
                bad.append(f"{ax.get_title()!r} {axis.axis_name}")
    return bad


def _problems(fig) -> list[str]:
    """Labels outside the figure, and pairs of labels that overlap."""
    texts = _texts(fig)
    box = fig.bbox
    bad = [f"clipped {what} {t.get_text()!r}" for what, t, b in texts
           if b.x0 < box.x0 - 1 or b.y0 < box.y0 - 1 or b.x1 > box.x1 + 1 or b.y1 > box.y1 + 1]
    for i, (w1, t1, b1) in enumerate(texts):
        for w2, t2, b2 in texts[i + 1:]:
            if overlapping([b1, b2], tolerance=1.0):
                bad.append(f"{w1} {t1.get_text()!r} overlaps {w2} {t2.get_text()!r}")
    return bad


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_figure_fits_a_single_column(folders, drawn, kind):
    res = cli_run("plot", folders[kind], *COLUMN, "--style", "paper", "--format", "png", "--no-per-scenario", *HERE)
    assert res.exit_code == 0, res.output
    assert sorted(drawn) == KINDS[kind]  # a comparison's scenarios' own figures are the run's kinds
    for name, (problems, fig) in drawn.items():
        assert problems == [], name  # nothing clipped or overlapping, >= 6 pt, units on every scale
        assert fig.get_size_inches()[0] == pytest.approx(3.5)
        assert 1.5 < fig.get_size_inches()[1] < 11, name  # heights follow the width, within a page
    png = (folders[kind] / "figures" / f"{KINDS[kind][0]}.png").read_bytes()
    width_px = struct.unpack(">I", png[16:20])[0]
    assert width_px == round(3.5 * 300)  # exactly the width asked for, at paper's 300 dpi


def test_study_figure_fits_a_single_column(tmp_path, drawn):
    rows = [["base", m, line, "", v, v / 10] for m, v in (("throughput (units/day)", 900.0), ("cycle time (days)", 12.0),
                                                          ("WIP (units)", 5000.0)) for line in ("batch-line", "cont-line")]
    rows += [["base", p, line, "", 0.8, 0.02] for p in ("availability", "performance", "quality", "OEE")
             for line in ("batch-line", "cont-line")]
    rows += [[study, metric, line, x, 100.0 * x + 1, 1.0] for study, metric, xs in
             (("mtbf", "throughput (units/day)", (0.25, 1.0, 4.0)), ("analysts", "cycle time (days)", (1, 2, 4)))
             for line in ("batch-line", "cont-line", "cont-line (end-of-run QC)") for x in xs]
    for kind in ("paper", "grayscale"):
        drawn.clear()
        style = FigureStyle(kind, width=3.5, font_size=8, formats=("png",))
        (path,) = batch_vs_continuous_figure(rows, "batch-line", "cont-line", "study", 2, tmp_path, style)
        assert path.name == "batch_vs_continuous.png"
        problems, fig = drawn["batch_vs_continuous"]
        assert problems == []
        assert all(ax.get_ylabel() for ax in fig.axes)  # units on every value axis


def test_figures_yaml_records_the_options_and_plot_reuses_them(folders, tmp_path):
    folder = folders["grid"]
    res = cli_run("plot", folder, "--width", "89mm", "--font-size", "8", "--style", "grayscale", "--format", "pdf,svg",
                  "--dpi", "200")
    assert res.exit_code == 0, res.output
    assert (folder / "figures.yaml").read_text().splitlines()[2:] == [
        "format: [pdf, svg]", "width: 3.5039in", "font_size: 8.0", "style: grayscale", "dpi: 200"]
    first = {p.name: p.read_bytes() for p in (folder / "figures").glob("*.[ps][dv]*")}
    assert sorted(first) == sorted(f"{n}.{e}" for n in KINDS["grid"] for e in ("pdf", "svg"))
    for p in (folder / "figures").iterdir():
        p.unlink()
    assert cli_run("plot", folder).exit_code == 0  # no flags: the same set, byte for byte
    assert {p.name: p.read_bytes() for p in (folder / "figures").iterdir()} == first
    assert cli_run("plot", folder, "--style", "paper").exit_code == 0  # a flag overrides, the rest is kept
    assert "style: paper" in (folder / "figures.yaml").read_text()
    assert "format: [pdf, svg]" in (folder / "figures.yaml").read_text()
    (folder / "figures.yaml").write_text("width: 3.5 furlongs\n")
    res = cli_run("plot", folder)
    assert res.exit_code == 2 and "figures.yaml: expected a width such as 3.5in" in res.stderr
    res = cli_run("plot", folder, "--width", "7in", "--format", "png")  # flags over a bad file: still refused
    assert res.exit_code == 2
    (folder / "figures.yaml").unlink()
    assert cli_run("plot", folder).exit_code == 0  # none: the screen defaults, PNG
    assert sorted(p.suffix for p in (folder / "figures").glob("response.*")) == [".pdf", ".png", ".svg"]
    assert "style: screen" in (folder / "figures.yaml").read_text()


def _png_text(data: bytes) -> dict[str, str]:
    out, pos = {}, 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = zlib.decompress(value[1:]).decode("latin-1")
        pos += 12 + length
    return out


def test_provenance_is_embedded_in_pdf_svg_and_png(folders):
    folder = folders["ofat"]
    assert cli_run("plot", folder, "--format", "pdf,svg,png").exit_code == 0
    meta = json.loads((folder / "metadata.json").read_text())
    plan = json.loads((folder / "plan.json").read_text())
    seed, version, base_hash = str(meta["seed"]), meta["version"], plan["points"][0]["hash"]
    pdf = (folder / "figures" / "tornado.pdf").read_bytes()
    assert f"seed={seed}".encode() in pdf and f"pharmasim {version}".encode() in pdf and base_hash.encode() in pdf
    assert b"/CreationDate" not in pdf
    svg = (folder / "figures" / "tornado.svg").read_text()
    assert f"seed={seed}" in svg and "<dc:title>tornado: " in svg and base_hash in svg and "<dc:date>" not in svg
    text = _png_text((folder / "figures" / "tornado.png").read_bytes())
    assert text["pharmasim:seed"] == seed and text["Software"] == f"pharmasim {version}"
    assert base_hash in text["pharmasim:scenario_hash"]
    run_meta = json.loads((folders["run"] / "metadata.json").read_text())
    assert cli_run("plot", folders["run"], "--format", "png").exit_code == 0
    text = _png_text((folders["run"] / "figures" / "gantt.png").read_bytes())
    assert text["pharmasim:scenario"] == run_meta["scenario"] and text["pharmasim:replications"] == "2"


def _gray(colour) -> bool:
    r, g, b, _ = mcolors.to_rgba(colour)
    return abs(r - g) < 1e-6 and abs(g - b) < 1e-6


def test_grayscale_tells_series_apart_by_line_style_and_marker(folders, drawn):
    assert cli_run("plot", folders["run"], *COLUMN, "--style", "grayscale", *HERE).exit_code == 0
    _, fig = drawn["throughput"]
    ax = next(a for a in fig.axes if len([l for l in a.get_lines() if not l.get_label().startswith("_")]) > 1)
    lines = [l for l in ax.get_lines() if not l.get_label().startswith("_")]
    looks = {(str(l.get_linestyle()), l.get_marker()) for l in lines}
    assert len(looks) == len(lines) and all(_gray(l.get_color()) for l in lines)
    _, fig = drawn["inventory"]
    sites = [l for l in fig.axes[1].get_lines() if not l.get_label().startswith("_")]
    assert len(sites) == 3 and len({(str(l.get_linestyle()), l.get_marker()) for l in sites}) == 3
    drawn.clear()
    assert cli_run("plot", folders["ofat"], *COLUMN, "--style", "grayscale").exit_code == 0
    _, fig = drawn["tornado"]
    hatches = {p.get_hatch() for p in fig.axes[0].patches}
    assert len(hatches) == 2 and all(_gray(p.get_facecolor()) for p in fig.axes[0].patches)


def test_screen_default_keeps_its_look(folders, drawn):
    res = cli_run("plot", folders["run"], "--style", "screen", "--format", "png", "--width", "auto", "--font-size",
                  "auto", "--dpi", "auto", *HERE)  # auto: the style's defaults, over figures.yaml's
    assert res.exit_code == 0
    _, fig = drawn["throughput"]
    assert tuple(fig.get_size_inches()) == pytest.approx((7.2, 6.6))  # the figure's own size
    _, fig = drawn["inventory"]
    assert tuple(fig.get_size_inches()) == pytest.approx((9, 2.8))
    colours = [l.get_color() for l in fig.axes[1].get_lines()]
    assert colours[:3] == ["#0072B2", "#D55E00", "#009E73"]  # Okabe-Ito, colour-blind safe
    png = (folders["run"] / "figures" / "throughput.png").read_bytes()
    assert 900 < struct.unpack(">I", png[16:20])[0] <= 7.2 * 150  # 150 dpi, cropped to the drawing


@pytest.mark.parametrize("args, message", [
    (["--width", "3.5furlongs"], "expected a width such as 3.5in, 7in, 8.9cm or 89mm; got '3.5furlongs'"),
    (["--width", "1in"], "width '1in' is 1 in; expected 2 to 20 in"),
    (["--width", "90cm"], "expected 2 to 20 in"),
    (["--font-size", "big"], "expected a font size in points such as 8; got 'big'"),
    (["--font-size", "2"], "font size '2': expected 5 to 24 points"),
    (["--style", "neon"], "expected one of screen, paper, grayscale; got 'neon'"),
    (["--dpi", "0"], "dpi '0': expected 50 to 1200"),
    (["--format", "tiff"], "expected formats among png, svg, pdf; got 'tiff'"),
])
def test_bad_options_are_clear_errors(tmp_path, args, message):
    res = cli_run("plot", tmp_path, *args)
    assert res.exit_code == 2 and message in res.stderr
    res = cli_run("run", "--reps", "1", "--out", tmp_path / "never", *args)  # refused before running anything
    assert res.exit_code == 2 and message in res.stderr and not (tmp_path / "never").exists()


def test_widths_in_other_units():
    from sim.figures.options import parse_width
    assert parse_width("8.9cm") == pytest.approx(3.504, abs=1e-3)
    assert parse_width("180mm") == pytest.approx(7.087, abs=1e-3)
    assert parse_width("7") == 7.0 and parse_width("3.5 in") == 3.5
