"""Clinical sites: activation, Poisson enrollment, visit schedules, dispensing, resupply.

A site opens after a random start-up time, ships its initial supply, and
enrols patients as a Poisson process until the trial reaches its target.
Each patient comes back on the trial's visit schedule; at a dosing visit the
site dispenses kits FEFO.  With no usable kit on hand the patient waits up to
the dosing window for a shipment; after that the visit is *not dosed*.
The site's trigger/resupply policy runs on its inventory position (usable
kits on hand + in transit − kits owed to waiting patients).
"""
from __future__ import annotations

from collections import deque
from typing import Iterable

import simpy

from sim.context import Context
from sim.lots import Lot
from sim.processes.depot import DepotNode
from sim.processes.inventory import KIT, KitStock
from sim.processes.logistics import Lane
from sim.scenario.clinical import Region, Trial

PATIENT = "patient"
VISIT = "visit"


class TrialNode:
    """Trial-wide state: enrollment count against the target, and its milestones."""

    def __init__(self, ctx: Context, spec: Trial, depot: DepotNode) -> None:
        self.ctx = ctx
        self.spec = spec
        self.enrolled = 0
        self.first_patient_in = float("nan")
        self.last_patient_in = float("nan")
        self.last_visit = float("nan")
        self.completed = 0
        self.sites: list[SiteNode] = []
        self.enrollment = ctx.counter(f"enrolled.{spec.name}")
        for region in spec.regions:
            lane = Lane(ctx, f"{spec.name}.{region.name}", region.transit_time)
            for i in range(region.sites):
                site = SiteNode(ctx, self, region, i + 1, depot, lane)
                self.sites.append(site)
                depot.sites.append(site)

    @property
    def full(self) -> bool:
        return self.enrolled >= self.spec.target_patients

    def enrol(self) -> int:
        self.enrolled += 1
        now = self.ctx.now
        if self.enrolled == 1:
            self.first_patient_in = now
        if self.full:
            self.last_patient_in = now
        self.enrollment.count(now)
        self.ctx.ledger.inflow(PATIENT, "enrolled", 1)
        return self.enrolled

    def complete(self) -> None:
        self.completed += 1
        self.ctx.ledger.outflow(PATIENT, "completed", 1)
        if self.full and self.completed == self.spec.target_patients:
            self.last_visit = self.ctx.now


class SiteNode:
    def __init__(self, ctx: Context, trial: TrialNode, region: Region, index: int,
                 depot: DepotNode, lane: Lane) -> None:
        self.ctx = ctx
        self.trial = trial
        self.region = region
        self.name = f"{trial.spec.name}.{region.name}-{index:02d}"
        self.depot = depot
        self.lane = lane
        self.policy = trial.spec.resupply
        self.stock = KitStock(ctx, f"site.{self.name}", expired_as="sites")
        self.stock.watchers.append(_delta_tracker(ctx.level("inventory.sites_total")))
        self.expected = 0.0  # kits shipped to this site, not yet arrived
        self.owed = 0  # kits owed to patients waiting for a dose
        self.waiting: deque[tuple[simpy.Event, int]] = deque()
        self.active_patients = 0
        self.active = False
        self.activated_at = float("nan")
        self._activation = ctx.sampler(f"site.{self.name}.activation", region.activation)
        self._arrival = ctx.rng(f"site.{self.name}.enrollment")
        self._delivery = ctx.tally("order_to_delivery")
        self._kit_wait = ctx.tally("patient_kit_wait")
        self._dispensed = ctx.counter("dispensed.kits")
        self._not_dosed = ctx.counter("visits.not_dosed")
        self._dosed = ctx.counter("visits.dosed")
        self._on_time = ctx.counter("visits.dosed_on_time")
        ctx.env.process(self._open())

    # -- supply --------------------------------------------------------------
    def _usable_after(self) -> float:
        return self.ctx.env.now + self.policy.do_not_dispense

    def position(self) -> float:
        return self.stock.usable(self._usable_after()) + self.expected - self.owed

    def review(self) -> None:
        if not self.active:
            return
        pos = self.position()
        if pos <= self.policy.trigger:
            self.expected += self.depot.ship(self, self.policy.level - pos, self.policy.do_not_ship)

    def receive(self, lots: list[Lot], ordered: float) -> None:
        for lot in lots:
            self.expected -= lot.qty
            self.stock.put(lot)
        self._delivery.observe(self.ctx.now - ordered, self.ctx.now)
        self._serve_waiting()
        self.review()

    def _dispense(self, k: int) -> bool:
        """Dispense *k* usable kits FEFO, or nothing: a visit needs all its kits."""
        min_expiry = self._usable_after()
        if self.stock.usable(min_expiry) < k:
            return False
        self.stock.take(k, min_expiry=min_expiry)
        self.ctx.ledger.outflow(KIT, "dispensed", k)
        self._dispensed.count(self.ctx.now, k)
        return True

    def _serve_waiting(self) -> None:
        while self.waiting:
            ev, k = self.waiting[0]
            if not self._dispense(k):
                return
            self.waiting.popleft()
            self.owed -= k
            ev.succeed()

    # -- patients ------------------------------------------------------------
    def _open(self):
        env, ctx = self.ctx.env, self.ctx
        yield env.timeout(self._activation())
        self.active = True
        self.activated_at = env.now
        self.review()  # initial shipment up to the resupply level
        mean_gap = 1.0 / self.region.enrollment_rate
        while not self.trial.full:
            yield env.timeout(self._arrival.exponential(mean_gap))
            if self.trial.full:
                break
            self.trial.enrol()
            env.process(self._patient())

    def _patient(self):
        env, ctx, spec = self.ctx.env, self.ctx, self.trial.spec
        self.active_patients += 1
        randomised = env.now
        k = spec.kits_per_visit
        for day in spec.visits:
            yield env.timeout(max(0.0, randomised + day - env.now))  # a late dose does not move the schedule
            ctx.ledger.inflow(VISIT, "due", 1)
            due = env.now
            if not self.waiting and self._dispense(k):
                self._dosed_at(due, on_time=True)
            elif spec.dosing_window > 0:
                ev = env.event()
                self.waiting.append((ev, k))
                self.owed += k
                self.review()
                yield ev | env.timeout(spec.dosing_window)
                if ev.triggered:
                    self._dosed_at(due, on_time=env.now == due)
                else:
                    self.waiting.remove((ev, k))
                    self.owed -= k
                    self._missed(due)
            else:
                self._missed(due)
            self.review()
        self.active_patients -= 1
        self.trial.complete()

    def _dosed_at(self, due: float, on_time: bool) -> None:
        now = self.ctx.now
        self.ctx.ledger.outflow(VISIT, "dosed", 1)
        self._dosed.count(now)
        if on_time:
            self._on_time.count(now)
        self._kit_wait.observe(now - due, now)

    def _missed(self, due: float) -> None:
        self.ctx.ledger.outflow(VISIT, "not_dosed", 1)
        self._not_dosed.count(self.ctx.now)

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        yield from self.stock.holdings()
        yield PATIENT, "active", self.active_patients
        yield VISIT, "waiting_for_kit", len(self.waiting)


def _delta_tracker(total):
    """A store watcher that moves an aggregate level by the store's change."""
    last = [0.0]

    def watch(t: float, qty: float) -> None:
        total.add(t, qty - last[0])
        last[0] = qty

    return watch
