"""An M/M/3 QC lab built from the tool's components against the same queue hand-written in SimPy.

    python bench/bench_mm3.py [--lots 200000] [--repeat 3]

Both: Poisson lot arrivals (rate 2.4 a day), one exponential test each (mean 1 day), 3 analysts
(utilisation 0.8).  The tool's version is a :class:`~sim.supply.qc_lab.QCLab` on a
:class:`~sim.core.context.Context` — with its statistics (wait tally, queue and utilisation levels,
counters) — fed by a process calling ``test_lot``; the hand-written one is a ``simpy.Resource`` with
``random.expovariate`` draws and a running sum of waits, as one would write it for a single study.
Prints the best of *repeat* times of each, the ratio tool / hand-written, and both mean waits
against Erlang C (Wq = 1.0787 days).
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.core.context import Context  # noqa: E402
from sim.core.distributions import Exponential  # noqa: E402
from sim.scenario.materials import QCLab as QCLabSpec  # noqa: E402
from sim.supply.qc_lab import QCLab  # noqa: E402

LAM, MU, C = 2.4, 1.0, 3


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    a = lam / mu
    rho = a / c
    top = a ** c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a ** k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def tool(lots: int) -> tuple[float, float]:
    horizon = lots / LAM
    ctx = Context(horizon=horizon * 2, warmup=0.0, period=horizon * 2, seed=1, rep=0)
    spec = QCLabSpec(name="lab", analysts=C, tests=[{"name": "assay", "time": {"dist": "exponential",
                                                                               "mean": 1 / MU}}])
    lab = QCLab(ctx, spec)
    gap = ctx.sampler("arrivals", Exponential(dist="exponential", mean=1 / LAM))
    env = ctx.env

    def arrivals():
        for _ in range(lots):
            yield env.timeout(gap())
            env.process(lab.test_lot(["assay"]))

    env.process(arrivals())
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0, ctx.tallies["qc_wait.lab"].mean


def hand(lots: int) -> tuple[float, float]:
    env = simpy.Environment()
    analysts = simpy.Resource(env, C)
    rnd = random.Random(1)
    waits = [0.0, 0]

    def lot():
        arrived = env.now
        with analysts.request() as req:
            yield req
            waits[0] += env.now - arrived
            waits[1] += 1
            yield env.timeout(rnd.expovariate(MU))

    def arrivals():
        for _ in range(lots):
            yield env.timeout(rnd.expovariate(LAM))
            env.process(lot())

    env.process(arrivals())
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0, waits[0] / waits[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lots", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t_tool = t_hand = math.inf
    for _ in range(args.repeat):  # interleaved, so that a slower spell of the machine hits both
        t, w_tool = tool(args.lots)
        t_tool = min(t_tool, t)
        t, w_hand = hand(args.lots)
        t_hand = min(t_hand, t)
    print(f"M/M/3, {args.lots:,} lots, utilisation {LAM / MU / C:.2f}; Erlang C Wq = {erlang_c_wait(LAM, MU, C):.4f}")
    print(f"tool's QC lab     : {t_tool:6.2f} s  (mean wait {w_tool:.4f})")
    print(f"hand-written SimPy: {t_hand:6.2f} s  (mean wait {w_hand:.4f})")
    print(f"ratio tool / hand-written: {t_tool / t_hand:.2f}")


if __name__ == "__main__":
    main()
