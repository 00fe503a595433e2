"""Continuous lines: a rate while up, output cut into lots, start-up diverted, real-time or end-of-run release."""
from __future__ import annotations

from sim.core.context import Context
from sim.supply.lines.base import Campaign, LineNode, Recipe


class ContinuousRecipe(Recipe):
    """A product on a continuous line: made at its rate."""

    def __init__(self, ctx: Context, line: str, spec, prefix: str) -> None:
        super().__init__(ctx, line, spec, prefix)
        self.rate = spec.rate


class ContinuousLineNode(LineNode):
    """Runs at *rate* while up; output is cut into lots of *lot_size* units.

    A run starts up (the output during start-up is off-spec and diverted) and
    shuts down at its end; breakdowns (operation-dependent failures) and planned
    maintenance stop it, and with ``restart_after_stop`` it must start up again.  Starved of material
    for ``idle_shutdown`` days, a running line shuts down, and starts up again (diverting) when the
    material comes.
    With real-time release each lot is released ``qc_time`` after it is made;
    with end-of-run release lots wait in QC hold until the run ends, then are tested.
    """

    recipe_class = ContinuousRecipe
    reports_downtime = True

    def __init__(self, ctx: Context, spec, products: list, issuers, ship, lab=None) -> None:
        self.spec_restart = spec.restart_after_stop
        self._startup = ctx.sampler(f"line.{spec.name}.startup_time", spec.startup_time)
        self._shutdown = ctx.sampler(f"line.{spec.name}.shutdown_time", spec.shutdown_time)
        self._diverted = ctx.counter(f"diverted.{spec.name}")
        super().__init__(ctx, spec, products, issuers, ship, lab)
        self.idle_shutdown = spec.idle_shutdown
        d = spec.disturbance_diversion
        self.diversion_window = d if isinstance(d, (int, float)) else d.window()  # days of output per disturbance

    def _campaign(self, camp: Campaign):
        env, r = self.ctx.env, camp.recipe
        held: list[tuple[float, float, str]] = []
        made = 0
        while camp.batches is None or made < camp.batches:
            size = r.size if camp.last == 1.0 or camp.batches is None else r.size * camp.share(made)
            parent = yield from self._intake(r, size)
            started = env.now
            self._start(r, size)
            before = self.disturbances
            yield from self._operate(size / r.rate, r, slots=True)
            self.ideal += r.ideal_time * (size / r.size) * self._after_warmup(started)
            diverted = (self.disturbances - before) * r.rate * self.diversion_window
            good = size - self._divert(r, min(diverted, size))
            self._finish(r, good, camp.purpose)
            if camp.purpose != "engineering" and good > 0:
                if self.spec.release == "end_of_run":
                    held.append((good, started, parent))
                else:
                    env.process(self._release(r, good, started, parent))
            made += 1
        if self.running:
            yield from self._shut_down()
        for qty, started, parent in held:
            env.process(self._release(r, qty, started, parent))

    def _divert(self, recipe: Recipe, qty: float) -> float:
        """Divert *qty* units of the lot just made (at most all of it) as off-spec; returns the amount."""
        qty = min(qty, recipe.size)
        if qty > 0:
            self._off_spec(recipe, qty)
        return qty

    def _off_spec(self, recipe: Recipe, qty: float) -> None:
        """*qty* units in process made but diverted (start-up, disturbance): out of the line as off-spec."""
        now = self.ctx.now
        self.in_process[recipe.name] -= qty
        self.wip.add(now, -qty)
        self.ctx.ledger.outflow(recipe.name, "diverted_offspec", qty)
        self._diverted.count(now, qty)
        self._book("diverted", qty, lost=recipe.name)
        self._book("made", qty)

    def _must_start(self) -> bool:
        return not self.running

    def _before_run(self, recipe: Recipe):
        self.running = True
        d = self._startup()
        if d <= 0:
            return
        off = recipe.rate * d
        yield from self._intake(recipe, off)
        self._start(recipe, off)
        self.clock.set("startup", recipe.name)
        began = self.ctx.now
        self.busy.set(began, 1)
        yield self.ctx.env.timeout(d)
        self.busy.set(self.ctx.now, 0)
        self.ideal += d * self._after_warmup(began)
        self._off_spec(recipe, off)

    def _shut_down(self):
        self.running = False
        d = self._shutdown()
        if d > 0:
            self.clock.set("shutdown")
            yield self.ctx.env.timeout(d)
