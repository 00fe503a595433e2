"""Scenario schema of contract research organisations: the CRAs who start sites up and monitor them.

Without a CRO, a site is active once its start-up time has passed.  With one, that time is the
regulatory and contractual part; the site then needs a CRA for ``startup_work`` days (qualification,
initiation visit) and is active when the work is done.  A CRO with few CRAs activates sites in waves:
its capacity, not the paperwork, shapes the activation curve.  CRAs also monitor active sites; a
start-up waiting for a CRA goes before a monitoring visit.
"""
from __future__ import annotations

from pydantic import Field

from sim.scenario.base import Dist, Model, Name, PositiveFloat


class Monitoring(Model):
    """Routine monitoring of every active site by the CRO's CRAs."""

    every: PositiveFloat = Field(description="days between monitoring visits to an active site")
    work: Dist = Field(description="CRA days per monitoring visit (travel, on site, report)")


class CRO(Model):
    """A CRO running site start-up (and monitoring) for the sites assigned to it."""

    name: Name
    cras: int = Field(ge=1, le=100_000, description="clinical research associates for start-up and monitoring")
    startup_work: Dist = Field(description="CRA days to start a site up after its regulatory start-up time")
    monitoring: Monitoring | None = Field(None, description="routine monitoring visits (none: start-up only)")


def cro_problems(sc) -> list[str]:
    """References to CROs the scenario does not declare."""
    names = [c.name for c in sc.cros]
    out = [f"cros: {n!r} is declared twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for i, t in enumerate(sc.trials):
        refs = [("cro", t.cro)] + [(f"regions[{j}].cro", r.cro) for j, r in enumerate(t.regions)] + \
               [(f"sites[{j}].cro", g.cro) for j, g in enumerate(t.sites)]
        out += [f"trials[{i}].{where}: no CRO {ref!r} (declared: {sorted(names)})"
                for where, ref in refs if ref is not None and ref not in names]
    return out
