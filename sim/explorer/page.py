"""The explorer's page: one :class:`Tab` per browser tab, with its own session, runs and temporary folder.

Left: the guided tour, the common what-ifs, every other field by component, the run settings.  Right:
progress, the headline KPIs (baseline vs what-if with common random numbers), the overlaid figures,
downloads and the equivalent command.  Closing the tab cancels its runs and removes its folder.
"""
from __future__ import annotations

import itertools
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from nicegui import ui

from sim.core.errors import ScenarioError
from sim.explorer.cache import RunCache
from sim.explorer.controls import Controls
from sim.explorer.fields import by_component
from sim.explorer.jobs import Baselines, Job, Pool
from sim.explorer.optimise_panel import OptimisePanel
from sim.explorer.paths import Roots
from sim.explorer.results import FIGURES, chart_options, figure_series, kpi_rows, results_zip
from sim.explorer.session import Session
from sim.explorer.whatifs import quick_fields
from sim.scenario import Scenario, dump_scenario

KPI_COLUMNS = [
    {"name": "metric", "label": "KPI", "field": "metric", "align": "left"},
    {"name": "unit", "label": "unit", "field": "unit", "align": "left"},
    {"name": "base", "label": "baseline (95 % CI)", "field": "base"},
    {"name": "whatif", "label": "what-if (95 % CI)", "field": "whatif"},
    {"name": "difference", "label": "paired difference [95 % CI]", "field": "difference"},
    {"name": "verdict", "label": "verdict", "field": "verdict", "align": "left"},
]


@dataclass
class App:
    """What every tab shares: the start-up scenario, the allowed folders, the pool, cached baselines."""

    scenario: Scenario
    source: str
    roots: Roots
    pool: Pool
    baselines: Baselines
    workdir: Path
    reps: int = 20
    log: Callable[[str], None] = print
    cache: RunCache | None = None


_tab_numbers = itertools.count(1)
OPEN_TOPICS = ("QC", "Manufacturing", "Suppliers")
"""The common what-if topics shown open (the others are one click away)."""


