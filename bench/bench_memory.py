"""Memory of one replication against its horizon: statistics accumulate as the run goes, so the peak
should stay flat when the run is ten times longer.

    python bench/bench_memory.py

Runs the default scenario with its horizon and with ten times it (the reporting period scaled with it,
so that the per-period series keep their length, and ten times the patients and the supply, so that
the run has ten times the events), tracing Python allocations (``tracemalloc``), and prints the peak
of each and their ratio.
"""
from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.experiments.overrides import apply_overrides  # noqa: E402
from sim.model import SupplyChainModel  # noqa: E402
from sim.scenario import load_default  # noqa: E402


def peak(scenario) -> tuple[float, int, float]:
    """Peak traced bytes, events and seconds of one replication (model built inside the trace)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    model = SupplyChainModel(scenario, 1, 0)
    env, n = model.ctx.env, 0
    while env.peek() <= scenario.horizon:
        env.step()
        n += 1
    model.results()
    seconds = time.perf_counter() - t0
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top, n, seconds


def main() -> None:
    base = load_default()
    trial = base.trials[0]
    long = apply_overrides(base, {"horizon": base.horizon * 10, "period": base.period * 10,
                                  f"trials.{trial.name}.target_patients": trial.target_patients * 10})
    for label, sc in (("horizon x 1", base), ("horizon x 10", long)):
        top, n, s = peak(sc)
        print(f"{label:13s}: {sc.horizon:8,.0f} days, {n:9,} events, peak {top / 2**20:7.1f} MiB, {s:6.1f} s")
        if label == "horizon x 1":
            first, events = top, n
    print(f"ratio of peaks (10x horizon / 1x): {top / first:.2f} for {n / events:.1f}x the events")


if __name__ == "__main__":
    main()
