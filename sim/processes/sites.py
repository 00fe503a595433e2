"""Clinical sites and patients: dispensing points, visit schedules, dosing, closing down.

A *dispensing point* holds kits and doses patients: a site, or — in a
decentralised trial — a patient's home supplied directly from a depot.  At a
dosing visit the point dispenses the arm's kits FEFO (only kits with at least
*do_not_dispense* days left; blinded: no substitution between kit types).
Without them the patient waits up to the visit window for a shipment; after
that the visit is *not dosed*, classified as **missed dispensing** when a
usable kit existed upstream (at a depot or on its way to the point) and as
**out of stock** otherwise.  The point's resupply policy runs on its inventory
position after every event that changes it.  Once a site is closed to
enrollment it is only sent what its remaining patients still need, and when
its last patient is done its leftover kits are returned and destroyed.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from sim.context import Context
from sim.distributions import Exponential
from sim.processes.enrollment import BlockRandomiser, recruit
from sim.processes.inventory import KitShelf, kit_of
from sim.processes.logistics import Lane, Shipment
from sim.processes.resupply import ResupplyPolicy, make_policy
from sim.scenario.clinical import Resupply, Trial

if TYPE_CHECKING:
    from sim.processes.depot import DepotNode
    from sim.processes.network import ClinicalNetwork, SiteGroupPlan

PATIENT = "patient"
VISIT = "visit"


@dataclass
class Arm:
    name: str
    ratio: int
    kits: dict[str, int]


@dataclass
class Patient:
    id: str
    arm: Arm
    due: list[float]  # absolute times of the dosing visits still planned at randomisation
    windows: list[float]
    drop_at: float
    next: int = 0  # index of the next visit not yet attempted
    missed: int = 0
    point: "DispensingPoint | None" = field(default=None, repr=False)


class TrialNode:
    """Trial-wide state: patients by status against the target, milestones, randomisation."""

    def __init__(self, ctx: Context, spec: Trial, kits: list[str]) -> None:
        self.ctx = ctx
        self.spec = spec
        self.name = spec.name
        self.target = spec.target_patients
        if spec.arms:
            ratios = spec.integer_ratios()
            self.arms = [Arm(a.name, r, {k: n for k, n in a.kits.items() if n > 0} if a.kits
                             else {k: spec.kits_per_visit for k in kits})
                         for a, r in zip(spec.arms, ratios)]
        else:
            self.arms = [Arm("all", 1, {k: spec.kits_per_visit for k in kits})]
        self.kits = sorted({k for a in self.arms for k, n in a.kits.items() if n > 0})
        self.screened = self.screen_failed = self.randomised = 0
        self.visits_not_dosed = self.patients_not_dosed = 0
        self.screening = self.active = self.completed = self.dropped = 0
        self.by_arm = [0] * len(self.arms)
        self.closed = False
        self.first_patient_in = self.last_patient_in = self.last_visit = math.nan
        self.sites: list[SiteNode] = []
        self._randomiser = (self.randomiser(f"trial.{spec.name}.randomisation")
                            if spec.stratify == "trial" else None)
        self._enrolled = ctx.counter(f"enrolled.{spec.name}")
        self._screened = ctx.counter(f"screened.{spec.name}")

    def randomiser(self, stream: str) -> BlockRandomiser:
        return BlockRandomiser(self.ctx.rng(stream), [a.ratio for a in self.arms], self.spec.block_size)

    def visit_plan(self) -> list[tuple[float, float]]:
        return [(v.day, self.spec.window(i)) for i, v in enumerate(self.spec.visits)]

    def screen(self) -> None:
        self.screened += 1
        self.screening += 1
        self._screened.count(self.ctx.now)
        self.ctx.ledger.inflow(PATIENT, "screened", 1)

    def screen_fail(self) -> None:
        self.screening -= 1
        self.screen_failed += 1
        self.ctx.ledger.outflow(PATIENT, "screen_failed", 1)

    def randomise(self, site: "SiteNode") -> Arm:
        now = self.ctx.now
        self.screening -= 1
        self.randomised += 1
        self.active += 1
        if self.randomised == 1:
            self.first_patient_in = now
        self._enrolled.count(now)
        i = (self._randomiser or site.randomiser).next()
        self.by_arm[i] += 1
        if self.randomised >= self.target:
            self.last_patient_in = now
            self.closed = True
            for s in self.sites:
                if s is not site:
                    s.enrollment_closed()
        return self.arms[i]

    def finish(self, dropped: bool) -> None:
        self.active -= 1
        if dropped:
            self.dropped += 1
            self.ctx.ledger.outflow(PATIENT, "dropped", 1)
        else:
            self.completed += 1
            self.ctx.ledger.outflow(PATIENT, "completed", 1)
        if self.closed and self.active == 0 and self.screening == 0:
            self.last_visit = self.ctx.now

    def metrics(self) -> dict[str, float]:
        n = self.name
        m = {f"trial.{n}.enrolled": self.randomised, f"trial.{n}.screened": self.screened,
             f"trial.{n}.screen_failed": self.screen_failed, f"trial.{n}.completed": self.completed,
             f"trial.{n}.dropped": self.dropped, f"trial.{n}.active": self.active,
             f"trial.{n}.visits_not_dosed": self.visits_not_dosed,
             f"trial.{n}.patients_not_dosed": self.patients_not_dosed,
             f"trial.{n}.first_patient_in": self.first_patient_in,
             f"trial.{n}.last_patient_in": self.last_patient_in,
             f"trial.{n}.last_patient_last_visit": self.last_visit}
        for a, k in zip(self.arms, self.by_arm):
            m[f"trial.{n}.arm.{a.name}.randomised"] = k
        return m


class DispensingPoint:
    """Kits at one place where patients are dosed, with its resupply policy."""

    def __init__(self, ctx: Context, name: str, trial: TrialNode, depot: "DepotNode", lane: Lane | None,
                 resupply: Resupply, network: "ClinicalNetwork", shelf: KitShelf) -> None:
        self.ctx = ctx
        self.name = name
        self.trial = trial
        self.depot = depot
        self.lane = lane
        self.resupply = resupply
        self.policy: ResupplyPolicy = make_policy(resupply)
        self.network = network
        self.shelf = shelf
        self.kits = list(shelf.stocks)
        self.expected = {k: 0.0 for k in self.kits}  # shipped here, not yet arrived
        self.owed = {k: 0.0 for k in self.kits}  # kits owed to patients waiting for a dose
        self.remaining = {k: 0.0 for k in self.kits}  # kits the current patients' future visits need
        self.patients: list[Patient] = []
        self.waiting: list[list] = []  # [event, kits, patient]
        self.active = False
        self.closed = False
        self._wake = math.inf
        self._delivery = ctx.tally("order_to_delivery")
        self._kit_wait = ctx.tally("patient_kit_wait")
        self._dispensed = ctx.counter("dispensed.kits")
        self._dosed = ctx.counter("visits.dosed")
        self._on_time = ctx.counter("visits.dosed_on_time")
        self._not_dosed = ctx.counter("visits.not_dosed")
        self._patients_not_dosed = ctx.counter("patients.not_dosed")

    # -- the site this point belongs to (itself, or the DTP site of a home) -----------
    @property
    def site(self) -> "SiteNode":  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def closed_to_enrollment(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- supply ------------------------------------------------------------------------
    def _usable_after(self) -> float:
        return self.ctx.now + self.resupply.do_not_dispense

    def position(self, kit: str) -> float:
        """Kits on hand still dispensable over the policy's look-ahead, plus in transit, minus owed."""
        after = self._usable_after() + self.policy.expiry_lookahead
        return self.shelf.usable(kit, after) + self.expected[kit] - self.owed[kit]

    def forecast(self, kit: str, until: float) -> float:
        """Kits of *kit* the enrolled patients' visits due up to *until* need (not yet attempted)."""
        total = 0.0
        for p in self.patients:
            n = p.arm.kits.get(kit, 0)
            if n:
                total += n * max(0, bisect_right(p.due, until) - p.next)
        return total

    def next_forecast_change(self, window: float) -> float:
        """Earliest time a planned visit enters the window of *window* days ahead."""
        edge = self.ctx.now + window
        t = math.inf
        for p in self.patients:
            j = max(bisect_right(p.due, edge), p.next)
            if j < len(p.due):
                t = min(t, p.due[j] - window)
        return t

    def ship_initial(self) -> None:
        wants = {}
        for kit in self.kits:
            n = self.policy.initial(kit)
            if n:
                wants[kit] = n
        self._order(wants)

    def review(self) -> None:
        """Apply the resupply policy to every kit type and ship what it asks for."""
        if not self.active or self.closed or self.lane is None:
            return
        now = self.ctx.now
        capped = self.closed_to_enrollment
        wants = {}
        for kit in self.kits:
            pos = self.position(kit)
            q = self.policy.quantity(self, kit, pos, now)
            if capped:
                q = min(q, self.remaining[kit] - pos)
            if q > 1e-9:
                wants[kit] = math.ceil(q - 1e-9)
        self._order(wants)
        t = self.policy.next_review(self, now)
        if t < self._wake:
            self._wake = t
            self.ctx.at(t, lambda: self._wakeup(t))

    def _wakeup(self, t: float) -> None:
        if self._wake == t:
            self._wake = math.inf
            self.review()

    def _order(self, wants: dict[str, float]) -> None:
        if wants:
            # Never ship a kit that would not count in the position on arrival.
            r = self.resupply
            dns = max(r.do_not_ship, r.do_not_dispense + self.policy.expiry_lookahead)
            for kit, n in self.depot.ship(self, wants, dns, self.lane).items():
                self.expected[kit] += n

    def arrive(self, shipment: Shipment) -> None:
        now = self.ctx.now
        for m, q in shipment.sent.items():
            self.expected[kit_of(m)] -= q
        if self.closed:
            self.shelf.destroy(shipment.lots)
            return
        horizon = self.ctx.horizon
        for lot in shipment.lots:
            self.shelf.put(lot)
            unusable = lot.expiry - self.resupply.do_not_dispense - self.policy.expiry_lookahead
            if now < unusable < horizon:  # the position drops then without any event here
                self.ctx.at(unusable, self.review)
        self._delivery.observe(now - shipment.ordered, now)
        self._serve_waiting()
        self.review()

    # -- dosing ------------------------------------------------------------------------
    def _has(self, kits: dict[str, int], reserve: bool) -> bool:
        after = self._usable_after()
        return all(self.shelf.usable(k, after) - (self.owed[k] if reserve else 0) >= n - 1e-9
                   for k, n in kits.items() if n)

    def _dispense(self, kits: dict[str, int]) -> None:
        after, ledger, now = self._usable_after(), self.ctx.ledger, self.ctx.now
        for k, n in kits.items():
            if n:
                for lot in self.shelf.take(k, n, after):
                    ledger.outflow(lot.material, "dispensed", lot.qty)
                self._dispensed.count(now, n)

    def _serve_waiting(self) -> None:
        for entry in list(self.waiting):
            ev, kits, _p = entry
            if self._has(kits, reserve=False):
                self._dispense(kits)
                for k, n in kits.items():
                    self.owed[k] -= n
                self.waiting.remove(entry)
                ev.succeed()

    def visit(self, p: Patient, due: float, window: float):
        """SimPy sub-process: dose patient *p* at its visit due now, waiting up to *window* days."""
        ctx, env = self.ctx, self.ctx.env
        kits = p.arm.kits
        ctx.ledger.inflow(VISIT, "due", 1)
        for k, n in kits.items():
            self.remaining[k] -= n
        if self._has(kits, reserve=True):
            self._dispense(kits)
            self._dosed_at(due, True)
        else:
            self.site.stockouts += 1
            if window > 0:
                ev = env.event()
                entry = [ev, kits, p]
                self.waiting.append(entry)
                for k, n in kits.items():
                    self.owed[k] += n
                self.review()
                yield ev | env.timeout(window)
                if ev.triggered:
                    self._dosed_at(due, env.now == due)
                else:
                    self.waiting.remove(entry)
                    for k, n in kits.items():
                        self.owed[k] -= n
                    self._missed(p, kits)
            else:
                self._missed(p, kits)
        self.review()

    def _dosed_at(self, due: float, on_time: bool) -> None:
        now = self.ctx.now
        self.ctx.ledger.outflow(VISIT, "dosed", 1)
        self._dosed.count(now)
        if on_time:
            self._on_time.count(now)
        self._kit_wait.observe(now - due, now)

    def _missed(self, p: Patient, kits: dict[str, int]) -> None:
        now = self.ctx.now
        after = self._usable_after()
        upstream = all(self.network.usable_upstream(k, after) + self.expected[k] > 0
                       for k, n in kits.items() if n and self.shelf.usable(k, after) < n)
        kind = "missed_dispensing" if upstream else "out_of_stock"
        self.ctx.ledger.outflow(VISIT, "not_dosed", 1)
        self._not_dosed.count(now)
        self.ctx.counter(f"visits.{kind}").count(now)
        self.trial.visits_not_dosed += 1
        if p.missed == 0:
            self._patients_not_dosed.count(now)
            self.trial.patients_not_dosed += 1
        p.missed += 1

    # -- patients on the books -------------------------------------------------------------
    def admit(self, p: Patient) -> None:
        p.point = self
        self.patients.append(p)
        for k, n in p.arm.kits.items():
            self.remaining[k] += n * len(p.due)
        self.review()

    def discharge(self, p: Patient) -> None:
        self.patients.remove(p)
        for k, n in p.arm.kits.items():
            self.remaining[k] -= n * (len(p.due) - p.next)

    def close(self) -> None:
        """No patients left to dose: return and destroy the kits on the shelf, stop resupply."""
        if not self.closed:
            self.closed = True
            self.shelf.destroy()

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        yield from self.shelf.holdings()
        yield VISIT, "waiting_for_kit", len(self.waiting)


