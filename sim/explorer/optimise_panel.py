"""The explorer's *Optimise* panel: choose decision variables among the scenario's fields, their bounds,
an objective, a constraint and a budget; start :func:`sim.api.optimise` in the background on the shared
worker pool; watch a progress bar and a live table of candidates; download the best configuration.

:class:`Draft` (what the form holds, as an optimisation file) and :class:`OptimiseRun` (the run in a
thread, with progress and cancel) need no browser and are unit-tested; :class:`OptimisePanel` is the
NiceGUI form over them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim import api
from sim.explorer.fields import CHOICE, INTEGER, NUMBER, FieldSpec
from sim.explorer.jobs import Background
from sim.explorer.results import fmt
from sim.scenario.yamlio import YamlProblem, load_yaml

VARIABLE_KINDS = (INTEGER, NUMBER, CHOICE)
"""Fields that can be decision variables: numbers (integer or continuous) and choices (categorical)."""

CANDIDATE_COLUMNS = [
    {"name": "rank", "label": "#", "field": "rank"},
    {"name": "values", "label": "configuration", "field": "values", "align": "left"},
    {"name": "n", "label": "replications", "field": "n"},
    {"name": "objective", "label": "objective (95 % CI)", "field": "objective"},
    {"name": "constraint", "label": "constraint mean (95 % CI)", "field": "constraint"},
    {"name": "feasible", "label": "feasible", "field": "feasible"},
]


def variable_fields(specs: list[FieldSpec]) -> dict[str, FieldSpec]:
    """The fields that may be decision variables, by their ``--set`` path."""
    return {s.set_path: s for s in specs if s.kind in VARIABLE_KINDS and s.value is not None}


def default_bounds(spec: FieldSpec) -> tuple[float, float]:
    """Half to twice the current value, kept inside the field's own range."""
    v = float(spec.value)
    lo, hi = (v / 2, v * 2) if v > 0 else (v * 2, v / 2) if v < 0 else (0.0, 1.0)
    if spec.minimum is not None:
        lo = max(lo, spec.minimum + (1 if spec.kind == INTEGER and spec.exclusive_min else 0))
    if spec.maximum is not None:
        hi = min(hi, spec.maximum)
    if spec.kind == INTEGER:
        lo, hi = int(round(lo)), int(round(hi))
    return lo, hi


def parse_objective(text: str) -> dict[str, Any]:
    """The objective box: a metric name, or a YAML mapping ``{metric: weight, ...}`` (a weighted sum)."""
    text = (text or "").strip()
    if not text:
        return {}
    try:
        value = load_yaml(text)
    except YamlProblem:
        value = text
    if isinstance(value, dict):
        return {"weights": value}
    return {"metric": str(value)}


@dataclass
class Draft:
    """The form's content: turned into an optimisation file by :meth:`spec`."""

    variables: dict[str, dict[str, Any]] = field(default_factory=dict)   # set path -> {type, low, high | choices}
    objective: str = "cost.total"
    sense: str = "minimise"
    constraint_metric: str = ""
    constraint_kind: str = "max"                                           # max | min
    constraint_bound: float | None = None
    candidates: int = 12
    reps: int = 4
    top: int = 3
    indifference: float = 1.0
    confidence: float = 0.95
    first_reps: int = 6
    max_reps: int = 60

    def add(self, spec: FieldSpec, low: float | None = None, high: float | None = None,
            kind: str | None = None) -> None:
        """Make *spec* a decision variable: a number between *low* and *high* (default around its value),
        *kind* ``integer`` or ``continuous`` (default: as the field is); a choice field over all its
        choices."""
        if spec.kind == CHOICE:
            self.variables[spec.set_path] = {"type": "categorical", "choices": list(spec.choices)}
            return
        d_lo, d_hi = default_bounds(spec)
        kind = kind or ("integer" if spec.kind == INTEGER else "continuous")
        self.variables[spec.set_path] = {"type": kind, "low": d_lo if low is None else low,
                                         "high": d_hi if high is None else high}

    def spec(self, name: str, seed: int) -> dict[str, Any]:
        """The optimisation file as a dict (validated by :func:`sim.api.optimise`)."""
        constraints = []
        if self.constraint_metric.strip() and self.constraint_bound is not None:
            constraints.append({"metric": self.constraint_metric.strip(), self.constraint_kind: self.constraint_bound})
        return {"name": name, "seed": seed,
                "variables": [{"path": p, **v} for p, v in self.variables.items()],
                "objective": {**parse_objective(self.objective), "sense": self.sense},
                "constraints": constraints,
                "search": {"candidates": self.candidates, "reps": self.reps},
                "selection": {"top": self.top, "indifference": self.indifference, "confidence": self.confidence,
                              "first_reps": self.first_reps, "max_reps": self.max_reps}}


