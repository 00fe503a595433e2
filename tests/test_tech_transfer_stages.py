"""A failed tech-transfer stage is redone on its own: E[days] = sum of duration_i / (1 - p_i) (a
geometric number of attempts per stage), against duration / (1 - p) for the whole transfer."""
from __future__ import annotations

import pytest

from sim.core.context import Context
from sim.scenario.supply import TechTransfer
from sim.supply.tech_transfer import transfer
from tests.mfg_support import assert_close


def _days_and_attempts(spec: TechTransfer, reps: int = 400) -> tuple[list[float], list[int]]:
    days, attempts = [], []
    for rep in range(reps):
        ctx = Context(1e6, 0, 1e5, 7, rep)
        out = []

        def run():
            out.append((yield from transfer(ctx, "tt", spec)))
        ctx.env.process(run())
        ctx.env.run()
        days.append(ctx.env.now)
        attempts.append(out[0])
    return days, attempts


def test_a_failed_stage_sends_the_transfer_back_one_stage_only():
    staged = TechTransfer(stages=[{"name": "method", "duration": 10, "failure_prob": 0.5},
                                  {"name": "process", "duration": 20}])
    days, attempts = _days_and_attempts(staged)
    assert_close(days, 10 / 0.5 + 20)          # 40 days; sd of days = 10 * sqrt(0.5) / 0.5 = 14.1
    assert_close(attempts, 1 / 0.5 + 1)       # 3 attempts
    whole = TechTransfer(duration=30, failure_prob=0.5)
    days, attempts = _days_and_attempts(whole)
    assert_close(days, 30 / 0.5)               # 60 days: the failure repeats all of it
    assert_close(attempts, 2)


def test_duration_or_stages():
    with pytest.raises(ValueError, match="either duration"):
        TechTransfer(duration=10, stages=[{"name": "a", "duration": 1}])
    with pytest.raises(ValueError, match="each stage its own failure_prob"):
        TechTransfer(stages=[{"name": "a", "duration": 1}], failure_prob=0.1)
