"""Batch lines: a random cycle time per batch (stretched by breakdowns), then QC; one batch at a
time, or overlapping batches in a train of suites when a takt time is given."""
from __future__ import annotations

from sim.core.context import Context
from sim.supply.lines.base import Campaign, LineNode, Recipe


class BatchRecipe(Recipe):
    """A product on a batch line: its cycle time and yield are drawn per batch."""

    def __init__(self, ctx: Context, line: str, spec, prefix: str) -> None:
        super().__init__(ctx, line, spec, prefix)
        self.cycle = ctx.sampler(f"{prefix}.cycle_time", spec.cycle_time)
        self.yield_ = ctx.sampler(f"{prefix}.yield", spec.yield_fraction)
        self.takt = ctx.sampler(f"{prefix}.takt_time", spec.takt_time) if spec.takt_time is not None else None


class BatchLineNode(LineNode):
    """Gather the BOM, a random cycle time (stretched by breakdowns), then QC.

    Without a takt time the line makes one batch at a time, start to finish.  With one, the line's
    first suite holds a batch for the takt time only (breakdowns and the state clock apply there);
    the batch then flows through the other suites for the rest of its cycle time while the next one
    starts: flow time stays the cycle time, capacity is one batch per takt."""

    recipe_class = BatchRecipe

    def _campaign(self, camp: Campaign):
        env, r = self.ctx.env, camp.recipe
        made = 0
        while camp.batches is None or made < camp.batches:
            share = 1.0 if camp.last == 1.0 or camp.batches is None else camp.share(made)
            parent = yield from self._intake(r, share)
            if self.slots:  # a batch starts only inside a reserved slot (its material waits, staged)
                yield from self._await_slot()
            started = env.now
            size = r.size if share == 1.0 else r.size * share
            qty = size * r.yield_()
            self._start(r, qty)
            self._book("yield_loss", size - qty)
            cycle = r.cycle()
            occupied = cycle if r.takt is None else min(r.takt(), cycle)
            yield from self._operate(occupied, r, slots=False)
            self.ideal += r.ideal_time * self._after_warmup(started)
            if occupied < cycle:
                env.process(self._through_train(r, qty, cycle - occupied, camp.purpose, started, parent))
            else:
                self._leave(r, qty, camp.purpose, started, parent)
            made += 1

    def _through_train(self, r: Recipe, qty: float, rest: float, purpose: str, started: float, parent: str):
        """The rest of a batch's cycle in the downstream suites (in process), while the line goes on."""
        yield self.ctx.env.timeout(rest)
        self._leave(r, qty, purpose, started, parent)

    def _leave(self, r: Recipe, qty: float, purpose: str, started: float, parent: str) -> None:
        self._finish(r, qty, purpose)
        if purpose != "engineering":
            self.ctx.env.process(self._release(r, qty, started, parent))
