"""Scenario schema of raw materials: replenishment policies, sourcing, incoming QC, QC laboratories."""
from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from sim.scenario.base import Dist, FieldError, Model, Name, NonNegFloat, PositiveFloat, Probability, Share
from sim.scenario.kinds import family

Fraction = Share


class Disruption(Model):
    """Random supplier outages: nothing is dispatched while one lasts."""

    time_between: Dist = Field(description="days from the end of one outage to the start of the next")
    duration: Dist = Field(description="days an outage lasts")


class SupplierCapacity(Model):
    """At most *quantity* kg dispatched per *period* days; orders queue first-come first-served."""

    quantity: PositiveFloat = Field(description="kg per period")
    period: PositiveFloat = Field(30.0, description="days")


# -- raw-material replenishment policies -----------------------------------------------------
EPS = 1e-9
"""Tolerance of the inventory comparisons (positions are sums of float quantities)."""


class ReorderPoint(Model):
    """Continuous review (s, Q), also written (R, Q): order Q whenever the position is at or below s."""

    kind: Literal["sQ", "RQ"]
    reorder_point: NonNegFloat = Field(description="kg of inventory position that triggers an order (s)")
    order_quantity: PositiveFloat = Field(description="kg per order (Q)")

    def quantity(self, position: float) -> float:
        """What continuous review orders now at inventory *position*: enough multiples of Q to lift
        the position above s (0: nothing)."""
        if position > self.reorder_point + EPS:
            return 0.0
        n = math.floor((self.reorder_point - position) / self.order_quantity + EPS) + 1
        return n * self.order_quantity


class MinMax(Model):
    """Continuous review (s, S): when the position is at or below s, order up to S."""

    kind: Literal["sS"]
    reorder_point: float = Field(description="kg of inventory position that triggers an order (s)")
    order_up_to: PositiveFloat = Field(description="kg the order brings the position up to (S)")

    def quantity(self, position: float) -> float:
        return self.order_up_to - position if position <= self.reorder_point + EPS else 0.0

    @model_validator(mode="after")
    def _order(self):
        if self.order_up_to <= self.reorder_point:
            raise FieldError("order_up_to", f"expected more than reorder_point ({self.reorder_point:g}); "
                                            f"got {self.order_up_to:g}")
        return self


class BaseStock(Model):
    """Base stock (S - 1, S): every issue is re-ordered at once, keeping the position at S."""

    kind: Literal["base_stock"]
    level: NonNegFloat = Field(description="kg of target inventory position (S)")

    def quantity(self, position: float) -> float:
        return self.level - position if position < self.level - EPS else 0.0


class PeriodicReview(Model):
    """Periodic review (R, S) or (R, s, S): every R days, order up to S (only if at or below s, when given)."""

    kind: Literal["periodic"]
    review_period: PositiveFloat = Field(ge=0.01, description="days between reviews (R)")
    order_up_to: PositiveFloat = Field(description="kg the order brings the position up to (S)")
    reorder_point: float | None = Field(None, description="order only when the position is at or below this (s)")
    first_review: NonNegFloat = Field(0.0, description="day of the first review")

    def quantity(self, position: float) -> float:
        """What a review epoch orders at inventory *position* (0: nothing)."""
        if self.reorder_point is None or position <= self.reorder_point + EPS:
            if self.order_up_to - position > EPS:
                return self.order_up_to - position
        return 0.0


POLICIES = family("raw-material policy", "kind")
POLICIES.add(MinMax, BaseStock, PeriodicReview)
POLICIES.members.update({"sQ": ReorderPoint, "RQ": ReorderPoint})  # one class, two names for (s, Q)
Policy = POLICIES.union()
"""A raw-material replenishment policy: one of the registered kinds (``kind``)."""


class IncomingQC(Model):
    """Testing of every delivered lot before use: in a QC lab, or a plain delay when no lab is named."""

    time: Dist = Field(0.0, description="days of testing when no lab is named")
    lab: Name | None = Field(None, description="QC lab that runs the test")
    test: Name | None = Field(None, description="test type in that lab (default: its first)")
    failure_prob: Probability = Field(0.0, description="probability a delivered lot is rejected (no lab)")
    cost: NonNegFloat = Field(0.0, description="cost per test when no lab is named")


class Material(Model):
    """How a raw material is stocked at the CDMO that uses it, and from which suppliers."""

    name: Name
    policy: Policy
    initial_stock: NonNegFloat | None = Field(None, description="kg at day 0 (default: the suppliers' initial_stock)")
    sources: list[Name] | None = Field(None, min_length=1,
                                       description="supplier names (default: every supplier of this material)")
    allocation: Literal["primary_backup", "split"] = Field(
        "primary_backup", description="primary_backup: first source not in an outage; split: by shares")
    shares: dict[Name, PositiveFloat] | None = Field(None, description="split: relative share of each source")
    incoming_qc: IncomingQC | None = None
    retest_period: PositiveFloat | None = Field(
        None, ge=1.0, description="days after receipt (or its last retest) at which a lot on hand is put on hold and "
        "retested with the incoming-QC test; passed, it gets a new retest date, failed, it is rejected")
    holding_cost: NonNegFloat = Field(0.0, description="cost per kg per day on hand")

    @model_validator(mode="after")
    def _retest_needs_a_test(self):
        if self.retest_period is not None and self.incoming_qc is None:
            raise FieldError("retest_period", "a retest needs a test: give incoming_qc too")
        return self


class QCTest(Model):
    """One kind of release test: hands-on analyst time, then elapsed time that needs no analyst."""

    name: Name
    time: Dist = Field(description="days of hands-on analyst time per test run")
    elapsed: Dist = Field(0.0, description="days the test then runs without an analyst (incubation, "
                                           "instrument time): a 14-day sterility test is hours of work and "
                                           "14 days of elapsed time")
    failure_prob: Probability = Field(0.0, description="probability of an out-of-specification result")
    confirm_prob: Fraction = Field(1.0, description="probability the retest after a failure confirms it")
    investigation: Dist = Field(0.0, description="days of OOS investigation before the retest")
    reworkable: bool = Field(True, description="whether a lot that fails this test may be reworked (no for "
                                              "sterility, most dissolution failures)")
    cost: NonNegFloat = Field(0.0, description="cost per test run (retests too)")


class QADisposition(Model):
    """QA batch-record review and QP certification: a separate team from the QC analysts."""

    reviewers: int = Field(1, ge=1, description="QA reviewers / QPs working in parallel")
    time: Dist = Field(description="days of review and certification per lot, once its tests are done")


class QCLab(Model):
    """A shared QC laboratory: *analysts* tests in parallel, the rest queue first-come first-served.

    A lot's release tests start together (``parallel``) and the lot is released at the latest of them,
    then after QA disposition when ``qa`` is given."""

    name: Name
    analysts: int = Field(ge=1, description="analysts (or instruments) working in parallel")
    tests: list[QCTest] = Field(min_length=1)
    parallel: bool = Field(True, description="a lot's tests run at the same time (false: one after another)")
    qa: QADisposition | None = Field(None, description="QA disposition / QP certification after testing")


POLICIES.hold(Material, "policy")
