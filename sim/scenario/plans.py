"""Schema of production plans: how many batches a line makes of a product, and when — fixed,
make to forecast (sized from the clinical plan, optionally time-phased), make to stock (periodic
review) or order up to (continuous-review (s, S)).  One kind per
``policy``, in the :data:`PLANS` family (the runtime planners are :mod:`sim.supply.planning`)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from sim.scenario.base import FieldError, Model, Name, NonNegFloat, PositiveFloat
from sim.scenario.kinds import family


def _min_batch():
    """The `min_batch` field of the plans that may end on a partial batch."""
    return Field(None, gt=0, le=1, description="partial last batch: the last batch makes only what is still "
                 "needed, at least this share of the nominal batch size (BOM scaled alike); none: whole batches")


class PlanSpec(Model):
    """How many batches (lots, on a continuous line) to make, and when: one kind per ``policy``."""

    campaign: int | None = Field(None, ge=1, le=100_000, description="batches per campaign (none: all in one campaign)")

    derives_from_demand: ClassVar[bool] = False
    """Whether the number of batches is derived from the clinical plan before the run (make to forecast)."""

    def known_batches(self, product: str) -> int:
        """GMP batches in all, known before the run; raises ValueError saying why they are not."""
        raise ValueError(f"{product!r} is {self.policy}, so the make-to-forecast plan of what it is made "
                         "from cannot be derived; give it a fixed number of batches or make it to forecast")

    def served_trials(self) -> list[str] | None:
        """Trials whose demand the plan is sized for (None: all, or not sized by demand)."""
        return None

    def runs_forever(self) -> bool:
        """Whether the plan never ends a campaign on its own (end-of-run release needs an end)."""
        return False


class FixedPlan(PlanSpec):
    """A set number of batches (or run to the horizon), in campaigns of ``campaign``."""

    policy: Literal["fixed"] = "fixed"
    batches: int | None = Field(None, ge=0, le=100_000, description="batches in all (none: run to the horizon)")

    def known_batches(self, product: str) -> int:
        if self.batches is None:
            raise ValueError(f"{product!r} has a fixed plan without a number of batches (it runs to the "
                             "horizon), so the make-to-forecast plan upstream cannot be derived")
        return self.batches

    def runs_forever(self) -> bool:
        return self.batches is None and self.campaign is None


class TimePhasing(Model):
    """Campaigns timed and sized from the expected demand curve (see :mod:`sim.scenario.phasing`)."""

    lead_time: NonNegFloat = Field(description="days from a campaign's start until its kits can be dispensed "
                                               "at sites (manufacture, QC release, packaging, shipping)")


class ForecastPlan(PlanSpec):
    """Make to forecast: the batches the clinical plan needs plus an overage, fixed before the run."""

    policy: Literal["make_to_forecast"]
    derives_from_demand = True
    overage: NonNegFloat = Field(0.0, description="fraction added to the forecast")
    trials: list[Name] | None = Field(None, description="trials served (default: all)")
    campaign_interval: PositiveFloat | None = Field(
        None, description="days between the starts of successive campaigns, so that product made early does not "
        "expire before the later visits need it (none: every campaign queued at once)")

    min_batch: float | None = _min_batch()

    time_phased: TimePhasing | None = Field(
        None, description="start each campaign lead_time days before the expected demand needs it, sized to "
        "what the demand uses before its kits expire (at most campaign batches)")

    def served_trials(self) -> list[str] | None:
        return self.trials

    @model_validator(mode="after")
    def _interval_needs_campaigns(self):
        if self.campaign_interval is not None and self.time_phased is not None:
            raise FieldError("time_phased", "give campaign_interval or time_phased, not both")
        for name in ("campaign_interval", "time_phased"):
            if getattr(self, name) is not None and self.campaign is None:
                what = "batches per time-phased campaign" if name == "campaign_interval" else "the most batches a campaign may have"
                raise FieldError("campaign", f"required with {name} ({what})")
        return self


class StockPlan(PlanSpec):
    """Make to stock: every ``review_period`` days, start a campaign when downstream stock is low."""

    policy: Literal["make_to_stock"]
    campaign: int = Field(ge=1, le=100_000, description="batches per campaign")
    reorder_point: NonNegFloat = Field(description="units of downstream stock at or below which a campaign "
                                                   "is started")
    review_period: PositiveFloat = Field(7.0, ge=0.01, description="days between stock reviews")


class OrderUpToPlan(PlanSpec):
    """Continuous-review (s, S): whenever the inventory position of the product falls to
    ``reorder_point``, start a campaign sized to bring it back up to ``order_up_to`` (one campaign
    outstanding at a time)."""

    policy: Literal["order_up_to"]
    reorder_point: NonNegFloat = Field(description="units (s): a campaign starts when the inventory position "
                                                   "(downstream stock + in transit + in the line and in QC) is at "
                                                   "or below this")
    order_up_to: PositiveFloat = Field(description="units (S): the campaign is sized to bring the position up to "
                                                   "this, in expected released units per batch")
    min_batch: float | None = _min_batch()

    @model_validator(mode="after")
    def _s_below_S(self):
        if self.order_up_to <= self.reorder_point:
            raise FieldError("order_up_to", f"expected more than reorder_point ({self.reorder_point:g} units); "
                                            f"got {self.order_up_to:g}")
        return self


PLANS = family("production plan", "policy", default="fixed", tolerant=True)
PLANS.add(FixedPlan, ForecastPlan, StockPlan, OrderUpToPlan)
Plan = PLANS.union()
"""A production plan: one of the registered kinds (``policy``), fixed when omitted."""
