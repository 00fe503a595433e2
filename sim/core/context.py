"""What every process of one replication shares: clock, randomness, statistics, ledger."""
from __future__ import annotations

import itertools
import math
from heapq import heappop, heappush
from types import MethodType
from typing import Callable

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT, Timeout

from sim.core._compiled import mypyc_attr
from sim.core.genealogy import Genealogy
from sim.core.conservation import Ledger
from sim.core.distributions import Bernoulli, Sampler
from sim.core.randomness import RngSource, Streams
from sim.core.stats import Count, CountMap, Level, PeriodCounter, Tally


STALL_EVENTS = 2_000_000
"""Events at one instant taken as a zero-time loop (a replication has tens of thousands in all)."""


@mypyc_attr(native_class=False)  # compiled, a class deriving from a built-in one must be a Python class
class SimulationStalled(RuntimeError):
    """The simulation clock stopped advancing: a zero-time loop in some component."""


class Context:
    """Per-replication services handed to every component.

    Components ask for samplers and collectors *by name*; names double as
    random-stream keys and as metric names in the results.
    """

    def __init__(self, horizon: float, warmup: float, period: float, seed: int, rep: int) -> None:
        self.env = env = simpy.Environment()
        # the same events as SimPy's env.timeout, made in one call (hot: ~14,000 a replication)
        env.timeout = MethodType(_timeout, env)  # type: ignore[method-assign]
        self._queue: list[tuple[float, int, int, object]] = env._queue  # type: ignore[assignment]  # SimPy's event queue
        self._eid = env._eid  # and its tie-breaking counter
        self.horizon = horizon
        self.warmup = warmup
        self.period = period
        self.streams = Streams(seed, rep)
        self.ledger = Ledger()
        self.tallies: dict[str, Tally] = {}
        self.levels: dict[str, Level] = {}
        self.counters: dict[str, PeriodCounter] = {}
        self._sums: dict[str, list[Level]] = {}  # total level -> its parts
        self._ids = itertools.count(1)
        self.genealogy: Genealogy | None = None  # lot genealogy, recorded on request (--trace)
        self.recalls: list[Callable[[object], bool]] = []  # lots withdrawn wherever they are put
        self._once: set[tuple[Callable[[], None], float]] = set()  # calls booked by once()

    # -- randomness --------------------------------------------------------
    def sampler(self, name: str, spec) -> Sampler:
        return spec.sampler(self.streams.lazy(name))

    def coin(self, name: str, p: float) -> Bernoulli:
        return Bernoulli(p, self.streams.lazy(name))

    def rng(self, name: str) -> np.random.Generator:
        return self.streams(name)

    def lazy_rng(self, name: str) -> RngSource:
        """The stream *name* made when first drawn from, for a component that may never draw
        (:meth:`Streams.lazy`); samplers, coins and tallies get their streams this way."""
        return self.streams.lazy(name)

    # -- statistics --------------------------------------------------------
    def tally(self, name: str) -> Tally:
        t = self.tallies.get(name)
        if t is None:
            t = self.tallies[name] = Tally(name, self.warmup, self.streams.lazy("stats.reservoir." + name))
        return t

    def level(self, name: str, initial: float = 0.0) -> Level:
        lv = self.levels.get(name)
        if lv is None:
            lv = self.levels[name] = Level(name, self.horizon, self.period, self.warmup, initial)
        return lv

    def level_sum(self, total: str, part: Level) -> None:
        """Count *part* in the level *total*, which is summed from its parts when the run ends: much
        cheaper than moving the total at every change of every part (all sites' stock, say)."""
        self.level(total)
        self._sums.setdefault(total, []).append(part)

    def _add_up(self, t_end: float) -> None:
        for name, parts in self._sums.items():
            for part in parts:
                part.finish(t_end)
            self.levels[name].assemble(parts, t_end)

    def counter(self, name: str) -> PeriodCounter:
        c = self.counters.get(name)
        if c is None:
            c = self.counters[name] = PeriodCounter(name, self.horizon, self.period, self.warmup)
        return c

    def count(self) -> Count:
        """A plain count owned by one component (reported by that component's ``metrics``)."""
        return Count(self.warmup)

    def count_map(self) -> CountMap:
        """Plain sums by key owned by one component (see :class:`CountMap`)."""
        return CountMap(self.warmup)

    def level_tracker(self, name: str) -> Callable[[float, float], None]:
        """A callback ``(t, value)`` that keeps the named level up to date."""
        return self.level(name).set

    def collector_metrics(self, t_end: float) -> dict[str, float]:
        """The metrics of the shared collectors (catalogued in :mod:`sim.metrics`): per counter its
        ``total.`` and ``rate.`` over the observation window, per tally ``delay.<name>.mean/.max/.n``,
        per level its time average (``<name>.mean``; utilisation and downtime are fractions already
        and keep their own name)."""
        span = t_end - self.warmup
        m: dict[str, float] = {}
        for name, c in sorted(self.counters.items()):
            m[f"total.{name}"] = c.total
            m[f"rate.{name}"] = c.total / span
        for name, t in sorted(self.tallies.items()):
            m[f"delay.{name}.mean"] = t.mean if t.n else math.nan
            m[f"delay.{name}.max"] = t.max if t.n else math.nan
            m[f"delay.{name}.n"] = t.n
        self._add_up(t_end)
        for name, lv in sorted(self.levels.items()):
            lv.finish(t_end)
            m[name if name.startswith(("utilisation.", "downtime.")) else f"{name}.mean"] = lv.mean(t_end)
        return m

    def collector_series(self, t_end: float) -> dict[str, "np.ndarray"]:
        """Per-period series of every counter and level (``series.csv``)."""
        self._add_up(t_end)
        series = {name: c.series() for name, c in self.counters.items()}
        series.update({name: lv.series(t_end) for name, lv in self.levels.items()})
        return series

    def samples(self) -> dict[str, list[float]]:
        """The bounded sample of every tally (``delays.csv``)."""
        return {name: t.sample for name, t in self.tallies.items()}

    # -- running -------------------------------------------------------------
    def run(self, until: float) -> None:
        """``env.run(until=...)`` with a guard against zero-time loops: if :data:`STALL_EVENTS` events
        go by without the clock moving, the run stops with :class:`SimulationStalled` naming the
        processes waiting at that instant (a component that reschedules itself after no time, say).
        The stop event is scheduled as SimPy's own ``run`` does, so the order of events is the same."""
        env = self.env
        stop = simpy.Event(env)
        stop._ok, stop._value = True, None
        env.schedule(stop, simpy.events.URGENT, until - env.now)
        stop.callbacks.append(simpy.core.StopSimulation.callback)
        queue = env._queue
        try:
            while True:
                t0 = env._now
                for _ in range(STALL_EVENTS):  # env.step() inlined: one call fewer per event
                    env._now, _, _, event = heappop(queue)
                    if event.__class__ is _Call:  # a timed call (most events): no callbacks to walk
                        event.fn(*event.args)
                        continue
                    callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
                    for callback in callbacks:
                        callback(event)
                    if not event._ok and not hasattr(event, "_defused"):  # as SimPy: a failed event crashes
                        exc = type(event._value)(*event._value.args)
                        exc.__cause__ = event._value
                        raise exc
                if env._now == t0:
                    raise SimulationStalled(f"the clock stopped at day {t0:g}: {STALL_EVENTS:,} events "
                                            f"without time passing, from {self._waiting()}")
        except simpy.core.StopSimulation:
            return

    def _waiting(self) -> str:
        """The processes and timed calls with an event at the current instant, named by their component."""
        env, seen = self.env, {}
        for t, _prio, _eid, event in env._queue:
            if t != env.now:
                continue
            if event.__class__ is _Call:
                owner = getattr(event.fn, "__self__", None)
                name = getattr(event.fn, "__name__", type(event.fn).__name__)
                who = f"{type(owner).__name__} {getattr(owner, 'name', '')}".strip() if owner is not None else ""
                seen[f"{who}.{name}" if who else name] = True
                continue
            for cb in event.callbacks or ():
                proc = getattr(cb, "__self__", None)
                if isinstance(proc, simpy.Process):
                    gen = proc._generator
                    owner = gen.gi_frame.f_locals.get("self") if gen.gi_frame else None  # type: ignore[attr-defined]
                    who = f"{type(owner).__name__} {getattr(owner, 'name', '')}".strip() if owner else ""
                    seen[f"{who}.{gen.__name__}" if who else gen.__name__] = True  # type: ignore[attr-defined]
        return ", ".join(list(seen)[:5]) or "callbacks outside any process"

    # -- misc ----------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def made(self, lot, place: str) -> None:
        """*lot* was made at *place*: noted in the genealogy when the run records one."""
        if self.genealogy is not None:
            self.genealogy.made(lot, place)

    def at(self, t: float, callback: Callable[..., None], *args) -> None:
        """Call ``callback(*args)`` at time *t* (now if *t* has passed) without a process: a
        :class:`_Call` in SimPy's queue where a process would put its timeout, so the order is the same."""
        now = self.env._now
        call = _new(_Call)
        call.callbacks, call.fn, call.args = _RUN_CALL, callback, args
        heappush(self._queue, (now + max(0.0, t - now), NORMAL, next(self._eid), call))

    def once(self, t: float, callback: Callable[[], None]) -> None:
        """:meth:`at` unless ``callback()`` is already booked for time *t*: for a call that would find
        nothing left to do the second time at one instant (a site's review when lots of one batch,
        come in many shipments, stop counting: ~1,100 events a replication fewer)."""
        key = (callback, t)
        if key not in self._once:
            self._once.add(key)
            self.at(t, self._call_once, key)

    def _call_once(self, key: tuple[Callable[[], None], float]) -> None:
        self._once.discard(key)
        key[0]()

    def after(self, delay: float, callback: Callable[..., None], *args) -> None:
        """Call ``callback(*args)`` *delay* days from now without a process: the same time, to the bit,
        as a process's ``yield env.timeout(delay)`` (:meth:`at` computes the delay from a time)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        call = _new(_Call)
        call.callbacks, call.fn, call.args = _RUN_CALL, callback, args
        heappush(self._queue, (self.env._now + delay, NORMAL, next(self._eid), call))

    def start(self, callback: Callable[..., None], *args) -> None:
        """Call ``callback(*args)`` now, before the instant's other timed calls: where ``env.process``
        puts a new process's first step (SimPy's ``Initialize`` is urgent), for a process written as
        timed calls that must keep its place in the order of events."""
        call = _new(_Call)
        call.callbacks, call.fn, call.args = _RUN_CALL, callback, args
        heappush(self._queue, (self.env._now, URGENT, next(self._eid), call))

    @property
    def now(self) -> float:
        return self.env._now  # hot: skip SimPy's own property

    def in_horizon(self, t: float) -> bool:
        return t <= self.horizon and not math.isinf(t)


def _timeout(env: simpy.Environment, delay: float = 0, value=None) -> Timeout:
    """``env.timeout(delay, value)``: the :class:`simpy.Timeout` that SimPy's own makes, with the same
    place in the queue, in one Python call instead of three (the class, its ``__init__``, ``schedule``)."""
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    ev = object.__new__(Timeout)
    ev.env = env
    ev.callbacks = []
    ev._value = value
    ev._delay = delay
    ev._ok = True
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), ev))
    return ev


@mypyc_attr(native_class=False)  # made by object.__new__, and put in SimPy's queue among its events
class _Call:
    """A timed call in SimPy's event queue (:meth:`Context.at`, :meth:`~Context.after`,
    :meth:`~Context.start`): all SimPy's ``step`` needs of an event (``callbacks``, ``_ok``) and the
    call, without a :class:`simpy.Timeout`'s fields or a list of callbacks per call (~10,000 a
    replication). :meth:`Context.run` makes the call directly."""

    __slots__ = ("callbacks", "fn", "args")
    _ok = True
    callbacks: tuple[Callable[[_Call], None], ...] | None
    fn: Callable[..., None]
    args: tuple


def _run_call(call: _Call) -> None:
    """The callback SimPy's own ``step`` finds on a :class:`_Call` (tests that run ``env.run``)."""
    call.fn(*call.args)


_RUN_CALL = (_run_call,)
_new = object.__new__
