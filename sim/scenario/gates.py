"""Scenario schema of regulatory and quality gates on the clinical side, and recalls.

A country's ``approval`` (the clinical trial application and the import licence) gates its sites'
activation and every shipment into it.  A regional depot's ``import_release`` is the testing and
certification an importing country asks of each shipment before its kits may be used (EU import
testing and QP certification, China's port testing): a queue with a finite number of testers, a
duration, and a failure probability (the shipment is rejected and destroyed).
"""
from __future__ import annotations

from pydantic import Field, model_validator

from sim.scenario.base import Dist, FieldError, Model, Name, NonNegFloat, Probability


class ImportRelease(Model):
    """Release of each shipment a depot imports: tested (and certified) before its kits may be used."""

    time: Dist = Field(description="days to test and certify one shipment")
    testers: int | None = Field(None, ge=1, le=100_000, description="shipments tested at once (none: no limit)")
    failure_prob: Probability = Field(0.0, description="probability a shipment fails and is destroyed")


class Recall(Model):
    """A batch recall: on ``day``, every kit made from the named line's batches (started within
    ``made_between``, or all) is taken off every shelf — depots, sites, homes — and any such kit that
    arrives later (in transit, back from a hold) is withdrawn on arrival."""

    day: NonNegFloat = Field(description="day of the recall")
    line: Name = Field(description="the line whose batches are recalled")
    made_between: tuple[NonNegFloat, NonNegFloat] | None = Field(
        None, description="[first, last] days of manufacture (batch start) recalled; none: every batch")

    @model_validator(mode="after")
    def _ordered(self):
        if self.made_between is not None and self.made_between[0] > self.made_between[1]:
            raise FieldError("made_between", "expected [first, last] with first <= last")
        return self


def recall_problems(sc) -> list[str]:
    lines = sorted(line.name for line in sc.lines)
    return [f"recalls[{i}].line: no line {r.line!r} (lines: {lines})" for i, r in enumerate(sc.recalls)
            if r.line not in lines]
