"""Time to first result: ``--help``, the default ``run`` (10 replications, figures) and ``plot`` of its
folder, as a user runs them, for this checkout and optionally another one, the two alternating.

    python bench/bench_start.py                       # this checkout, best of 3
    python bench/bench_start.py --other ../main --repeat 5

Each command runs in a subprocess (``PYTHONPATH`` = its checkout) while the CPU seconds of its whole
process tree (main process, fork server, workers) are sampled every 20 ms: on a shared machine the wall
time varies with the others' load, the CPU time much less.  Prints, per checkout and command, the best
and the median wall time, the median CPU time of the tree and of its main process alone.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_scale import poll_tree

ROOT = Path(__file__).resolve().parents[1]


def measured(args: list[str], checkout: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds of the process tree and of its main process alone, of ``python *args``
    run from *checkout*."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], cwd=checkout, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    cpu: dict[int, float] = {}

    def sample(tree: list) -> None:
        for p in tree:
            t = p.cpu_times()
            cpu[p.pid] = t.user + t.system
    poll_tree(proc, sample, 0.02)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {checkout}:\n{proc.stderr.read().decode()}")
    return wall, sum(cpu.values()), cpu.get(proc.pid, 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--other", type=Path, help="another checkout to measure alternately (e.g. main)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    checkouts = [ROOT, *([args.other.resolve()] if args.other else [])]
    seen: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for c in checkouts:
                out = Path(tmp) / f"{c.name}-{i}"
                commands = {"--help": ["run_sim.py", "--help"],
                            "run (10 reps, figures)": ["run_sim.py", "run", "--out", str(out), "--no-progress"],
                            "plot": ["run_sim.py", "plot", str(out)]}
                for name, cmd in commands.items():
                    seen.setdefault((c.name, name), []).append(measured(cmd, c))
    print(f"{'checkout':<12} {'command':<24} {'best wall':>10} {'median wall':>12} {'median CPU':>11} "
          f"{'of it main':>11}")
    for (checkout, name), runs in seen.items():
        walls, cpus, mains = zip(*runs)
        print(f"{checkout:<12} {name:<24} {min(walls):9.2f}s {statistics.median(walls):11.2f}s "
              f"{statistics.median(cpus):10.2f}s {statistics.median(mains):10.2f}s")
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
