"""Scenario schema of shipping lanes: transit, dispatch calendar, cold-chain risk, cost and shippers."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from sim.scenario.base import Dist, Model, NonNegFloat, Probability, Share

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def _weekday(v: Any) -> Any:
    if isinstance(v, str):
        key = v.strip().lower()[:3]
        if key not in WEEKDAYS or not "monday tuesday wednesday thursday friday saturday sunday".count(v.strip().lower()):
            raise ValueError("a weekday: mon, tue, wed, thu, fri, sat, sun (or 0-6, day 0 a Monday)")
        return WEEKDAYS[key]
    return v


Weekday = Annotated[int, BeforeValidator(_weekday), Field(ge=0, le=6)]


class Shipper(Model):
    """The box kits travel in (an insulated shipper for cold chain): a shipment takes as many as its kits
    fill, and each costs."""

    kits: int = Field(ge=1, le=1_000_000, description="kits one shipper holds")
    cost: NonNegFloat = Field(0.0, description="cost of one shipper (packing, cold packs, data logger)")


class Emergency(Model):
    """An urgent courier for a patient at a point with no kit: door to door, customs pre-cleared."""

    transit_time: Dist = Field(description="days from the request to arrival (no dispatch day, no customs)")
    cost_per_shipment: NonNegFloat = 0.0


class LaneSpec(Model):
    """A shipping lane: transit time, dispatch calendar, cold-chain risk and cost."""

    transit_time: Dist = Field(description="days from dispatch to arrival (before customs)")
    dispatch_days: list[Weekday] | None = Field(
        None, description="weekdays shipments leave (mon..sun or 0..6, day 0 is a Monday); none: any day")
    excursion_prob: Probability = Field(
        0.0, description="probability a shipment has a temperature excursion: its cold-chain kits are "
        "quarantined for QA assessment (or lost, if excursion_release_prob is 0 and there is no assessment)")
    excursion_assessment: Dist = Field(0.0, description="days of QA hold to assess excursion kits against "
                                                        "stability data")
    excursion_release_prob: Share = Field(0.0, description="probability QA releases the excursion kits "
                                                              "(most are, in practice); otherwise destroyed")
    cost_per_shipment: NonNegFloat = 0.0
    cost_per_kit: NonNegFloat = 0.0
    shipper: Shipper | None = Field(None, description="kits travel in shippers of a given size, each with its cost")
    emergency: Emergency | None = Field(None, description="urgent shipments for a patient waiting at a point "
                                                          "with no kit (none: the patient waits for routine resupply)")
