"""Replications per second on each backend, and what the Dask backend costs over local processes.

    python bench/bench_parallel.py                 # default scenario, 48 replications, best of 3
    python bench/bench_parallel.py --reps 96 --horizon 730 --repeat 5

Runs the same batch (one scenario, N replications, one seed) serially in this
process, on 2 local worker processes, and on a local Dask cluster of 2
workers; checks that all three give identical metrics; reports start-up time,
run time, replications per second, the 2-worker speed-up, and the Dask
overhead over local processes (per replication and at start-up); and times
empty replications on each backend, which leaves only the backend's own cost
per replication (with the tool's chunking).  Writes
``bench/bench_parallel.json`` (git-ignored).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.experiments.backends import DaskBackend, LocalBackend, SerialBackend  # noqa: E402
from sim.experiments.overrides import apply_overrides  # noqa: E402
from sim.experiments.plan import Plan, Point  # noqa: E402
from sim.experiments.runner import execute  # noqa: E402
from sim.model import ReplicationResult  # noqa: E402
from sim.scenario import load_default  # noqa: E402


def null_work(scenario, seed, rep) -> ReplicationResult:
    """A replication that does nothing: what is left is the backend's own cost."""
    return ReplicationResult(rep, seed, {"x": float(rep)}, {}, {})


def warm_up(backend) -> None:
    """Start-up includes starting the workers (a process pool starts them on first use)."""
    if isinstance(backend, LocalBackend):
        list(backend._pool.map(abs, range(4 * backend.workers)))


def measure(makers: dict, plan: Plan, repeat: int, null_plan: Plan) -> dict[str, dict]:
    """Start every backend, then run the batch on each in turn, *repeat* times
    (interleaved, so that a burst of load elsewhere does not favour one backend)."""
    rows, backends = {}, {}
    try:
        for name, make in makers.items():
            t0 = time.perf_counter()
            backends[name] = make()
            warm_up(backends[name])
            rows[name] = {"backend": backends[name].name, "workers": backends[name].workers,
                          "startup_s": time.perf_counter() - t0, "runs_s": []}
        for _ in range(repeat):
            for name, backend in backends.items():
                t0 = time.perf_counter()
                out = execute(plan, backend, None, progress=False)
                rows[name]["runs_s"].append(time.perf_counter() - t0)
                rows[name]["metrics"] = out.metrics
                t0 = time.perf_counter()
                execute(null_plan, backend, None, progress=False, work=null_work)
                rows[name].setdefault("null_runs_s", []).append(time.perf_counter() - t0)
    finally:
        for b in backends.values():
            b.close()
    for r in rows.values():
        r["run_s"] = min(r["runs_s"])
        r["reps_per_s"] = plan.reps / r["run_s"]
        r["overhead_ms_per_rep"] = 1000 * min(r["null_runs_s"]) / null_plan.reps
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=48)
    ap.add_argument("--horizon", type=float, default=None, help="days (default: the default scenario's)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--null-reps", type=int, default=400, help="empty replications to time the overhead")
    args = ap.parse_args()
    sc = load_default()
    if args.horizon:
        sc = apply_overrides(sc, {"horizon": args.horizon})
    plan = Plan("batch", "bench", [Point("default", sc)], seed=1, reps=args.reps, detail=True)
    w = args.workers
    null_plan = Plan("batch", "null", [Point("default", sc)], seed=1, reps=args.null_reps, detail=False)
    rows = measure({
        "serial (1 worker, in process)": SerialBackend,
        f"local processes ({w} workers)": lambda: LocalBackend(w),
        f"Dask local cluster ({w} workers)": lambda: DaskBackend(None, w, timeout=60),
    }, plan, args.repeat, null_plan)
    def canonical(metrics):  # replications arrive in any order; compare them in order
        return repr({pid: sorted(per.items()) for pid, per in metrics.items()})
    ref = canonical(next(iter(rows.values()))["metrics"])
    identical = all(canonical(r.pop("metrics")) == ref for r in rows.values())
    serial, local, dask = rows.values()
    summary = {
        "cpus": os.cpu_count(), "reps": args.reps, "horizon": sc.horizon, "repeat": args.repeat,
        "seconds_per_replication_serial": serial["run_s"] / args.reps,
        "speedup_local": serial["run_s"] / local["run_s"],
        "dask_overhead_per_rep_ms": 1000 * (dask["run_s"] - local["run_s"]) / args.reps,
        "dask_startup_overhead_s": dask["startup_s"] - local["startup_s"],
        "identical_results": identical,
    }
    print(f"batch: default scenario (horizon {sc.horizon:g} d), {args.reps} replications, best of {args.repeat}; "
          f"{os.cpu_count()} CPUs")
    print(f"{'backend':<34} {'start-up s':>10} {'run s':>8} {'reps/s':>8} {'overhead ms/rep':>16}")
    for name, r in rows.items():
        print(f"{name:<34} {r['startup_s']:>10.2f} {r['run_s']:>8.2f} {r['reps_per_s']:>8.1f} "
              f"{r['overhead_ms_per_rep']:>16.2f}")
    print(f"speed-up with {w} local workers: {summary['speedup_local']:.2f}x; "
          f"Dask over local processes: {summary['dask_overhead_per_rep_ms']:+.1f} ms a replication, "
          f"{summary['dask_startup_overhead_s']:+.2f} s start-up; identical results: {identical}")
    out = Path(__file__).with_suffix(".json")
    out.write_text(json.dumps({"summary": summary, "backends": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
