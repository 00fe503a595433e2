"""A shared QC laboratory: a finite team of analysts (a SimPy resource) that lots queue for, and
an optional QA team that disposes of (certifies) the lots once tested.

A test run holds an analyst for its hands-on time only; its elapsed time (incubation, instrument
time) then runs without one.  A lot's tests start together (``parallel``), so the lot's testing ends
with the latest of them.  An out-of-specification result triggers an investigation and a retest; the
lot fails only if the retest confirms the failure, and may be reworked only if every failed test
allows it.  The queue wait of every test run (retests too) is tallied as ``qc_wait.<lab>``: with
hands-on time only, one test per lot and Poisson arrivals the lab is an M/M/c queue.
"""
from __future__ import annotations

import simpy

from sim.core.context import Context
from sim.core.distributions import Deterministic
from sim.core.node import Node
from sim.scenario.materials import QCLab as QCLabSpec
from sim.scenario.materials import QCTest


def _sampler_or_none(ctx: Context, name: str, spec):
    """A sampler, or None for a constant zero (no event is scheduled for a step that takes no time)."""
    zero = spec == 0 if isinstance(spec, (int, float)) else isinstance(spec, Deterministic) and spec.value == 0
    return None if zero else ctx.sampler(name, spec)


class _TestKind:
    __slots__ = ("name", "cost", "time", "elapsed", "investigation", "reworkable", "fails", "confirms", "runs")

    def __init__(self, ctx: Context, lab: str, spec: QCTest) -> None:
        prefix = f"qc.{lab}.{spec.name}"
        self.name = spec.name
        self.cost = spec.cost
        self.time = ctx.sampler(f"{prefix}.time", spec.time)
        self.elapsed = _sampler_or_none(ctx, f"{prefix}.elapsed", spec.elapsed)
        self.investigation = _sampler_or_none(ctx, f"{prefix}.investigation", spec.investigation)
        self.reworkable = spec.reworkable
        self.fails = ctx.coin(f"{prefix}.failure", spec.failure_prob)
        self.confirms = ctx.coin(f"{prefix}.confirm", spec.confirm_prob)
        self.runs = ctx.count()  # testing cost from the warm-up on, like the qc_tests counter


class QCLab(Node):
    """Analysts shared by every line (and incoming-material test) that names this lab."""

    def __init__(self, ctx: Context, spec: QCLabSpec) -> None:
        self.ctx = ctx
        self.spec = spec
        self.name = spec.name
        self.analysts = simpy.Resource(ctx.env, spec.analysts)
        self._share = 1 / spec.analysts  # of the team one busy analyst is
        self.kinds = {t.name: _TestKind(ctx, spec.name, t) for t in spec.tests}
        self.test_names = [t.name for t in spec.tests]
        self._wait = ctx.tally(f"qc_wait.{spec.name}")
        self._busy = ctx.level(f"utilisation.qc.{spec.name}")
        self._queue = ctx.level(f"qc_queue.{spec.name}")
        self._runs = ctx.counter(f"qc_tests.{spec.name}")
        self._retests = ctx.counter(f"qc_retests.{spec.name}")
        qa = spec.qa
        self.qa = simpy.Resource(ctx.env, qa.reviewers) if qa is not None else None
        if qa is not None:
            self._qa_time = ctx.sampler(f"qa.{spec.name}.time", qa.time)
            self._qa_wait = ctx.tally(f"qa_wait.{spec.name}")
            self._qa_busy = ctx.level(f"utilisation.qa.{spec.name}")

    def _one(self, name: str):
        """Test, and on an OOS result investigate and retest; returns 'pass', or 'fail' / 'fail-final'
        (a failure rework cannot fix).

        A run queues for an analyst, holds one for its hands-on time, then takes its elapsed time
        alone.  The run and the retest are one loop in this one generator, not a sub-generator per
        run: every event of every lot resumes the whole chain of generators it is delegated through."""
        env, kind, share = self.ctx.env, self.kinds[name], self._share
        retest = False
        while True:
            arrived = env._now
            with self.analysts.request() as req:
                if req.triggered:  # an analyst is free: no queue to join (the queue level would not move)
                    yield req
                else:
                    self._queue.add(arrived, 1)
                    yield req
                    self._queue.add(env._now, -1)
                now = env._now
                self._wait.observe(now - arrived, now)
                self._busy.add(now, share)
                yield env.timeout(kind.time())
                self._busy.add(env._now, -share)
            if kind.elapsed is not None:
                yield env.timeout(kind.elapsed())
            kind.runs.add(env._now)
            self._runs.count(env._now)
            if retest:
                return ("fail" if kind.reworkable else "fail-final") if kind.confirms() else "pass"
            if not kind.fails():
                return "pass"
            self._retests.count(env._now)
            if kind.investigation is not None:
                yield env.timeout(kind.investigation())
            retest = True

    def test_lot(self, tests: list[str]):
        """All of a lot's *tests* (together, or one after another if not ``parallel``); returns
        ``(passed, reworkable)``.  Sequential testing stops at the first confirmed failure."""
        if len(tests) == 1 or not self.spec.parallel:
            for name in tests:
                verdict = yield from self._one(name)
                if verdict != "pass":
                    return False, verdict == "fail"
            return True, True
        env = self.ctx.env
        runs = [env.process(self._one(name)) for name in tests]
        yield env.all_of(runs)
        verdicts = [r.value for r in runs]
        return all(v == "pass" for v in verdicts), "fail-final" not in verdicts

    def release(self, tests: list[str]):
        """Test a lot; True if it passes (incoming material: no rework, no QA step)."""
        passed, _ = yield from self.test_lot(tests)
        return passed

    def dispose(self):
        """QA disposition / QP certification of a tested lot, on the QA team (no-op without one)."""
        if self.qa is None:
            return
        env = self.ctx.env
        arrived = env.now
        with self.qa.request() as req:
            yield req
            self._qa_wait.observe(env.now - arrived, env.now)
            share = 1 / self.spec.qa.reviewers
            self._qa_busy.add(env.now, share)
            yield env.timeout(self._qa_time())
            self._qa_busy.add(env.now, -share)

    @property
    def testing_cost(self) -> float:
        return sum(k.runs.value * k.cost for k in self.kinds.values())
