"""Technology transfer of a product from the sponsor to a CDMO line, as a modelled stage.

A transfer is one or more stages in order (method transfer, process transfer, an engineering run
...).  Each attempt at a stage takes a random time; with the stage's ``failure_prob`` it fails and
that stage — not the whole transfer — is repeated.  A transfer given by one ``duration`` is a single
stage, so a failure repeats all of it.  After it succeeds the planner queues the engineering batches
(made and scrapped, consuming material) and the PPQ batches (released if they pass QC) ahead of the
GMP campaigns, so the time to first released batch includes all of it.
"""
from __future__ import annotations

from sim.core.context import Context
from sim.scenario.supply import TechTransfer


def transfer(ctx: Context, stream: str, spec: TechTransfer):
    """Go through the stages, repeating a failed one until it succeeds (a SimPy generator); returns the
    number of attempts over all stages."""
    attempts = 0
    for stage in spec.all_stages:
        # a single-duration transfer keeps its original stream names
        prefix = stream if not spec.stages else f"{stream}.{stage.name}"
        duration = ctx.sampler(f"{prefix}.duration", stage.duration)
        fails = ctx.coin(f"{prefix}.failure", stage.failure_prob)
        while True:
            attempts += 1
            yield ctx.env.timeout(duration())
            if not fails():
                break
    return attempts
