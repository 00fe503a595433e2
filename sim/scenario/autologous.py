"""Scenario schema of patient-specific (autologous) therapies: each patient's own material is collected
at the site, shipped to the CDMO, manufactured in one of a finite number of slots, released and shipped
back for infusion, against a vein-to-vein time limit; a failed manufacture means a new collection."""
from __future__ import annotations

from pydantic import Field

from sim.scenario.base import Dist, Model, PositiveFloat, Probability


class Autologous(Model):
    to_cdmo: Dist = Field(description="days from collection (apheresis) to arrival at the CDMO")
    slots: int = Field(ge=1, le=100_000, description="manufacturing slots (suites) working in parallel")
    manufacturing: Dist = Field(description="days a patient's batch occupies a slot")
    release: Dist = Field(0.0, description="days of QC release after manufacture (no slot held)")
    failure_prob: Probability = Field(0.0, description="probability a manufacture fails: the patient is collected again")
    recollection: Dist = Field(14.0, description="days from a failure to the next collection")
    attempts: int = Field(2, ge=1, le=10, description="collections at most; after the last failure, not treated")
    to_site: Dist = Field(description="days from release to infusion at the site")
    vein_to_vein_limit: PositiveFloat | None = Field(None, description="days from first collection to infusion "
                                                                       "beyond which an infusion counts as late")
