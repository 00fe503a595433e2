"""Depots: the central depot (fed by packaging) and regional depots (fed by another depot).

A depot holds kits of every type FEFO, ships what a dispensing point or a
downstream depot asks for (only kits with at least *do_not_ship* days of shelf
life left), and remembers who it could not serve in full: they are reviewed
again as soon as new kits arrive.  A regional depot replenishes itself from
its parent by trigger / resupply per kit type.  Kit types with a relabelling
rule have their expiry extended at the depot shortly before they expire.
"""
from __future__ import annotations

from typing import Callable, Iterable, Protocol

import simpy

from sim.clinical.depot_room import DepotRoom
from sim.clinical.inventory import KitShelf, kit_of
from sim.clinical.lanes import Lane, Shipment
from sim.clinical.relabel import Relabelling
from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Holding, Node
from sim.scenario.clinical import RegionalDepot, per_kit
from sim.scenario.resolve import KitPlan
from sim.scenario.storage_room import StorageRoom


class Intake(Protocol):
    def receive(self, lot: Lot) -> None: ...


class GroupOrders(Protocol):
    """A regional depot's replenishment per label group (:mod:`sim.clinical.hub_groups`)."""

    def review(self, min_expiry: float) -> None: ...
    def landed(self, lots: list[Lot]) -> None: ...


class Customer(Protocol):
    name: str

    def arrive(self, shipment: Shipment) -> None: ...
    def review(self) -> None: ...


