"""What every CDMO manufacturing line shares; batch and continuous lines are in their own modules.

A line works through the campaigns its planners queue (first-come first-served,
so products sharing a line contend for it), cleaning or changing over between
campaigns.  For each batch (or lot) it gathers the bill of materials from the
material stores, makes the product, and hands the lot to QC; QC does not block
the line.  QC is either a plain random delay (``qc_time``) or tests in a shared
:class:`~sim.supply.qc_lab.QCLab` (then QA disposition if the lab has a QA team); a
deviation investigation runs alongside testing and release waits for the later of the two; a failed
lot may be reworked (if its failure allows it) and retested once, otherwise it is rejected.
Released lots go to ``ship`` (the next stage's input store, or packaging).

Where material can be, for the conservation check: ``staged`` (raw material
gathered for a batch not yet complete), ``in_process``, ``qc_hold``,
``rework``; it leaves as ``consumed``, ``rejected``, ``rework_loss``,
``diverted_offspec`` or ``engineering_scrapped``.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Callable, Iterable

import simpy

from sim.core.context import Context
from sim.core.lots import Lot
from sim.core.node import Holding, Node
from sim.core.timeline import TimelineRow
from sim.supply.lines.release import QCRelease
from sim.supply.lines.clock import StateClock, oee, share_after_warmup

Issuer = Callable[[float], simpy.Event]


class Campaign:
    """*batches* batches (lots) of one product in a row; ``None`` means until the horizon.  The last
    batch makes *last* of the nominal size (a partial last batch, BOM scaled alike)."""

    __slots__ = ("recipe", "batches", "purpose", "done", "last")

    def __init__(self, recipe: "Recipe", batches: int | None, purpose: str = "gmp",
                 done: Callable[[], None] | None = None, last: float = 1.0) -> None:
        self.recipe = recipe
        self.batches = batches
        self.purpose = purpose  # gmp | engineering | ppq
        self.done = done
        self.last = last

    def share(self, made: int) -> float:
        """Share of the nominal size of the batch after *made* batches (1 but for a partial last one)."""
        return self.last if made == self.batches - 1 else 1.0


class Recipe:
    """One product as made on one line: BOM, sizes, and its milestones (a kind may add samplers)."""

    def __init__(self, ctx: Context, line: str, spec, prefix: str) -> None:
        self.spec = spec
        self.line = line
        self.name = spec.product
        self.bom = [(m, q) for m, q in spec.bom.items() if q > 0]
        self.prefix = prefix
        self.size = spec.units_per_lot()
        self.ideal_time = spec.ideal_time()
        self.first_release = math.nan
        self.tech_transfer_start = math.nan
        self.tech_transfer_done = math.nan
        self.tech_transfer_attempts = 0


class LineNode(QCRelease, Node):
    """What every line shares: campaigns, material intake, breakdowns, QC release.

    A kind subclasses it, implements :meth:`_campaign` (how one campaign is made) and may set
    :attr:`recipe_class` (per-product samplers) and :attr:`reports_downtime`.
    """

    recipe_class: type[Recipe] = Recipe
    reports_downtime = False
    """Report ``downtime.<line>`` even without breakdowns (a continuous line's availability is news)."""

    def __init__(self, ctx: Context, spec, products: list, issuers: dict[str, Issuer],
                 ship: Callable[[Lot], None], lab=None) -> None:
        self.ctx = ctx
        self.spec = spec
        self.name = name = spec.name
        self.issuers = issuers
        self.ship = ship
        self.lab = lab
        self.qc_tests = (spec.qc_tests or lab.test_names) if lab is not None else []
        single = len(products) == 1
        self.recipes = [self.recipe_class(ctx, name, p, f"line.{name}" if single else f"line.{name}.{p.product}")
                        for p in products]
        self.queue = simpy.Store(ctx.env)
        self.in_process: dict[str, float] = defaultdict(float)
        self.in_qc: dict[str, float] = defaultdict(float)
        self.in_rework: dict[str, float] = defaultdict(float)
        self.staged: dict[str, float] = defaultdict(float)
        self.clock = StateClock(ctx)
        self.qc_log: list[tuple[float, float, str]] = []
        self.running = False
        self.idle_shutdown: float | None = None  # continuous lines: days starved before shutting down
        self.disturbances = 0  # breakdowns so far (a continuous line diverts output around each)
        self._label = ""
        self._campaign_kinds: dict[str, tuple[str, str]] = {}  # clock label -> (timeline kind, product)
        # Counts for OEE and costs, from the warm-up on (like the clock's totals): see _book.
        self.ideal = 0.0  # nominal time of the work done (for OEE performance)
        self.units = ctx.count_map()  # released, rejected, diverted, scrapped, yield_loss, rework_loss, made
        self.lost = ctx.count_map()  # product -> units made and then lost (cost of quality)
        self.consumed = ctx.count_map()  # material -> quantity consumed here
        self.batches_made = ctx.count()
        self.changeovers = ctx.count()
        self.reworks = ctx.count()
        p = f"line.{name}"
        self._qc_time = ctx.sampler(f"{p}.qc_time", spec.qc_time)
        self._qc_fail = ctx.coin(f"{p}.qc_failure", spec.qc_failure_prob)
        self._deviation = ctx.coin(f"{p}.deviation", spec.deviation_prob)
        self._investigation = ctx.sampler(f"{p}.investigation_time", spec.investigation_time)
        self._rework = ctx.coin(f"{p}.rework", spec.rework_prob)
        self._rework_time = ctx.sampler(f"{p}.rework_time", spec.rework_time)
        self._changeover = ctx.sampler(f"{p}.changeover", spec.changeover)
        self._product_changeover = (ctx.sampler(f"{p}.product_changeover", spec.product_changeover)
                                    if spec.product_changeover is not None else self._changeover)
        self._tbf = self._ttr = None
        if spec.time_between_failures is not None:
            self._tbf = ctx.sampler(f"{p}.time_between_failures", spec.time_between_failures)
            self._ttr = ctx.sampler(f"{p}.time_to_repair", spec.time_to_repair)
        self._maint = spec.maintenance
        if self._maint is not None:
            self._maint_time = ctx.sampler(f"{p}.maintenance", self._maint.duration)
        self.slots = sorted((s.start, s.end) for s in spec.slots)
        self.busy = ctx.level(f"utilisation.{name}")
        self.wip = ctx.level(f"wip.{name}")
        self.down = ctx.level(f"downtime.{name}") if self._tbf is not None or self.reports_downtime else None
        self._cycle = ctx.tally(f"cycle_time.{name}")
        self._qc_release = ctx.tally(f"qc_release_time.{name}")
        self._output = ctx.counter(f"released.{name}")
        self._rejected = ctx.counter(f"rejected.{name}")
        self._breakdowns = ctx.counter(f"breakdowns.{name}")
        self._op_left = math.inf
        self._maint_left = math.inf

    def start(self) -> None:
        self.ctx.env.process(self.run())

    # -- campaigns -------------------------------------------------------------
    def run(self):
        env = self.ctx.env
        yield env.timeout(self.spec.start)
        self._op_left = self._tbf() if self._tbf else math.inf
        self._maint_left = self._maint.interval if self._maint else math.inf
        last = None
        while True:
            self.clock.set("idle")
            camp = yield self.queue.get()
            self._label = self._campaign_label(camp)
            if last is not None:
                yield from self._change_over(camp.recipe is not last)
            yield from self._campaign(camp)
            last = camp.recipe
            if camp.done is not None:
                camp.done()

    def _campaign_label(self, camp: Campaign) -> str:
        """The clock label of a campaign ("api", "api (ppq)"), remembering what it stands for so
        that the timeline need not parse it back."""
        gmp = camp.purpose == "gmp"
        label = camp.recipe.name if gmp else f"{camp.recipe.name} ({camp.purpose})"
        self._campaign_kinds[label] = ("production" if gmp else camp.purpose, camp.recipe.name)
        return label

    def _campaign(self, camp: Campaign):  # pragma: no cover - overridden
        raise NotImplementedError
        yield

    def _change_over(self, new_product: bool):
        d = (self._product_changeover if new_product else self._changeover)()
        if d > 0:
            self.changeovers.add(self.ctx.now)
            self.clock.set("changeover")
            yield self.ctx.env.timeout(d)

    def pipeline(self, product: str) -> float:
        """Units of *product* started here and not yet released or lost."""
        return self.in_process[product] + self.in_qc[product] + self.in_rework[product]

    # -- material ----------------------------------------------------------------
    def _intake(self, recipe: Recipe, scale: float):
        """Gather the BOM times *scale*, one material after another; returns the ids of the lots used."""
        ids: list[str] = []
        for m, per in recipe.bom:
            ev = self.issuers[m](per * scale)
            if not ev.triggered:
                self.clock.set("waiting_material", m)
                if self.running and self.idle_shutdown is not None:  # a starved continuous line
                    yield ev | self.ctx.env.timeout(self.idle_shutdown)
                    if not ev.triggered:
                        yield from self._shut_down()
                        self.clock.set("waiting_material", m)
            lots = yield ev
            self.staged[m] += per * scale
            ids.extend(l.id for l in lots)
        now = self.ctx.now
        for m, per in recipe.bom:
            self.staged[m] -= per * scale
            self.consumed.add(now, m, per * scale)
            self.ctx.ledger.outflow(m, "consumed", per * scale)
        return "+".join(ids) or "none"

    def _start(self, recipe: Recipe, qty: float) -> None:
        self.ctx.ledger.inflow(recipe.name, "started", qty)
        self.in_process[recipe.name] += qty
        self.wip.add(self.ctx.now, qty)

    # -- operating through breakdowns, maintenance and slot ends -------------------
    def _in_slot(self) -> float:
        """End of the slot the line is in now (inf without slots); 0 when outside every slot."""
        if not self.slots:
            return math.inf
        now = self.ctx.now
        for a, b in self.slots:
            if a <= now < b:
                return b
        return 0.0

    def _await_slot(self):
        if self._in_slot() > 0:
            return
        if self.running:
            yield from self._shut_down()
        self.clock.set("closed")
        now = self.ctx.now
        nxt = next((a for a, _ in self.slots if a > now), None)
        yield self.ctx.env.timeout(nxt - now) if nxt is not None else self.ctx.env.event()

    def _must_start(self) -> bool:
        """Hook: a continuous line that is not running must start up before it produces."""
        return False

    def _before_run(self, recipe: Recipe):
        return
        yield

    def _shut_down(self):
        return
        yield

    def _operate(self, work: float, recipe: Recipe, slots: bool):
        """Run for *work* days of operation; breakdowns and maintenance stop the clock.

        A stop that falls due as the work ends is taken before the next work, so a
        lot (batch) finishing at that instant is complete.
        """
        env = self.ctx.env
        while True:
            yield from self._stop_if_due()
            if work <= 1e-12:
                return
            if slots and self.slots:
                yield from self._await_slot()
            if self._must_start():
                yield from self._before_run(recipe)
                continue  # the start-up may have run past the slot's end
            end = self._in_slot() if slots else math.inf
            dt = min(work, self._op_left, self._maint_left, end - env.now)
            self.clock.set("production", self._label)
            self.busy.set(env.now, 1)
            yield env.timeout(dt)
            self.busy.set(env.now, 0)
            work -= dt
            self._op_left -= dt
            self._maint_left -= dt
            if work <= 1e-12:
                return

    def _stop_if_due(self):
        env = self.ctx.env
        if self._op_left <= 1e-12:
            self.clock.set("breakdown")
            self.down.set(env.now, 1)
            self._breakdowns.count(env.now)
            self.disturbances += 1
            yield env.timeout(self._ttr())
            self.down.set(env.now, 0)
            self._op_left = self._tbf()
            self.running = self.running and not self.spec_restart
        elif self._maint_left <= 1e-12:
            self.clock.set("maintenance")
            yield env.timeout(self._maint_time())
            self._maint_left = self._maint.interval
            self.running = self.running and not self.spec_restart

    spec_restart = False

    # -- QC release -------------------------------------------------------------
    def _book(self, what: str, qty: float, lost: str | None = None) -> None:
        """Count *qty* units as *what* in ``units`` (and, given *lost*, as value lost of that product).

        Only from the warm-up on: OEE divides these by the clock's totals, which start there too,
        and the cost model sets them against holding costs of the same window.
        """
        now = self.ctx.now
        self.units.add(now, what, qty)
        if lost is not None:
            self.lost.add(now, lost, qty)

    def _after_warmup(self, since: float) -> float:
        return share_after_warmup(since, self.ctx.now, self.ctx.warmup)

    def _finish(self, recipe: Recipe, qty: float, purpose: str) -> None:
        """A batch (lot) left the line: scrap it (engineering) or move it to QC hold."""
        name, now = recipe.name, self.ctx.now
        self.in_process[name] -= qty
        self.batches_made.add(now)
        self._book("made", qty)
        if purpose == "engineering":
            self.wip.add(now, -qty)
            self.ctx.ledger.outflow(name, "engineering_scrapped", qty)
            self._book("scrapped", qty, lost=name)
            return
        self.in_qc[name] += qty

    # -- bookkeeping -------------------------------------------------------------
    def holdings(self) -> Iterable[Holding]:
        for m, q in self.staged.items():
            yield m, "staged", q
        for r in self.recipes:
            yield r.name, "in_process", self.in_process[r.name]
            yield r.name, "qc_hold", self.in_qc[r.name]
            yield r.name, "rework", self.in_rework[r.name]

    def timeline(self, t_end: float) -> list[TimelineRow]:
        """The line's states (the capped clock log), its products' tech transfers (one still running
        ends at *t_end*) and each lot's QC hold (capped) with its outcome, in that order."""
        self.clock.finish(t_end)
        spans = [(a, b, *self._timeline_kind(state, label)) for a, b, state, label in self.clock.log]
        spans += [(r.tech_transfer_start, t_end if math.isnan(r.tech_transfer_done) else r.tech_transfer_done,
                   "tech_transfer", r.name) for r in self.recipes if not math.isnan(r.tech_transfer_start)]
        spans += [(a, b, "qc_hold", outcome) for a, b, outcome in self.qc_log]
        return [TimelineRow(self.name, self.spec.cdmo, float(a), float(b), kind, label)
                for a, b, kind, label in spans]

    def _timeline_kind(self, state: str, label: str) -> tuple[str, str]:
        """A clock state as a timeline (kind, label): production becomes production, engineering
        or PPQ of its product."""
        return self._campaign_kinds[label] if state == "production" else (state, label)

    @property
    def first_release(self) -> float:
        times = [r.first_release for r in self.recipes if not math.isnan(r.first_release)]
        return min(times) if times else math.nan

    def oee(self) -> dict[str, float]:
        """Availability, performance, quality and their product, from the warm-up to the last event."""
        return oee(self.clock.totals, self.ideal, self.units)

    def metrics(self, t_end: float) -> dict[str, float]:
        """OEE, milestones and counts of this line (its collectors' metrics are the context's)."""
        n = self.name
        self.clock.finish(t_end)
        m = {f"{k}.{n}": v for k, v in self.oee().items()}
        m[f"first_release.{n}"] = self.first_release
        for r in self.recipes:
            if len(self.recipes) > 1:
                m[f"first_release.{n}.{r.name}"] = r.first_release
            if r.spec.tech_transfer is not None:
                m[f"tech_transfer.{n}.{r.name}.days"] = r.tech_transfer_done - r.tech_transfer_start
                m[f"tech_transfer.{n}.{r.name}.attempts"] = r.tech_transfer_attempts
        m[f"batches.{n}"] = self.batches_made.value
        m[f"changeovers.{n}"] = self.changeovers.value
        m[f"reworked.{n}"] = self.reworks.value
        return m
