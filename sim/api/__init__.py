"""The Python API of pharmasim: what the CLI does, from a notebook or a script.

>>> from sim import api
>>> res = api.run("scenarios/clinical_dtp.yaml", reps=50, out="results/dtp")   # doctest: +SKIP
>>> res.summary.set_index("metric").loc["dosed_fraction"]                         # doctest: +SKIP

``load`` a scenario (file, dict or the default) with overrides, ``run`` its replications, ``compare``
two scenarios with common random numbers, ``batch`` a design; each writes a results folder and
returns an object whose tables are pandas DataFrames (``open_results`` reads one later).  The names
exported here are the stable API (``docs/api.md``); everything else in ``sim`` may change.
"""
from sim.api.experiment import batch, compare, load, run, until
from sim.api.results import BatchResults, Comparison, Results, open_results
from sim.core.errors import ConservationError, ScenarioError
from sim.api.optimisation import OptimisationCancelled, optimise
from sim.report.html import write_report as report
from sim.scenario import Scenario

__all__ = ["load", "run", "compare", "batch", "until", "open_results", "report", "optimise", "OptimisationCancelled", "Results", "BatchResults", "Comparison",
           "Scenario", "ScenarioError", "ConservationError"]
