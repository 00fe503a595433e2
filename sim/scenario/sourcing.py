"""Scenario schema of kits bought in ready to use: a commercial comparator (or co-medication) sourced on
the market with its own lead time, cost and shelf life, instead of being packed from a line's product."""
from __future__ import annotations

from pydantic import Field

from sim.scenario.base import Dist, Model, NonNegFloat, PositiveFloat


class Sourcing(Model):
    """Continuous review (s, Q) at the central depot: when its kits on hand plus on order fall to
    ``reorder_point``, ``order_quantity`` kits are bought and arrive ``lead_time`` days later with
    ``shelf_life`` days left."""

    lead_time: Dist = Field(description="days from order to arrival at the central depot")
    order_quantity: int = Field(ge=1, le=10_000_000, description="kits per order (Q)")
    reorder_point: int = Field(ge=0, le=10_000_000, description="kits on hand + on order that trigger an order (s)")
    shelf_life: PositiveFloat = Field(description="days of shelf life left when the kits arrive")
    cost_per_kit: NonNegFloat = Field(0.0, description="purchase price per kit")
