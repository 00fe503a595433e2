"""Small scenario builders shared by the manufacturing-and-supply tests (tests/test_mfg_*.py)."""
from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np

from sim.scenario import parse_scenario

ROOT_SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

# A trial whose sites open after any test horizon: the clinical side stays out of the way.
QUIET_TRIAL = {"name": "t", "target_patients": 10, "visits": [0], "resupply": {"trigger": 1, "level": 2},
               "regions": [{"name": "r", "sites": 1, "activation": 1e6, "enrollment_rate": 0.1,
                            "transit_time": 1}]}

BASE = {
    "name": "mfg-test",
    "horizon": 100,
    "period": 10,
    "replications": 1,
    "suppliers": [{"name": "sup", "material": "api", "lead_time": 5, "order_quantity": 1e6,
                   "reorder_point": 0, "initial_stock": 1e6}],
    "lines": [],
    "packaging": {"units_per_kit": 1, "time": 0, "packers": 1, "shelf_life": 1e6},
    "trials": [QUIET_TRIAL],
}


def scenario(lines: list[dict], **top) -> object:
    """A validated scenario with these *lines* and top-level changes."""
    d = copy.deepcopy(BASE)
    d["lines"] = copy.deepcopy(lines)
    d.update(copy.deepcopy(top))
    return parse_scenario(d)


def base_dict(lines: list[dict], **top) -> dict:
    d = copy.deepcopy(BASE)
    d["lines"] = copy.deepcopy(lines)
    d.update(copy.deepcopy(top))
    return d


def mean_and_se(values) -> tuple[float, float]:
    x = np.asarray(values, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))


def assert_close(values, theory: float, n_se: float = 4.0, rel: float | None = None) -> None:
    """Mean of per-replication *values* within *n_se* standard errors of *theory* (and *rel*, if given)."""
    m, se = mean_and_se(values)
    assert abs(m - theory) <= n_se * se, (m, theory, se)
    if rel is not None:
        assert abs(m - theory) <= rel * abs(theory), (m, theory, rel)