"""Cross-reference checks of the supply side, each problem named by its field path.

Field types and ranges are checked by the pydantic models; what needs the whole
scenario (a BOM naming a material nobody supplies or makes, a QC test the lab
does not run, a product made from itself) is checked here.
"""
from __future__ import annotations

from collections import defaultdict

from pydantic import ValidationError

from sim.scenario.base import FieldError, duplicate_names
from sim.scenario.clinical import LEGACY_KIT
from sim.scenario.forecast import PlanningError, forecast_batches
from sim.scenario.phasing import phased_campaigns
from sim.scenario.markets import market_problems
from sim.scenario.supply import line_products, made_and_consumed


def supply_problems(sc) -> list[str]:
    """Every cross-reference problem of the supply side of scenario *sc* (empty when consistent)."""
    out: list[str] = []
    by_material: dict[str, list[str]] = defaultdict(list)
    for s in sc.suppliers:
        by_material[s.material].append(s.name)
    out += _materials(sc, by_material)
    labs = {lab.name: lab for lab in sc.qc_labs}
    out += duplicate_names("qc_labs", [lab.name for lab in sc.qc_labs])
    for i, lab in enumerate(sc.qc_labs):
        out += duplicate_names(f"qc_labs[{i}].tests", [t.name for t in lab.tests])
    out += _lines(sc, set(by_material), labs)
    out += _kits_for_any_product(sc)
    made, consumed = made_and_consumed(valid_products(sc))
    out += duplicate_names("markets", [m.name for m in sc.markets])
    kits = [k.name for k in sc.kit_types] or [LEGACY_KIT]
    depots = [sc.depot.name, *(d.name for d in sc.network.depots)]
    out += market_problems(sc.markets, set(by_material) | (made & consumed), kits, depots)
    return out


def plan_problems(sc) -> list[str]:
    """Make-to-forecast plans that cannot be derived (or time-phased) from the clinical plan.  Checked
    last, once both the supply and the clinical cross-references hold: the derivation walks the trials'
    kits, sites and countries."""
    if not any(p.plan.derives_from_demand for line in sc.lines for p in line_products(line)):
        return []
    try:
        phased_campaigns(sc, forecast_batches(sc))
    except PlanningError as err:
        return [str(err)]
    return []


def valid_products(sc) -> list:
    """The product specs of every line whose products are well formed (the others are reported, with
    their field path, by the line checks)."""
    out = []
    for line in sc.lines:
        try:
            out += line_products(line)
        except (ValueError, ValidationError):
            continue
    return out


def _kits_for_any_product(sc) -> list[str]:
    """A kit type without a product packs whatever reaches packaging: with several final products
    (another trial's product on a shared line, say) that silently mixes them into one trial's kits."""
    made, consumed = made_and_consumed(valid_products(sc))
    final = sorted(made - consumed)
    if len(final) < 2:
        return []
    loose = [k.name for k in sc.kit_types if k.product is None and k.sourcing is None]
    if sc.kit_types and not loose:
        return []
    which = f"kit types {loose} have" if loose else "the default kit type (no kit_types given) has"
    return [f"kit_types: {which} no product, but several final products reach packaging ({final}); "
            "name the product each kit type is packed from"]


def _materials(sc, by_material: dict[str, list[str]]) -> list[str]:
    out = duplicate_names("materials", [m.name for m in sc.materials])
    declared = {m.name for m in sc.materials}
    for mat, names in by_material.items():
        if mat in declared:
            continue
        if len(names) > 1:
            out.append(f"suppliers: material {mat!r} has {len(names)} suppliers {names}; add a `materials` entry "
                       "with its policy and allocation rule")
        for i, s in enumerate(sc.suppliers):
            if s.material == mat:
                for f in ("order_quantity", "reorder_point"):
                    if getattr(s, f) is None:
                        out.append(f"suppliers[{i}].{f}: required field is missing "
                                   f"(or give material {mat!r} a policy under `materials`)")
    labs = {lab.name: lab for lab in sc.qc_labs}
    for i, m in enumerate(sc.materials):
        mine = by_material.get(m.name, [])
        if not mine:
            out.append(f"materials[{i}].name: {m.name!r} has no supplier (supplied: {sorted(by_material)})")
            continue
        sources = m.sources or mine
        for j, s in enumerate(m.sources or []):
            if s not in mine:
                out.append(f"materials[{i}].sources[{j}]: {s!r} does not supply {m.name!r} (suppliers: {mine})")
        if m.allocation == "split":
            if not m.shares:
                out.append(f"materials[{i}].shares: required for allocation 'split'")
            else:
                for s in m.shares:
                    if s not in sources:
                        out.append(f"materials[{i}].shares.{s}: {s!r} is not a source of {m.name!r} ({sources})")
        qc = m.incoming_qc
        if qc is not None and qc.lab is not None:
            out += _lab_test(f"materials[{i}].incoming_qc", labs, qc.lab, [qc.test] if qc.test else [])
    return out


