"""Make-to-forecast arithmetic: batches the clinical plan needs, from the scenario alone.

Pure functions of the schema, used by the planners at run time and by the
scenario check (so an impossible plan is a scenario error, not a crash).
"""
from __future__ import annotations

import math
from collections import defaultdict

from sim.scenario.clinical import LEGACY_KIT
from sim.scenario.supply import line_products


MAX_BATCHES = 100_000
"""The most batches a plan may ask for (as a fixed plan's ``batches``)."""


class PlanningError(ValueError):
    """A make-to-forecast plan that cannot be derived from the scenario."""


def good_per_batch(line, product, labs: dict) -> float:
    """Expected released units per batch (lot): yield, QC failures and rework taken into account."""
    nominal = product.expected_output()
    if line.qc_lab is not None:
        lab = labs[line.qc_lab]
        p_pass = 1.0
        for t in lab.tests:
            if line.qc_tests is None or t.name in line.qc_tests:
                p_pass *= 1.0 - t.failure_prob * t.confirm_prob
        p_fail = 1.0 - p_pass
    else:
        p_fail = line.qc_failure_prob
    return nominal * ((1 - p_fail) + p_fail * line.rework_prob * line.rework_yield * (1 - p_fail))


def visit_days(trial) -> list[float]:
    """Days (from randomisation) of the dosing visits of a patient who completes treatment: the listed
    visits within the mean treatment duration, then the last one repeated every ``repeat_every`` days
    until it ends."""
    end = trial.treatment_duration.mean_value if trial.treatment_duration is not None else math.inf
    days = [v.day for v in trial.visits if v.day < end]
    if trial.repeat_every is not None and len(days) == len(trial.visits) and math.isfinite(end):
        repeats = max(0, math.ceil((end - days[-1]) / trial.repeat_every) - 1)
        days += [days[-1] + k * trial.repeat_every for k in range(1, repeats + 1)]
    return days


def visits_per_patient(trial) -> float:
    """Dosing visits of a patient who completes treatment (see :func:`visit_days`)."""
    return float(len(visit_days(trial)))


def kits_per_patient(trial, kit_types: list[str]) -> dict[str, float]:
    """Expected kits of each kit type one randomised patient of *trial* needs over the visit schedule
    (repeats included): each arm's kits per visit (every kit type x ``kits_per_visit`` when an arm names
    none), weighted by the arms' randomisation ratios."""
    visits = visits_per_patient(trial)
    if not trial.arms:
        return {k: float(trial.kits_per_visit * visits) for k in kit_types}
    ratios = trial.integer_ratios()
    total = sum(ratios)
    out = {k: 0.0 for k in kit_types}
    for arm, r in zip(trial.arms, ratios):
        mix = arm.kit_mix(int(visits))  # a titrated arm's mix moves over the visits
        kits = {k: n for k, n in mix.items() if n > 0} if mix else {k: trial.kits_per_visit for k in kit_types}
        for k, n in kits.items():
            out[k] += n * visits * r / total
    return out


def trial_demand_units(sc, trials: list[str] | None, product: str | None = None) -> float:
    """Units of final *product* the clinical plan dispenses (every patient completing every visit):
    the kits of every kit type packed from it (or from any product), each times its units per kit."""
    types = sc.kit_types
    names = [k.name for k in types] or [LEGACY_KIT]
    units = {k.name: k.units_per_kit or sc.packaging.units_per_kit for k in types} or \
        {LEGACY_KIT: sc.packaging.units_per_kit}
    packs = {k.name: k.packed_from(product) for k in types} or {LEGACY_KIT: True}
    total = 0.0
    for t in sc.trials:
        if trials is None or t.name in trials:
            for k, n in kits_per_patient(t, names).items():
                if packs[k]:
                    total += t.target_patients * n * units[k]
    return total


def forecast_batches(sc, needs: dict[tuple[str, str], float] | None = None) -> dict[tuple[str, str], int]:
    """Batches (lots) per (line, product) of every make-to-forecast product; raises :class:`PlanningError`.
    Given *needs*, records there the batches each needs as a real number (a partial last batch's share)."""
    labs = {lab.name: lab for lab in sc.qc_labs}
    recipes = [(i, line, p) for i, line in enumerate(sc.lines) for p in line_products(line)]
    consumers = defaultdict(list)
    makers = defaultdict(list)
    for i, line, p in recipes:
        makers[p.product].append((i, line, p))
        for m, q in p.bom.items():
            if q > 0:
                consumers[m].append((i, line, p))
    memo: dict[tuple[int, str], int] = {}  # all batches of a product, qualification batches included
    gmp: dict[tuple[str, str], int] = {}

    def batches(i, line, p, depth=0) -> int:
        key = (i, p.product)
        if key in memo:
            return memo[key]
        if depth > len(recipes):
            raise PlanningError(f"lines[{i}]: products are made from each other in a cycle")
        tt = p.tech_transfer
        qual = (tt.engineering_batches + tt.ppq_batches) if tt else 0
        plan = p.plan
        if not plan.derives_from_demand:
            try:
                n = plan.known_batches(p.product)
            except ValueError as err:
                raise PlanningError(f"{_where(i, line, p)}.plan: {err}") from None
        else:
            if consumers[p.product]:
                units = 0.0
                for j, cl, cp in consumers[p.product]:
                    units += batches(j, cl, cp, depth + 1) * cp.material_per_lot(p.product)
            else:
                units = trial_demand_units(sc, plan.served_trials(), p.product)
            mtf_makers = [x for x in makers[p.product] if x[2].plan.derives_from_demand]
            units *= (1 + plan.overage) / len(mtf_makers)
            good = good_per_batch(line, p, labs)
            if good <= 0:
                raise PlanningError(f"{_where(i, line, p)}: {p.product!r} is expected to release nothing per batch "
                                    "(zero yield, or every lot fails QC), so no number of batches meets the forecast")
            n = math.ceil(units / good - 1e-9)
            if n > MAX_BATCHES:
                raise PlanningError(f"{_where(i, line, p)}.plan: make to forecast of {p.product!r} would need {n:,} "
                                    f"batches (more than {MAX_BATCHES:,}); check the batch size and the demand")
            gmp[line.name, p.product] = n
            if needs is not None:
                needs[line.name, p.product] = units / good
        memo[key] = n + qual
        return n + qual

    for i, line, p in recipes:
        if p.plan.derives_from_demand:
            batches(i, line, p)
    return gmp


def last_batch_share(needed: float, batches: int, min_batch: float | None) -> float:
    """Share of the nominal size the last of *batches* makes when *needed* batches (a real number) are
    needed: what is left, at least *min_batch* (1 without ``min_batch``: whole batches)."""
    if min_batch is None or batches <= 0:
        return 1.0
    left = needed - (batches - 1)
    return 1.0 if left >= 1.0 - 1e-9 else max(min_batch, left)


def _where(i: int, line, p) -> str:
    if line.products is None:
        return f"lines[{i}]"
    k = next(k for k, q in enumerate(line.products) if q.product == p.product)
    return f"lines[{i}].products[{k}]"
