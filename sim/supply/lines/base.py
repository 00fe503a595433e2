"""CDMO manufacturing lines: batch lines and continuous lines, each followed by QC release.

A line works through the campaigns its planners queue (first-come first-served,
so products sharing a line contend for it), cleaning or changing over between
campaigns.  For each batch (or lot) it gathers the bill of materials from the
material stores, makes the product, and hands the lot to QC; QC does not block
the line.  QC is either a plain random delay (``qc_time``) or tests in a shared
:class:`~sim.supply.qc_lab.QCLab`; a deviation adds investigation time, a
failed lot may be reworked and retested once, otherwise it is rejected.
Released lots go to ``ship`` (the next stage's input store, or packaging).

Where material can be, for the conservation check: ``staged`` (raw material
gathered for a batch not yet complete), ``in_process``, ``qc_hold``,
``rework``; it leaves as ``consumed``, ``rejected``, ``rework_loss``,
``diverted_offspec`` or ``engineering_scrapped``.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Callable, Iterable, NamedTuple

import simpy

from sim.core.context import Context
from sim.core.lots import Lot
from sim.scenario.supply import BatchLine, ContinuousLine, line_products

TIMELINE_CAP = 5000
"""Intervals kept per line for Gantt charts: bounded memory whatever the horizon."""


class TimelineRow(NamedTuple):
    """One interval of a line's activity, as stored with a replication's results, so that the
    Gantt chart is drawn from data (``timeline.csv``) rather than from live line objects.

    *kind* is a line state (``production``, ``engineering``, ``ppq``, ``changeover``, ``startup``,
    ``shutdown``, ``breakdown``, ``maintenance``, ``waiting_material``, ``closed``, ``idle``,
    ``before_start``), ``tech_transfer``, or ``qc_hold``.  *label* is the product for production,
    engineering, PPQ, start-up and tech transfer, the outcome (``released`` / ``rejected``) for a
    QC hold, and empty otherwise.
    """
    line: str
    cdmo: str
    start: float
    end: float
    kind: str
    label: str


PLANNED_STOPS = ("before_start", "idle", "closed", "maintenance")
"""States that are not planned production time (excluded from OEE availability)."""

Issuer = Callable[[float], simpy.Event]


class Campaign:
    """*batches* batches (lots) of one product in a row; ``None`` means until the horizon."""

    __slots__ = ("recipe", "batches", "purpose", "done")

    def __init__(self, recipe: "Recipe", batches: int | None, purpose: str = "gmp",
                 done: Callable[[], None] | None = None) -> None:
        self.recipe = recipe
        self.batches = batches
        self.purpose = purpose  # gmp | engineering | ppq
        self.done = done


class Recipe:
    """One product as made on one line: BOM, sizes, samplers, and its milestones."""

    def __init__(self, ctx: Context, line: str, spec, prefix: str) -> None:
        self.spec = spec
        self.line = line
        self.name = spec.product
        self.bom = [(m, q) for m, q in spec.bom.items() if q > 0]
        self.prefix = prefix
        if hasattr(spec, "batch_size"):
            self.size = spec.batch_size
            self.cycle = ctx.sampler(f"{prefix}.cycle_time", spec.cycle_time)
            self.yield_ = ctx.sampler(f"{prefix}.yield", spec.yield_fraction)
            self.ideal_time = spec.cycle_time.mean_value
        else:
            self.size = spec.lot_size
            self.rate = spec.rate
            self.ideal_time = spec.lot_size / spec.rate
        self.first_release = math.nan
        self.tech_transfer_start = math.nan
        self.tech_transfer_done = math.nan
        self.tech_transfer_attempts = 0


class StateClock:
    """Time a line spends in each state (from the warm-up on), and a bounded log for Gantt charts."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.state = "before_start"
        self.label = ""
        self.since = 0.0
        self.totals: dict[str, float] = defaultdict(float)
        self.log: list[tuple[float, float, str, str]] = []

    def set(self, state: str, label: str = "") -> None:
        if state == self.state and label == self.label:
            return
        self._close(self.ctx.now)
        self.state, self.label, self.since = state, label, self.ctx.now

    def _close(self, now: float) -> None:
        d = now - max(self.since, self.ctx.warmup)
        if d > 0:
            self.totals[self.state] += d
        if now > self.since and len(self.log) < TIMELINE_CAP:
            self.log.append((self.since, now, self.state, self.label))

    def finish(self, t: float) -> None:
        self._close(t)
        self.since = t


