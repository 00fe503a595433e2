"""The main process's CPU during the replication phase of a run: what it costs besides the workers.

    python bench/bench_main.py [--reps 200 --workers 2]

Runs ``run_sim.py run --reps N --workers W --no-figures --no-progress`` in this process (the command a
user runs, with its workers) and measures, over the replication phase only: wall time, the CPU seconds
of this process (all its threads: receiving and unpickling results, storing them, the pool's
bookkeeping, and the imports it makes in the background while the first replications run) and, of
them, storing the replications (Parquet parts and records, written atomically), each per
replication; and the CPU of the workers (sampled; with the fork server's imports).  On a machine with
as many cores as workers, the main process's CPU is taken from the workers: its share of the phase's
CPU is what it costs the replication phase.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class Workers:
    """CPU seconds of this process's descendants (fork server, workers) from now on, sampled every
    0.5 s in a thread (a worker's last sample counts; *own_cpu*: the sampling's own)."""

    def __init__(self) -> None:
        import psutil
        self._me = psutil.Process()
        self._start = {p.pid: self._seconds(p) for p in self._me.children(recursive=True)}
        self._last: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    @staticmethod
    def _seconds(p) -> float:
        t = p.cpu_times()
        return t.user + t.system

    def _poll(self) -> None:
        import psutil
        while not self._done.wait(0.5):
            for p in self._me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    self._last[p.pid] = self._seconds(p)
        self.own_cpu = time.thread_time()  # this thread's: not the main process's work

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def cpu(self) -> float:
        return sum(v - self._start.get(pid, 0.0) for pid, v in self._last.items())


def measured(reps: int, workers: int) -> dict[str, float]:
    """Run the command; the replication phase's figures."""
    import sim.experiments.run as run
    from sim.cli import cli
    from sim.experiments.store import Store

    spent = {"store_s": 0.0}
    save, execute = Store.save, run.execute

    def timed_save(self, outcome) -> None:
        t0 = time.thread_time()
        save(self, outcome)
        spent["store_s"] += time.thread_time() - t0

    def timed_execute(*args, **kwargs):
        workers = Workers()
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            out = execute(*args, **kwargs)
        finally:
            workers.stop()
        spent.update(wall_s=time.perf_counter() - t0, cpu_s=time.process_time() - c0 - workers.own_cpu,
                     ran=out.ran, workers_s=workers.cpu())
        return out

    Store.save, run.execute = timed_save, timed_execute
    try:
        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
            try:
                cli(["run", "--reps", str(reps), "--workers", str(workers), "--no-figures", "--no-progress",
                     "--out", str(Path(tmp) / "run")], standalone_mode=False)
            except SystemExit:
                pass
    finally:
        Store.save, run.execute = save, execute
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    s = measured(args.reps, args.workers)
    n = s["ran"]
    print(f"default scenario, {n} replications, {args.workers} workers: replication phase {s['wall_s']:.1f} s")
    print(f"  main process CPU  {s['cpu_s']:6.2f} s  ({1000 * s['cpu_s'] / n:5.1f} ms a replication, "
          f"{s['cpu_s'] / (s['cpu_s'] + s['workers_s']):.1%} of the phase's CPU)")
    print(f"    of it storing   {s['store_s']:6.2f} s  ({1000 * s['store_s'] / n:5.1f} ms a replication)")
    print(f"  workers' CPU      {s['workers_s']:6.2f} s  ({1000 * s['workers_s'] / n:5.1f} ms a replication; "
          "with the fork server's)")


if __name__ == "__main__":
    main()
