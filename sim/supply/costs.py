"""Cost model of the supply side: what was bought, made, tested, held and lost.

Computed once at the end of a replication from the counts the components keep.
``cost.quality`` is the cost of quality: testing, the value of product made
and then lost (rejected, diverted off-spec, engineering batches, rework
losses), rework, and rejected incoming material.  The value of a unit of
product is its share of batch cost, its unit cost and the value of its bill
of materials (recursively through intermediate products).  ``cost.total`` is
purchases + production + testing + holding + rework (losses are already in
what was bought and made).

It reads the nodes it is given (suppliers, materials, lines, labs), so it depends on no network.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from sim.core.context import Context


def unit_values(materials: Mapping, lines: Sequence) -> dict[str, float]:
    """Cost of one unit (kg) of every raw material and product."""
    values: dict[str, float] = {}
    for name, node in materials.items():
        costs = [s.spec.unit_cost for s in node.suppliers]
        values[name] = sum(costs) / len(costs)
    recipes = {r.name: (line, r) for line in lines for r in line.recipes}

    def value(product: str, depth: int = 0) -> float:
        if product in values:
            return values[product]
        if product not in recipes or depth > len(recipes):
            return 0.0
        line, r = recipes[product]
        per_unit_bom = 1.0 / r.spec.bom_basis()
        v = line.spec.costs.batch / r.size + line.spec.costs.unit
        v += sum(q * per_unit_bom * value(m, depth + 1) for m, q in r.bom)
        values[product] = v
        return v

    for p in recipes:
        value(p)
    return values


def cost_metrics(ctx: Context, t_end: float, suppliers: Sequence, materials: Mapping, lines: Sequence,
                 labs: Sequence) -> dict[str, float]:
    span = t_end - ctx.warmup
    values = unit_values(materials, lines)
    out: dict[str, float] = {}
    purchase = sum(s.delivered_qty.value * s.spec.unit_cost for s in suppliers)
    testing = sum(lab.testing_cost for lab in labs)
    for name, node in materials.items():
        qc = node.spec.incoming_qc
        if qc is not None and qc.lab is None:
            c = ctx.counters.get(f"incoming_tests.{name}")
            testing += (c.total if c else 0.0) * qc.cost
    holding = rework = scrap = 0.0
    for name, node in materials.items():
        holding += _level_mean(ctx, f"inventory.material.{name}", t_end) * span * node.spec.holding_cost
    production = 0.0
    for line in lines:
        c = line.spec.costs
        made = line.batches_made.value * c.batch + line.units["made"] * c.unit + line.changeovers.value * c.changeover
        out[f"cost.production.{line.name}"] = made
        production += made
        holding += _level_mean(ctx, f"wip.{line.name}", t_end) * span * c.holding
        rework += line.reworks.value * c.rework
        lost = sum(q * values.get(p, 0.0) for p, q in line.lost.items())
        out[f"cost.scrap.{line.name}"] = lost
        scrap += lost
        released = line.units["released"]
        out[f"cost.per_released_unit.{line.name}"] = (
            (made + _consumed_value(line, values)) / released if released else math.nan)
    rejected_in = 0.0
    for name in materials:
        c = ctx.counters.get(f"rejected_incoming.{name}")
        rejected_in += (c.total if c else 0.0) * values.get(name, 0.0)
    out.update({
        "cost.materials": purchase, "cost.production": production, "cost.testing": testing,
        "cost.holding": holding, "cost.rework": rework, "cost.scrap": scrap,
        "cost.rejected_incoming": rejected_in,
        "cost.quality": testing + scrap + rework + rejected_in,
        "cost.total": purchase + production + testing + holding + rework,
    })
    total = out["cost.total"]
    out["cost.quality_share"] = out["cost.quality"] / total if total else math.nan
    return out


def _level_mean(ctx, name: str, t_end: float) -> float:
    lv = ctx.levels.get(name)
    if lv is None:
        return 0.0
    lv.finish(t_end)
    return lv.mean(t_end)


def _consumed_value(line, values: dict[str, float]) -> float:
    """Value of the materials a line consumed."""
    return sum(q * values.get(m, 0.0) for m, q in line.consumed.items())