def candidate_rows(progress, constraint: str | None = None) -> list[dict[str, Any]]:
    """The live table: every candidate so far, the current best first and the others as ranked (feasible
    first, then by objective), its objective (in the file's sense) and its first constraint's mean with
    their 95 % CIs."""
    if progress is None:
        return []
    rows = []
    best = progress.best.values if progress.best is not None else None
    ordered = sorted(progress.candidates, key=lambda c: c.values != best)  # the best first, then as ranked
    for i, c in enumerate(ordered, 1):
        mean, lo, hi = progress.objective(c)
        n = c.objective.n
        row = {"rank": i, "values": ", ".join(f"{k.rsplit('.', 1)[-1] if len(c.values) > 1 else k} = {v}"
                                               for k, v in c.values.items()),
               "n": n, "objective": f"{fmt(mean)} [{fmt(lo)}, {fmt(hi)}]" if n > 1 else fmt(mean),
               "constraint": "–", "feasible": "yes" if c.feasible else "no",
               "best": c.values == best}
        if c.constraints:
            s = c.constraints[0]
            row["constraint"] = f"{fmt(s.mean)} [{fmt(s.ci_low)}, {fmt(s.ci_high)}]" if s.n > 1 else fmt(s.mean)
        rows.append(row)
    return rows


def status_text(run: "OptimiseRun") -> str:
    """One line: the phase, candidates, replications, the best so far."""
    p = run.progress
    if run.state == "failed":
        return f"failed: {run.error}"
    if p is None:
        return "starting …" if run.state == "running" else ""
    text = f"{p.evaluated} of {p.planned} candidates, {p.replications} replications"
    if p.phase == "selection":
        text += f"; selection: {p.in_contention} in contention after {p.stage_reps} replications each"
    if p.best is not None:
        mean, lo, hi = p.objective(p.best)
        text += f"; best so far {_values(p.best.values)}: {fmt(mean)} [{fmt(lo)}, {fmt(hi)}]"
    if run.result is not None and run.result.selection.stopped_by_cap:
        text += "; the selection stopped at its replication cap, so KN's guarantee does not hold"
    return text + {"running": " …", "cancelled": " (cancelled)", "done": " ✓"}.get(run.state, "")


def _values(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in values.items())


class OptimiseRun(Background):
    """One optimisation in a background thread: the latest :class:`~sim.api.Progress`, the result,
    and a cancel that stops it before the next candidate or selection stage."""

    cancelled_by = api.OptimisationCancelled

    def __init__(self, spec: dict[str, Any], scenario, out: Path, backend) -> None:
        self.spec, self.scenario, self.out, self.backend = spec, scenario, Path(out), backend
        self.progress = None
        self.result = None
        super().__init__("explore-optimise")

    def best_yaml(self) -> str | None:
        path = self.out / "best.yaml"
        return path.read_text(encoding="utf-8") if self.state == "done" and path.is_file() else None

    def _report(self, progress) -> None:
        self.progress = progress
        self.version += 1

    def _work(self) -> None:
        self.result = api.optimise(self.spec, self.out, scenario=self.scenario, backend=self.backend,
                                   progress=self._report, cancel=self._cancel.is_set)


