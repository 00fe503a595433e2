"""Make-to-forecast arithmetic: batches the clinical plan needs, from the scenario alone.

Pure functions of the schema, used by the planners at run time and by the
scenario check (so an impossible plan is a scenario error, not a crash).
"""
from __future__ import annotations

import math
from collections import defaultdict

from sim.scenario.supply import line_products


class PlanningError(ValueError):
    """A make-to-forecast plan that cannot be derived from the scenario."""


def good_per_batch(line, product, labs: dict) -> float:
    """Expected released units per batch (lot): yield, QC failures and rework taken into account."""
    if line.kind == "batch":
        nominal = product.batch_size * product.yield_fraction.mean_value
    else:
        nominal = product.lot_size
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


def trial_demand_units(sc, trials: list[str] | None) -> float:
    """Units of final product the clinical plan dispenses (every patient completing every visit)."""
    kits = sum(t.target_patients * len(t.visits) * t.kits_per_visit
               for t in sc.trials if trials is None or t.name in trials)
    return kits * sc.packaging.units_per_kit


def forecast_batches(sc) -> dict[tuple[str, str], int]:
    """Batches (lots) per (line, product) of every make-to-forecast product; raises :class:`PlanningError`."""
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
        if plan.policy == "fixed":
            if plan.batches is None:
                raise PlanningError(f"{_where(i, line, p)}.plan: {p.product!r} has a fixed plan without a number of batches (it runs to "
                                    "the horizon), so the make-to-forecast plan upstream cannot be derived")
            n = plan.batches
        elif plan.policy == "make_to_stock":
            raise PlanningError(f"{_where(i, line, p)}.plan: {p.product!r} is make_to_stock, so the make-to-forecast "
                                "plan of what it is made from cannot be derived; give it a fixed number of "
                                "batches or make it to forecast")
        else:
            if consumers[p.product]:
                units = 0.0
                for j, cl, cp in consumers[p.product]:
                    per = cp.bom[p.product] * (1.0 if cl.kind == "batch" else cp.lot_size)
                    units += batches(j, cl, cp, depth + 1) * per
            else:
                units = trial_demand_units(sc, plan.trials)
            mtf_makers = [x for x in makers[p.product] if x[2].plan.policy == "make_to_forecast"]
            units *= (1 + plan.overage) / len(mtf_makers)
            n = math.ceil(units / good_per_batch(line, p, labs) - 1e-9)
            gmp[line.name, p.product] = n
        memo[key] = n + qual
        return n + qual

    for i, line, p in recipes:
        if p.plan.policy == "make_to_forecast":
            batches(i, line, p)
    return gmp


def _where(i: int, line, p) -> str:
    if line.products is None:
        return f"lines[{i}]"
    k = next(k for k, q in enumerate(line.products) if q.product == p.product)
    return f"lines[{i}].products[{k}]"
