"""The Python API of pharmasim: what the CLI does, from a notebook or a script.

>>> from sim import api
>>> res = api.run("scenarios/clinical_dtp.yaml", reps=50, out="results/dtp")   # doctest: +SKIP
>>> res.summary.set_index("metric").loc["dosed_fraction"]                         # doctest: +SKIP

``load`` a scenario (file, dict or the default) with overrides, ``run`` its replications, ``compare``
two scenarios with common random numbers, ``batch`` a design; each writes a results folder and
returns an object whose tables are pandas DataFrames (``open_results`` reads one later).  The names
exported here are the stable API (``docs/api.md``); everything else in ``sim`` may change.
"""
from __future__ import annotations

from typing import Any

__all__ = ["load", "run", "compare", "batch", "until", "open_results", "report", "optimise", "OptimisationCancelled", "Results", "BatchResults", "Comparison",
           "Scenario", "ScenarioError", "ConservationError"]

_WHERE = {"load": "sim.api.experiment", "run": "sim.api.experiment", "compare": "sim.api.experiment",
          "batch": "sim.api.experiment", "until": "sim.api.experiment", "open_results": "sim.api.results",
          "Results": "sim.api.results", "BatchResults": "sim.api.results", "Comparison": "sim.api.results",
          "optimise": "sim.api.optimisation", "OptimisationCancelled": "sim.api.optimisation",
          "report": "sim.report.html", "Scenario": "sim.scenario", "ScenarioError": "sim.core.errors",
          "ConservationError": "sim.core.errors"}
"""Where each name lives; imported when first used, so that a command that needs one part (``run``:
:mod:`sim.api.experiment`) does not load the optimiser and the report too."""


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'sim.api' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(_WHERE[name]), "write_report" if name == "report" else name)
    globals()[name] = value
    return value