class Tab:
    """One browser tab."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.folder = app.workdir / f"tab-{next(_tab_numbers)}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.session = Session(app.scenario, app.source, reps=app.reps)
        self.base_job: Job | None = None
        self.job: Job | None = None
        self.ran: tuple[Session, Scenario] | None = None
        self.runs = itertools.count(1)
        self.seen = (-1, -1)
        self.controls = Controls(self.edited)

    # -- building --------------------------------------------------------------------------------------
    def build(self) -> None:
        ui.page_title("pharmasim explorer")
        ui.add_css(".q-field--with-bottom { padding-bottom: 0 !important; } "
                   ".q-field__bottom { position: static !important; transform: none !important; }")
        with ui.header().classes("items-center bg-slate-800 q-py-xs"):
            ui.label("pharmasim · what-if explorer").classes("text-lg font-medium")
            self.title = ui.label().classes("text-sm opacity-80")
            ui.space()
            files = ["default", *self.app.roots.scenario_files()]
            self.file = ui.select(files, value=self.session.source, with_input=True, new_value_mode="add-unique",
                                  label="scenario").props("dense dark standout").classes("w-72").mark("scenario-file")
            ui.button("Open", on_click=self.open_file).props("flat color=white").mark("open")
        with ui.row().classes("w-full no-wrap items-start gap-4"):
            with ui.column().classes("w-[30rem] shrink-0 gap-2"):
                self.left = ui.column().classes("w-full gap-2")
            with ui.column().classes("grow gap-3 min-w-0"):
                self.build_results()
                OptimisePanel(self).build()
        self.rebuild_controls()
        self.start_baseline()
        self.refresh()  # a baseline already done (or under way) is in the page as first sent
        ui.timer(0.25, self.refresh)  # cheap when nothing changed (a version compare); a result shows within 0.25 s
        ui.context.client.on_delete(self.close)

    def rebuild_controls(self) -> None:
        s = self.session
        self.title.text = f"{s.base.name} ({s.source})"
        self.controls.clear()
        self.left.clear()
        specs = s.specs()
        quick = quick_fields(specs)
        up_front = {sp.path for _, group in quick for sp in group}
        with self.left:
            with ui.card().classes("w-full q-pa-sm"):
                ui.label("Guided tour: one click runs a prepared what-if").classes("font-medium")
                for t in s.tours():
                    with ui.row().classes("items-center no-wrap w-full"):
                        ui.button(t.title, on_click=lambda _, t=t: self.take_tour(t)).props(
                            "dense no-caps size=sm").classes("shrink-0 w-40").mark(f"tour:{t.key}")
                        ui.label(t.question).classes("text-xs")
                self.look_for = ui.label().classes("text-xs text-blue-900 italic").mark("look-for")
            with ui.card().classes("w-full q-pa-sm"):
                ui.label("Common what-ifs").classes("font-medium")
                for topic, group in quick:
                    self.lazy(topic, lambda group=group: self.add_quick(group), topic in OPEN_TOPICS)
            with ui.card().classes("w-full q-pa-sm"):
                ui.label("Every other field, by component").classes("font-medium")
                for comp, group in by_component([sp for sp in specs if sp.path not in up_front]).items():
                    self.lazy(comp, lambda group=group: [self.controls.add(sp) for sp in group])
            self.others = ui.label().classes("text-negative text-sm whitespace-pre-line").mark("problems")
            with ui.card().classes("w-full q-pa-sm"):
                with ui.row().classes("items-center w-full no-wrap"):
                    ui.number("replications", value=s.reps, min=2, max=1000, precision=0,
                               on_change=self.set_reps).props("dense").classes("w-28").mark("reps")
                    ui.number("seed", value=s.seed, min=0, precision=0,
                              on_change=self.set_seed).props("dense").classes("w-36").mark("seed")
                    ui.label("both runs use this seed (common random numbers)").classes("text-xs")
                with ui.row():
                    ui.button("Run what-if", on_click=self.run, icon="play_arrow").mark("run")
                    ui.button("Cancel", on_click=self.cancel, color="grey").mark("cancel")
                    ui.button("Reset", on_click=self.reset, color="grey").props("outline").mark("reset")
        self.show_check()

    def lazy(self, title: str, fill, open_: bool = False) -> None:
        """An expansion whose controls are made when it is first opened (a page of every field at once
        is slow to render), then shown with their problems."""
        exp = ui.expansion(title, value=open_).classes("w-full").props("dense")
        made = []

        def make(_=None) -> None:
            if exp.value and not made:
                made.append(True)
                with exp:
                    fill()
                self.show_check()

        exp.on_value_change(make)
        if open_:
            with exp:
                fill()
            made.append(True)

    def add_quick(self, group) -> None:
        with ui.grid(columns=2).classes("w-full gap-x-3 gap-y-0"):
            for sp in group:
                short = sp.component not in ("scenario", sp.path.split(".")[0])
                self.controls.add(sp, f"{sp.component.split(': ')[-1]} · {sp.label}" if short else sp.label)

    def build_results(self) -> None:
        with ui.card().classes("w-full q-pa-sm"):
            with ui.row().classes("items-center w-full no-wrap"):
                ui.label("baseline").classes("w-16 text-xs")
                self.base_bar = ui.linear_progress(0, show_value=False).classes("grow").mark("base-progress")
                self.base_text = ui.label().classes("text-xs w-48").mark("base-status")
            with ui.row().classes("items-center w-full no-wrap"):
                ui.label("what-if").classes("w-16 text-xs")
                self.bar = ui.linear_progress(0, show_value=False).props("color=red").classes("grow").mark("progress")
                self.status = ui.label("not run yet: change a field or take the tour").classes(
                    "text-xs w-48").mark("status")
        self.table = ui.table(columns=KPI_COLUMNS, rows=[], row_key="metric").classes("w-full").props(
            "dense flat bordered wrap-cells").mark("kpis")
        self.table.add_slot("body-cell-verdict", r'''
            <q-td :props="props" :class="props.row.significant ? 'text-red-8 text-weight-bold' : 'text-grey-8'">
              {{ props.value }}</q-td>''')
        self.all_open = ui.expansion("All metrics", on_value_change=lambda _: self.refresh(force=True))
        with self.all_open.classes("w-full").props("dense"):
            self.all_table = ui.table(columns=KPI_COLUMNS, rows=[], row_key="metric",
                                      pagination=15).classes("w-full").props("dense flat")
        self.chart_grid = ui.grid(columns=2).classes("w-full gap-2")
        self.charts: dict[str, Any] = {}
        ui.timer(0.05, self.add_charts, once=True)  # after the page is up: ECharts is a 1 MB script
        with ui.card().classes("w-full q-pa-sm"):
            with ui.row():
                ui.button("Download scenario YAML", icon="download", on_click=self.download_yaml).mark("get-yaml")
                ui.button("Download results (zip)", icon="folder_zip", on_click=self.download_zip).mark("get-zip")
            ui.label("Equivalent command (reproduces the what-if's numbers):").classes("text-xs")
            self.command = ui.code("", language="bash").classes("w-full text-xs").mark("command")

    def add_charts(self) -> None:
        """The four figures, made once the page is shown (its KPIs need no chart library)."""
        with self.chart_grid:
            self.charts = {key: ui.echart(chart_options(title, 1.0, {}, None), renderer="svg").classes(
                "h-64 w-full").mark(f"chart:{key}") for key, title, _, _ in FIGURES}
        self.refresh(force=True)

    # -- editing ---------------------------------------------------------------------------------------
    def edited(self, path: str, value: Any) -> None:
        self.session.set(path, value)
        self.show_check()

    def show_check(self):
        check = self.session.check()
        self.controls.show_problems(check.by_field)
        hidden = [f"{path}: {p}" for path, ps in check.by_field.items() if path not in self.controls.elements
                  for p in ps]  # fields whose section is closed
        self.others.text = "\n".join(check.other + hidden)
        self.command.content = self.session.command()
        return check

    def set_reps(self, e) -> None:
        if e.value is not None and e.value >= 2:
            self.session.reps = int(e.value)
            self.show_check()

    def set_seed(self, e) -> None:
        if e.value is not None and e.value >= 0:
            self.session.seed = int(e.value)
            self.show_check()

    def take_tour(self, tour) -> None:
        self.session.apply_tour(tour)
        self.run()  # the replications start first; the controls are remade while the workers run them
        self.rebuild_controls()
        self.look_for.text = f"{tour.title}: {tour.look_for}"

    def reset(self) -> None:
        self.cancel()
        self.session.reset()
        self.ran = None
        self.rebuild_controls()
        self.look_for.text = ""
        self.seen = (-1, -1)

    def open_file(self) -> None:
        text = str(self.file.value or "").strip()
        try:
            if text in ("", "default"):
                from sim.scenario import load_default
                scenario, source = load_default(), "default"
            else:
                from sim.scenario import load_scenario
                path = self.app.roots.resolve(text)
                scenario, source = load_scenario(path), self.app.roots.label(path)
        except ScenarioError as err:
            self.error_dialog(str(err))
            return
        self.cancel()
        self.session = Session(scenario, source, reps=self.session.reps)
        self.ran = None
        self.rebuild_controls()
        self.start_baseline()

    def error_dialog(self, text: str) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(text).classes("whitespace-pre-line font-mono text-sm").mark("error-text")
            ui.button("Close", on_click=dialog.close)
        dialog.open()

    # -- running ---------------------------------------------------------------------------------------
    def start_baseline(self) -> None:
        s = self.session
        self.base_job = self.app.baselines.get(s.base, s.reps, s.seed, self)
        self.seen = (-1, -1)

    def run(self) -> None:
        check = self.show_check()
        if not check.ok:
            ui.notify("Fix the fields marked in red first", type="warning")
            return
        s = self.session
        if self.base_job is None or (self.base_job.reps, self.base_job.seed) != (s.reps, s.seed):
            self.start_baseline()
        if self.job is not None:
            self.job.cancel()
        self.job = None
        snapshot = Session(s.base, s.source, s.reps, s.seed)
        snapshot.edits = dict(s.edits)
        self.ran = (snapshot, check.scenario)
        if s.edits:
            folder = self.folder / f"whatif-{next(self.runs)}"
            self.job = Job.start_or_restore(check.scenario, s.reps, s.seed, folder, self.app.pool, self.app.cache)
        self.seen = (-1, -1)
        self.refresh()  # a what-if from the cache (or the baseline alone) shows now, not at the next tick

    def cancel(self) -> None:
        if self.job is not None and not self.job.finished:
            self.job.cancel()

    def close(self) -> None:
        """The tab is gone: cancel its run, let go of its baselines, remove its folder (after the run
        has stopped, in the background: the server does not wait)."""
        job = self.job
        running = job is not None and not job.finished
        if job is not None:
            job.cancel()
        self.app.baselines.release(self)

        def finish() -> None:
            if job is not None:
                job.wait(60)
                if running:
                    self.app.log(f"{self.folder.name} closed: its what-if run was cancelled after "
                                 f"{job.done} of {job.reps} replications")
            shutil.rmtree(self.folder, ignore_errors=True)

        threading.Thread(target=finish, name=f"close-{self.folder.name}", daemon=True).start()

    # -- showing ---------------------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        base, job = self.base_job, self.job
        seen = (base.version if base else -1, job.version if job else -1)
        if seen == self.seen and not force:
            return
        self.seen = seen
        if base is not None:
            self.base_bar.value = base.done / base.reps
            self.base_text.text = _status(base)
        if job is not None:
            self.bar.value = job.done / job.reps
            self.status.text = _status(job)
        elif self.ran is not None:
            self.bar.value = 0
            self.status.text = "no changes: the what-if is the baseline"
        if base is None:
            return
        bm = base.metrics_so_far()
        wm = job.metrics_so_far() if job is not None else None
        if not bm:
            return
        rows = [r.__dict__ for r in kpi_rows(bm, wm)]
        self.table.rows = rows
        running = not base.finished or (job is not None and not job.finished)
        if self.all_open.value and (not running or force):  # hundreds of metrics: when shown and settled
            names = sorted({k for r in bm.values() for k in r})
            self.all_table.rows = [r.__dict__ for r in kpi_rows(bm, wm, names)]
        if not self.charts:
            return
        bs, ws = base.series(), (job.series() if job is not None else None)
        period = self.session.base.period
        for key, title, patterns, cumulative in FIGURES:
            b = figure_series(bs, patterns, cumulative)
            w = figure_series(ws, patterns, cumulative) if ws else None
            chart = self.charts[key]
            chart.options.clear()
            chart.options.update(chart_options(title, period, b, w))
            chart.update()

    # -- keeping ---------------------------------------------------------------------------------------
    def download_yaml(self) -> None:
        check = self.show_check()
        if not check.ok:
            ui.notify("The scenario is not valid yet: fix the fields marked in red", type="warning")
            return
        name = f"{check.scenario.name}-whatif.yaml"
        ui.download.content(self.session.yaml_text(check.scenario).encode("utf-8"), name)

    def download_zip(self) -> None:
        if self.ran is None or self.base_job is None or not self.base_job.finished:
            ui.notify("Run the what-if first and let it finish", type="warning")
            return
        snapshot, scenario = self.ran
        job = self.job
        if job is not None and not job.finished:
            ui.notify("The what-if is still running", type="warning")
            return
        folders = {"baseline": self.base_job.out_dir}
        if job is not None and job.state == "done":
            folders["whatif"] = job.out_dir
        bm = self.base_job.metrics_so_far()
        wm = job.metrics_so_far() if job is not None else bm
        from sim.experiments.compare import paired_differences, write_comparison
        comparison = self.folder / "comparison.csv"
        write_comparison(comparison, paired_differences(bm, wm, "what-if"))
        extra = {"whatif.yaml": snapshot.yaml_text(scenario), "command.txt": snapshot.command() + "\n",
                 "baseline.yaml": dump_scenario(snapshot.run_scenario(snapshot.base)),
                 "comparison.csv": comparison.read_text(encoding="utf-8")}
        ui.download.content(results_zip(folders, extra), f"{scenario.name}-whatif-results.zip")


def _status(job: Job) -> str:
    text = f"{job.done} of {job.reps} replications"
    if job.state == "running":
        return text + " …"
    if job.state == "cancelled":
        return text + " (cancelled)"
    if job.state == "failed":
        return f"failed: {job.error}"
    if job.failures:
        return text + f" ({len(job.failures)} raised)"
    return text + " ✓"