class _LineNode:
    """What batch and continuous lines share: campaigns, material intake, breakdowns, QC release."""

    def __init__(self, ctx: Context, spec, issuers: dict[str, Issuer], ship: Callable[[Lot], None],
                 lab=None) -> None:
        self.ctx = ctx
        self.spec = spec
        self.name = name = spec.name
        self.issuers = issuers
        self.ship = ship
        self.lab = lab
        self.qc_tests = (spec.qc_tests or lab.test_names) if lab is not None else []
        products = line_products(spec)
        single = len(products) == 1
        self.recipes = [Recipe(ctx, name, p, f"line.{name}" if single else f"line.{name}.{p.product}")
                        for p in products]
        self.queue = simpy.Store(ctx.env)
        self.in_process: dict[str, float] = defaultdict(float)
        self.in_qc: dict[str, float] = defaultdict(float)
        self.in_rework: dict[str, float] = defaultdict(float)
        self.staged: dict[str, float] = defaultdict(float)
        self.clock = StateClock(ctx)
        self.qc_log: list[tuple[float, float, str]] = []
        self.running = False
        self._label = ""
        self._campaign_kinds: dict[str, tuple[str, str]] = {}  # clock label -> (timeline kind, product)
        # Counts for OEE and costs, from the warm-up on (like the clock's totals): see _book.
        self.ideal = 0.0  # nominal time of the work done (for OEE performance)
        self.units = defaultdict(float)  # released, rejected, diverted, scrapped, yield_loss, rework_loss, made
        self.lost: dict[str, float] = defaultdict(float)  # product -> units made and then lost (cost of quality)
        self.consumed: dict[str, float] = defaultdict(float)  # material -> quantity consumed here
        self.batches_made = 0
        self.changeovers = 0
        self.reworks = 0
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
        self.down = ctx.level(f"downtime.{name}") if self._tbf is not None or spec.kind == "continuous" else None
        self._cycle = ctx.tally(f"cycle_time.{name}")
        self._qc_release = ctx.tally(f"qc_release_time.{name}")
        self._output = ctx.counter(f"released.{name}")
        self._rejected = ctx.counter(f"rejected.{name}")
        self._breakdowns = ctx.counter(f"breakdowns.{name}")
        self._op_left = math.inf
        self._maint_left = math.inf
        ctx.env.process(self.run())

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
            if self.ctx.observing:
                self.changeovers += 1
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
            lots = yield ev
            self.staged[m] += per * scale
            ids.extend(l.id for l in lots)
        observing = self.ctx.observing
        for m, per in recipe.bom:
            self.staged[m] -= per * scale
            if observing:
                self.consumed[m] += per * scale
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
        if self.ctx.observing:
            self.units[what] += qty
            if lost is not None:
                self.lost[lost] += qty

    def _after_warmup(self, since: float) -> float:
        """Share of the interval [since, now] after the warm-up (1 when all of it is): the part of the
        nominal time of a batch straddling the warm-up that OEE performance counts."""
        w, now = self.ctx.warmup, self.ctx.now
        if since >= w:
            return 1.0
        return (now - w) / (now - since) if now > w else 0.0

    def _finish(self, recipe: Recipe, qty: float, purpose: str) -> None:
        """A batch (lot) left the line: scrap it (engineering) or move it to QC hold."""
        name, now = recipe.name, self.ctx.now
        self.in_process[name] -= qty
        if self.ctx.observing:
            self.batches_made += 1
        self._book("made", qty)
        if purpose == "engineering":
            self.wip.add(now, -qty)
            self.ctx.ledger.outflow(name, "engineering_scrapped", qty)
            self._book("scrapped", qty, lost=name)
            return
        self.in_qc[name] += qty

    def _release(self, recipe: Recipe, qty: float, started: float, parent: str):
        """QC hold of one lot: tests, deviation investigation, rework and retest, then release or reject."""
        ctx, env, name = self.ctx, self.ctx.env, recipe.name
        held = env.now
        passed = yield from self._test()
        if self._deviation():
            yield env.timeout(self._investigation())
        if not passed and self._rework():
            if ctx.observing:
                self.reworks += 1
            self.in_qc[name] -= qty
            self.in_rework[name] += qty
            yield env.timeout(self._rework_time())
            good = qty * self.spec.rework_yield
            self.in_rework[name] -= qty
            if qty - good > 0:
                ctx.ledger.outflow(name, "rework_loss", qty - good)
                self._book("rework_loss", qty - good, lost=name)
                self.wip.add(env.now, good - qty)
            qty = good
            self.in_qc[name] += qty
            passed = yield from self._test()
        now = env.now
        self.in_qc[name] -= qty
        self.wip.add(now, -qty)
        if len(self.qc_log) < TIMELINE_CAP:
            self.qc_log.append((held, now, "released" if passed else "rejected"))
        if not passed:
            ctx.ledger.outflow(name, "rejected", qty)
            self._rejected.count(now, qty)
            self._book("rejected", qty, lost=name)
            return
        self._cycle.observe(now - started, now)
        self._qc_release.observe(now - held, now)
        self._output.count(now, qty)
        self._book("released", qty)
        if math.isnan(recipe.first_release):
            recipe.first_release = now
        self.ship(Lot(ctx.new_id(self.spec.name), name, qty, parent, math.inf, now))

    def _test(self):
        if self.lab is not None:
            return (yield from self.lab.release(self.qc_tests))
        yield self.ctx.env.timeout(self._qc_time())
        return not self._qc_fail()

    # -- bookkeeping -------------------------------------------------------------
    def holdings(self) -> Iterable[tuple[str, str, float]]:
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
        tot = self.clock.totals
        planned = sum(v for k, v in tot.items() if k not in PLANNED_STOPS)
        run = tot.get("production", 0.0) + tot.get("startup", 0.0)
        u = self.units
        decided = u["released"] + u["rejected"] + u["diverted"] + u["scrapped"] + u["yield_loss"] + u["rework_loss"]
        a = run / planned if planned > 0 else math.nan
        p = min(self.ideal / run, 1.0) if run > 0 else math.nan
        q = u["released"] / decided if decided > 0 else math.nan
        return {"availability": a, "performance": p, "quality": q, "oee": a * p * q}


