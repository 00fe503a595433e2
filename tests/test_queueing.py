"""Chain stages against queueing theory.

A batch line that never starves, with exponential cycle times of mean 1 day, releases lots as a
Poisson process of rate 1 (departures of an always-busy exponential server).  With zero QC time those
lots queue for one packaging line with exponential packing times of mean 0.7 day: an M/M/1 queue with
rho = 0.7, so the mean wait in queue is Wq = rho * E[S] / (1 - rho) = 1.6333 days and the packer is busy
70 % of the time.
"""
from __future__ import annotations

import math

import numpy as np

from sim.model import run_replication
from sim.scenario import parse_scenario
from tests.conftest import scenario_dict

RHO, ES = 0.7, 0.7


def mm1_scenario(horizon=12_000, warmup=1_000):
    d = scenario_dict(horizon=horizon, warmup=warmup, period=100)
    d["suppliers"][0].update(initial_stock=1e9, reorder_point=0)
    d["lines"][0].update(cycle_time={"dist": "exponential", "mean": 1.0}, qc_time=0, material_per_batch=1)
    d["packaging"].update(time={"dist": "exponential", "mean": ES}, shelf_life=1e6)
    return parse_scenario(d)


def test_packaging_is_mm1():
    sc = mm1_scenario()
    waits, util, rate = [], [], []
    for rep in range(8):
        m = run_replication(sc, seed=11, rep=rep).metrics
        waits.append(m["delay.packaging_wait.mean"])
        util.append(m["utilisation.packaging"])
        rate.append(m["rate.released.line"] / 1000)  # lots per day
    wq = RHO * ES / (1 - RHO)
    for values, theory in ((waits, wq), (util, RHO), (rate, 1.0)):
        x = np.asarray(values)
        se = x.std(ddof=1) / math.sqrt(len(x))
        assert abs(x.mean() - theory) <= 4 * se, (x.mean(), theory, se)
        assert abs(x.mean() - theory) <= 0.05 * theory  # and the estimate is tight
