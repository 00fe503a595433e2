"""Scenario schema of regulatory and quality gates on the clinical side.

A country's ``approval`` (the clinical trial application and the import licence) gates its sites'
activation and every shipment into it.  A regional depot's ``import_release`` is the testing and
certification an importing country asks of each shipment before its kits may be used (EU import
testing and QP certification, China's port testing): a queue with a finite number of testers, a
duration, and a failure probability (the shipment is rejected and destroyed).
"""
from __future__ import annotations

from pydantic import Field

from sim.scenario.base import Dist, Model, Probability


class ImportRelease(Model):
    """Release of each shipment a depot imports: tested (and certified) before its kits may be used."""

    time: Dist = Field(description="days to test and certify one shipment")
    testers: int | None = Field(None, ge=1, le=100_000, description="shipments tested at once (none: no limit)")
    failure_prob: Probability = Field(0.0, description="probability a shipment fails and is destroyed")
