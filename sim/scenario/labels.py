"""Schema of label groups: which countries (and trials) share a label, how packaging splits kits between
groups, whether depots pool stock across groups, just-in-time labelling from unlabelled kits, and whether
a label carries an expiry date (EU CTR) or not (US, 21 CFR 211.137(g)).  The runtime is
:mod:`sim.clinical.labelling`; without a ``labels`` section every kit is valid everywhere, as before.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.base import Dist, FieldError, Model, Name, NonNegFloat, PositiveFloat, duplicate_names
from sim.scenario.clinical import PerKit, per_kit


class LabelGroup(Model):
    """Countries (optionally of some trials only) whose sites share one label text."""

    name: Name
    countries: list[Name] = Field(min_length=1, description="countries whose sites use this label")
    trials: list[Name] | None = Field(None, description="trials whose sites use it (default: every trial; name "
                                      "one trial per group to keep stock dedicated per study)")
    share: NonNegFloat = Field(1.0, description="packaging plan: share of the kits packed (or of the central "
                               "depot's initial stock) labelled for this group; shares are weights, normalised "
                               "over the groups (ignored with just-in-time labelling)")
    expiry_on_label: bool = Field(True, description="the label carries an expiry date (EU CTR): an extension "
                                  "needs a physical relabel campaign at a depot, and sites cannot extend. "
                                  "false (US, 21 CFR 211.137(g)): an extension is an IRT update, instant and "
                                  "free, at depots and sites")
    jit_trigger: PerKit | None = Field(None, description="this group's own just-in-time trigger (kits; used "
                                       "only with labels.jit)")
    jit_level: PerKit | None = Field(None, description="this group's own just-in-time level (kits; used only "
                                     "with labels.jit)")


class JitLabelling(Model):
    """Just-in-time labelling at the central depot: kits are packed unlabelled (bright stock) and labelled
    for a group when its labelled stock falls to a trigger."""

    trigger: PerKit = Field(description="label when a group's usable labelled kits at the central depot "
                            "plus those in labelling fall to this many (per kit type)")
    level: PerKit = Field(description="label up to this many (per kit type and group)")
    lead_time: Dist = Field(0.0, description="days per labelling order on a line (set-up, printing, QA release)")
    rate: PositiveFloat | None = Field(None, description="kits a line labels per day, on top of the lead time "
                                       "(default: no limit)")
    lines: int = Field(1, ge=1, le=100, description="labelling lines: orders at a time; others queue")
    cost_per_kit: NonNegFloat = Field(0.0, description="cost of labelling one kit")
    depots: list[Name] = Field(default_factory=list, description="regional depots (supplied from the central "
                               "depot, dedicated stock) that label just in time too: they are sent unlabelled kits "
                               "and label them for their own sites' groups on their own lines")


class Labels(Model):
    """Label groups, the packaging plan between them and how depots pool their stock."""

    groups: list[LabelGroup] = Field(min_length=1, description="label groups; every site must be in exactly one")
    pooling: Literal["pooled", "by_label_group"] = Field(
        "by_label_group", description="by_label_group: a kit goes only to sites of its group's countries "
        "(dedicated stock); pooled: any kit to any site, as with a multi-country booklet label")
    jit: JitLabelling | None = Field(None, description="just-in-time labelling from unlabelled kits at the "
                                     "central depot (default: kits are labelled when packed)")

    @model_validator(mode="after")
    def _shares(self):
        problems = duplicate_names("groups", [g.name for g in self.groups])
        if problems:
            raise FieldError("groups", problems[0].removeprefix("groups: "))
        if self.jit is None and sum(g.share for g in self.groups) <= 0:
            raise FieldError("groups", "expected a packaging plan: at least one group with a share above 0")
        return self


def _group_of_site(labels: Labels, trial: str, country: str) -> list[str]:
    return [g.name for g in labels.groups if country in g.countries and (g.trials is None or trial in g.trials)]


def label_problems(sc) -> list[str]:
    """Cross-references of ``labels``: declared countries, trials and kit types; every site in exactly
    one group; a regional depot's own levels per group only for groups it serves, under dedicated stock."""
    lab: Labels | None = sc.labels
    own = [(i, d) for i, d in enumerate(sc.network.depots) if d.label_groups]
    unused = [f"network.depots[{i}].label_groups: a group's own trigger / level needs label groups with "
              "labels.pooling: by_label_group (dedicated stock)" for i, _ in own]
    if lab is None:
        return unused
    out: list[str] = unused if lab.pooling != "by_label_group" else []
    countries = {c.name for c in sc.network.countries}
    trials = {t.name for t in sc.trials}
    kits = [k.name for k in sc.kit_types] or ["kit"]
    for i, g in enumerate(lab.groups):
        out += [f"labels.groups[{i}].countries: {c!r} is not in network.countries (declared: {sorted(countries)})"
                for c in g.countries if c not in countries]
        out += [f"labels.groups[{i}].trials: {t!r} is no trial (trials: {sorted(trials)})"
                for t in g.trials or [] if t not in trials]
        for field in ("jit_trigger", "jit_level"):
            value = getattr(g, field)
            if isinstance(value, dict):
                out += [f"labels.groups[{i}].{field}: {k!r} is no kit type (kit types: {kits})" for k in value
                        if k not in kits]
    if lab.jit is not None:
        for field in ("trigger", "level"):
            value = getattr(lab.jit, field)
            if isinstance(value, dict):
                out += [f"labels.jit.{field}: {k!r} is no kit type (kit types: {kits})" for k in value if k not in kits]
        for i, g in enumerate(lab.groups):
            trig, lev = g.jit_trigger if g.jit_trigger is not None else lab.jit.trigger, \
                g.jit_level if g.jit_level is not None else lab.jit.level
            out += [f"labels.groups[{i}]: expected a just-in-time level at least the trigger for kit {k!r}; got "
                    f"trigger {per_kit(trig, k)}, level {per_kit(lev, k)}" for k in kits
                    if per_kit(lev, k) < per_kit(trig, k)]
    parent = {d.name: d.supplied_from or sc.depot.name for d in sc.network.depots}
    supplier = {c.name: c.depot or sc.depot.name for c in sc.network.countries}
    served: dict[str, set[str]] = {}
    for ti, t in enumerate(sc.trials):
        if t.regions:
            out.append(f"trials[{ti}].regions: label groups need site groups in declared countries "
                       "(trials[].sites with a country), not legacy regions")
        for j, s in enumerate(t.sites):
            found = _group_of_site(lab, t.name, s.country)
            if len(found) != 1:
                what = "no label group" if not found else f"{len(found)} label groups ({', '.join(found)})"
                out.append(f"trials[{ti}].sites[{j}]: country {s.country!r} of trial {t.name!r} is in {what}; "
                           "expected exactly one")
                continue
            depot = supplier.get(s.country, sc.depot.name)
            while depot in parent:  # every regional depot on the way serves this group
                served.setdefault(depot, set()).add(found[0])
                depot = parent[depot]
    names = [d.name for d in sc.network.depots]
    for j, name in enumerate(lab.jit.depots if lab.jit is not None else ()):
        d = sc.network.depots[names.index(name)] if name in names else None
        if d is None:
            out.append(f"labels.jit.depots[{j}]: {name!r} is no regional depot (regional depots: {names})")
        elif (d.supplied_from or sc.depot.name) != sc.depot.name or lab.pooling != "by_label_group":
            out.append(f"labels.jit.depots[{j}]: {name!r} can label just in time only if supplied from the central "
                       "depot under pooling: by_label_group (labelling at a depot further down is not modelled)")
        elif not served.get(name):
            out.append(f"labels.jit.depots[{j}]: {name!r} supplies no sites, so it has no label group to label for")
    for i, d in own if lab.pooling == "by_label_group" else ():  # its own levels name groups it serves
        for group, levels in d.label_groups.items():
            if group not in served.get(d.name, ()):
                out.append(f"network.depots[{i}].label_groups: {group!r} is no label group this depot serves "
                           f"(serves: {sorted(served.get(d.name, ()))})")
                continue
            for k in kits:
                if per_kit(levels.level, k) <= per_kit(levels.trigger, k):
                    out.append(f"network.depots[{i}].label_groups.{group}.level: {per_kit(levels.level, k)} for "
                               f"kit type {k!r} must exceed the trigger {per_kit(levels.trigger, k)}")
            for field in ("trigger", "level"):
                value = getattr(levels, field)
                if isinstance(value, dict):
                    out += [f"network.depots[{i}].label_groups.{group}.{field}: {k!r} is no kit type (kit types: "
                            f"{kits})" for k in value if k not in kits]
    return out


def site_label_group(labels: Labels, trial: str, country: str | None) -> str:
    """The label group of a site of *trial* in *country* (the schema made sure there is one)."""
    return _group_of_site(labels, trial, country or "")[0]


__all__ = ["Labels", "LabelGroup", "JitLabelling", "label_problems", "site_label_group"]
