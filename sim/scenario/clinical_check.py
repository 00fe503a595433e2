"""Cross-reference checks of the clinical sections, each problem named by its field path.

Field types and ranges are checked by the pydantic models; what needs the whole scenario (a kit type
no arm uses, a site in an undeclared country, a depot supplied from one declared after it, visit
windows that overlap) is checked here.
"""
from __future__ import annotations

from sim.scenario.base import require_unique
from sim.scenario.clinical import LEGACY_KIT, Network, Trial, _integer_ratios, per_kit
from sim.scenario.supply_check import valid_products


def kit_type_names(sc) -> list[str]:
    return [k.name for k in sc.kit_types] or [LEGACY_KIT]


def check_clinical(sc) -> None:
    """Cross-reference checks of the clinical sections; raises ValueError naming the field path."""
    kits = kit_type_names(sc)
    require_unique("kit_types", kits)
    products = {p.product for p in valid_products(sc)}
    for i, k in enumerate(sc.kit_types):
        if k.product is not None and products and k.product not in products:
            raise ValueError(f"kit_types[{i}].product: {k.product!r} is made by no line (made: {sorted(products)})")
        lines = sorted(line.name for line in sc.lines)
        for name in (k.relabel.lines or []) if k.relabel is not None else []:
            if name not in lines:
                raise ValueError(f"kit_types[{i}].relabel.lines: {name!r} is no line (lines: {lines})")
    net = sc.network
    central = sc.depot.name
    depots = [central] + [d.name for d in net.depots]
    require_unique("depots (with the central depot)", depots)
    countries = [c.name for c in net.countries]
    require_unique("network.countries", countries)
    for i, d in enumerate(net.depots):
        src = d.supplied_from or central
        if src not in depots[: i + 1]:
            raise ValueError(f"network.depots[{i}].supplied_from: {src!r} is not the central depot or a depot "
                             f"declared before it (declared: {depots[: i + 1]})")
        if d.country is not None and d.country not in countries:
            raise ValueError(f"network.depots[{i}].country: {d.country!r} is not a declared country "
                             f"(declared: {countries})")
        for field in ("trigger", "level", "initial_kits"):
            _known_kits(f"network.depots[{i}].{field}", getattr(d, field), kits)
        for k in kits:
            if per_kit(d.level, k) <= per_kit(d.trigger, k):
                raise ValueError(f"network.depots[{i}].level: {per_kit(d.level, k)} for kit type {k!r} must "
                                 f"exceed the trigger {per_kit(d.trigger, k)}")
    # Lanes are named source->destination: a country named like a depot and served from that depot's
    # own source would share the depot's lane (its times, costs and random streams).
    depot_lanes = {(d.supplied_from or central, d.name) for d in net.depots}
    for i, c in enumerate(net.countries):
        if ((c.depot or central), c.name) in depot_lanes:
            raise ValueError(f"network.countries[{i}].name: {c.name!r} is also the name of a depot supplied from "
                             f"{c.depot or central!r}, so both lanes would be {(c.depot or central) + '->' + c.name!r}; "
                             "rename the country or the depot")
    if net.central_country is not None and net.central_country not in countries:
        raise ValueError(f"network.central_country: {net.central_country!r} is not a declared country "
                         f"(declared: {countries})")
    for i, c in enumerate(net.countries):
        if c.depot is not None and c.depot not in depots:
            raise ValueError(f"network.countries[{i}].depot: {c.depot!r} is not a declared depot (declared: {depots})")
    used: set[str] = set()
    for ti, t in enumerate(sc.trials):
        used |= _check_trial(f"trials[{ti}]", t, kits, countries, net)
    for i, k in enumerate(kits if sc.kit_types else []):  # the implied kit type may go unused (autologous)
        if k not in used:
            where = f"kit_types[{i}].name" if sc.kit_types else "kit_types"
            raise ValueError(f"{where}: kit type {k!r} is used by no arm of any trial; remove it or give it an arm")


