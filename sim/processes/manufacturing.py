"""CDMO manufacturing lines: batch lines and continuous lines, each followed by QC release.

A line takes raw material from its store, makes product, and hands each lot to
QC; QC holds the lot for a random release time and either rejects it or passes
it on to ``deliver`` (packaging, or the next stage).  QC does not block the
line: the next batch starts while the last one is being tested.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

from sim.context import Context
from sim.lots import Lot, LotStore
from sim.scenario.supply import BatchLine, ContinuousLine


class _LineNode:
    """What batch and continuous lines share: material intake, QC release, bookkeeping."""

    def __init__(self, ctx: Context, spec, store: LotStore, deliver: Callable[[Lot], None]) -> None:
        self.ctx = ctx
        self.spec = spec
        self.store = store
        self.deliver = deliver
        name = spec.name
        self.in_process = 0.0
        self.in_qc = 0.0
        self._qc_time = ctx.sampler(f"line.{name}.qc_time", spec.qc_time)
        self._qc_fail = ctx.coin(f"line.{name}.qc_failure", spec.qc_failure_prob)
        self.busy = ctx.level(f"utilisation.{name}")
        self.wip = ctx.level(f"wip.{name}")
        self._cycle = ctx.tally(f"cycle_time.{name}")
        self._output = ctx.counter(f"released.{name}")
        self._rejected = ctx.counter(f"rejected.{name}")
        ctx.env.process(self.run())

    def run(self):  # pragma: no cover - overridden
        raise NotImplementedError
        yield

    def _intake(self, qty: float):
        """Wait for *qty* of material and consume it; returns the ids of the lots used."""
        if qty <= 0:
            return "none"
        lots = yield self.store.get(qty)
        self.ctx.ledger.outflow(self.spec.material, "consumed", qty)
        return "+".join(l.id for l in lots)

    def _start(self, qty: float) -> None:
        self.ctx.ledger.inflow(self.spec.product, "started", qty)
        self.in_process += qty
        self.wip.add(self.ctx.now, qty)

    def _to_qc(self, qty: float, started: float, parent: str) -> None:
        self.in_process -= qty
        self.in_qc += qty
        self.ctx.env.process(self._qc(qty, started, parent))

    def _qc(self, qty: float, started: float, parent: str):
        ctx = self.ctx
        yield ctx.env.timeout(self._qc_time())
        self.in_qc -= qty
        self.wip.add(ctx.now, -qty)
        if self._qc_fail():
            ctx.ledger.outflow(self.spec.product, "rejected", qty)
            self._rejected.count(ctx.now, qty)
            return
        self._cycle.observe(ctx.now - started, ctx.now)
        self._output.count(ctx.now, qty)
        self.deliver(Lot(ctx.new_id(self.spec.name), self.spec.product, qty, parent, math.inf, ctx.now))

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        yield self.spec.product, "in_process", self.in_process
        yield self.spec.product, "qc_hold", self.in_qc


class BatchLineNode(_LineNode):
    """One batch at a time: material for a batch, a random cycle time, then QC."""

    spec: BatchLine

    def __init__(self, ctx: Context, spec: BatchLine, store: LotStore, deliver: Callable[[Lot], None]) -> None:
        self._cycle_time = ctx.sampler(f"line.{spec.name}.cycle_time", spec.cycle_time)
        super().__init__(ctx, spec, store, deliver)

    def run(self):
        spec, env = self.spec, self.ctx.env
        yield env.timeout(spec.start)
        made = 0
        while spec.batches is None or made < spec.batches:
            parent = yield from self._intake(spec.material_per_batch)
            started = env.now
            self._start(spec.batch_size)
            self.busy.set(env.now, 1)
            yield env.timeout(self._cycle_time())
            self.busy.set(env.now, 0)
            self._to_qc(spec.batch_size, started, parent)
            made += 1


class ContinuousLineNode(_LineNode):
    """Runs at *rate* while up; breakdowns come after random operating time
    (operation-dependent failures) and stop the line for a random repair time.
    Output is cut into lots of *lot_size* units, each released by QC.
    """

    spec: ContinuousLine

    def __init__(self, ctx: Context, spec: ContinuousLine, store: LotStore, deliver: Callable[[Lot], None]) -> None:
        self._tbf = self._ttr = None
        if spec.time_between_failures is not None:
            self._tbf = ctx.sampler(f"line.{spec.name}.time_between_failures", spec.time_between_failures)
            self._ttr = ctx.sampler(f"line.{spec.name}.time_to_repair", spec.time_to_repair)
        self.down = ctx.level(f"downtime.{spec.name}")
        self._breakdowns = ctx.counter(f"breakdowns.{spec.name}")
        super().__init__(ctx, spec, store, deliver)

    def run(self):
        spec, env = self.spec, self.ctx.env
        yield env.timeout(spec.start)
        op_left = self._tbf() if self._tbf else math.inf
        made = 0
        while spec.lots is None or made < spec.lots:
            parent = yield from self._intake(spec.material_per_unit * spec.lot_size)
            started = env.now
            self._start(spec.lot_size)
            self.busy.set(env.now, 1)
            work = spec.lot_size / spec.rate
            while work > 0:
                dt = min(work, op_left)
                yield env.timeout(dt)
                work -= dt
                op_left -= dt
                if op_left <= 0:
                    self.busy.set(env.now, 0)
                    self.down.set(env.now, 1)
                    self._breakdowns.count(env.now)
                    yield env.timeout(self._ttr())
                    self.down.set(env.now, 0)
                    self.busy.set(env.now, 1)
                    op_left = self._tbf()
            self.busy.set(env.now, 0)
            self._to_qc(spec.lot_size, started, parent)
            made += 1


LINE_KINDS: dict[str, type[_LineNode]] = {"batch": BatchLineNode, "continuous": ContinuousLineNode}
"""Registry: scenario ``kind`` -> runtime line class. A new kind registers here."""
