"""Technology transfer of a product from the sponsor to a CDMO line, as a modelled stage.

Each attempt takes a random time; with probability ``failure_prob`` it fails
and is repeated.  After it succeeds the planner queues the engineering batches
(made and scrapped, consuming material) and the PPQ batches (released if they
pass QC) ahead of the GMP campaigns, so the time to first released batch
includes all of it.
"""
from __future__ import annotations

from sim.core.context import Context
from sim.scenario.supply import TechTransfer


def transfer(ctx: Context, stream: str, spec: TechTransfer):
    """Attempt the transfer until one succeeds (a SimPy generator); returns the number of attempts."""
    duration = ctx.sampler(f"{stream}.duration", spec.duration)
    fails = ctx.coin(f"{stream}.failure", spec.failure_prob)
    attempts = 0
    while True:
        attempts += 1
        yield ctx.env.timeout(duration())
        if not fails():
            return attempts