def _check_trial(p: str, t: Trial, kits: list[str], countries: list[str], net: Network) -> set[str]:
    if not t.regions and not t.sites:
        raise ValueError(f"{p}.sites: a trial needs at least one site group (sites or regions)")
    if t.autologous is not None:  # each patient's own batch: the trial uses no kit type
        require_unique(f"{p}.arms", [a.name for a in t.arms])
        return set()
    if not t.arms and len(kits) > 1:
        raise ValueError(f"{p}.arms: required when several kit types are declared ({kits})")
    require_unique(f"{p}.arms", [a.name for a in t.arms])
    used: set[str] = set(kits) if not t.arms else set()
    for ai, a in enumerate(t.arms):
        if not a.kits and not a.dose_levels and len(kits) > 1:
            raise ValueError(f"{p}.arms[{ai}].kits: required when several kit types are declared ({kits})")
        _known_kits(f"{p}.arms[{ai}].kits", a.kits, kits)
        for j, level in enumerate(a.dose_levels):
            _known_kits(f"{p}.arms[{ai}].dose_levels[{j}].kits", level.kits, kits)
            used |= {k for k, n in level.kits.items() if n > 0}  # a level reached only by titration too
        mix = a.kit_mix()
        used |= {k for k, n in mix.items() if n > 0} if mix else set(kits)
    if t.arms:
        ints, err = _integer_ratios([a.ratio for a in t.arms])
        if err:
            raise ValueError(f"{p}.arms[*].ratio: {err}")
        if t.block_size is not None and t.block_size % sum(ints):
            raise ValueError(f"{p}.block_size: {t.block_size} is not a multiple of the ratios' sum "
                             f"{sum(ints)} ({':'.join(map(str, ints))})")
        if sum(ints) > 1000:
            raise ValueError(f"{p}.arms[*].ratio: ratios {':'.join(map(str, ints))} need blocks of {sum(ints)}; "
                             f"use simpler ratios")
    for vi in range(1, len(t.visits)):
        if t.visits[vi].day <= t.visits[vi - 1].day:
            raise ValueError(f"{p}.visits[{vi}].day: {t.visits[vi].day:g} must come after the previous visit's "
                             f"day {t.visits[vi - 1].day:g}; visits must be in increasing order")
        gap = t.visits[vi].day - t.visits[vi - 1].day
        if t.window(vi - 1) >= gap:
            raise ValueError(f"{p}.visits[{vi - 1}].window: {t.window(vi - 1):g} days reaches the next visit "
                             f"(day {t.visits[vi].day:g}); windows must be shorter than the gap between visits")
        if t.visit_scatter != "none" and t.window(vi - 1) + t.window(vi) >= gap:
            raise ValueError(f"{p}.visits[{vi}].window: with visit_scatter, the windows (+/-) of visits "
                             f"{vi - 1} and {vi} overlap ({t.window(vi - 1):g} + {t.window(vi):g} days >= the "
                             f"{gap:g} days between them)")
    if t.repeat_every is not None and t.treatment_duration is None:
        raise ValueError(f"{p}.treatment_duration: required with repeat_every (visits would never end)")
    if t.repeat_every is not None and t.window(len(t.visits) - 1) >= t.repeat_every:
        raise ValueError(f"{p}.repeat_every: {t.repeat_every:g} days must exceed the last visit's window")
    for which in ("resupply", "home_resupply"):
        for field, value in getattr(t, which).kit_fields().items():
            _known_kits(f"{p}.{which}.{field}", value, kits)
    require_unique(f"{p}.regions", [r.name for r in t.regions])
    for si, s in enumerate(t.sites):
        if s.country not in countries:
            raise ValueError(f"{p}.sites[{si}].country: {s.country!r} is not a declared country "
                             f"(declared in network.countries: {countries})")
        c = net.countries[countries.index(s.country)]
        if s.startup is None and c.site_startup is None:
            raise ValueError(f"{p}.sites[{si}].startup: required since country {c.name!r} has no site_startup")
    return used


def _known_kits(path: str, value, kits: list[str]) -> None:
    if isinstance(value, dict):
        for k in value:
            if k not in kits:
                raise ValueError(f"{path}: {k!r} is not a declared kit type (declared: {kits})")
