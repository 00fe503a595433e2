"""Starting the explorer: the shared state, the page, and NiceGUI's server on one address.

The server listens on 127.0.0.1 unless told otherwise.  At start-up the start-up scenario's baseline is
read from the run cache or begins at once on the worker processes, so the first tab sees results as soon
as it opens.
"""
from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from pathlib import Path

from sim.explorer.cache import RunCache
from sim.explorer.jobs import Baselines, Pool
from sim.explorer.paths import Roots
from sim.scenario import Scenario

RECONNECT_SECONDS = 3.0
"""A tab that has been disconnected this long is closed: its runs are cancelled."""

ELEMENTS = ("add_css", "button", "card", "code", "column", "dialog", "download", "echart", "expansion", "grid",
            "header", "input", "label", "linear_progress", "notify", "number", "page_title", "row", "select",
            "space", "switch", "table", "timer")
"""The NiceGUI elements the page uses: NiceGUI imports each on first use (~1.5 s in all), so they are
imported at start-up, not while the first page is built."""


def _import_elements() -> None:
    from nicegui import ui
    for name in ELEMENTS:
        getattr(ui, name, None)


def _warm_first_page(roots: Roots) -> None:
    """Pay now what the first page would pay on first use (~1.5 s in all): the statistics behind the
    KPIs (SciPy's special functions), the command box's Markdown and highlighting, and the folder walk
    for the scenario list."""
    from nicegui.elements.markdown import prepare_content

    from sim.explorer.results import kpi_rows

    rows = {0: {"dosed_fraction": 0.9}, 1: {"dosed_fraction": 0.8}}
    kpi_rows(rows, {r: {"dosed_fraction": v["dosed_fraction"] + 0.1} for r, v in rows.items()})
    prepare_content("```bash\npython run_sim.py run\n```", "fenced-code-blocks")
    roots.scenario_files()


def serve(scenario: Scenario, source: str, roots: Roots, host: str = "127.0.0.1", port: int = 8080,
          open_browser: bool = False, reps: int = 20, workers: int | None = None,
          announce=print, cache: RunCache | None = None) -> None:
    """Serve the explorer until interrupted; finished runs are kept in (and taken from) *cache*.

    The start-up scenario's baseline is taken from the cache or started first, before NiceGUI is
    imported (~1.5 s), so its replications run while the server gets ready."""
    check_address(host, port)
    workdir = Path(tempfile.mkdtemp(prefix="pharmasim-explore-"))
    pool = Pool(workers)
    baselines = Baselines(pool, workdir / "baselines", cache=cache)
    # the server's own (never cancelled); when it runs, its workers' fork server imports the model while
    # this process imports NiceGUI
    baselines.get(scenario, reps, scenario.seed, user=baselines)

    from nicegui import app as ng_app
    from nicegui import ui

    from sim.explorer.page import App, Tab

    state = App(scenario, source, roots, pool, baselines, workdir, reps, announce, cache)

    def start_up() -> None:  # what the first page would wait for, and the workers, before anyone asks
        _warm_first_page(roots)
        pool.warm_up()

    _import_elements()

    def shut_down() -> None:
        pool.close()
        shutil.rmtree(workdir, ignore_errors=True)

    def root() -> None:
        Tab(state).build()

    threading.Thread(target=start_up, name="explore-warm-up", daemon=True).start()
    ng_app.on_shutdown(shut_down)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    announce(f"pharmasim explorer: http://{shown}:{port}/  (scenario: {source}; Ctrl-C stops it)")
    ui.run(root, host=host, port=port, title="pharmasim explorer", reload=False, show=open_browser,
           show_welcome_message=False, reconnect_timeout=RECONNECT_SECONDS, favicon="🧪",
           uvicorn_logging_level="warning")


def check_address(host: str, port: int) -> None:
    """Raise :class:`OSError` now if *host*:*port* cannot be listened on (taken, or not this machine's),
    rather than after announcing the address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
