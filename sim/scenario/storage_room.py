"""Scenario schema of storage capacity at depots: kits (or pallet positions) per temperature class, and
what happens to stock that does not fit."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.base import FieldError, Model

TEMPERATURES = ("15-25C", "2-8C", "-20C", "-80C", "-140C")
AMBIENT = "15-25C"


class StorageRoom(Model):
    """A depot's storage capacity: its warehouse and cold rooms, by temperature class."""

    capacity: int | dict[Literal[TEMPERATURES], int] = Field(
        description="kits (or pallet positions, with kits_per_pallet) the depot can store: one number for all "
        "classes together, or per temperature class ({2-8C: 400}); a class not named is unlimited")
    kits_per_pallet: int | None = Field(
        None, ge=1, le=1_000_000, description="capacity counts pallet positions of this many kits (a pallet holds "
        "one kit type; a part pallet takes a position); none: capacity counts kits")
    when_full: Literal["wait", "refuse"] = Field(
        "wait", description="what does not fit: waits at the dock, first come first served, until kits leave "
        "(packaging output or a transfer held upstream), or is refused (leaves the chain, e.g. to a third party)")

    @model_validator(mode="after")
    def _positive(self):
        values = [self.capacity] if isinstance(self.capacity, int) else list(self.capacity.values())
        if not values or min(values) < 0:
            raise FieldError("capacity", f"expected a number of kits (or pallets) at least 0; got {self.capacity}")
        return self

    def by_class(self) -> dict[str, int]:
        """Capacity per storage class: ``all`` for one number, else per temperature class."""
        return {"all": self.capacity} if isinstance(self.capacity, int) else dict(self.capacity)
