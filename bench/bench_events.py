"""Model speed against bare SimPy, measured in one process, reported as a ratio.

    python bench/bench_events.py [--reps 5] [--repeat 3]

1. Runs the embedded default scenario once stepping event by event to count its events (N).
2. Times ``env.run`` of the same replications (same seeds, so the same N events).
3. Times a bare SimPy loop of N ``yield env.timeout(...)`` events spread over as many processes
   as the model had at its peak order of magnitude (100).
Steps 2 and 3 alternate *repeat* times and the best time of each counts, so that a busy spell of a
shared machine does not fall on one side of the ratio only.
Prints events/s of both and the ratio model / bare (1.0 would mean the model's logic is free).
"""
from __future__ import annotations

import argparse
import time

import simpy

from sim.experiments.backends import collect_replication
from sim.experiments.startup import freeze_imports
from sim.model import SupplyChainModel
from sim.scenario import load_default


def count_events(scenario, seed: int, rep: int) -> int:
    model = SupplyChainModel(scenario, seed, rep)
    env, horizon, n = model.ctx.env, scenario.horizon, 0
    while env.peek() <= horizon:
        env.step()
        n += 1
    return n


def time_model(scenario, seed: int, reps: int) -> float:
    t0 = time.perf_counter()
    for rep in range(reps):
        model = SupplyChainModel(scenario, seed, rep)
        model.run()
        model.results()
        del model
        collect_replication()  # as every worker does after a replication
    return time.perf_counter() - t0


def time_bare(n_events: int, n_procs: int = 100) -> float:
    env = simpy.Environment()
    per = n_events // n_procs

    def proc(k):
        for _ in range(per):
            yield env.timeout(1.0 + k * 1e-3)

    for k in range(n_procs):
        env.process(proc(k))
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sc = load_default()
    n = sum(count_events(sc, args.seed, r) for r in range(args.reps))
    freeze_imports()  # as every worker does before its replications
    t_model = t_bare = float("inf")
    for _ in range(args.repeat):  # interleaved, best of each
        t_model = min(t_model, time_model(sc, args.seed, args.reps))
        t_bare = min(t_bare, time_bare(n))
    model_rate, bare_rate = n / t_model, n / t_bare
    print(f"default scenario: {args.reps} replications, {n:,} events (best of {args.repeat})")
    print(f"model      : {model_rate:12,.0f} events/s  ({t_model / args.reps * 1000:.1f} ms per replication, "
          "incl. build and statistics)")
    print(f"bare SimPy : {bare_rate:12,.0f} events/s")
    print(f"ratio model/bare: {model_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