class BatchLineNode(_LineNode):
    """One batch at a time: gather the BOM, a random cycle time (stretched by breakdowns), then QC."""

    spec: BatchLine

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


class ContinuousLineNode(_LineNode):
    """Runs at *rate* while up; output is cut into lots of *lot_size* units.

    A run starts up (the output during start-up is off-spec and diverted) and
    shuts down at its end; breakdowns (operation-dependent failures) and planned
    maintenance stop it, and with ``restart_after_stop`` it must start up again.
    With real-time release each lot is released ``qc_time`` after it is made;
    with end-of-run release lots wait in QC hold until the run ends, then are tested.
    """

    spec: ContinuousLine

    def __init__(self, ctx: Context, spec: ContinuousLine, issuers, ship, lab=None) -> None:
        self.spec_restart = spec.restart_after_stop
        self._startup = ctx.sampler(f"line.{spec.name}.startup_time", spec.startup_time)
        self._shutdown = ctx.sampler(f"line.{spec.name}.shutdown_time", spec.shutdown_time)
        self._diverted = ctx.counter(f"diverted.{spec.name}")
        super().__init__(ctx, spec, issuers, ship, lab)

    def _campaign(self, camp: Campaign):
        env, r = self.ctx.env, camp.recipe
        held: list[tuple[float, float, str]] = []
        made = 0
        while camp.batches is None or made < camp.batches:
            parent = yield from self._intake(r, r.size)
            started = env.now
            self._start(r, r.size)
            yield from self._operate(r.size / r.rate, r, slots=True)
            self.ideal += r.ideal_time * self._after_warmup(started)
            self._finish(r, r.size, camp.purpose)
            if camp.purpose != "engineering":
                if self.spec.release == "end_of_run":
                    held.append((r.size, started, parent))
                else:
                    env.process(self._release(r, r.size, started, parent))
            made += 1
        if self.running:
            yield from self._shut_down()
        for qty, started, parent in held:
            env.process(self._release(r, qty, started, parent))

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
        now = self.ctx.now
        self.in_process[recipe.name] -= off
        self.wip.add(now, -off)
        self.ctx.ledger.outflow(recipe.name, "diverted_offspec", off)
        self._diverted.count(now, off)
        self._book("diverted", off, lost=recipe.name)
        self._book("made", off)

    def _shut_down(self):
        self.running = False
        d = self._shutdown()
        if d > 0:
            self.clock.set("shutdown")
            yield self.ctx.env.timeout(d)


LINE_KINDS: dict[str, type[_LineNode]] = {"batch": BatchLineNode, "continuous": ContinuousLineNode}
"""Registry: scenario ``kind`` -> runtime line class. A new kind registers here."""
