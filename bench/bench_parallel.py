"""Replications per second on each backend, and what the Dask backend costs over local processes.

    python bench/bench_parallel.py                 # default scenario, 48 replications, best of 3
    python bench/bench_parallel.py --reps 96 --horizon 730 --repeat 5

Runs the same batch (one scenario, N replications, one seed) serially in this
process, on 2 local worker processes, on a local Dask cluster of 2 workers and
on 1 local worker process (a worker's own cost, without a second one beside it);
checks that all four give identical metrics; reports start-up time,
run time, replications per second, the 2-worker speed-up, and the Dask
overhead over local processes (per replication and at start-up); and times
empty replications on each backend, which leaves only the backend's own cost
per replication (with the tool's chunking).  It also measures what the host allows: two independent
processes each running half the replications in process at the same moment (no pool, no pickling,
no results received), against one alone (``--solo``): the slowdown they impose on each other is the
host's (cores sharing caches, memory bandwidth, a hypervisor's scheduling), and 2 / that slowdown
bounds the speed-up any backend can reach.  Writes ``bench/bench_parallel.json`` (git-ignored).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

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


def solo(reps: int, horizon: float | None) -> None:
    """``--solo N``: in this process, one replication to warm up (caches, imports), then wait for a line
    on stdin (so that two of these start together), run replications 0..N-1 serially and print their
    wall and CPU seconds as JSON."""
    plan = Plan("batch", "solo", [Point("default", scenario(horizon))], seed=1, reps=reps, detail=True)
    warm = Plan("batch", "warm", plan.points, seed=2, reps=1, detail=True)
    execute(warm, SerialBackend(), None, progress=False)
    print("ready", flush=True)
    sys.stdin.readline()
    t0, c0 = time.perf_counter(), time.process_time()
    execute(plan, SerialBackend(), None, progress=False)
    print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}), flush=True)


def solos(copies: int, reps: int, horizon: float | None) -> list[dict]:
    """*copies* independent ``--solo`` processes started together; each one's wall and CPU seconds."""
    cmd = [sys.executable, __file__, "--solo", str(reps), *(["--horizon", str(horizon)] if horizon else [])]
    procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(copies)]
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise SystemExit(f"--solo failed: {p.communicate()}")
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    return [json.loads(p.communicate()[0]) for p in procs]


def measure(makers: dict, plan: Plan, repeat: int, null_plan: Plan,
            host: Callable[[], None] | None = None) -> dict[str, dict]:
    """Start every backend, then run the batch on each in turn, *repeat* times
    (interleaved, so that a burst of load elsewhere does not favour one backend); *host()* once in
    each round too."""
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
            if host is not None:
                host()
    finally:
        for b in backends.values():
            b.close()
    for r in rows.values():
        r["run_s"] = min(r["runs_s"])
        r["reps_per_s"] = plan.reps / r["run_s"]
        r["overhead_ms_per_rep"] = 1000 * min(r["null_runs_s"]) / null_plan.reps
    return rows


def scenario(horizon: float | None):
    sc = load_default()
    return apply_overrides(sc, {"horizon": horizon}) if horizon else sc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=48)
    ap.add_argument("--horizon", type=float, default=None, help="days (default: the default scenario's)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--null-reps", type=int, default=400, help="empty replications to time the overhead")
    ap.add_argument("--solo", type=int, default=None, help=argparse.SUPPRESS)  # one of the host's processes
    args = ap.parse_args()
    if args.solo is not None:
        return solo(args.solo, args.horizon)
    sc = scenario(args.horizon)
    plan = Plan("batch", "bench", [Point("default", sc)], seed=1, reps=args.reps, detail=True)
    w = args.workers
    null_plan = Plan("batch", "null", [Point("default", sc)], seed=1, reps=args.null_reps, detail=False)
    half = max(1, args.reps // w)  # what each worker runs
    host: dict[str, list] = {"alone": [], "together": []}

    def measure_host() -> None:
        host["alone"] += solos(1, half, args.horizon)
        host["together"].append(solos(w, half, args.horizon))
    rows = measure({
        "serial (1 worker, in process)": SerialBackend,
        f"local processes ({w} workers)": lambda: LocalBackend(w),
        f"Dask local cluster ({w} workers)": lambda: DaskBackend(None, w, timeout=60),
        "local processes (1 worker)": lambda: LocalBackend(1),  # a worker's own cost, without contention
    }, plan, args.repeat, null_plan, measure_host)
    def canonical(metrics):  # replications arrive in any order; compare them in order
        return repr({pid: sorted(per.items()) for pid, per in metrics.items()})
    ref = canonical(next(iter(rows.values()))["metrics"])
    identical = all(canonical(r.pop("metrics")) == ref for r in rows.values())
    serial, local, dask, one = rows.values()
    alone = min(r["wall_s"] for r in host["alone"]) / half
    together = min(max(r["wall_s"] for r in rs) for rs in host["together"]) / half
    alone_cpu = min(r["cpu_s"] for r in host["alone"]) / half
    together_cpu = min(max(r["cpu_s"] for r in rs) for rs in host["together"]) / half
    ceiling = w * alone / together
    summary = {
        "cpus": os.cpu_count(), "reps": args.reps, "horizon": sc.horizon, "repeat": args.repeat,
        "seconds_per_replication_serial": serial["run_s"] / args.reps,
        "speedup_local": serial["run_s"] / local["run_s"],
        "host_ms_per_rep_alone": 1000 * alone, "host_ms_per_rep_together": 1000 * together,
        "host_cpu_ms_per_rep_alone": 1000 * alone_cpu, "host_cpu_ms_per_rep_together": 1000 * together_cpu,
        "host_ceiling": ceiling,
        "dask_overhead_per_rep_ms": 1000 * (dask["run_s"] - local["run_s"]) / args.reps,
        "dask_startup_overhead_s": dask["startup_s"] - local["startup_s"],
        "identical_results": identical,
    }
    print(f"batch: default scenario (horizon {sc.horizon:g} d), {args.reps} replications, best of {args.repeat}; "
          f"{os.cpu_count()} CPUs")
    print(f"{'backend':<34} {'start-up s':>10} {'run s':>8} {'reps/s':>8} {'ms/rep a worker':>16} "
          f"{'overhead ms/rep':>16}")
    for name, r in rows.items():
        print(f"{name:<34} {r['startup_s']:>10.2f} {r['run_s']:>8.2f} {r['reps_per_s']:>8.1f} "
              f"{1000 * r['run_s'] * r['workers'] / args.reps:>16.1f} {r['overhead_ms_per_rep']:>16.2f}")
    print(f"host: {half} replications in one process alone {1000 * alone:.1f} ms each (CPU {1000 * alone_cpu:.1f}); "
          f"{w} such processes at once {1000 * together:.1f} ms each (CPU {1000 * together_cpu:.1f}): "
          f"{together / alone:.2f}x slower, so at most {ceiling:.2f}x with {w} workers on this host")
    print(f"speed-up with {w} local workers: {summary['speedup_local']:.2f}x "
          f"({summary['speedup_local'] / ceiling:.0%} of the host's ceiling); "
          f"Dask over local processes: {summary['dask_overhead_per_rep_ms']:+.1f} ms a replication, "
          f"{summary['dask_startup_overhead_s']:+.2f} s start-up; identical results: {identical}")
    out = Path(__file__).with_suffix(".json")
    out.write_text(json.dumps({"summary": summary, "backends": rows, "host": host}, indent=2) + "\n")


if __name__ == "__main__":
    main()
