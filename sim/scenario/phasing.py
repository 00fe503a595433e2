"""Time-phased make-to-forecast: when each campaign starts and how many batches it has, from the
expected demand curve of the clinical plan and the kits' shelf life.

The demand curve is the fluid (expected-value) picture of the trials: each site randomises at its
mean rate x (1 - screen failure) from its activation + screening time until its cap, the trial stops
at its target, and every randomised patient comes to every visit (repeats included), as the
make-to-forecast quantity assumes.  Campaign *k* starts ``lead_time`` days before the demand reaches
what the earlier campaigns cover, and makes what the demand needs until its kits expire (less the
do-not-dispense window), at most ``campaign`` batches: so shelf life is respected by construction.
Pure functions of the scenario (a fixed random stream samples activation times), run once before
the run, like :func:`~sim.scenario.forecast.forecast_batches`.
"""
from __future__ import annotations

import math

import numpy as np

from sim.scenario.forecast import PlanningError, good_per_batch, trial_demand_units, visit_days

SAMPLE = 4000
"""Draws of each site group's activation + screening time that stand for its distribution."""


def _ramp(delays: np.ndarray, days: np.ndarray) -> np.ndarray:
    """E[(t - X)+] on *days* for X sampled by *delays* (sorted sample, cumulative sums)."""
    x = np.sort(delays)
    before = np.concatenate(([0.0], np.cumsum(x)))
    k = np.searchsorted(x, days, side="right")
    return (k * days - before[k]) / len(x)


def expected_randomised(trial, groups, days: np.ndarray) -> np.ndarray:
    """Expected patients randomised by each of *days* (fluid approximation, capped by the target).

    *groups*: ``(count, mean rate, cap, activation delay distribution)`` per site group."""
    rng = np.random.default_rng(0)
    screening = trial.screening_time.draw_block(rng, SAMPLE)
    pace = 1.0 - trial.screen_failure
    total = np.zeros_like(days)
    for count, rate, cap, startup in groups:
        lam = rate * pace
        if lam <= 0:
            continue
        delay = trial.start + startup.draw_block(rng, SAMPLE) + screening
        per_site = lam * _ramp(delay, days)
        if cap is not None:
            per_site -= lam * _ramp(delay + cap / lam, days)
        total += count * per_site
    return np.minimum(total, trial.target_patients)


def site_groups(sc, trial) -> list[tuple[int, float, int | None, object]]:
    """``(count, mean rate, cap, activation delay)`` of each of *trial*'s site groups."""
    countries = {c.name: c for c in sc.network.countries}
    out = [(r.sites, r.enrollment_rate, None, r.activation) for r in trial.regions]
    for g in trial.sites:
        out.append((g.count, g.recruitment_rate.mean_value, g.cap, g.startup_in(countries[g.country])))
    return out


def demand_curve(sc, product: str, trials: list[str] | None) -> tuple[np.ndarray, np.ndarray]:
    """``(days, cumulative units of *product* dispensed by each day)``, daily to the horizon."""
    days = np.arange(0.0, math.floor(sc.horizon) + 1.0)
    curve = np.zeros_like(days)
    for t in sc.trials:
        if trials is not None and t.name not in trials:
            continue
        visits = visit_days(t)
        if not visits:
            continue
        per_visit = trial_demand_units(sc, [t.name], product) / t.target_patients / len(visits)
        randomised = expected_randomised(t, site_groups(sc, t), days)
        for d in visits:
            curve += per_visit * np.interp(days - d, days, randomised, left=0.0)
    return days, curve


def _first_day_above(days: np.ndarray, curve: np.ndarray, units: float) -> float:
    """The day the demand curve first exceeds *units* (linear between days); inf if it never does."""
    k = int(np.searchsorted(curve, units + 1e-9, side="right"))
    if k >= len(curve):
        return math.inf
    if k == 0:
        return float(days[0])
    lo, hi = curve[k - 1], curve[k]
    return float(days[k - 1] + (units - lo) / (hi - lo) * (days[k] - days[k - 1]))


def phase(days: np.ndarray, curve: np.ndarray, batches: int, good: float, overage: float, largest: int,
          lead_time: float, usable: float) -> list[tuple[float, int]]:
    """``(start day, batches)`` of each campaign: *batches* in all, *good* units released per batch,
    at most *largest* per campaign; kits reach sites *lead_time* days after a campaign starts and can
    be dispensed until *usable* days after it."""
    out: list[tuple[float, int]] = []
    covered, left, start = 0.0, batches, 0.0
    while left > 0:
        need = _first_day_above(days, curve, covered)
        if math.isfinite(need):
            start = max(start, need - lead_time)
            until = float(np.interp(start + usable, days, curve))
            n = max(1, min(largest, left, math.ceil((until - covered) * (1 + overage) / good - 1e-9)))
        else:  # demand covered: the rest (rounding, overage) right after the previous campaign
            n = min(largest, left)
        out.append((start, n))
        left -= n
        covered += n * good / (1 + overage)
    return out


def phased_campaigns(sc, gmp: dict[tuple[str, str], int]) -> dict[tuple[str, str], tuple[tuple[float, int], ...]]:
    """Campaign schedule per (line, product) of every time-phased make-to-forecast plan, given the
    plans' GMP batches *gmp*; raises :class:`PlanningError`."""
    from sim.scenario.supply import line_products

    labs = {lab.name: lab for lab in sc.qc_labs}
    consumed = {m for line in sc.lines for p in line_products(line) for m, q in p.bom.items() if q > 0}
    out = {}
    for i, line in enumerate(sc.lines):
        for p in line_products(line):
            phasing = getattr(p.plan, "time_phased", None)
            if phasing is None:
                continue
            where = f"lines[{i}]" + ("" if line.products is None else
                                     f".products[{[q.product for q in line.products].index(p.product)}]")
            if p.product in consumed:
                raise PlanningError(f"{where}.plan.time_phased: {p.product!r} is made into another product; "
                                    "time phasing from the demand curve is for products packed into kits "
                                    "(give it a campaign_interval)")
            shelf, dnd = _usable_life(sc, p.product, p.plan.served_trials())
            if shelf - dnd <= phasing.lead_time:
                raise PlanningError(f"{where}.plan.time_phased.lead_time: expected less than the kits' shelf life "
                                    f"less do-not-dispense ({shelf:g} - {dnd:g} days), or kits would expire "
                                    f"before they can be dispensed; got {phasing.lead_time:g}")
            days, curve = demand_curve(sc, p.product, p.plan.served_trials())
            out[line.name, p.product] = tuple(phase(
                days, curve, gmp[line.name, p.product], good_per_batch(line, p, labs), p.plan.overage,
                p.plan.campaign, phasing.lead_time, shelf - dnd))
    return out


def _usable_life(sc, product: str, trials: list[str] | None) -> tuple[float, float]:
    """Shortest shelf life of the kit types packed from *product*, and the longest do-not-dispense."""
    lives = [k.shelf_life or sc.packaging.shelf_life for k in sc.kit_types if k.packed_from(product)]
    dnd = [t.resupply.do_not_dispense for t in sc.trials if trials is None or t.name in trials]
    return min(lives, default=sc.packaging.shelf_life), max(dnd, default=0.0)
