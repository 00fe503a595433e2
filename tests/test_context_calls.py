"""The Context's event shortcuts do what SimPy would: env.timeout made in one call, the inlined run
loop, timed calls without a process (after, at) and calls booked once per instant (once)."""
import pytest
import simpy

from sim.core.context import Context


def _ctx() -> Context:
    return Context(horizon=100.0, warmup=0.0, period=10.0, seed=1, rep=0)


def test_timeout_keeps_simpys_order_and_values():
    """env.timeout and SimPy's own Timeout, interleaved: fired by time, then in the order made, with
    their values; a negative delay is refused as SimPy refuses it."""
    ctx, fired = _ctx(), []
    env = ctx.env
    for i, delay in enumerate([2.0, 1.0, 2.0, 1.0, 0.0]):
        ev = env.timeout(delay, i) if i % 2 else simpy.events.Timeout(env, delay, i)
        ev.callbacks.append(lambda e: fired.append((env.now, e.value)))
    ctx.run(10.0)
    assert fired == [(0.0, 4), (1.0, 1), (1.0, 3), (2.0, 0), (2.0, 2)]
    with pytest.raises(ValueError, match="Negative delay"):
        env.timeout(-1.0)


def test_run_stops_at_until_and_a_failed_event_crashes():
    ctx = _ctx()
    env = ctx.env
    ticks = []

    def clock():
        while True:
            yield env.timeout(1.0)
            ticks.append(env.now)

    env.process(clock())
    ctx.run(3.5)
    assert ticks == [1.0, 2.0, 3.0] and env.now == 3.5

    def failing():
        yield env.timeout(1.0)
        raise KeyError("boom")

    ctx2 = _ctx()
    env = ctx2.env
    env.process(failing())
    with pytest.raises(KeyError, match="boom"):
        ctx2.run(5.0)


def test_after_is_a_process_timeout_to_the_bit():
    """0.1 + 0.2 is not 0.3: after(delay) fires at now + delay exactly as a process's timeout would."""
    ctx, seen = _ctx(), {}
    env = ctx.env

    def proc():
        yield env.timeout(0.1)
        yield env.timeout(0.2)
        seen["process"] = env.now

    def start():
        ctx.after(0.2, lambda tag: seen.__setitem__(tag, env.now), "after")

    env.process(proc())
    ctx.at(0.1, start)
    ctx.run(1.0)
    assert seen["after"] == seen["process"] == 0.1 + 0.2 != 0.3


def test_once_books_one_call_per_instant():
    ctx, calls = _ctx(), []
    env = ctx.env
    review = lambda: calls.append(env.now)  # noqa: E731 - one callable, booked several times
    for t in (5.0, 5.0, 3.0, 5.0):
        ctx.once(t, review)
    ctx.once(5.0, lambda: calls.append(-env.now))  # another callable at the same time: its own call
    ctx.run(6.0)
    assert calls == [3.0, 5.0, -5.0]
    ctx.once(8.0, review)  # booked again once its call has been made
    ctx.run(10.0)
    assert calls == [3.0, 5.0, -5.0, 8.0]
