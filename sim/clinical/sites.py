"""Clinical sites: activation, screening, randomisation and each patient's course of visits.

A site opens after its start-up time and recruits: it draws its own recruitment rate once (from a
Gamma distribution in the Poisson-Gamma model of recruitment forecasting, or a fixed rate) and,
once activated, receives patients for screening as a Poisson process with that rate.  Arrivals
stop for good when the trial has randomised its target or the site its cap.  Patients still in
screening then may be randomised too (over-enrollment), unless the trial's ``enrollment_stop`` is
``screening``: then, as at a site near its cap, newcomers are turned away unscreened while enough
patients are already in screening to fill the target.  Each
randomised patient is treated on the trial's visit schedule at a dispensing point — the site
itself, or, for a direct-to-patient site, a :class:`HomeNode` supplied straight from a depot.
A patient completes after the last visit or drops out at an exponential time.  A site closed
to enrollment (trial full or site cap reached) with no patient left returns and destroys its kits.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Iterable

from sim.clinical.cro import CRONode
from sim.clinical.depot import DepotNode
from sim.clinical.dispensing import DispensingPoint, Upstream
from sim.clinical.inventory import KitShelf
from sim.clinical.lanes import Lane
from sim.clinical.trial import PATIENT, Arm, Patient, TrialNode
from sim.core.context import Context
from sim.core.distributions import MAX_VALUE, Deterministic, Exponential, Sampler, Triangular, Uniform
from sim.core.lots import Lot
from sim.core.node import Holding
from sim.scenario.clinical import per_kit
from sim.scenario.resolve import SiteGroupPlan


class SiteNode(DispensingPoint):
    """A site: activation, recruitment, screening and the visits of its patients.

    A direct-to-patient site holds no kits itself: each randomised patient gets a
    :class:`HomeNode` supplied from the depot over the country's home lane.
    """

    def __init__(self, ctx: Context, name: str, trial: TrialNode, group: SiteGroupPlan, depot: DepotNode,
                 lane: Lane, home_lane: Lane | None, upstream: Upstream, cro: CRONode | None = None,
                 approved_at: float = 0.0) -> None:
        self.group = group
        self.cro = cro
        self.approved_at = approved_at  # the country's approval: no activation before
        if cro is not None:
            self._startup_work = ctx.sampler(f"site.{name}.cro_startup_work", cro.spec.startup_work)
            if cro.spec.monitoring is not None:
                self._monitoring_work = ctx.sampler(f"site.{name}.monitoring_work", cro.spec.monitoring.work)
        self.dtp = group.direct_to_patient
        self.home_lane = home_lane
        kits = [] if self.dtp or trial.autologous is not None else trial.kits
        shelf = KitShelf(ctx, f"site.{name}", kits, "sites", level=f"inventory.site.{name}")
        ctx.level_sum("inventory.sites_total", ctx.level(f"inventory.site.{name}"))
        super().__init__(ctx, name, trial, depot, None if self.dtp else lane, group.resupply or trial.spec.resupply,
                         upstream, shelf)
        self.min_shelf_life = group.min_shelf_life
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
        self._scatter = _scatter(ctx, f"site.{name}.visit_scatter", spec.visit_scatter)
        self._dropout: Sampler | None
        if spec.dropout_time is not None:
            self._dropout = ctx.sampler(f"site.{name}.dropout", spec.dropout_time)
        else:  # a mean time to dropout of a million years is no dropout
            self._dropout = ctx.sampler(f"site.{name}.dropout", _exponential(1.0 / h)) \
                if h > 1e-9 else None
        self.randomiser = trial.randomiser(f"site.{name}.randomisation")
        self._visits = trial.visit_plan()
        trial.on_enrollment_closed(self, self.enrollment_closed)

    def start(self) -> None:
        self.ctx.env.process(self._recruit())

    def stock_initial(self) -> None:
        """Kits on the shelf at day 0 (the group's ``initial_kits``), before the site is active."""
        g = self.group
        for kit in self.kits:
            qty = per_kit(g.initial_kits, kit)
            if qty > 0:
                material = self.shelf.stocks[kit].material
                self.ctx.ledger.inflow(material, "initial", qty)
                lot = Lot(self.ctx.new_id("KIT"), material, qty, None, g.initial_shelf_life, 0.0)
                self.ctx.made(lot, f"site.{self.name} (initial stock)")
                self._shelve(lot)

    def _recruit(self):
        """SimPy process: activate, then let patients arrive (:meth:`_arrival`) until the trial or the
        site is full."""
        ctx, env = self.ctx, self.ctx.env
        yield env.timeout(max(self.activation_delay(), self.approved_at))
        cro = self.cro
        if cro is not None:
            yield from cro.start_up(self._startup_work)
            if cro.spec.monitoring is not None:
                env.process(cro.monitor(self, self._monitoring_work))
        self.activate()
        rate = self.rate
        if rate * MAX_VALUE <= 1:  # no patient in a trillion days (a Poisson-Gamma rate can be that small)
            return
        gap_spec = _constant(1.0 / rate) if self.group.arrivals == "regular" else _exponential(1.0 / rate)
        self._gap = ctx.sampler(f"site.{self.name}.enrollment", gap_spec)
        self._next_arrival()

    # Arrivals are a chain of timed calls placed where the process's loop put its timeouts (~950 a
    # replication): the same order of events, without resuming the process at each.
    def _next_arrival(self) -> None:
        if not (self.trial.closed or self.capped):
            self.ctx.after(self._gap(), self._arrival)

    def _arrival(self) -> None:
        """A patient comes to be screened, unless the trial or the site is full by now."""
        trial = self.trial
        if trial.closed or self.capped:
            return
        if not (trial.turns_away() or self.would_exceed_cap()):  # else enough in screening: turned away
            self.screen()
        self._next_arrival()

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
        return self.trial.spec.start + self._activation()

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
    def screen(self) -> None:
        """Screen one patient, then randomise and treat, or record a screen failure: a timed call
        (:meth:`_screened`), not a process (its start and end events; ~800 screenings a replication)."""
        self.screening += 1
        self.trial.screen()
        self.ctx.after(self._screen_time(), self._screened)

    def _screened(self) -> None:
        ctx, env, trial = self.ctx, self.ctx.env, self.trial
        self.screening -= 1
        if trial.terminated:
            trial.stop_screening()
            self._maybe_close()
            return
        if self._screen_fail():
            trial.screen_fail()
            self._maybe_close()
            return
        self.randomised += 1
        now = env.now
        if self.randomised == 1:
            self.first_patient_in = now
        self.last_patient_in = now
        arm = trial.randomise(self, self.randomiser)
        p = self._new_patient(arm)
        point: DispensingPoint = self
        if self.dtp:
            point = HomeNode(ctx, self, p)
            self.homes.append(point)
            self.patients.append(p)
            point.ship_initial()
        p.point = point
        point.admit(p)
        if trial.autologous is None:
            ctx.start(self._book_visit, p, point, 0)  # where env.process would put a process's first step
        else:
            env.process(self._vein_to_vein(p))

    def _vein_to_vein(self, p: Patient):
        """SimPy process of a patient of an autologous trial: collected, made, infused (or not treated)."""
        infused = yield from self.trial.autologous.treat(p)  # type: ignore[union-attr]
        self.discharge(p)
        self.trial.finish(False, stopped=not infused)
        self._maybe_close()

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
        early = [d - w for d, w in zip(due, windows)] if self._scatter is not None else None
        return Patient(self.ctx.new_id("PAT"), arm, due, windows, drop_at, early)

    # A patient's course of visits is a chain of timed calls, one per visit, placed where a SimPy process
    # (``yield env.timeout(...)`` per visit) would put its events: the same order of events, without a
    # process resumed at every visit (~7,600 visits a replication).
    def _book_visit(self, p: Patient, point: DispensingPoint, i: int) -> None:
        """Book *p*'s visit *i* (or the dropout before it), or end the treatment after the last visit."""
        if i >= len(p.due):
            self._end(p, point, False)
            return
        due, w = p.due[i], p.windows[i]
        now = self.ctx.env._now
        scatter = self._scatter
        # the patient comes within the window around the due day (a late dose does not move the schedule)
        if scatter is not None and w > 0 and due > now:  # not the randomisation visit itself
            arrive = max(due + w * (scatter() - 1.0), now)  # not before the previous visit
        else:
            arrive = due
        if p.drop_at <= arrive:
            self.ctx.at(p.drop_at, self._end, p, point, True)
        else:
            self.ctx.at(arrive, self._visit, p, point, i)

    def _visit(self, p: Patient, point: DispensingPoint, i: int) -> None:
        """*p* comes for visit *i*: dosed at once, or waits for the kits; then the next visit is booked."""
        if p.stopped:  # a decision of the trial: no dose, no more visits
            self._end(p, point, False)
            return
        titration = self.trial.titration
        if titration is not None:  # the dose level may change before this visit's kits
            titration.step(p, i, point)
        p.next = i + 1
        if point.dose_now(p):  # most visits find their kits
            self._book_visit(p, point, i + 1)
        else:
            point.wait_for_kit(p, p.due[i], p.windows[i], self._book_visit, p, point, i + 1)

    def _end(self, p: Patient, point: DispensingPoint, dropped: bool) -> None:
        """*p* completes, drops out or is stopped: off the books, and the site may close."""
        point.discharge(p)
        if point is not self:
            self.patients.remove(p)
            point.close()
        self.trial.finish(dropped, p.stopped)
        self._maybe_close()

    def metrics(self, t_end: float) -> dict[str, float]:
        n = self.name
        return {f"site.{n}.randomised": self.randomised, f"site.{n}.first_patient_in": self.first_patient_in,
                f"site.{n}.last_patient_in": self.last_patient_in, f"site.{n}.stockouts": self.stockouts,
                f"site.{n}.activated": self.activated_at}

    def holdings(self) -> Iterable[Holding]:
        yield from super().holdings()
        yield PATIENT, "screening", self.screening
        yield PATIENT, "active", len(self.patients)
        for h in self.homes:
            yield from h.holdings()


def _scatter(ctx: Context, stream: str, shape: str):
    """A sampler of visit offsets as a fraction of the window *plus one*, in [0, 2] (durations are
    >= 0, so the shape is shifted by 1: the caller subtracts it), or None (always on the day)."""
    if shape == "none":
        return None
    return ctx.sampler(stream, _SCATTER[shape])


_SCATTER = {"uniform": Uniform(dist="uniform", low=0.0, high=2.0),
            "triangular": Triangular(dist="triangular", low=0.0, mode=1.0, high=2.0)}


# Specs the model makes itself (from a site's rate, the dropout hazard) are validated once per value
# and shared: a spec is frozen, and validating one draws a few values (~50 µs, 180 a replication).
@lru_cache(maxsize=1024)
def _exponential(mean: float) -> Exponential:
    return Exponential(dist="exponential", mean=mean)


@lru_cache(maxsize=1024)
def _constant(value: float) -> Deterministic:
    return Deterministic(value=value)


class HomeNode(DispensingPoint):
    """A patient's home in a decentralised trial: kits shipped direct from the depot."""

    def __init__(self, ctx: Context, site: SiteNode, patient: Patient) -> None:
        shelf = KitShelf(ctx, f"home.{patient.id}", site.trial.kits, "homes", total="inventory.homes_total")
        super().__init__(ctx, f"{site.name}/{patient.id}", site.trial, site.depot, site.home_lane,
                         site.trial.spec.home_resupply, site.upstream, shelf)
        self._site = site
        self.min_shelf_life = site.min_shelf_life
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
