"""Packaging and labelling: released drug-product lots become patient kits of a kit type.

Each lot queues for one of ``packers`` packaging lines (a SimPy resource) and
is packed in a random time.  The lot is split between the kit types made from
its product in proportion to their ``pack_share``; each part becomes
``floor(units / units_per_kit)`` kits, delivered to the depot as one lot per kit type.
A kit expires ``shelf_life`` days after the drug product's date of manufacture (the
start of its batch), as a GMP expiry date does: packaging never restarts the clock,
so time in QC and in the packaging queue uses up shelf life, and bulk that has
expired by the time it is packed is scrapped (``expired_bulk``).  Units that do not
fill a whole kit are scrapped as remnant; a product no kit type is made from is
booked as ``not_packed``.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import simpy

from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Node
from sim.scenario.resolve import KitPlan
from sim.scenario.resolve import kit_plans as resolved_kit_plans
from sim.scenario.supply import Depot, Packaging


class PackagingNode(Node):
    """Packs released lots into kits; *kit_plans* default to the one legacy kit type."""

    def __init__(self, ctx: Context, spec: Packaging, deliver: Callable[[Lot], None],
                 kit_plans: Sequence[KitPlan] | None = None) -> None:
        self.ctx = ctx
        self.spec = spec
        self.deliver = deliver
        self.kit_plans = list(kit_plans) if kit_plans is not None else resolved_kit_plans([], spec, Depot())
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
        plans = [k for k in self.kit_plans if k.packed_from(m)]
        if not plans:
            ctx.ledger.outflow(m, "not_packed", lot.qty)
            ctx.counter(f"not_packed.{m}").count(env.now, lot.qty)
            return
        shares = sum(k.pack_share for k in plans)
        packed_units = 0
        for k in plans:
            kits = int(lot.qty * k.pack_share / shares / k.units_per_kit + 1e-9)
            expiry = min(lot.expiry, lot.made + k.shelf_life)
            if kits == 0 or expiry <= env.now:
                continue
            packed_units += kits * k.units_per_kit
            ctx.ledger.inflow(k.material, "packed", kits)
            self._kits.count(env.now, kits)
            kit_lot = Lot(ctx.new_id("KIT"), k.material, kits, lot.id, expiry, env.now, lot.made, lot.line)
            ctx.made(kit_lot, "packaging")
            self.deliver(kit_lot)
        ctx.ledger.outflow(m, "packed", packed_units)
        if packed_units == 0 and all(min(lot.expiry, lot.made + k.shelf_life) <= env.now for k in plans):
            ctx.ledger.outflow(m, "expired_bulk", lot.qty)
            ctx.counter(f"expired_bulk.{m}").count(env.now, lot.qty)
        elif lot.qty - packed_units > 0:
            ctx.ledger.outflow(m, "remnant_scrapped", lot.qty - packed_units)

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        for m, q in self.queued.items():
            yield m, "packaging_queue", q
        for m, q in self.packing.items():
            yield m, "in_process", q
