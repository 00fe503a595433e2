"""Shared fixtures: small scenarios built as dicts, so each test can tweak one field."""
from __future__ import annotations

import copy

import pytest

from sim.scenario import parse_scenario

DETERMINISTIC = {
    "name": "deterministic",
    "horizon": 50,
    "period": 10,
    "replications": 1,
    "suppliers": [{"name": "sup", "material": "api", "lead_time": 5, "order_quantity": 50,
                   "reorder_point": 10, "initial_stock": 20}],
    "lines": [{"name": "line", "kind": "batch", "material": "api", "material_per_batch": 10,
               "batch_size": 1000, "cycle_time": 4, "qc_time": 3}],
    "packaging": {"units_per_kit": 100, "time": 1, "shelf_life": 1000},
    "trials": [{"name": "t", "target_patients": 10, "visits": [0], "resupply": {"trigger": 1, "level": 2},
                "regions": [{"name": "r", "sites": 1, "activation": 1000, "enrollment_rate": 0.1,
                             "transit_time": 1}]}],
}


def scenario_dict(base: dict = DETERMINISTIC, **changes) -> dict:
    d = copy.deepcopy(base)
    d.update(changes)
    return d


@pytest.fixture
def deterministic():
    return parse_scenario(scenario_dict())


@pytest.fixture(scope="module")
def small_run_folder(tmp_path_factory):
    """A small run's tables, without figures (300 days, 2 replications, in this process)."""
    from test_exp_support import cli_run
    out = tmp_path_factory.mktemp("small-run") / "run"
    res = cli_run("run", "--set", "horizon=300", "--reps", "2", "--workers", "1", "--no-figures", "--out", out)
    assert res.exit_code == 0, res.output
    return out


def pytest_collection_modifyitems(config, items) -> None:
    """Against a compiled build (sim/core/_compiled.py) skip the tests marked ``pure_python``: compiled
    classes take no method replaced on an instance nor a subclass written in a test; tests/test_compiled.py
    checks that build against pure Python instead."""
    from sim.core._compiled import compiled_modules
    if not compiled_modules():
        return
    skip = pytest.mark.skip(reason="patches or subclasses model classes: pure Python only")
    for item in items:
        if item.get_closest_marker("pure_python") is not None:
            item.add_marker(skip)
