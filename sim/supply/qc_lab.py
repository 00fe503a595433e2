"""A shared QC laboratory: a finite team of analysts (a SimPy resource) that lots queue for.

Each test occupies one analyst for a random time.  An out-of-specification
result triggers a retest; the lot fails only if the retest confirms the
failure.  The queue wait of every test (retests too) is tallied as
``qc_wait.<lab>``, so the lab can be checked against M/M/c theory.
"""
from __future__ import annotations

import simpy

from sim.core.context import Context
from sim.core.node import Node
from sim.scenario.materials import QCLab as QCLabSpec
from sim.scenario.materials import QCTest


class _TestKind:
    __slots__ = ("name", "cost", "time", "fails", "confirms", "runs")

    def __init__(self, ctx: Context, lab: str, spec: QCTest) -> None:
        prefix = f"qc.{lab}.{spec.name}"
        self.name = spec.name
        self.cost = spec.cost
        self.time = ctx.sampler(f"{prefix}.time", spec.time)
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
        self.kinds = {t.name: _TestKind(ctx, spec.name, t) for t in spec.tests}
        self.test_names = [t.name for t in spec.tests]
        self._wait = ctx.tally(f"qc_wait.{spec.name}")
        self._busy = ctx.level(f"utilisation.qc.{spec.name}")
        self._queue = ctx.level(f"qc_queue.{spec.name}")
        self._runs = ctx.counter(f"qc_tests.{spec.name}")
        self._retests = ctx.counter(f"qc_retests.{spec.name}")

    def run_test(self, name: str):
        """One test of kind *name*: queue for an analyst, then test (a SimPy generator)."""
        env, kind = self.ctx.env, self.kinds[name]
        arrived = env.now
        self._queue.add(arrived, 1)
        with self.analysts.request() as req:
            yield req
            self._wait.observe(env.now - arrived, env.now)
            self._queue.add(env.now, -1)
            self._busy.add(env.now, 1 / self.spec.analysts)
            yield env.timeout(kind.time())
            self._busy.add(env.now, -1 / self.spec.analysts)
        kind.runs.add(env.now)
        self._runs.count(env.now)

    def release(self, tests: list[str]):
        """Run *tests* one after another; a failure is retested once. Returns True if the lot passes."""
        for name in tests:
            kind = self.kinds[name]
            yield from self.run_test(name)
            if kind.fails():
                self._retests.count(self.ctx.now)
                yield from self.run_test(name)
                if kind.confirms():
                    return False
        return True

    @property
    def testing_cost(self) -> float:
        return sum(k.runs.value * k.cost for k in self.kinds.values())
