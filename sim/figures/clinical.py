"""Clinical-supply figures from a results folder: enrollment with a prediction band, kits at
the depots and at a few sites, and visits not dosed over time split by cause.

Built from the stored tables only (``series``, ``metrics``), like :mod:`sim.figures.results`,
whose :func:`~sim.figures.make_figures` draws it for every run with trials.  Four panels in two
rows at its own width; stacked in one column at a single column's width.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.figures.layout import finish, legend  # noqa: E402
from sim.figures.output import save, save_figure  # noqa: E402
from sim.figures.style import FigureStyle, band, scenario_name  # noqa: E402
from sim.experiments.columnar import load_series, metric_columns, stored_reps  # noqa: E402


def has_clinical_series(series: dict[str, np.ndarray]) -> bool:
    """Whether a run's series can feed this figure: it needs patients enrolled over time."""
    return any(n.startswith("enrolled.") for n in series)


def _metrics(results_dir: Path) -> dict[str, np.ndarray]:
    """Metric -> its value in each stored replication (NaN where missing)."""
    reps = stored_reps(results_dir)
    names, values = metric_columns(results_dir, reps)
    return {n: values[:, j] for j, n in enumerate(names)}


def _busiest_sites(metrics: dict[str, list[float]], series, n: int = 3) -> list[str]:
    """The *n* sites that randomised most patients among those that hold kits (not direct to patient)."""
    sites = {k[5:-len(".randomised")]: np.nanmean(v) for k, v in metrics.items()
             if k.startswith("site.") and k.endswith(".randomised")}
    stocked = [s for s in sites if np.nansum(series.get(f"inventory.site.{s}", 0.0)) > 0]
    return sorted(stocked, key=lambda s: -sites[s])[:n]


def enrollment_panel(ax, series, t, metrics, style: FigureStyle) -> None:
    """Cumulative randomised patients per trial: median and 5-95 % prediction band across replications."""
    for i, name in enumerate(sorted(n for n in series if n.startswith("enrolled."))):
        cum = np.cumsum(np.nan_to_num(series[name]), axis=1)
        lo, med, hi = np.percentile(cum, [5, 50, 95], axis=0)
        line, = ax.plot(t, med, lw=1.5 if style.screen else 1.0, label=name.removeprefix("enrolled."),
                        **style.line(i))
        ax.fill_between(t, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
        lpi = metrics.get(f"trial.{name.removeprefix('enrolled.')}.last_patient_in", [])
        lpi = [x for x in lpi if np.isfinite(x)]
        if lpi:
            ax.axvline(np.median(lpi), color=line.get_color(), ls=":", lw=1)
    ax.set_title("Patients randomised (median, 5-95 % band; dotted: median LPI)")
    ax.set_ylabel("patients")
    legend(ax, style, 10)


def inventory_panels(ax_depot, ax_sites, series, t, metrics, style: FigureStyle) -> None:
    for n in sorted(n for n in series if n.startswith("inventory.depot.")):
        band(ax_depot, t, series[n], n.removeprefix("inventory.depot."), style=style)
    ax_depot.set_title("Kits at depots (mean, 5-95 % band)")
    ax_depot.set_ylabel("kits (period average)")
    legend(ax_depot, style, 10)
    for s in _busiest_sites(metrics, series):
        band(ax_sites, t, series[f"inventory.site.{s}"], s, style=style)
    if "inventory.homes_total" in series:
        band(ax_sites, t, series["inventory.homes_total"], "all patients' homes", style=style)
    ax_sites.set_title("Kits at the three busiest sites (mean, 5-95 % band)")
    ax_sites.set_ylabel("kits (period average)")
    legend(ax_sites, style, 10)


def not_dosed_panel(ax, series, t, metrics, period: float, style: FigureStyle) -> None:
    for kind, label in (("missed_dispensing", "missed dispensing (kit upstream)"),
                        ("out_of_stock", "out of stock (none usable anywhere)")):
        name = f"visits.{kind}"
        if name not in series:
            continue
        risk = metrics.get(f"risk.{kind}", [])
        share = f", {100 * np.nanmean(risk):.0f} % of runs" if len(risk) else ""
        band(ax, t, series[name], f"{label}{share}", style=style)
    ax.set_title("Visits not dosed (mean, 5-95 % band)")
    ax.set_ylabel(f"visits per {period:g} days")
    legend(ax, style, 10)


def clinical_figure(results_dir: str | Path, out: str | Path | None = None,
                    loaded: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
                    style: FigureStyle | None = None) -> list[Path]:
    """The four-panel clinical figure; written to ``<results>/figures/clinical.<format>`` and, if
    *out* is given, also to that path.  *loaded*: the folder's :func:`~sim.experiments.columnar.load_series`,
    if the caller has it already (the series can be large; read them once)."""
    results_dir = Path(results_dir)
    style = style or FigureStyle()
    with plt.rc_context(style.rc()):
        series, t = loaded if loaded is not None else load_series(results_dir)
        metrics = _metrics(results_dir)
        period = float(t[1] - t[0]) if len(t) > 1 else 1.0
        ncol = style.columns(2, 10, 2.6)
        w = style.figwidth(10)
        fig, axes = plt.subplots(4 // ncol, ncol, figsize=(w, style.panel_height(w / ncol, 3.2) * (4 // ncol) + (0.3 if style.fixed else 0)),
                                 sharex=True, squeeze=False)
        panels = list(axes.flat)
        enrollment_panel(panels[0], series, t, metrics, style)
        not_dosed_panel(panels[1], series, t, metrics, period, style)
        inventory_panels(panels[2], panels[3], series, t, metrics, style)
        for ax in axes[-1]:
            ax.set_xlabel("day")
        n = len(next(iter(metrics.values()), []))
        fig.suptitle(f"{scenario_name(results_dir)}: {n} replications")
        paths = []
        if out is not None:
            finish(fig, style)
            paths.append(save_figure(fig, Path(out), dpi=style.resolution()))
        paths += save(fig, results_dir / "figures", "clinical", style)
    return paths