class SiteNode(DispensingPoint):
    """A site: activation, recruitment, screening and the visits of its patients.

    A direct-to-patient site holds no kits itself: each randomised patient gets a
    :class:`HomeNode` supplied from the depot over the country's home lane.
    """

    def __init__(self, ctx: Context, name: str, trial: TrialNode, group: "SiteGroupPlan",
                 network: "ClinicalNetwork") -> None:
        self.group = group
        self.dtp = group.direct_to_patient
        kits = [] if self.dtp else trial.kits
        shelf = KitShelf(ctx, f"site.{name}", kits, "sites", [f"inventory.site.{name}", "inventory.sites_total"])
        super().__init__(ctx, name, trial, group.depot, None if self.dtp else group.lane,
                         trial.spec.resupply, network, shelf)
        self.screening = 0
        self.randomised = 0
        self.stockouts = 0
        self.first_patient_in = self.last_patient_in = math.nan
        self.activated_at = math.nan
        self.homes: list[HomeNode] = []
        self._activation = ctx.sampler(f"site.{name}.activation", group.startup)
        self.rate = ctx.sampler(f"site.{name}.recruitment_rate", group.rate)() if group.rate is not None else 0.0
        spec = trial.spec
        self._screen_time = ctx.sampler(f"site.{name}.screening_time", spec.screening_time)
        self._screen_fail = ctx.coin(f"site.{name}.screen_failure", spec.screen_failure)
        self._duration = (ctx.sampler(f"site.{name}.treatment_duration", spec.treatment_duration)
                          if spec.treatment_duration is not None else None)
        h = spec.dropout_hazard
        self._dropout = ctx.sampler(f"site.{name}.dropout", Exponential(dist="exponential", mean=1.0 / h)) \
            if h > 0 else None
        self.randomiser = trial.randomiser(f"site.{name}.randomisation")
        self._visits = trial.visit_plan()
        trial.sites.append(self)
        ctx.env.process(recruit(ctx, self))

    @property
    def site(self) -> "SiteNode":
        return self

    @property
    def capped(self) -> bool:
        return self.group.cap is not None and self.randomised >= self.group.cap

    def would_exceed_cap(self) -> bool:
        return self.group.cap is not None and self.randomised + self.screening >= self.group.cap

    @property
    def closed_to_enrollment(self) -> bool:
        return self.trial.closed or self.capped

    def activation_delay(self) -> float:
        return self._activation()

    def activate(self) -> None:
        self.active = True
        self.activated_at = self.ctx.now
        if self._maybe_close():
            return
        self.ship_initial()
        self.review()

    def enrollment_closed(self) -> None:
        """The trial reached its target: close if idle, otherwise ship only what is still needed."""
        if not self._maybe_close():
            self.review()

    def _maybe_close(self) -> bool:
        if self.active and self.closed_to_enrollment and not self.patients and not self.screening:
            self.close()
            return True
        return False

    # -- patients ------------------------------------------------------------------------
    def screen(self):
        """SimPy process: screen one patient, then randomise and treat, or record a screen failure."""
        ctx, env, trial = self.ctx, self.ctx.env, self.trial
        self.screening += 1
        trial.screen()
        yield env.timeout(self._screen_time())
        self.screening -= 1
        if self._screen_fail():
            trial.screen_fail()
            self._maybe_close()
            return
        self.randomised += 1
        now = env.now
        if self.randomised == 1:
            self.first_patient_in = now
        self.last_patient_in = now
        arm = trial.randomise(self)
        p = self._new_patient(arm)
        point: DispensingPoint = self
        if self.dtp:
            point = HomeNode(ctx, self, p, self.network)
            self.homes.append(point)
            self.patients.append(p)
            point.ship_initial()
        point.admit(p)
        env.process(self._treat(p, point))

    def _new_patient(self, arm: Arm) -> Patient:
        now, spec = self.ctx.now, self.trial.spec
        end = now + self._duration() if self._duration is not None else math.inf
        last = min(end, self.ctx.horizon + 1.0)
        due, windows = [], []
        for day, w in self._visits:
            if now + day >= end:
                break
            due.append(now + day)
            windows.append(w)
        if spec.repeat_every is not None and due and len(due) == len(self._visits):
            t, w = due[-1] + spec.repeat_every, windows[-1]
            while t < last:
                due.append(t)
                windows.append(w)
                t += spec.repeat_every
        drop_at = now + self._dropout() if self._dropout is not None else math.inf
        return Patient(self.ctx.new_id("PAT"), arm, due, windows, drop_at)

    def _treat(self, p: Patient, point: DispensingPoint):
        env = self.ctx.env
        dropped = False
        for i, due in enumerate(p.due):
            if p.drop_at <= due:
                yield env.timeout(max(0.0, p.drop_at - env.now))
                dropped = True
                break
            yield env.timeout(due - env.now)
            p.next = i + 1
            yield from point.visit(p, due, p.windows[i])
        point.discharge(p)
        if point is not self:
            self.patients.remove(p)
            point.close()
        self.trial.finish(dropped)
        self._maybe_close()

    def metrics(self) -> dict[str, float]:
        n = self.name
        return {f"site.{n}.randomised": self.randomised, f"site.{n}.first_patient_in": self.first_patient_in,
                f"site.{n}.last_patient_in": self.last_patient_in, f"site.{n}.stockouts": self.stockouts,
                f"site.{n}.activated": self.activated_at}

    def holdings(self) -> Iterable[tuple[str, str, float]]:
        yield from super().holdings()
        yield PATIENT, "screening", self.screening
        yield PATIENT, "active", len(self.patients)
        for h in self.homes:
            yield from h.holdings()


class HomeNode(DispensingPoint):
    """A patient's home in a decentralised trial: kits shipped direct from the depot."""

    def __init__(self, ctx: Context, site: SiteNode, patient: Patient, network: "ClinicalNetwork") -> None:
        group = site.group
        shelf = KitShelf(ctx, f"home.{patient.id}", site.trial.kits, "homes", ["inventory.homes_total"])
        super().__init__(ctx, f"{site.name}/{patient.id}", site.trial, group.depot, group.home_lane,
                         site.trial.spec.home_resupply, network, shelf)
        self._site = site
        self.active = True

    @property
    def site(self) -> SiteNode:
        return self._site

    @property
    def closed_to_enrollment(self) -> bool:
        return True

    def close(self) -> None:
        super().close()
        self._site.homes.remove(self)
