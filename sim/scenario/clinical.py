"""Scenario schema of the clinical side: kit types, the distribution network, trials.

Two ways to describe sites are accepted.  The compact legacy form (``regions``:
a number of sites with a fixed recruitment rate and a transit time from the
central depot) and the full form (``sites``: groups of sites in declared
``network.countries``, with Gamma-distributed recruitment rates, caps, customs,
regional depots and direct-to-patient shipping).  Both become the same runtime
objects.  Cross-references (kit types, countries, depots) are checked by
:func:`check_clinical` with the field path of the offending value.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BeforeValidator, Field, model_validator

from sim.scenario.kinds import family
from sim.scenario.adaptive import Interim
from sim.scenario.autologous import Autologous
from sim.scenario.gates import ImportRelease
from sim.scenario.arms import Arm
from sim.scenario.sourcing import Sourcing
from sim.scenario.lanes import LaneSpec
from sim.scenario.base import Dist, FieldError, Model, Name, NonNegFloat, PositiveFloat, Probability
from sim.scenario.stability import Relabel, StorageExcursions  # noqa: F401 - part of the clinical schema
from sim.scenario.storage_room import AMBIENT, TEMPERATURES, StorageRoom

LEGACY_KIT = "kit"
"""Name of the one kit type implied when a scenario declares no ``kit_types``."""

PerKit = Union[int, dict[Name, Annotated[int, Field(ge=0)]]]
"""A kit count for every kit type (a number) or per kit type (a mapping)."""


def _visit(v: Any) -> Any:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return {"day": v}
    return v




# -- network ---------------------------------------------------------------------

class GroupLevels(Model):
    """One label group's resupply trigger and level at a regional depot (dedicated stock)."""

    trigger: PerKit = Field(description="order when the group's usable kits here + on the way fall to this")
    level: PerKit = Field(description="order the group's kits up to this many")


class RegionalDepot(Model):
    """A depot replenished from another depot by trigger / resupply per kit type."""

    name: Name
    country: Name | None = Field(None, description="where it is (customs apply on import)")
    supplied_from: Name | None = Field(None, description="depot it orders from (default: the central depot)")
    lane: LaneSpec = Field(description="lane from the supplying depot to this one")
    trigger: PerKit = Field(description="order when usable kits on hand + in transit fall to this")
    level: PerKit = Field(description="order up to this many kits")
    do_not_ship: NonNegFloat = Field(0.0, description="days of shelf life a kit needs to be shipped here")
    initial_kits: PerKit = Field(0, description="kits on hand at day 0")
    initial_shelf_life: PositiveFloat = 365.0
    import_release: ImportRelease | None = Field(None, description="testing / QP certification of each shipment "
                                                 "imported here before its kits may be used")
    storage: StorageRoom | None = Field(None, description="storage capacity (none: unlimited); orders never "
                                                          "ask for more than fits")
    label_groups: dict[Name, GroupLevels] = Field(default_factory=dict, description="labels.pooling: "
                                                  "by_label_group: a served group's own trigger / level (default: "
                                                  "trigger and level above, for each group's kits)")


class Country(Model):
    """A country: where its sites are supplied from, customs, and site start-up."""

    name: Name
    region: Name | None = Field(None, description="label used to group countries in reports")
    depot: Name | None = Field(None, description="depot that supplies its sites (default: central)")
    lane: LaneSpec = Field(LaneSpec(transit_time={"dist": "deterministic", "value": 7.0}),
                           description="lane from the depot to sites (default: 7 days, 4C Supply)")
    home_lane: LaneSpec | None = Field(None, description="lane from the depot to patients' homes (default: lane)")
    customs: Dist = Field(0.0, description="days of import release for a shipment from a depot abroad")
    site_startup: Dist | None = Field(None, description="days from study start to site activation")
    approval: Dist | None = Field(None, description="days from day 0 to the trial's approval and import licence "
                                                    "here: no site activates and nothing is shipped in before")
    min_shelf_life: NonNegFloat = Field(0.0, description="days of shelf life a kit must have left when shipped to "
                                                         "the country's sites (a national rule; at least do_not_ship)")


class Network(Model):
    """Everything between the central depot and the sites."""

    central_country: Name | None = Field(None, description="country of the central depot")
    depots: list[RegionalDepot] = Field(default_factory=list, description="regional depots")
    countries: list[Country] = Field(default_factory=list)
    storage_excursions: StorageExcursions | None = Field(
        None, description="fridge / cold-room failures at depots and sites (none: storage never fails)")


# -- kits ------------------------------------------------------------------------