SUGGESTED_METRICS = ("cost.total", "waste.kits", "total.visits.not_dosed", "dosed_fraction", "risk.not_dosed",
                     "total.packaged.kits", "kits.produced")


class OptimisePanel:
    """The form, the progress and the candidates of a :class:`~sim.explorer.page.Tab` (one per tab)."""

    def __init__(self, tab) -> None:
        self.tab = tab
        self.draft = Draft()
        self.run: OptimiseRun | None = None
        self.runs = 0
        self.seen = -1
        self.formed = False                                  # the form is made on first opening

    def build(self) -> None:
        """The folded panel; its form is made when it is first opened (the page is sent sooner)."""
        from nicegui import ui
        self.panel = ui.expansion("Optimise: the best setting of chosen fields (search + Kim-Nelson selection)",
                                  icon="tune").classes("w-full").props("dense").mark("optimise")
        self.panel.on_value_change(lambda e: self.build_form() if e.value and not self.formed else None)
        ui.context.client.on_delete(self.cancel)  # the tab is gone: stop before the next candidate

    def build_form(self) -> None:
        from nicegui import ui
        self.formed = True
        with self.panel:
            with ui.row().classes("items-end w-full no-wrap gap-2"):
                self.field = ui.select([], label="decision variable (a field, as --set names it)", with_input=True,
                                       new_value_mode="add-unique", on_change=self._pick).props(
                    "dense").classes("w-96").mark("opt-field")
                self.kind = ui.select(["integer", "continuous"], value="continuous", label="type").props(
                    "dense").classes("w-32").mark("opt-type")
                self.low = ui.number("low").props("dense").classes("w-24").mark("opt-low")
                self.high = ui.number("high").props("dense").classes("w-24").mark("opt-high")
                ui.button("Add", on_click=self._add).props("dense").mark("opt-add")
            self.chosen = ui.column().classes("w-full gap-0").mark("opt-variables")
            with ui.row().classes("items-end w-full no-wrap gap-2"):
                self.objective = ui.select(list(SUGGESTED_METRICS), value=self.draft.objective, with_input=True,
                                           new_value_mode="add-unique",
                                           label="objective: a metric, or {metric: weight, ...}").props(
                    "dense").classes("w-96").mark("opt-objective")
                self.sense = ui.select(["minimise", "maximise"], value="minimise").props("dense").classes("w-32")
            with ui.row().classes("items-end w-full no-wrap gap-2"):
                self.c_metric = ui.select(["", *SUGGESTED_METRICS], value="", with_input=True,
                                          new_value_mode="add-unique", label="constraint metric (optional)").props(
                    "dense").classes("w-72").mark("opt-constraint")
                self.c_kind = ui.select(["max", "min"], value="max").props("dense").classes("w-20")
                self.c_bound = ui.number("bound").props("dense").classes("w-28").mark("opt-bound")
            with ui.row().classes("items-end w-full gap-2"):
                self.budget = {name: ui.number(label, value=getattr(self.draft, name), precision=precision).props(
                    "dense").classes("w-32").mark(f"opt-{name}") for name, label, precision in (
                    ("candidates", "candidates", 0), ("reps", "reps per candidate", 0), ("top", "finalists", 0),
                    ("indifference", "indifference zone", None), ("first_reps", "first reps (KN)", 0),
                    ("max_reps", "max reps per finalist", 0))}
            with ui.row():
                ui.button("Start optimisation", icon="play_arrow", on_click=self.start).mark("opt-start")
                ui.button("Cancel", color="grey", on_click=self.cancel).mark("opt-cancel")
                ui.button("Download best.yaml", icon="download", on_click=self.download).mark("opt-download")
            self.bar = ui.linear_progress(0, show_value=False).classes("w-full").mark("opt-progress")
            self.status = ui.label("not started").classes("text-xs").mark("opt-status")
            self.table = ui.table(columns=CANDIDATE_COLUMNS, rows=[], row_key="rank", pagination=10).classes(
                "w-full").props("dense flat bordered").mark("opt-candidates")
            self.table.add_slot("body-cell-values", r'''
                <q-td :props="props" :class="props.row.best ? 'text-weight-bold text-primary' : ''">
                  {{ props.value }}{{ props.row.best ? '  ← best' : '' }}</q-td>''')
        self.fields = variable_fields(self.tab.session.specs())
        self.field.options = sorted(self.fields)
        self.field.update()
        ui.timer(0.5, self.refresh)

    def _pick(self, e) -> None:
        spec = self.fields.get(e.value or "")
        if spec is not None and spec.kind != CHOICE:
            self.low.value, self.high.value = default_bounds(spec)
            self.kind.value = "integer" if spec.kind == INTEGER else "continuous"

    def _add(self) -> None:
        from nicegui import ui
        self.fields = variable_fields(self.tab.session.specs())
        spec = self.fields.get(str(self.field.value or "").strip())
        if spec is None:
            ui.notify("Choose a numeric or choice field of the scenario", type="warning")
            return
        self.draft.add(spec, self.low.value, self.high.value, self.kind.value)
        self.show_variables()

    def show_variables(self) -> None:
        from nicegui import ui
        self.chosen.clear()
        with self.chosen:
            for path, v in self.draft.variables.items():
                with ui.row().classes("items-center no-wrap gap-2"):
                    text = f"{path}: {v['choices']}" if v["type"] == "categorical" else \
                        f"{path}: {v['type']} from {v['low']:g} to {v['high']:g}"
                    ui.label(text).classes("text-sm")
                    ui.button(icon="close", on_click=lambda _, p=path: self._remove(p)).props("flat dense size=sm")

    def _remove(self, path: str) -> None:
        self.draft.variables.pop(path, None)
        self.show_variables()

    def start(self) -> None:
        from nicegui import ui
        if self.run is not None and not self.run.finished:
            ui.notify("An optimisation is running: cancel it first", type="warning")
            return
        d = self.draft
        d.objective, d.sense = str(self.objective.value or ""), self.sense.value
        d.constraint_metric, d.constraint_kind, d.constraint_bound = str(self.c_metric.value or ""), \
            self.c_kind.value, self.c_bound.value
        for name, box in self.budget.items():
            if box.value is not None:
                setattr(d, name, float(box.value) if name == "indifference" else int(box.value))
        if not d.variables:
            ui.notify("Add at least one decision variable", type="warning")
            return
        check = self.tab.session.check()
        if not check.ok:
            ui.notify("The scenario has fields marked in red: fix them first", type="warning")
            return
        self.runs += 1
        spec = d.spec(f"{check.scenario.name}-optimise", self.tab.session.seed)
        out = self.tab.folder / f"optimise-{self.runs}"
        self.run = OptimiseRun(spec, check.scenario, out, self.tab.app.pool.backend()).start()
        self.seen = -1

    def cancel(self) -> None:
        if self.run is not None and not self.run.finished:
            self.run.cancel()

    def refresh(self) -> None:
        run = self.run
        if run is None or run.version == self.seen:
            return
        self.seen = run.version
        p = run.progress
        self.bar.value = p.fraction if p is not None else 0
        self.status.text = status_text(run)
        self.table.rows = candidate_rows(p)

    def download(self) -> None:
        from nicegui import ui
        text = self.run.best_yaml() if self.run is not None else None
        if text is None:
            ui.notify("No result yet: start an optimisation and let it finish", type="warning")
            return
        ui.download.content(text.encode("utf-8"), f"{self.run.spec['name']}-best.yaml")