def _lines(sc, supplied: set[str], labs) -> list[str]:
    out: list[str] = []
    made: dict[str, list[str]] = defaultdict(list)
    resolved = {}
    for i, line in enumerate(sc.lines):
        where = f"lines[{i}]"
        if line.products is not None:
            mixed = line.short_form_fields()
            if mixed:
                out.append(f"{where}: give product fields either on the line or in `products`, not both "
                           f"(found {mixed} on the line)")
            if not line.products:
                out.append(f"{where}.products: a line must make at least one product; got []")
                continue
        else:
            missing = [f for f in line.PRODUCT_FIELDS if getattr(line, f) is None]
            if missing:
                out += [f"{where}.{f}: required field is missing (or list the line's `products`)" for f in missing]
                continue
            if line.material is not None and getattr(line, line.MATERIAL_FIELD) is None:
                out.append(f"{where}.{line.MATERIAL_FIELD}: required field is missing (with `material`)")
        try:
            resolved[i] = line_products(line)
        except ValidationError as err:  # the short form's product, checked as the product it stands for
            out += [_short_form_problem(where, e) for e in err.errors(include_url=False)]
            continue
        out += duplicate_names(f"{where}.products", [p.product for p in resolved[i]])
        for p in resolved[i]:
            made[p.product].append(line.name)
        if line.qc_lab is not None:
            out += _lab_test(where, labs, line.qc_lab, line.qc_tests or [], field="qc_lab", tests_field="qc_tests")
        elif line.qc_tests:
            out.append(f"{where}.qc_tests: needs a qc_lab")
        out += line.kind_problems(where, resolved[i])
    known = sorted(supplied | set(made))
    trials = {t.name for t in sc.trials}
    for i, prods in resolved.items():
        line = sc.lines[i]
        for k, p in enumerate(prods):
            where = f"lines[{i}]" if line.products is None else f"lines[{i}].products[{k}]"
            if p.product in supplied:
                out.append(f"{where}.product: {p.product!r} is also a supplied raw material")
            for m in p.bom:
                if m in supplied or m in made:
                    if m == p.product:
                        out.append(f"{where}.bom.{m}: a product cannot consume itself")
                    continue
                if line.products is None and m == line.material:
                    out.append(f"{where}.material: {m!r} has no supplier and no line makes it (supplied: {sorted(supplied)})")
                else:
                    out.append(f"{where}.bom.{m}: unknown material {m!r}: no supplier supplies it and no line "
                               f"makes it (known: {known})")
            plan_at = f"{where}.plan" if line.products is not None or line.plan is not None else where
            for j, t in enumerate(p.plan.served_trials() or []):
                if t not in trials:
                    out.append(f"{plan_at}.trials[{j}]: unknown trial {t!r} (trials: {sorted(trials)})")
    out += _cycles(resolved, sc)
    return out


def _short_form_problem(where: str, e: dict) -> str:
    cause = e.get("ctx", {}).get("error")
    if isinstance(cause, FieldError):
        return f"{where}.{cause.field}: {cause.message}"
    return f"{where}.{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"


def _cycles(resolved, sc) -> list[str]:
    """A product may not (indirectly) be made from itself."""
    uses: dict[str, set[str]] = defaultdict(set)
    for prods in resolved.values():
        for p in prods:
            uses[p.product] |= set(p.bom)
    out = []
    for start in sorted(uses):
        seen, stack = set(), list(uses[start])
        while stack:
            m = stack.pop()
            if m == start:
                out.append(f"lines: product {start!r} is made, through its bills of materials, from itself")
                break
            if m not in seen:
                seen.add(m)
                stack.extend(uses.get(m, ()))
    return out


def _lab_test(where, labs, lab, tests, field="lab", tests_field="test") -> list[str]:
    if lab not in labs:
        return [f"{where}.{field}: unknown QC lab {lab!r} (qc_labs: {sorted(labs)})"]
    have = [t.name for t in labs[lab].tests]
    return [f"{where}.{tests_field}: lab {lab!r} has no test {t!r} (tests: {have})" for t in tests if t not in have]
