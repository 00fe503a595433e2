#!/usr/bin/env python3
"""Speed of the clinical model: replications per second and simulated visits per second.

    /work/venv/bin/python bench/bench_clinical.py [--reps 5]

Runs each example clinical scenario and the embedded default in this process (one core) and
prints wall time per replication; results go to bench/clinical.json (git-ignored).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.model import run_replication  # noqa: E402
from sim.scenario import load_default, load_scenario  # noqa: E402


def bench(name: str, sc, reps: int) -> dict:
    t0 = time.perf_counter()
    visits = 0.0
    for r in range(reps):
        m = run_replication(sc, sc.seed, r).metrics
        visits += m["total.visits.dosed"] + m["total.visits.not_dosed"]
    dt = time.perf_counter() - t0
    return {"scenario": name, "reps": reps, "seconds_per_rep": dt / reps, "visits_per_second": visits / dt}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    cases = [("default", load_default())]
    cases += [(p.stem, load_scenario(p)) for p in sorted((ROOT / "scenarios").glob("clinical_*.yaml"))]
    rows = [bench(n, sc, args.reps) for n, sc in cases]
    for r in rows:
        print(f"{r['scenario']:<28} {r['seconds_per_rep']:7.3f} s/rep  {r['visits_per_second']:10,.0f} visits/s")
    (ROOT / "bench" / "clinical.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
