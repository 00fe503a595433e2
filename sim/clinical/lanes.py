"""Shipping lanes: dispatch calendar, transit, customs, cold-chain excursions and cost, and an
optional emergency courier.

A shipment waits for the lane's next dispatch day, travels for a random
transit time, waits for import release if it crosses a border, and then
either arrives or — with the lane's excursion probability — has a
temperature excursion: its ambient kits arrive, and its cold-chain kits are
quarantined while QA assesses them (``excursion_assessment`` days), then
released to the receiver with ``excursion_release_prob`` or destroyed (ledger
outflow ``lost``); with neither set they are lost at once.  Every state a kit can be in on the way is
reported by :meth:`Lane.holdings`.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Callable, Iterable, Protocol

from sim.core.context import Context
from sim.core.distributions import Deterministic, _Spec
from sim.core.lots import Lot
from sim.core.node import Holding, Node
from sim.scenario.clinical import LaneSpec


class Shipment:
    """Kit lots travelling together; ``sent`` is what left, ``lots`` what is still on board; ``state``
    where it is on its lane's way (what :meth:`Lane.holdings` reports it as)."""

    __slots__ = ("lots", "sent", "ordered", "lost", "state")

    def __init__(self, lots: list[Lot], ordered: float) -> None:
        self.lots = lots
        self.ordered = ordered
        self.lost: list[Lot] = []
        self.sent: dict[str, float] = {}
        sent = self.sent
        for lot in lots:
            sent[lot.material] = sent.get(lot.material, 0.0) + lot.qty
        self.state: str | None = None

    @property
    def qty(self) -> float:
        return sum(self.sent.values())


class Receiver(Protocol):
    def arrive(self, shipment: Shipment) -> None: ...


def next_dispatch(now: float, days: list[int] | None) -> float:
    """Earliest time >= *now* on one of *days* (weekday numbers, day 0 a Monday)."""
    if not days:
        return now
    today = math.floor(now)
    for d in range(8):
        if (today + d) % 7 in days:
            return now if d == 0 else float(today + d)
    raise AssertionError("unreachable: days is a non-empty subset of 0..6")


