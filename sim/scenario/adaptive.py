"""Scenario schema of adaptive designs: interim analyses that change the trial while it runs.

An interim comes after a number of patients are randomised or on a given day.  Its decision is
uncertain at planning time: it is taken with ``probability`` (drawn once per replication), and then
drops arms from randomisation (their patients stop at their next visit unless told to finish),
re-estimates the sample size, or terminates the trial (enrollment closes and every patient stops at
their next visit).  Supply sees the shock: kits of a dropped arm become waste, forecasts change.
"""
from __future__ import annotations

from pydantic import Field, model_validator

from sim.scenario.base import FieldError, Model, Name, NonNegFloat, Share


class Interim(Model):
    """One interim analysis and the decision it may take."""

    at_patients: int | None = Field(None, ge=1, description="after this many patients are randomised")
    day: NonNegFloat | None = Field(None, description="on this day (instead of at_patients)")
    probability: Share = Field(1.0, description="chance the decision is taken (drawn once per replication)")
    drop_arms: list[Name] = Field(default_factory=list, description="arms closed to randomisation")
    stop_dropped: bool = Field(True, description="patients on a dropped arm stop treatment at their next visit "
                                                 "(false: they finish their schedule)")
    new_target: int | None = Field(None, ge=1, description="re-estimated sample size (patients to randomise)")
    terminate: bool = Field(False, description="stop the trial: enrollment closes, every patient stops")

    @model_validator(mode="after")
    def _one_trigger_and_a_decision(self):
        if (self.at_patients is None) == (self.day is None):
            raise FieldError("at_patients", "expected exactly one of at_patients, day")
        if not (self.drop_arms or self.new_target is not None or self.terminate):
            raise FieldError("drop_arms", "expected a decision: drop_arms, new_target or terminate")
        if self.terminate and (self.drop_arms or self.new_target is not None):
            raise FieldError("terminate", "a terminated trial drops no arm and needs no new target")
        return self


def interim_problems(sc) -> list[str]:
    """Interims naming arms their trial does not have, or dropping all of them."""
    out = []
    for i, t in enumerate(sc.trials):
        arms = [a.name for a in t.arms] or ["all"]
        dropped: set[str] = set()
        for j, interim in enumerate(t.interims):
            where = f"trials[{i}].interims[{j}].drop_arms"
            out += [f"{where}: no arm {a!r} (arms: {arms})" for a in interim.drop_arms if a not in arms]
            dropped |= set(interim.drop_arms)
        if arms and set(arms) <= dropped:
            out.append(f"trials[{i}].interims: every arm would be dropped; keep one (or use terminate)")
    return out
