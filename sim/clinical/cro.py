"""A CRO's CRAs: a finite team that starts sites up and monitors the active ones.

A site of a trial assigned to a CRO becomes active only after a CRA has done its start-up work, so a
small team activates sites in waves.  Start-ups go before monitoring visits (a SimPy priority
resource); each site draws its own work times, so adding a site leaves the others' draws alone.
"""
from __future__ import annotations

from typing import Callable

import simpy

from sim.core.context import Context
from sim.core.node import Node
from sim.scenario.cro import CRO

STARTUP, MONITORING = 0, 1
"""Priorities: a waiting start-up is served before a waiting monitoring visit."""


class CRONode(Node):
    """The CRAs of one CRO, with their utilisation, start-up waits and monitoring visits."""

    def __init__(self, ctx: Context, spec: CRO) -> None:
        self.ctx = ctx
        self.spec = spec
        self.name = spec.name
        self.cras = simpy.PriorityResource(ctx.env, capacity=spec.cras)
        self._busy = ctx.level(f"utilisation.cro.{spec.name}")
        self._wait = ctx.tally(f"cra_wait.{spec.name}")
        self._visits = ctx.counter(f"monitoring_visits.{spec.name}")

    def _work(self, days: float, priority: int):
        """SimPy sub-process: one CRA for *days*; returns how long the work waited for a CRA."""
        env = self.ctx.env
        asked = env.now
        with self.cras.request(priority=priority) as req:
            yield req
            now = env.now
            self._busy.add(now, 1 / self.spec.cras)
            yield env.timeout(days)
            self._busy.add(env.now, -1 / self.spec.cras)
        return now - asked

    def start_up(self, work: Callable[[], float]):
        """SimPy sub-process: a site's start-up work, once a CRA is free."""
        waited = yield from self._work(work(), STARTUP)
        self._wait.observe(waited, self.ctx.now)

    def monitor(self, site, work: Callable[[], float]):
        """SimPy process: monitor *site* every ``monitoring.every`` days while it is open."""
        env, every = self.ctx.env, self.spec.monitoring.every
        while True:
            yield env.timeout(every)
            if site.closed:
                return
            yield from self._work(work(), MONITORING)
            self._visits.count(env.now)
