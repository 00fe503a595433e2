"""A zero-time loop stops the run with a message naming the component, instead of hanging; a healthy
run is not affected (the guard schedules its stop exactly as SimPy's own ``run`` does)."""
from __future__ import annotations

import pytest

import sim.core.context as context
from sim.core.context import Context, SimulationStalled


class _Line:
    name = "dp-1"

    def __init__(self, env, loop_at: float | None) -> None:
        self.env, self.loop_at, self.log = env, loop_at, []

    def campaign(self):
        while True:
            yield self.env.timeout(2.5)
            self.log.append(self.env.now)
            if self.loop_at is not None and self.env.now >= self.loop_at:
                while True:  # a component that reschedules itself after no time at all
                    yield self.env.timeout(0)


def test_zero_time_loop_is_named(monkeypatch):
    monkeypatch.setattr(context, "STALL_EVENTS", 10_000)
    ctx = Context(100, 0, 7, 1, 0)
    ctx.env.process(_Line(ctx.env, loop_at=5).campaign())
    with pytest.raises(SimulationStalled, match=r"clock stopped at day 5\b.*_Line dp-1\.campaign"):
        ctx.run(100)


def test_guarded_run_matches_simpy_run():
    """Same events, same order, stopping at the horizon: an event exactly at the horizon is not run
    (SimPy's until event is urgent), and the clock ends at the horizon."""
    logs = []
    for guarded in (False, True):
        ctx = Context(10, 0, 7, 1, 0)
        line = _Line(ctx.env, loop_at=None)
        ctx.env.process(line.campaign())
        ctx.run(10) if guarded else ctx.env.run(until=10)
        logs.append((line.log, ctx.env.now))
    assert logs[0] == logs[1] == ([2.5, 5.0, 7.5], 10)
