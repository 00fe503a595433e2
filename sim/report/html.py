"""``pharmasim report``: one self-contained HTML page (figures embedded, no outside resources, prints
well) and the KPI tables as Markdown and LaTeX, written into the results folder.

The page is a Jinja2 template (``templates/report.html``) filled from :class:`~sim.report.tables.Report`.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sim.experiments.tables import atomic_write_text
from sim.report.tables import Report, latex, markdown, number, read_report

FILES = ("report.html", "kpis.md", "kpis.tex")

CAPTIONS = {
    "throughput": "Throughput per stage and reporting period: mean across replications, band 5–95 %.",
    "inventory": "Average stock in each reporting period: mean across replications, band 5–95 %.",
    "delays": "Distributions of the delays (pooled samples of every replication).",
    "clinical": "Enrollment against its prediction band, visits not dosed by cause, depot and site stock.",
    "comparison": "Each scenario's headline metrics: means with 95 % intervals.",
    "differences": "Paired differences B − A with 95 % intervals (common random numbers).",
    "tornado": "One factor at a time: how far each input moves the headline metrics.",
    "response": "Response of the headline metrics to the swept factors, with 95 % bands.",
}


@dataclass(frozen=True)
class Figure:
    caption: str
    mime: str
    data: str


def _figures(folder: Path, draw: bool) -> list[Figure]:
    """The folder's PNG figures (drawn first if it has none and *draw*), embedded as base64."""
    pngs = sorted((folder / "figures").glob("*.png"))
    if not pngs and draw:
        from sim.figures import plot_results
        pngs = sorted(p for p in plot_results(folder, formats=("png",)) if p.suffix == ".png")
    out = []
    for p in pngs:
        key = next((k for k in CAPTIONS if p.stem.startswith(k)), None)
        caption = CAPTIONS[key] if key else p.stem.replace("_", " ").replace("-", " ")
        if p.stem.startswith("gantt"):
            caption = f"What each line did when ({p.stem.removeprefix('gantt_')}), first stored replication."
        out.append(Figure(caption, "image/png", base64.b64encode(p.read_bytes()).decode("ascii")))
    return out


def _facts(report: Report) -> list[tuple[str, str]]:
    m = report.meta
    facts = [("tool", f"pharmasim {m.get('version', '?')}"), ("seed", str(m.get("seed", "?")))]
    reps = sorted(set(report.replications.values()))
    facts.append(("replications", ", ".join(map(str, reps)) + (" per scenario" if len(report.scenarios) > 1 else "")))
    if len(report.scenarios) > 1:
        facts.append(("scenarios", ", ".join(report.scenarios)))
    scen = report.folder / "scenario.yaml"
    if scen.is_file():
        facts.append(("scenario file (sha256)", hashlib.sha256(scen.read_bytes()).hexdigest()[:16]))
    if m.get("started_utc"):
        facts.append(("run", f"{m['started_utc'][:19].replace('T', ' ')} UTC, {m.get('wall_seconds', '?')} s "
                             f"on {m.get('backend', '?')} ({m.get('workers', '?')} workers)"))
    facts.append(("results folder", str(report.folder)))
    return facts


def _lede(report: Report) -> str:
    if report.compared:
        return (f"{len(report.scenarios)} scenarios side by side, run with common random numbers; the last "
                f"columns are paired differences against {report.reference}.")
    return "Key performance indicators of one scenario, grouped as the CRO/CDMO literature judges a supply chain."


def render(report: Report, figures: list[Figure]) -> str:
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("report.html")
    return template.render(report=report, meta=report.meta, facts=_facts(report), lede=_lede(report),
                           figures=figures, number=number)


def write_report(folder: str | Path, out: str | Path | None = None, figures: bool = True) -> list[Path]:
    """Write ``report.html``, ``kpis.md`` and ``kpis.tex`` for the results *folder* into *out* (default:
    the folder itself); returns their paths."""
    report = read_report(folder)
    out = Path(out) if out is not None else report.folder
    out.mkdir(parents=True, exist_ok=True)
    texts = (render(report, _figures(report.folder, figures) if figures else []), markdown(report), latex(report))
    paths = [out / name for name in FILES]
    for path, text in zip(paths, texts):
        atomic_write_text(path, text)
    return paths