class DepotNode(Node):
    """A depot; *parent*, *lane* and *spec* are given for a regional depot only."""

    def __init__(self, ctx: Context, name: str, kits: list[KitPlan], country: str | None = None,
                 parent: "DepotNode | None" = None, lane: Lane | None = None,
                 spec: RegionalDepot | None = None) -> None:
        self.ctx = ctx
        self.name = name
        self.country = country
        self.parent = parent
        self.lane = lane
        self.spec = spec
        self.kits = [k.name for k in kits]
        self.shelf = KitShelf(ctx, f"depot.{name}", self.kits, "depot", level=f"inventory.depot.{name}")
        self.expected = {k: 0.0 for k in self.kits}
        self._short: dict[str, Customer] = {}
        self.relabelling = Relabelling(ctx, f"depot.{name}", self.shelf,
                                       {k.name: k.relabel for k in kits if k.relabel is not None},
                                       self._shelve, self._kits_back)
        self.open_at = 0.0  # the country's approval and import licence: nothing is ordered in before
        self.labelling: Intake | None = None  # label groups: packed kits are labelled there first
        self.take_for: Callable[[Customer, str, float, float], list[Lot]] | None = None  # kits a customer may get
        self.by_group: GroupOrders | None = None  # dedicated label stock: reordered per label group
        self.outside: Callable[[bool], None] | None = None  # market backorders (kit_market.py): served first?
        self.owed: dict[str, float] = {}  # kits backordered by markets here: the stock position counts them
        self._reopen = False
        release = spec.import_release if spec is not None else None
        self.releasing: dict[str, float] = {}  # kits in import testing, by material
        if release is not None:
            self._release_time = ctx.sampler(f"depot.{name}.import_release.time", release.time)
            self._release_fails = ctx.coin(f"depot.{name}.import_release.failure", release.failure_prob)
            self._testers = simpy.Resource(ctx.env, release.testers) if release.testers else None
            self._release_wait = ctx.tally(f"import_release.{name}")
            self._rejected = ctx.counter(f"import_rejected.{name}")
        self.room: DepotRoom | None = None  # storage capacity (set_room)

    def set_room(self, spec: StorageRoom, temperature: dict[str, str]) -> None:
        """Store at most what *spec* allows per storage class (*temperature*: kit type -> its class)."""
        self.room = DepotRoom(self.ctx, self.name, spec, temperature, self.shelf, self._put, self._kits_back)

    # -- stock in ---------------------------------------------------------------
    def stock_initial(self, plan: KitPlan, qty: float, shelf_life: float) -> None:
        if qty > 0:
            self.ctx.ledger.inflow(plan.material, "initial", qty)
            lot = Lot(self.ctx.new_id("KIT"), plan.material, qty, None, shelf_life, 0.0)
            self.ctx.made(lot, f"depot.{self.name} (initial stock)")
            if self.labelling is not None:
                self.labelling.receive(lot)
            else:
                self._shelve(lot)

    def receive(self, lot: Lot) -> None:
        """A lot of kits from packaging (labelled first, when the scenario has label groups)."""
        if self.labelling is not None:
            self.labelling.receive(lot)
            return
        self.accept_kits(lot)

    def accept_kits(self, lot: Lot) -> None:
        """Kits ready to ship: on the shelf, and to the customers who were short."""
        self._shelve(lot)
        self._retry_short()

    def arrive(self, shipment: Shipment) -> None:
        """A replenishment shipment from the parent depot (tested first if the country asks for it)."""
        if self.spec is not None and self.spec.import_release is not None:
            self.ctx.env.process(self._import(shipment))
            return
        self._accept(shipment)

    def _import(self, shipment: Shipment):
        """SimPy process: import testing / QP certification of *shipment*, then accept or destroy it."""
        env, arrived = self.ctx.env, self.ctx.env.now
        for lot in shipment.lots:
            self.releasing[lot.material] = self.releasing.get(lot.material, 0.0) + lot.qty
        req = self._testers.request() if self._testers is not None else None
        if req is not None:
            yield req
        yield env.timeout(self._release_time())
        if req is not None:
            self._testers.release(req)  # type: ignore[union-attr]
        for lot in shipment.lots:
            self.releasing[lot.material] -= lot.qty
        self._release_wait.observe(env.now - arrived, env.now)
        if not self._release_fails():
            self._accept(shipment)
            return
        self._landed(shipment)
        for lot in shipment.lots:
            self.ctx.ledger.outflow(lot.material, "import_rejected", lot.qty)
            self._rejected.count(env.now, lot.qty)
        self.review()

    def _landed(self, shipment: Shipment) -> None:
        """*shipment* is no longer on the way (its kits arrived, were lost or rejected)."""
        for m, q in shipment.sent.items():
            self.expected[kit_of(m)] -= q
        if self.by_group is not None:
            self.by_group.landed(shipment.lots + shipment.lost)

    def _accept(self, shipment: Shipment) -> None:
        self._landed(shipment)
        intake = self.labelling.receive if self.labelling is not None else self._shelve  # a depot that labels
        for lot in shipment.lots:
            intake(lot)
        self._retry_short()
        self.review()

    def _shelve(self, lot: Lot) -> None:
        if self.room is not None:  # what does not fit waits at the dock or is refused
            self.room.offer(lot)
            return
        self._put(lot)

    def _put(self, lot: Lot) -> None:
        self.shelf.put(lot)
        self.relabelling.arm(lot)

    # -- stock out ----------------------------------------------------------------
    def usable(self, kit: str, min_expiry: float) -> float:
        return self.shelf.usable(kit, min_expiry)

    def ship(self, to: Customer, wants: dict[str, float], do_not_ship: float, lane: Lane,
             urgent: bool = False) -> dict[str, float]:
        """Ship up to *wants* (kits per type) to *to* in one shipment, FEFO; returns what was sent.
        An *urgent* (emergency) shipment that cannot be filled is not retried: routine resupply is."""
        now = self.ctx.env._now
        min_expiry = now + do_not_ship
        lots: list[Lot] = []
        sent: dict[str, float] = {}
        short = False
        stocks = self.shelf.stocks
        for kit, qty in wants.items():
            if kit not in stocks:
                got = []
            elif self.take_for is not None:
                got = self.take_for(to, kit, qty, min_expiry)
            else:
                got = stocks[kit].take(qty, min_expiry)
            n = got[0].qty if len(got) == 1 else sum([l.qty for l in got])  # sum(), without a generator
            lots += got
            sent[kit] = n
            short |= n < qty - 1e-9
        if short and not urgent:
            self._short[to.name] = to
        if lots:
            lane.send(lots, to, now, urgent)
            if self.parent is not None:  # review() of a depot without one does nothing
                self.review()
        return sent

    def retry_short(self) -> None:
        """Kits a waiting customer may be sent came in elsewhere (unlabelled bulk for a depot that labels)."""
        self._retry_short()

    def _retry_short(self) -> None:
        if self.outside is not None:
            self.outside(True)
        if self._short:
            waiting, self._short = self._short, {}
            for customer in waiting.values():
                customer.review()
        if self.outside is not None:
            self.outside(False)

    # -- replenishment (regional depots) ---------------------------------------------
    def review(self) -> None:
        spec = self.spec
        if spec is None or self.parent is None:
            return
        if self.ctx.now < self.open_at:  # not approved yet: order once it is
            if not self._reopen:
                self._reopen = True
                self.ctx.at(self.open_at, self.review)
            return
        after = self.ctx.now + spec.do_not_ship
        if self.by_group is not None:
            self.by_group.review(after)
            return
        self.order_up_to(lambda kit: self.usable(kit, after) + self.expected[kit] - self.owed.get(kit, 0.0))

    def order_up_to(self, position: Callable[[str], float]) -> None:
        """Order every kit type whose *position* is at the trigger up to the level, cut to what fits."""
        spec, wants = self.spec, {}
        for kit in self.kits:
            pos = position(kit)
            if pos <= per_kit(spec.trigger, kit):  # type: ignore[union-attr]
                wants[kit] = per_kit(spec.level, kit) - pos  # type: ignore[union-attr]
        if wants and self.room is not None:
            wants = self.room.cut(wants, self.expected)
        if wants:
            shipped = self.parent.ship(self, wants, spec.do_not_ship, self.lane)  # type: ignore[union-attr, arg-type]
            for kit, n in shipped.items():
                self.expected[kit] += n

    def restock(self, lots: list[Lot]) -> None:
        """Kits back from a storage quarantine."""
        self.shelf.restore(lots)
        self._kits_back()

    def _kits_back(self) -> None:
        """Kits came back to the shelf (from a quarantine or a relabel hold): serve and review."""
        self._retry_short()
        self.review()

    def holdings(self) -> Iterable[Holding]:
        yield from self.shelf.holdings()
        yield from self.relabelling.holdings()
        for m, q in self.releasing.items():
            yield m, "import_testing", q
        if self.room is not None:
            yield from self.room.holdings()

    def metrics(self, t_end: float) -> dict[str, float]:
        return self.room.metrics(t_end) if self.room is not None else {}
