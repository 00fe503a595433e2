"""Trial-wide state: arms, patients by status against the target, milestones, randomisation."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from sim.clinical.randomisation import BlockRandomiser
from sim.core.context import Context
from sim.core.node import Node
from sim.scenario.clinical import Trial

PATIENT = "patient"


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
    early: list[float] | None = None  # when each visit may come at the earliest (what a forecast covers)
    next: int = 0  # index of the next visit not yet attempted
    missed: int = 0

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
        self._on_close: list[tuple[object, Callable[[], None]]] = []  # (site, its callback)
        self._randomiser = (self.randomiser(f"trial.{spec.name}.randomisation")
                            if spec.stratify == "trial" else None)
        self._enrolled = ctx.counter(f"enrolled.{spec.name}")
        self._screened = ctx.counter(f"screened.{spec.name}")

    def randomiser(self, stream: str) -> BlockRandomiser:
        return BlockRandomiser(self.ctx.lazy_rng(stream), [a.ratio for a in self.arms], self.spec.block_size)

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
        if self.closed:  # over-enrollment: screened before the target was met, randomised after
            self.last_patient_in = now
        elif self.randomised >= self.target:
            self.last_patient_in = now
            self.closed = True
            for s, callback in self._on_close:
                if s is not site:
                    callback()
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
        return m
