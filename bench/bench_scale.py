"""The 1000-replication command at full scale: wall time by phase, peak memory, folder size.

    python bench/bench_scale.py                 # 1000 replications of the default scenario, 2 workers
    python bench/bench_scale.py --reps 200 --workers 2

Runs ``run_sim.py run --reps N --workers W --no-figures`` and then ``run_sim.py plot`` on its folder, as
a user would, each in a subprocess, sampling the resident memory of the whole process tree (main
process and workers) every 50 ms.  Reports: the replication phase (from the folder's metadata), the
tables, start-up and the rest of the run command, the figures, the total, the peak memory of each
command, the folder's size and its Parquet datasets' share, replications per second, and the CPU seconds
of the run's main process and of its workers (where the replication phase's time goes).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def poll_tree(proc: subprocess.Popen, sample, every: float) -> None:
    """Call ``sample(processes)`` with *proc* and its descendants every *every* seconds until it ends."""
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            sample([root, *root.children(recursive=True)])
        except psutil.Error:
            pass
        time.sleep(every)


def run_measured(args: list[str]) -> tuple[float, float, dict[int, float]]:
    """Wall seconds, peak resident bytes (summed over the process tree) and CPU seconds of each process
    (its last sample; the command's own process first) of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks = [0]
    cpu: dict[int, float] = {proc.pid: 0.0}

    def sample(tree: list) -> None:
        peaks.append(sum(p.memory_info().rss for p in tree if p.is_running()))
        for p in tree:
            with contextlib.suppress(psutil.Error):
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
    poll_tree(proc, sample, 0.05)
    peak = max(peaks)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr.read().decode()}")
    return wall, peak, cpu


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scale"
        run_wall, run_peak, run_cpu = run_measured(["run_sim.py", "run", "--reps", str(args.reps), "--workers",
                                                    str(args.workers), "--out", str(out), "--no-figures",
                                                    "--no-progress"])
        plot_wall, plot_peak, _ = run_measured(["run_sim.py", "plot", str(out)])
        meta = json.loads((out / "metadata.json").read_text())
        reps_s = meta["wall_seconds"]
        size = folder_size(out)
        parquet = sum(folder_size(out / t) for t in ("metrics", "series", "delays"))
        print(f"default scenario, {args.reps} replications, {args.workers} workers")
        print(f"  replications        {reps_s:8.1f} s   ({args.reps / reps_s:.1f} replications/s)")
        main_cpu, *others = run_cpu.values()
        busy = sorted(others, reverse=True)[:args.workers]  # the workers (not the fork server, the tracker)
        print(f"    CPU of the run    {main_cpu:8.1f} s main process (whole run), "
              f"{sum(busy):.1f} s workers ({1000 * sum(busy) / args.reps:.0f} ms a replication)")
        print(f"  start-up and tables {run_wall - reps_s:8.1f} s")
        print(f"  figures (plot)      {plot_wall:8.1f} s")
        print(f"  total               {run_wall + plot_wall:8.1f} s")
        print(f"  peak memory         run {run_peak / 2**20:,.0f} MiB, plot {plot_peak / 2**20:,.0f} MiB")
        print(f"  results folder      {size / 1e6:,.1f} MB ({parquet / 1e6:,.1f} MB of Parquet datasets)")


if __name__ == "__main__":
    main()
