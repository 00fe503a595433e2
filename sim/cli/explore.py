"""``pharmasim explore [SCENARIO]``: the what-if explorer in the browser (:mod:`sim.explorer`)."""
from __future__ import annotations

from pathlib import Path

import click

from sim.cli.common import fail, load, user_errors


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on; the default serves this machine only (0.0.0.0: every network)")
@click.option("--open", "open_browser", is_flag=True, help="open the page in the default browser")
@click.option("--reps", type=click.IntRange(2, 1000), default=20, show_default=True,
              help="replications per run (changeable on the page)")
@click.option("--workers", "-j", type=click.IntRange(min=1), help="worker processes (default: up to 2 cores)")
@click.option("--root", "roots", multiple=True, type=click.Path(file_okay=False, exists=True),
              help="another folder the page may open scenarios from (repeatable; always: the current "
                   "folder and SCENARIO's)")
@click.option("--cache-dir", type=click.Path(file_okay=False),
              help="where finished runs are kept between sessions [default: $PHARMASIM_CACHE_DIR, else the "
                   "user's cache folder]/pharmasim/explorer")
@click.option("--no-cache", is_flag=True, help="neither reuse nor keep finished runs")
@user_errors
def explore(scenario, port, host, open_browser, reps, workers, roots, cache_dir, no_cache) -> None:
    """Explore what-ifs of SCENARIO (default: the embedded one) in a local web app: change fields, run
    against the baseline with common random numbers, download the scenario and results."""
    import importlib.util
    if importlib.util.find_spec("nicegui") is None:  # pragma: no cover - a declared dependency
        fail("the explorer needs NiceGUI: pip install -e .  (it is one of the project's dependencies)")
    from sim.explorer.cache import RunCache, default_dir
    from sim.explorer.paths import Roots
    from sim.explorer.server import serve

    sc = load(scenario)
    folders = [Path.cwd(), *(Path(r) for r in roots)]
    if scenario is not None and scenario != "default":
        folders.insert(1, Path(scenario).resolve().parent)
    source = scenario if scenario is not None else "default"
    try:
        say = lambda text: click.echo(text, err=True)  # noqa: E731
        cache = None if no_cache else RunCache(Path(cache_dir) if cache_dir else default_dir(), log=say)
        serve(sc, source, Roots(folders), host, port, open_browser, reps, workers, announce=say, cache=cache)
    except OSError as err:  # the port is taken, an address that is not this machine's
        fail(f"cannot listen on {host}:{port}: {err.strerror or err}; choose another with --port", 4)
