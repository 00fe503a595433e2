"""Trial-wide state: arms, patients by status against the target, milestones, randomisation."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from sim.clinical.adaptive import InterimAnalyses
from sim.clinical.autologous import AutologousChain
from sim.clinical.randomisation import BlockRandomiser
from sim.clinical.titration import Titrator
from sim.core.context import Context
from sim.core.node import Node
from sim.scenario.clinical import Trial

PATIENT = "patient"


@dataclass
class Arm:
    name: str
    ratio: int
    kits: dict[str, int]
    levels: list = field(default_factory=list)  # (cumulative share, the arm at that dose level)
    level: str = ""  # the dose level of an arm a patient was given (weight-based dosing)


@dataclass
class Patient:
    id: str
    arm: Arm
    due: list[float]  # absolute times of the dosing visits still planned at randomisation
    windows: list[float]
    drop_at: float
    early: list[float] | None = None  # when each visit may come at the earliest (what a forecast covers)
    next: int = 0  # index of the next visit not yet attempted
    missed: int = 0
    point: Any = None  # where the patient is dosed (the site, or the home of a direct-to-patient site)
    stopped: bool = False  # stopped by a decision of the trial (a dropped arm, termination)

    def __post_init__(self) -> None:
        if self.early is None:
            self.early = self.due


class TrialNode(Node):
    """Trial-wide state: patients by status against the target, milestones, randomisation."""

    def __init__(self, ctx: Context, spec: Trial, kits: list[str]) -> None:
        self.ctx = ctx
        self.spec = spec
        self.name = spec.name
        self.target = spec.target_patients
        if spec.arms:
            ratios = spec.integer_ratios()
            self.arms = [Arm(a.name, r, {k: n for k, n in a.kits.items() if n > 0} if a.kits or a.dose_levels
                             else {k: spec.kits_per_visit for k in kits}, _levels(a, r))
                         for a, r in zip(spec.arms, ratios)]
        else:
            self.arms = [Arm("all", 1, {k: spec.kits_per_visit for k in kits})]
        self.kits = sorted({k for a in self.arms for v in [a, *(lv for _, lv in a.levels)]
                            for k, n in v.kits.items() if n > 0})
        self._dose_level = ctx.rng(f"trial.{spec.name}.dose_level") if any(a.levels for a in self.arms) else None
        self.by_level: dict[tuple[str, str], int] = {}
        self.titration = (Titrator(ctx, spec.name, self.arms, spec.arms)
                          if any(a.titration is not None for a in spec.arms) else None)
        self.screened = self.screen_failed = self.randomised = 0
        self.visits_not_dosed = self.patients_not_dosed = 0
        self.screening = self.active = self.completed = self.dropped = 0
        self.by_arm = [0] * len(self.arms)
        self.closed = False
        self.first_patient_in = self.last_patient_in = self.last_visit = math.nan
        self._on_close: list[tuple[object, Callable[[], None]]] = []  # (site, its callback)
        self._randomisers: list[BlockRandomiser] = []
        self._randomiser = (self.randomiser(f"trial.{spec.name}.randomisation")
                            if spec.stratify == "trial" else None)
        self._enrolled = ctx.counter(f"enrolled.{spec.name}")
        self._screened = ctx.counter(f"screened.{spec.name}")
        self.terminated = False
        self.discontinued = self.screening_stopped = 0
        self._last_randomised = math.nan
        self.interims = InterimAnalyses(ctx, self) if spec.interims else None
        self.autologous = AutologousChain(ctx, spec.name, spec.autologous) if spec.autologous is not None else None
        if self.autologous is not None:  # each patient's own batch: no kits from stock
            self.kits = []
            self.arms = [Arm(a.name, a.ratio, {}) for a in self.arms]

    def start(self) -> None:
        if self.interims is not None:
            self.interims.start()

    def randomiser(self, stream: str) -> BlockRandomiser:
        r = BlockRandomiser(self.ctx.lazy_rng(stream), [a.ratio for a in self.arms], self.spec.block_size)
        self._randomisers.append(r)
        return r

    def sites(self) -> list:
        """The trial's sites (each registered itself with :meth:`on_enrollment_closed`)."""
        return [s for s, _ in self._on_close]

    # -- decisions of interim analyses ------------------------------------------------------
    def drop_arms(self, arms: set[int]) -> None:
        """Randomise no more patients to *arms*."""
        for r in self._randomisers:
            r.drop(arms)

    def retarget(self, target: int) -> None:
        """A re-estimated sample size (enrollment closes at once if it is already reached)."""
        self.target = target
        if not self.closed and self.randomised >= target:
            self._close(None)

    def terminate(self) -> None:
        """Stop the trial: no one else is screened or randomised."""
        self.terminated = True
        if not self.closed:
            self._close(None)

    def _close(self, site: object) -> None:
        self.last_patient_in = self._last_randomised
        self.closed = True
        for s, callback in self._on_close:
            if s is not site:
                callback()

    def stop_screening(self) -> None:
        """A patient in screening when the trial was terminated is not randomised."""
        self.screening -= 1
        self.screening_stopped += 1
        self.ctx.ledger.outflow(PATIENT, "screening_stopped", 1)

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

    def turns_away(self) -> bool:
        """Whether a newcomer is turned away unscreened: under the ``screening`` stop rule, once the
        patients randomised and in screening would fill the target."""
        return self.spec.enrollment_stop == "screening" and self.randomised + self.screening >= self.target

    def on_enrollment_closed(self, site: object, callback: Callable[[], None]) -> None:
        """Call *callback* when the trial reaches its target (unless *site* randomised the last patient)."""
        self._on_close.append((site, callback))

    def randomise(self, site: object, randomiser: BlockRandomiser) -> Arm:
        """Randomise a patient of *site* (with its own list unless the trial stratifies by trial)."""
        now = self.ctx.now
        self.screening -= 1
        self.randomised += 1
        self.active += 1
        if self.randomised == 1:
            self.first_patient_in = now
        self._enrolled.count(now)
        i = (self._randomiser or randomiser).next()
        self.by_arm[i] += 1
        self._last_randomised = now
        if self.closed:  # over-enrollment: screened before the target was met, randomised after
            self.last_patient_in = now
        elif self.randomised >= self.target:
            self._close(site)
        if self.interims is not None:
            self.interims.randomised(self.randomised)
        arm = self.arms[i]
        if arm.levels:  # weight-based dosing: the patient's dose level, drawn by share
            u = self._dose_level.random()  # type: ignore[union-attr]
            arm = next((lv for cum, lv in arm.levels if u < cum), arm.levels[-1][1])
            self.by_level[arm.name, arm.level] = self.by_level.get((arm.name, arm.level), 0) + 1
        return arm

    def finish(self, dropped: bool, stopped: bool = False) -> None:
        self.active -= 1
        if stopped:
            self.discontinued += 1
            self.ctx.ledger.outflow(PATIENT, "discontinued", 1)
        elif dropped:
            self.dropped += 1
            self.ctx.ledger.outflow(PATIENT, "dropped", 1)
        else:
            self.completed += 1
            self.ctx.ledger.outflow(PATIENT, "completed", 1)
        if self.closed and self.active == 0 and self.screening == 0:
            self.last_visit = self.ctx.now

    def metrics(self, t_end: float) -> dict[str, float]:
        n = self.name
        m = {f"trial.{n}.enrolled": self.randomised, f"trial.{n}.screened": self.screened,
             f"trial.{n}.screen_failed": self.screen_failed, f"trial.{n}.completed": self.completed,
             f"trial.{n}.dropped": self.dropped, f"trial.{n}.active": self.active,
             f"trial.{n}.visits_not_dosed": self.visits_not_dosed,
             f"trial.{n}.patients_not_dosed": self.patients_not_dosed,
             f"trial.{n}.first_patient_in": self.first_patient_in,
             f"trial.{n}.last_patient_in": self.last_patient_in,
             f"trial.{n}.last_patient_last_visit": self.last_visit,
             f"trial.{n}.over_enrolled": max(0, self.randomised - self.target)}
        for a, k in zip(self.arms, self.by_arm):
            m[f"trial.{n}.arm.{a.name}.randomised"] = k
            for _, lv in a.levels:
                m[f"trial.{n}.arm.{a.name}.level.{lv.level}.randomised"] = self.by_level.get((a.name, lv.level), 0)
        if self.titration is not None:
            m[f"trial.{n}.titrations"] = self.titration.changes
        if self.interims is not None:
            m.update({f"trial.{n}.interims_acted": self.interims.acted, f"trial.{n}.terminated": self.interims.terminated,
                      f"trial.{n}.discontinued": self.discontinued, f"trial.{n}.screening_stopped": self.screening_stopped})
        return m


def _levels(spec, ratio: int) -> list[tuple[float, Arm]]:
    """An arm's dose levels as (cumulative share, the arm at that level), in the order given."""
    total = sum(d.share for d in spec.dose_levels)
    out, cum = [], 0.0
    for d in spec.dose_levels:
        cum += d.share / total
        out.append((cum, Arm(spec.name, ratio, {k: n for k, n in d.kits.items() if n > 0}, level=d.name)))
    return out

