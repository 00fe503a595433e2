"""Shared builders for the clinical tests: small scenarios with everything but the
clinical side switched off (no batches made, an ample or chosen initial depot stock)."""
from __future__ import annotations

import copy

import numpy as np

from sim.model import SupplyChainModel, run_replication
from sim.scenario import parse_scenario


def base_dict(**top) -> dict:
    """A scenario whose manufacturing is idle; the depot starts with *initial_kits*."""
    sc = {
        "name": "clinical-test", "horizon": 400, "seed": 7, "replications": 1,
        "suppliers": [{"name": "s", "material": "api", "lead_time": 10, "order_quantity": 1, "reorder_point": 0}],
        "lines": [{"name": "l", "kind": "batch", "material": "api", "product": "dp", "material_per_batch": 1,
                   "batch_size": 1, "cycle_time": 1, "batches": 0}],
        "packaging": {"units_per_kit": 1, "time": 1, "shelf_life": 10000},
        "depot": {"initial_kits": 100000, "initial_shelf_life": 1e6},
        "trials": [trial_dict()],
    }
    sc.update(top)
    return sc


def trial_dict(**over) -> dict:
    t = {"name": "T", "target_patients": 20, "visits": [0, 28, 56],
         "resupply": {"trigger": 2, "level": 6},
         "regions": [{"name": "R", "sites": 4, "activation": 0, "enrollment_rate": 0.1, "transit_time": 2}]}
    t.update(over)
    return t


def scenario(d: dict):
    return parse_scenario(copy.deepcopy(d), "<test>")


def metric_over_reps(sc, name: str, reps: int, seed: int = 11) -> np.ndarray:
    return np.array([run_replication(sc, seed, r).metrics[name] for r in range(reps)])


def model(d: dict, seed: int = 7) -> SupplyChainModel:
    return SupplyChainModel(scenario(d), seed, 0)


def test_base_scenario_runs_and_conserves():
    res = run_replication(scenario(base_dict()), 7, 0)  # raises ConservationError on a leak
    m = res.metrics
    assert m["trial.T.enrolled"] == 20
    assert m["total.visits.not_dosed"] == 0
    assert m["total.dispensed.kits"] == 60
