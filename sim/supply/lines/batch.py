"""Batch lines: one batch at a time, a random cycle time (stretched by breakdowns), then QC."""
from __future__ import annotations

from sim.core.context import Context
from sim.supply.lines.base import Campaign, LineNode, Recipe


class BatchRecipe(Recipe):
    """A product on a batch line: its cycle time and yield are drawn per batch."""

    def __init__(self, ctx: Context, line: str, spec, prefix: str) -> None:
        super().__init__(ctx, line, spec, prefix)
        self.cycle = ctx.sampler(f"{prefix}.cycle_time", spec.cycle_time)
        self.yield_ = ctx.sampler(f"{prefix}.yield", spec.yield_fraction)


class BatchLineNode(LineNode):
    """One batch at a time: gather the BOM, a random cycle time (stretched by breakdowns), then QC."""

    recipe_class = BatchRecipe

    def _campaign(self, camp: Campaign):
        env, r = self.ctx.env, camp.recipe
        made = 0
        while camp.batches is None or made < camp.batches:
            parent = yield from self._intake(r, 1.0)
            if self.slots:  # a batch starts only inside a reserved slot (its material waits, staged)
                yield from self._await_slot()
            started = env.now
            qty = r.size * r.yield_()
            self._start(r, qty)
            self._book("yield_loss", r.size - qty)
            yield from self._operate(r.cycle(), r, slots=False)
            self.ideal += r.ideal_time * self._after_warmup(started)
            self._finish(r, qty, camp.purpose)
            if camp.purpose != "engineering":
                env.process(self._release(r, qty, started, parent))
            made += 1
