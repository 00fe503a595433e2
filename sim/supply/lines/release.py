"""QC release of a line's lots: tests (a plain delay or a shared lab) with any deviation
investigation running alongside, rework and retest when the failure allows it, QA disposition, then
release or rejection.  Mixed into :class:`~sim.supply.lines.base.LineNode`,
whose counters, ledger and ``ship`` it uses; kept apart because release runs beside the line."""
from __future__ import annotations

import math

from sim.core.lots import Lot
from sim.supply.lines.clock import TIMELINE_CAP


class QCRelease:
    """The QC hold of one lot (a SimPy sub-process per lot, so QC never blocks the line)."""

    def _release(self, recipe, qty: float, started: float, parent: str):
        """QC hold of one lot: tests and (alongside) any deviation investigation — the lot waits for the
        later of the two —, rework and retest if the failure allows it, QA disposition, then release or
        reject."""
        ctx, env, name = self.ctx, self.ctx.env, recipe.name
        held = env.now
        investigated = held + self._investigation() if self._deviation() else held
        passed, reworkable = yield from self._test()
        if investigated > env.now:
            yield env.timeout(investigated - env.now)
        if not passed and reworkable and self._rework():
            self.reworks.add(env.now)
            self.in_qc[name] -= qty
            self.in_rework[name] += qty
            yield env.timeout(self._rework_time())
            good = qty * self.spec.rework_yield
            self.in_rework[name] -= qty
            if qty - good > 0:
                ctx.ledger.outflow(name, "rework_loss", qty - good)
                self._book("rework_loss", qty - good, lost=name)
                self.wip.add(env.now, good - qty)
            qty = good
            self.in_qc[name] += qty
            passed, _ = yield from self._test()
        if passed and self.lab is not None:
            yield from self.lab.dispose()
        now = env.now
        self.in_qc[name] -= qty
        self.wip.add(now, -qty)
        if len(self.qc_log) < TIMELINE_CAP:
            self.qc_log.append((held, now, "released" if passed else "rejected"))
        if not passed:
            ctx.ledger.outflow(name, "rejected", qty)
            self._rejected.count(now, qty)
            self._book("rejected", qty, lost=name)
            return
        self._cycle.observe(now - started, now)
        self._qc_release.observe(now - held, now)
        self._output.count(now, qty)
        self._book("released", qty)
        if math.isnan(recipe.first_release):
            recipe.first_release = now
        lot = Lot(ctx.new_id(self.spec.name), name, qty, parent, math.inf, now, made=started, line=self.spec.name)
        ctx.made(lot, f"line.{self.spec.name}")
        self.ship(lot)

    def _test(self):
        """``(passed, reworkable)``; without a lab, a failure's type is unknown and rework is allowed."""
        if self.lab is not None:
            return (yield from self.lab.test_lot(self.qc_tests))
        yield self.ctx.env.timeout(self._qc_time())
        return not self._qc_fail(), True
