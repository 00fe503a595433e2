"""Packaging and labelling: released drug-product lots become patient kits.

Each lot queues for one of ``packers`` packaging lines (a SimPy resource),
is packed in a random time into ``floor(qty / units_per_kit)`` kits that
expire ``shelf_life`` days later, and the kits go to the depot.  Units that do
not fill a whole kit are scrapped as remnant.
"""
from __future__ import annotations

from typing import Callable, Iterable

import simpy

from sim.context import Context
from sim.lots import Lot
from sim.processes.inventory import KIT
from sim.scenario.supply import Packaging


class PackagingNode:
    def __init__(self, ctx: Context, spec: Packaging, deliver: Callable[[Lot], None]) -> None:
        self.ctx = ctx
        self.spec = spec
        self.deliver = deliver
        self.packers = simpy.Resource(ctx.env, spec.packers)
        self.queued: dict[str, float] = {}  # material -> units waiting
        self.packing: dict[str, float] = {}  # material -> units being packed
        self._time = ctx.sampler("packaging.time", spec.time)
        self._wait = ctx.tally("packaging_wait")
        self._busy = ctx.level("utilisation.packaging")
        self._queue = ctx.level("wip.packaging_queue")
        self._kits = ctx.counter("packaged.kits")

    def receive(self, lot: Lot) -> None:
        self.ctx.env.process(self._pack(lot))

    def _pack(self, lot: Lot):
        ctx, env, m = self.ctx, self.ctx.env, lot.material
        arrived = env.now
        self.queued[m] = self.queued.get(m, 0.0) + lot.qty
        self._queue.add(env.now, 1)
        with self.packers.request() as req:
            yield req
            self._wait.observe(env.now - arrived, env.now)
            self._queue.add(env.now, -1)
            self.queued[m] -= lot.qty
            self.packing[m] = self.packing.get(m, 0.0) + lot.qty
            self._busy.add(env.now, 1 / self.spec.packers)
            yield env.timeout(self._time())
            self._busy.add(env.now, -1 / self.spec.packers)
            self.packing[m] -= lot.qty
        upk = self.spec.units_per_kit
        kits = int(lot.qty // upk + 1e-9)
        packed_units = kits * upk
        ctx.ledger.outflow(m, "packed", packed_units)
        if lot.qty - packed_units > 0:
            ctx.ledger.outflow(m, "remnant_scrapped", lot.qty - packed_units)
        if kits == 0:
            return
        ctx.ledger.inflow(KIT, "packed", kits)
        self._kits.count(env.now, kits)
        self.deliver(Lot(ctx.new_id("KIT"), KIT, kits, lot.id, env.now + self.spec.shelf_life, env.now))

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        for m, q in self.queued.items():
            yield m, "packaging_queue", q
        for m, q in self.packing.items():
            yield m, "in_process", q