class KitType(Model):
    """A patient kit: what it is packed from, its shelf life and storage temperature."""

    name: Name
    product: Name | None = Field(None, description="drug product packed into it (none: any product)")
    units_per_kit: int | None = Field(None, ge=1, description="default: packaging.units_per_kit")
    shelf_life: PositiveFloat | None = Field(None, description="days from the drug product's date of manufacture "
                                                               "(its batch start) to kit expiry (default: packaging's)")
    pack_share: PositiveFloat = Field(1.0, description="share of its product packed into this kit type")
    temperature: Literal[TEMPERATURES] = Field(AMBIENT, description="storage class; non-ambient is cold chain")
    initial_stock: int | None = Field(None, ge=0, description="kits at the central depot at day 0 (default: depot.initial_kits)")
    initial_shelf_life: PositiveFloat | None = Field(None, description="default: depot.initial_shelf_life")
    relabel: Relabel | None = None
    sourcing: Sourcing | None = Field(None, description="bought in ready to use (a comparator), not packed")

    @property
    def cold_chain(self) -> bool:
        return self.temperature != AMBIENT

    def packed_from(self, product: str) -> bool:
        """Whether packaging packs *product* into this kit type (never, for a kit that is bought in)."""
        return self.sourcing is None and self.product in (None, product)

    @model_validator(mode="after")
    def _sourced_or_packed(self):
        if self.sourcing is not None and self.product is not None:
            raise FieldError("sourcing", "a kit bought in is packed from no product: remove product")
        return self


# -- trials ----------------------------------------------------------------------

class ResupplySpec(Model):
    """What every site resupply policy shares: the initial shipment and the expiry windows."""

    initial: PerKit | None = Field(None, description="initial shipment at activation (default: as the policy decides)")
    do_not_ship: NonNegFloat = Field(0.0, description="days of shelf life a kit must have left to be shipped")
    do_not_dispense: NonNegFloat = Field(0.0, description="days of shelf life a kit must have left to be dispensed")

    @model_validator(mode="after")
    def _windows(self):
        if self.do_not_dispense > self.do_not_ship:
            raise FieldError("do_not_ship", f"expected at least do_not_dispense ({self.do_not_dispense:g}), or "
                             f"shipped kits could never be dispensed; got {self.do_not_ship:g}")
        return self

    def kit_fields(self) -> dict[str, PerKit | None]:
        """Per-kit fields of this policy, by name (checked against the declared kit types)."""
        return {"initial": self.initial}


class TriggerResupply(ResupplySpec):
    """Trigger / resupply: when the position (usable on hand + in transit - owed) falls to
    ``trigger``, ship up to ``level``."""

    policy: Literal["trigger"] = "trigger"
    trigger: PerKit = Field(description="trigger level (kits)")
    level: PerKit = Field(description="resupply level (kits)")
    do_not_count: NonNegFloat | None = Field(
        None, description="days of shelf life below which a kit no longer counts in the position, so that "
        "its replacement is on its way before it becomes undispensable (at least do_not_dispense; "
        "default: do_not_dispense)")

    @model_validator(mode="after")
    def _dnc_at_least_dnd(self):
        if self.do_not_count is not None and self.do_not_count < self.do_not_dispense:
            raise FieldError("do_not_count", f"expected at least do_not_dispense ({self.do_not_dispense:g}): a "
                             f"kit that cannot be dispensed cannot count; got {self.do_not_count:g}")
        return self

    @model_validator(mode="after")
    def _level_above_trigger(self):
        for k, trig in _per_kit_items(self.trigger):
            lev = _per_kit_value(self.level, k)
            if lev is not None and lev <= trig:
                raise FieldError("level", f"expected more than the trigger ({trig}{_kit_note(k)}); got {lev}")
        return self

    def kit_fields(self) -> dict[str, PerKit | None]:
        return {**super().kit_fields(), "trigger": self.trigger, "level": self.level}


class PredictiveResupply(ResupplySpec):
    """Predictive: when the position does not cover the kits of enrolled patients' visits in the next
    ``short_window`` days, ship enough to cover the next ``prediction_window`` days."""

    policy: Literal["predictive"]
    short_window: NonNegFloat = Field(description="days of forecast visits that must be covered")
    prediction_window: NonNegFloat = Field(description="days of forecast visits a shipment covers")

    @model_validator(mode="after")
    def _windows_ordered(self):
        if self.prediction_window < self.short_window:
            raise FieldError("prediction_window", f"expected at least the short_window "
                             f"({self.short_window:g}); got {self.prediction_window:g}")
        return self


