"""Start an optimisation from Python (a notebook, the explorer) and follow it: the optimisation file as
a path or as a dict, optionally on a scenario of your own, with a progress callback and a cancel check.

>>> from sim import api
>>> res = api.optimise("scenarios/optimise/newsvendor.yaml", out="results/nv",
...                    progress=lambda p: print(p.phase, p.evaluated, p.replications))  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from sim.api.experiment import load
from sim.optimise.progress import CancelCheck, OptimisationCancelled, Progress, ProgressCallback
from sim.optimise.run import OptimisationResult, base_scenario, optimise_spec
from sim.optimise.spec import load_optimisation, parse_optimisation
from sim.scenario import Scenario

__all__ = ["optimise", "OptimisationResult", "OptimisationCancelled", "Progress"]


def optimise(spec: str | Path | Mapping, out: str | Path | None = None, workers: int | None = None,
             budget: int | None = None, resume: bool = False, *,
             scenario: str | Path | Mapping | Scenario | None = None, backend=None, figures: bool = True,
             progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> OptimisationResult:
    """Run an optimisation (``docs/optimisation.md``): *spec* is an optimisation file or its content as a
    dict (its ``scenario`` then relative to the current folder).  *scenario*, if given, replaces the
    file's own (a file, dict or :class:`Scenario`; its ``set`` still applies).  *progress(p)* gets a
    :class:`Progress` after every candidate and selection stage (candidates evaluated, replications
    spent, the best so far with its CI); when *cancel()* returns true the run stops with
    :class:`OptimisationCancelled` (``resume=True`` into the same *out* continues it).  *backend*: an
    open experiment backend to run on (kept open), instead of *workers* local processes; *figures*: draw
    ``tradeoff.png``."""
    if isinstance(spec, Mapping):
        source, folder = "<optimisation dict>", Path.cwd()
        parsed = parse_optimisation(dict(spec), source)
    else:
        source, folder = str(spec), Path(spec).parent
        parsed = load_optimisation(spec)
    base = base_scenario(parsed, folder, source, load(scenario) if scenario is not None else None)
    return optimise_spec(parsed, base, source, out, workers, budget, resume, backend=backend, figures=figures,
                         progress=progress, cancel=cancel)