class Lane(Node):
    """A lane from one node to one or more receivers; each shipment draws its own times."""

    def __init__(self, ctx: Context, name: str, spec: LaneSpec, customs: _Spec | None = None,
                 cold_chain: Callable[[str], bool] = lambda _m: False, to_depot: bool = False) -> None:
        self.ctx = ctx
        self.name = name
        self.spec = spec
        self._transit = ctx.sampler(f"lane.{name}.transit_time", spec.transit_time)
        no_customs = customs is None or (isinstance(customs, Deterministic) and customs.value == 0)
        self._customs = None if no_customs else ctx.sampler(f"lane.{name}.customs", customs)
        self._excursion = ctx.coin(f"lane.{name}.excursion", spec.excursion_prob)
        self._quarantine = spec.excursion_release_prob > 0 or spec.excursion_assessment.mean_value > 0
        if self._quarantine:
            self._assessment = ctx.sampler(f"lane.{name}.excursion_assessment", spec.excursion_assessment)
            self._released = ctx.coin(f"lane.{name}.excursion_release", spec.excursion_release_prob)
        self._cold = cold_chain
        # No dispatch calendar and no customs: a shipment is two timed calls, not a process (three events)
        self._direct = not spec.dispatch_days and self._customs is None
        self.to_depot = to_depot
        # Shipments on the way, each with its state; holdings() sums them.  ``_states`` is every
        # (material, state) a kit has been in on this lane, in order: those are reported, if only as 0.
        self._aboard: dict[Shipment, None] = {}
        self._states: dict[tuple[str, str], None] = {}
        self._seen: dict[str, set[str]] = defaultdict(set)  # state -> materials, as in _states
        kind = "kits_to_depots" if to_depot else "kits"
        self._shipped = ctx.counter(f"shipped.{kind}")
        self._shipments = ctx.counter("shipments")
        self._cost = ctx.counter("cost.shipping")
        self._shippers = ctx.counter("shippers") if spec.shipper is not None else None
        self._lost = ctx.counter("lost.kits")
        self._excursions = ctx.counter("excursions")
        if spec.emergency is not None:
            self._urgent_transit = ctx.sampler(f"lane.{name}.emergency_transit", spec.emergency.transit_time)
            self._urgent = ctx.counter("emergency_shipments")
            self._urgent_cost = ctx.counter("cost.emergency_shipping")

    @property
    def in_transit(self) -> float:
        return sum(q for _, _, q in self.holdings())

    def send(self, lots: list[Lot], to: Receiver, ordered: float, urgent: bool = False) -> float:
        """Hand *lots* to the lane now; ``to.arrive(shipment)`` is called on arrival. Returns the quantity.
        *urgent*: by the lane's emergency courier (it must have one)."""
        shipment = Shipment(lots, ordered)
        qty = sum(shipment.sent.values())  # shipment.qty, without the property's call
        if qty <= 0:
            return 0.0
        if urgent:
            self.ctx.start(self._rush, shipment, qty, to)
        elif self._direct:  # as _carry does, leaving at once, without its first step's event
            if not shipment.sent.keys() <= self._seen["awaiting_dispatch"]:  # as _carry: the states it
                self._enter(shipment, "awaiting_dispatch")  # reports, if only as 0 (it leaves at once)
            self._leave(shipment, qty, to)
        else:
            self.ctx.start(self._carry, shipment, qty, to)
        return qty

    # A shipment's way is a chain of timed calls placed where a SimPy process (its first step, then a
    # timeout per stage) put its events: the same order of events, without a process to resume.
    def _rush(self, shipment: Shipment, qty: float, to: Receiver) -> None:
        """An emergency shipment: leaves at once, customs pre-cleared, its own transit time and cost."""
        now = self.ctx.env._now
        self._enter(shipment, "in_transit")
        self._urgent.count(now)
        self._urgent_cost.count(now, self.spec.emergency.cost_per_shipment)  # type: ignore[union-attr]
        self._shipped.count(now, qty)
        self.ctx.after(self._urgent_transit(), self._land_rushed, shipment, to)

    def _land_rushed(self, shipment: Shipment, to: Receiver) -> None:
        del self._aboard[shipment]
        to.arrive(shipment)

    def _enter(self, shipment: Shipment, state: str) -> None:
        """*shipment* (on board from now on, if it was not) is in *state*."""
        self._aboard[shipment] = None
        shipment.state = state
        if not shipment.sent.keys() <= self._seen[state]:  # a kit type's first time in this state here
            self._seen[state].update(shipment.sent)
            for m in shipment.sent:
                self._states[m, state] = None

    def _carry(self, shipment: Shipment, qty: float, to: Receiver) -> None:
        """The shipment waits for the lane's next dispatch day."""
        self._enter(shipment, "awaiting_dispatch")
        now = self.ctx.env._now
        leave = next_dispatch(now, self.spec.dispatch_days)
        if leave > now:
            self.ctx.after(leave - now, self._leave, shipment, qty, to)
        else:
            self._leave(shipment, qty, to)

    def _leave(self, shipment: Shipment, qty: float, to: Receiver) -> None:
        """The shipment leaves: counted, and its cost booked."""
        self._enter(shipment, "in_transit")
        now, spec = self.ctx.env._now, self.spec
        self._shipped.count(now, qty)
        self._shipments.count(now)
        self._cost.count(now, spec.cost_per_shipment + spec.cost_per_kit * qty)
        if self._shippers is not None:  # as many boxes as the kits fill
            boxes = math.ceil(qty / spec.shipper.kits - 1e-9)  # type: ignore[union-attr]
            self._shippers.count(now, boxes)
            self._cost.count(now, boxes * spec.shipper.cost)  # type: ignore[union-attr]
        if self._customs is None:
            self.ctx.after(self._transit(), self._land, shipment, to)
        else:
            self.ctx.after(self._transit(), self._import, shipment, to)

    def _import(self, shipment: Shipment, to: Receiver) -> None:
        """The shipment reaches the border: through customs, then it lands."""
        self._enter(shipment, "in_customs")
        self.ctx.after(self._customs(), self._land, shipment, to)  # type: ignore[misc]

    def _land(self, shipment: Shipment, to: Receiver) -> None:
        """The shipment reaches *to*: its cold-chain kits may have had an excursion."""
        del self._aboard[shipment]
        excursion = self._excursion
        if excursion.p > 0.0 and excursion():  # most lanes have none: no call then
            self._excursions.count(self.ctx.env._now)
            cold = [lot for lot in shipment.lots if self._cold(lot.material)]
            shipment.lots = [lot for lot in shipment.lots if not self._cold(lot.material)]
            if self._quarantine and cold:
                held = Shipment(cold, shipment.ordered)
                for m, q in held.sent.items():  # expected with the quarantined part, not now
                    shipment.sent[m] -= q
                self.ctx.start(self._assess, held, to)
            else:
                self._destroy(shipment, cold)
        to.arrive(shipment)

    def _assess(self, held: Shipment, to: Receiver) -> None:
        """QA assessment of excursion kits: released to the receiver, or destroyed."""
        self._enter(held, "quarantine")
        self.ctx.after(self._assessment(), self._assessed, held, to)

    def _assessed(self, held: Shipment, to: Receiver) -> None:
        del self._aboard[held]
        if not self._released():
            lots, held.lots = held.lots, []
            self._destroy(held, lots)
        to.arrive(held)

    def _destroy(self, shipment: Shipment, lots: list[Lot]) -> None:
        now = self.ctx.now
        for lot in lots:
            self.ctx.ledger.outflow(lot.material, "lost", lot.qty)
            self._lost.count(now, lot.qty)
            shipment.lost.append(lot)

    def holdings(self) -> Iterable[Holding]:
        held = dict.fromkeys(self._states, 0.0)
        for shipment in self._aboard:
            for m, q in shipment.sent.items():
                held[m, shipment.state] += q  # type: ignore[index]
        for (m, state), q in held.items():
            yield m, state, q