class BufferPredictionResupply(PredictiveResupply):
    """Predictive plus ``buffer`` kits kept for patients not yet randomised."""

    policy: Literal["buffer_prediction"]
    buffer: PerKit = Field(0, description="extra kits kept for new patients")

    def kit_fields(self) -> dict[str, PerKit | None]:
        return {**super().kit_fields(), "buffer": self.buffer}


RESUPPLY = family("resupply policy", "policy", default="trigger", tolerant=True)
RESUPPLY.add(TriggerResupply, PredictiveResupply, BufferPredictionResupply)
Resupply = RESUPPLY.union()
"""A site resupply policy: one of the registered kinds (``policy``), trigger when omitted."""


class Visit(Model):
    """A dosing visit: day after randomisation and how many days late the dose may be."""

    day: NonNegFloat
    window: NonNegFloat | None = Field(None, description="days (+/-) around the visit; default: dosing_window")


class Region(Model):
    """Legacy compact form: sites sharing start-up, a fixed rate and a lane from the central depot."""

    name: Name
    sites: int = Field(ge=1, le=5000, description="number of sites")
    activation: Dist = Field(description="days from study start to site activation")
    enrollment_rate: PositiveFloat = Field(le=1000, description="patients per site per day (Poisson)")
    transit_time: Dist = Field(description="days from depot dispatch to site receipt")
    cro: Name | None = Field(None, description="the CRO that starts these sites up (default: the trial's)")


class SiteGroup(Model):
    """Sites in one country sharing start-up and the distribution of recruitment rates."""

    country: Name
    count: int = Field(1, ge=1, le=5000, description="number of sites")
    recruitment_rate: Dist = Field(
        description="patients screened per site per day; a gamma gives the Poisson-Gamma model")
    arrivals: Literal["poisson", "regular"] = Field("poisson", description="regular: every 1/rate days (for traces)")
    cap: int | None = Field(None, ge=1, description="most patients a site randomises")
    startup: Dist | None = Field(None, description="days to activation (default: the country's site_startup)")
    direct_to_patient: bool = Field(False, description="kits are shipped to patients' homes (decentralised)")
    cro: Name | None = Field(None, description="the CRO that starts these sites up (default: the trial's)")
    capacity: int | dict[Literal[TEMPERATURES], int] | None = Field(
        None, description="kits a site can store: one number for all, or per temperature class ({2-8C: 40}); "
        "resupply never orders beyond it")
    resupply: Resupply | None = Field(None, description="these sites' resupply policy (default: the trial's)")
    initial_kits: PerKit = Field(0, description="kits on each site's shelf at day 0 (e.g. carried over)")
    initial_shelf_life: PositiveFloat = Field(365.0, description="days of shelf life those kits have left at day 0")

    def startup_in(self, country: Country) -> Dist:
        """Days to activation: the group's own, or its country's (checked to exist by check_clinical)."""
        return self.startup if self.startup is not None else country.site_startup

    @model_validator(mode="after")
    def _rate_bounded(self):
        if self.recruitment_rate.mean_value > 1000:
            raise FieldError("recruitment_rate", f"expected a mean of at most 1000 patients per site per day; "
                                                 f"got {self.recruitment_rate.mean_value:g}")
        return self


