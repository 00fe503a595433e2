"""Does the whole optimiser (Optuna search + Kim-Nelson selection) find the known optimum in the
share of repeated runs that KN's confidence states?

Runs the validation cases of ``scenarios/optimise/`` — the base-stock level (S* = 15) and the
newsvendor packaging quantity (Q* = 23) — K times each with seeds 1..K (the seed drives the search and
every replication), on the simulation model, and reports per case: the share of runs whose choice lies
within the indifference zone of the true optimum (feasible, objective at most delta above it), with its
Wilson 95 % interval, against the stated probability of correct selection; the share that found the
optimum itself; how often the search put a zone value among the finalists (KN's guarantee holds among
them) and the share within the zone of those runs; replications and wall time per run.

    python bench/bench_optimise_validation.py [--runs 20] [--cases newsvendor,base-stock] [--workers 1]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--cases", default="newsvendor,base-stock")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    from sim import api
    from sim.core.stats import share_of_runs
    from tests.optimise_support import BASE_STOCK, NEWSVENDOR
    cases = {c.name: c for c in (NEWSVENDOR, BASE_STOCK)}
    for name in args.cases.split(","):
        case = cases[name]
        spec = yaml.safe_load(case.file.read_text(encoding="utf-8"))
        scenario = case.file.parent / spec["scenario"]
        path, good = spec["variables"][0]["path"], case.good
        chosen, reps, walls, finalists = [], [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            for k in range(1, args.runs + 1):
                t0 = time.perf_counter()
                res = api.optimise({**spec, "seed": k}, Path(tmp) / f"run-{k}", workers=args.workers,
                                   scenario=scenario, figures=False)
                walls.append(time.perf_counter() - t0)
                chosen.append(res.best[path])
                reps.append(res.replications)
                finalists.append(any(f[path] in good for f in res.finalists))
                print(f"  {name} seed {k}: chose {chosen[-1]} ({'in' if chosen[-1] in good else 'OUT of'} the zone), "
                      f"{reps[-1]} replications, {walls[-1]:.1f} s", flush=True)
        share = share_of_runs("in zone", [float(c in good) for c in chosen])
        given = [c in good for c, f in zip(chosen, finalists) if f]
        exact = sum(c == case.optimum for c in chosen)
        print(f"{name}: optimum {case.optimum}, indifference zone {sorted(good)} (delta {case.indifference:g}); "
              f"stated P(correct selection) >= {spec['selection'].get('confidence', 0.95):g}")
        print(f"  within the zone in {int(round(share.mean * share.n))} of {share.n} runs: {share.mean:.3f} "
              f"[Wilson 95 %: {share.ci_low:.3f}, {share.ci_high:.3f}]; the optimum itself in {exact}")
        print(f"  a zone value among the finalists in {sum(finalists)} runs; of those, chosen within the zone in "
              f"{sum(given)} (KN's guarantee is among the finalists)")
        print(f"  choices {dict(sorted(Counter(chosen).items()))}; replications per run mean "
              f"{sum(reps) / len(reps):.0f} (min {min(reps)}, max {max(reps)}); wall per run "
              f"{sum(walls) / len(walls):.1f} s on {args.workers} worker(s)", flush=True)


if __name__ == "__main__":
    main()
