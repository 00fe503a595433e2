"""Patient-specific (autologous) therapy at run time: vein to vein for each patient of a trial
(:mod:`sim.scenario.autologous`).  The CDMO's slots are a SimPy resource shared by the trial's patients,
so vein-to-vein time grows with the queue for a slot."""
from __future__ import annotations

from sim.core.context import Context
from sim.scenario.autologous import Autologous


class AutologousChain:
    """Collection, shipping, a manufacturing slot, release and return for one trial's patients."""

    def __init__(self, ctx: Context, trial: str, spec: Autologous) -> None:
        import simpy
        self.ctx = ctx
        self.spec = spec
        self.slots = simpy.Resource(ctx.env, spec.slots)
        name = f"trial.{trial}.autologous"
        self._to_cdmo = ctx.sampler(f"{name}.to_cdmo", spec.to_cdmo)
        self._make = ctx.sampler(f"{name}.manufacturing", spec.manufacturing)
        self._release = ctx.sampler(f"{name}.release", spec.release)
        self._fails = ctx.coin(f"{name}.failure", spec.failure_prob)
        self._again = ctx.sampler(f"{name}.recollection", spec.recollection)
        self._to_site = ctx.sampler(f"{name}.to_site", spec.to_site)
        self._busy = ctx.level(f"utilisation.slots.{trial}")
        self._v2v = ctx.tally(f"vein_to_vein.{trial}")
        self._slot_wait = ctx.tally(f"slot_wait.{trial}")
        self._infused = ctx.counter(f"infused.{trial}")
        self._failed = ctx.counter(f"manufacturing_failures.{trial}")
        self._late = ctx.counter(f"late_infusions.{trial}")
        self._untreated = ctx.counter(f"not_treated.{trial}")

    def treat(self, patient):
        """SimPy sub-process: from first collection to infusion; returns whether the patient was infused."""
        env, spec = self.ctx.env, self.spec
        collected = env.now
        for attempt in range(spec.attempts):
            if attempt:
                yield env.timeout(self._again())
            yield env.timeout(self._to_cdmo())
            asked = env.now
            with self.slots.request() as req:
                yield req
                self._slot_wait.observe(env.now - asked, env.now)
                self._busy.add(env.now, 1 / spec.slots)
                yield env.timeout(self._make())
                self._busy.add(env.now, -1 / spec.slots)
            yield env.timeout(self._release())
            if self._fails():
                self._failed.count(env.now)
                continue
            yield env.timeout(self._to_site())
            now = env.now
            self._v2v.observe(now - collected, now)
            self._infused.count(now)
            if spec.vein_to_vein_limit is not None and now - collected > spec.vein_to_vein_limit:
                self._late.count(now)
            return True
        self._untreated.count(env.now)
        return False
