"""What an optimisation leaves behind for a reader: the chosen configuration as a scenario file and the
trade-off figure (objective against the first constraint, every candidate with its 95 % CIs)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiments.overrides import apply_overrides
from sim.experiments.tables import atomic_write_text


def write_best(path: Path, base, values: dict[str, Any], spec) -> None:
    """The base scenario with the chosen values, as a scenario file that ``run`` takes as it is."""
    from sim.scenario import dump_scenario
    sc = apply_overrides(base, list(values.items()), "best candidate")
    head = "".join(f"#   {k} = {v!r}\n" for k, v in values.items())
    atomic_write_text(path, f"# chosen by pharmasim optimise ({spec.name}, seed {spec.seed}):\n{head}"
                            + dump_scenario(sc))


def tradeoff_figure(out: Path, spec, cands: list, best) -> list[Path]:
    """Objective (y) against the first constraint's metric (x), each candidate with its CIs; the bound
    dashed, the chosen candidate ringed."""
    import matplotlib.pyplot as plt
    from sim.figures.output import save
    from sim.figures.style import FigureStyle
    style = FigureStyle()
    sign = -1 if spec.objective.sense == "maximise" else 1
    ylabel = spec.objective.metric or "weighted objective"
    with plt.rc_context(style.rc()):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for c in cands:
            o = c.objective
            y, yerr = sign * o.mean, o.half_width if o.n > 1 else 0.0
            if spec.constraints:
                s = c.constraints[0]
                x, xerr = s.mean, s.half_width if s.n > 1 else 0.0
            else:
                x, xerr = float(list(c.values.values())[0]) if isinstance(list(c.values.values())[0], (int, float)) \
                    else 0.0, 0.0
            colour = style.colour(0) if c.feasible else style.colour(1)
            ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="o", color=colour, ms=4, lw=0.8, capsize=2)
            if c is best:
                ax.plot(x, y, "o", ms=13, mfc="none", mec="k", lw=1.2, label="chosen")
        if spec.constraints:
            con = spec.constraints[0]
            for bound in (con.max, con.min):
                if bound is not None:
                    ax.axvline(bound, ls="--", color="0.4", lw=0.8, label=f"bound {bound:g}")
            ax.set_xlabel(f"{con.metric} ({_unit(con.metric)}; mean, 95 % CI)")
        else:
            ax.set_xlabel(spec.variables[0].path)
        ax.set_ylabel(f"{ylabel} ({_unit(spec.objective.metric) if spec.objective.metric else 'weighted'}; "
                      "mean, 95 % CI)")
        ax.set_title(f"{spec.name}: candidates (blue feasible, orange not)")
        ax.legend(loc="best", frameon=False)
        fig.tight_layout()
        paths = save(fig, out, "tradeoff", style)
        plt.close(fig)
    return paths


def _unit(metric: str) -> str:
    from sim.metrics import lookup
    entry = lookup(metric)
    return entry.unit if entry is not None else "?"

