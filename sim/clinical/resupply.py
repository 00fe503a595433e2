"""Resupply policies of dispensing points (sites and patients' homes), as pluggable classes.

A policy answers one question per kit type: *how many kits should be shipped
to this point now?*  It sees the point through the :class:`Point` protocol:
its inventory position (usable kits on hand + in transit - kits owed to
waiting patients) and a forecast of the kits its enrolled patients' visits
need.  A new policy is its schema class (in :mod:`sim.scenario.clinical`, or the user's own
module), its runtime class here, and one :func:`register_policy` call.
"""
from __future__ import annotations

import math
from typing import Protocol

from sim.scenario.kinds import Registry
from sim.scenario.clinical import (RESUPPLY, BufferPredictionResupply, PredictiveResupply, TriggerResupply,
                                   per_kit)


class Point(Protocol):
    def forecast(self, kit: str, until: float) -> float: ...
    def next_forecast_change(self, window: float) -> float: ...


class ResupplyPolicy:
    """Base class: subclasses implement :meth:`quantity`.

    ``expiry_lookahead``: kits that stop being dispensable within so many days
    no longer count in the position, so that they are replaced in time.
    """

    expiry_lookahead = 0.0
    timed = False
    """Whether the policy's answer can change with time alone (it defines :meth:`next_review`)."""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.timed = cls.next_review is not ResupplyPolicy.next_review

    def __init__(self, spec) -> None:
        self.spec = spec

    def quantity(self, point: Point, kit: str, position: float, now: float) -> float:  # pragma: no cover
        raise NotImplementedError

    def initial(self, kit: str) -> float | None:
        """Kits of *kit* to ship at activation, or None to let :meth:`quantity` decide."""
        return None if self.spec.initial is None else per_kit(self.spec.initial, kit)

    def next_review(self, point: Point, now: float) -> float:
        """When the policy's answer can change without any event at the point (default: never)."""
        return math.inf

    def ceiling(self, kit: str) -> float:
        """A position above which :meth:`quantity` is always 0 for *kit* (default: none is known).

        A point reviews after every visit and most reviews order nothing: above the ceiling it does
        not ask, and a dose that leaves every position above its ceiling skips the review (the point
        keeps a bound on them).  A subclass that changes :meth:`quantity` must keep this true (or
        return ``inf``)."""
        return math.inf


class TriggerPolicy(ResupplyPolicy):
    """Trigger / resupply (min-max): at or below the trigger, ship up to the resupply level.

    With a do-not-count window (DNC > DND) a kit stops counting that many days before it expires, so
    its replacement is ordered a lead time before it becomes undispensable, not on that day."""

    def __init__(self, spec: TriggerResupply) -> None:
        super().__init__(spec)
        if spec.do_not_count is not None:
            self.expiry_lookahead = spec.do_not_count - spec.do_not_dispense

    def quantity(self, point, kit, position, now):
        if position <= per_kit(self.spec.trigger, kit):
            return per_kit(self.spec.level, kit) - position
        return 0.0

    def ceiling(self, kit):
        return per_kit(self.spec.trigger, kit)


class PredictivePolicy(ResupplyPolicy):
    """Cover the forecast visits of the next *short_window* days; ship for the *prediction_window*.

    The forecast slides with time, so the point is reviewed again when a visit
    enters the short window (:meth:`next_review`), not only at events.  Kits
    that will not be dispensable through the short window do not count.
    """

    def __init__(self, spec: PredictiveResupply) -> None:
        super().__init__(spec)
        self.expiry_lookahead = spec.short_window

    def buffer(self, kit: str) -> float:
        return 0.0

    def quantity(self, point, kit, position, now):
        b = self.buffer(kit)
        if position < point.forecast(kit, now + self.spec.short_window) + b:
            return point.forecast(kit, now + self.spec.prediction_window) + b - position
        return 0.0

    def next_review(self, point, now):
        return point.next_forecast_change(self.spec.short_window)


class BufferPredictionPolicy(PredictivePolicy):
    """Predictive plus a fixed buffer per kit type for patients not yet randomised."""

    def buffer(self, kit: str) -> float:
        return per_kit(self.spec.buffer, kit)


POLICIES = Registry(RESUPPLY, {
    TriggerResupply: TriggerPolicy,
    PredictiveResupply: PredictivePolicy,
    BufferPredictionResupply: BufferPredictionPolicy,
})
"""Registry: schema class of ``resupply.policy`` -> runtime policy class."""

register_policy = POLICIES.register
"""Make a new resupply policy available to scenarios (schema) and to the model (runtime)."""
unregister_policy = POLICIES.unregister


def make_policy(spec) -> ResupplyPolicy:
    return POLICIES.of(spec)(spec)
