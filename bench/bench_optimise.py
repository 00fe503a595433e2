"""The optimiser on the default scenario's resupply parameters: replications spent and wall time.

Variables: the site trigger (1-4) and resupply level (3-12) of the default trial.  Objective: shipping
cost plus 200 per wasted kit.  Constraint: at least 98.5 % of visits dosed within their window.

    python bench/bench_optimise.py [--workers 2] [--candidates 10] [--reps 4]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--candidates", type=int, default=10)
    ap.add_argument("--reps", type=int, default=4)
    args = ap.parse_args()
    from sim.optimise.run import optimise
    spec = {"name": "default-resupply", "scenario": "default", "seed": 5,
            "variables": [{"path": "trials.P3-001.resupply.trigger", "type": "integer", "low": 1, "high": 4},
                          {"path": "trials.P3-001.resupply.level", "type": "integer", "low": 3, "high": 12}],
            "objective": {"weights": {"total.cost.shipping": 1.0, "waste.kits": 200.0}},
            "constraints": [{"metric": "dosed_fraction", "min": 0.985}],
            "search": {"candidates": args.candidates, "reps": args.reps},
            "selection": {"top": 3, "indifference": 20000.0, "first_reps": 6, "max_reps": 40}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "opt.yaml"
        path.write_text(yaml.safe_dump(spec))
        t0 = time.perf_counter()
        res = optimise(path, Path(tmp) / "out", workers=args.workers)
        wall = time.perf_counter() - t0
        info = json.loads((res.out / "optimisation.json").read_text())
    print(f"best {res.best}: objective {info['objective_mean']:.4g} {info['objective_ci']}, "
          f"dosed_fraction {info['constraints']['dosed_fraction']['mean']:.4f}, feasible {info['feasible']}")
    print(f"{res.replications} replications, {wall:.1f} s wall on {args.workers} workers "
          f"({wall / max(1, res.replications):.2f} s per replication)")


if __name__ == "__main__":
    main()