class Trial(Model):
    """A clinical trial: design, visit schedule, sites and resupply."""

    name: Name
    target_patients: int = Field(ge=1, le=10_000_000, description="patients to randomise; enrollment stops there")
    start: NonNegFloat = Field(0.0, description="day of study start: site start-up counts from it (manufacturing "
                                                "before it is the supply lead-in)")
    cro: Name | None = Field(None, description="the CRO that starts the trial's sites up (see cros; none: sites "
                                               "start themselves)")
    arms: list[Arm] = Field(default_factory=list, description="default: one arm using every kit type")
    block_size: int | None = Field(None, ge=1, le=10_000, description="randomisation block (default: the sum of the ratios)")
    stratify: Literal["site", "trial"] = Field("site", description="one randomisation list per site or per trial")
    screen_failure: Probability = Field(0.0, description="probability a screened patient is not randomised")
    screening_time: Dist = Field(0.0, description="days from screening to randomisation")
    enrollment_stop: Literal["randomised", "screening"] = Field(
        "randomised", description="randomised: patients are screened until the target is randomised, and "
        "those still in screening then may be randomised too (over-enrollment, the usual practice); "
        "screening: newcomers are turned away once randomised plus in-screening patients reach the target")
    visits: list[Annotated[Visit, BeforeValidator(_visit)]] = Field(
        min_length=1, description="dosing visits: days after randomisation, or {day, window}")
    repeat_every: PositiveFloat | None = Field(None, description="after the last visit, repeat it every so many days")
    treatment_duration: Dist | None = Field(None, description="days on treatment; later visits are not attended")
    kits_per_visit: int = Field(1, ge=1, description="kits per visit when no arms are given")
    kit_loss_prob: Probability = Field(0.0, description="probability a dispensed kit is damaged or lost and "
                                                        "replaced at once from the shelf (if one is on hand)")
    dosing_window: NonNegFloat = Field(0.0, description="default visit window: days (+/-) around the due day")
    visit_scatter: Literal["none", "uniform", "triangular"] = Field(
        "none", description="when patients come within the two-sided window: none (on the due day), uniform, or "
        "triangular (most near the due day); early visits pull demand forward, and the forecast of the "
        "predictive policies then covers each window from its start")
    dropout_hazard: NonNegFloat = Field(0.0, le=1000, description="per day; time to dropout is exponential "
                                        "(below 1e-9, none)")
    dropout_time: Dist | None = Field(
        None, description="days from randomisation to dropout, any distribution, instead of dropout_hazard: "
        "a gamma with sd > mean has its hazard highest early, as attrition usually is")
    resupply: Resupply
    home_resupply: Resupply = Field(
        PredictiveResupply(policy="predictive", short_window=10, prediction_window=35, do_not_ship=0,
                           do_not_dispense=0),
        description="policy for patients' homes in direct-to-patient sites")
    regions: list[Region] = Field(default_factory=list, description="legacy compact site groups")
    sites: list[SiteGroup] = Field(default_factory=list)
    interims: list[Interim] = Field(default_factory=list, description="interim analyses (adaptive design)")
    autologous: Autologous | None = Field(None, description="a patient-specific therapy: each patient's own "
                                          "batch, vein to vein, instead of kits from stock")

    @model_validator(mode="after")
    def _one_dropout_model(self):
        if self.dropout_time is not None and self.dropout_hazard > 0:
            raise FieldError("dropout_time", "give dropout_time or dropout_hazard, not both")
        return self

    @property
    def n_sites(self) -> int:
        """Sites in both forms (legacy regions and site groups)."""
        return sum(r.sites for r in self.regions) + sum(g.count for g in self.sites)

    def window(self, i: int) -> float:
        w = self.visits[i].window
        return self.dosing_window if w is None else w

    def integer_ratios(self) -> list[int]:
        """Arms' ratios as the smallest whole numbers (checked by :func:`check_clinical`)."""
        return _integer_ratios([a.ratio for a in self.arms])[0]


# -- cross-references --------------------------------------------------------------

def _per_kit_items(v: PerKit | None):
    if v is None:
        return []
    if isinstance(v, int):
        return [(None, v)]
    return list(v.items())


def _per_kit_value(v: PerKit | None, kit: str | None) -> int | None:
    if v is None:
        return None
    if isinstance(v, int):
        return v
    return v.get(kit) if kit is not None else None


def per_kit(v: PerKit | None, kit: str, default: int = 0) -> int:
    """The value of a per-kit field for *kit*."""
    if v is None:
        return default
    if isinstance(v, int):
        return v
    return v.get(kit, default)


def _kit_note(k: str | None) -> str:
    return f", kit type {k!r}" if k is not None else ""


def _integer_ratios(ratios: list[float]) -> tuple[list[int], str | None]:
    """Whole-number ratios, or fractions summing to 1 turned into whole numbers."""
    if all(abs(r - round(r)) < 1e-9 for r in ratios):
        ints = [int(round(r)) for r in ratios]
    else:
        total = sum(ratios)
        if abs(total - 1.0) > 1e-6:
            shown = ", ".join(f"{r:g}" for r in ratios)
            return [], (f"ratios must be whole numbers (e.g. 2 and 1) or fractions summing to 1; "
                        f"got {shown} (sum {total:g})")
        fr = [Fraction(r).limit_denominator(1000) for r in ratios]
        den = math.lcm(*(f.denominator for f in fr))
        ints = [int(f * den) for f in fr]
    if min(ints) <= 0:
        shown = ", ".join(f"{r:g}" for r in ratios)
        return [], f"ratios {shown} are too uneven (an arm below 1/1000 of the randomisation)"
    g = math.gcd(*ints)
    return [i // g for i in ints], None


RESUPPLY.hold(Trial, "resupply")
RESUPPLY.hold(Trial, "home_resupply")
RESUPPLY.hold(SiteGroup, "resupply", lambda u: Optional[u])
