"""What a lane reports holding: every (kit type, state) a kit has been in on it, in the order first
reached, with the kits in that state now (0 once they have moved on).  A hand trace of one shipment of
two kit types through dispatch, transit, customs and an excursion whose cold-chain kits QA holds."""
from __future__ import annotations

from sim.clinical.lanes import Lane
from sim.core.context import Context
from sim.core.distributions import Deterministic
from sim.core.lots import Lot
from sim.scenario.lanes import LaneSpec


class _Receiver:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.got = ctx, []

    def arrive(self, shipment) -> None:
        self.got.append((self.ctx.now, [(l.id, l.qty) for l in shipment.lots], dict(shipment.sent)))


def test_hand_trace_of_a_shipment_through_customs_and_an_excursion_quarantine():
    ctx = Context(horizon=100.0, warmup=0.0, period=10.0, seed=1, rep=0)
    spec = LaneSpec(transit_time=5.0, excursion_prob=0.999999, excursion_assessment=3.0, excursion_release_prob=1.0)
    # excursion nearly sure: with this seed the draw is below it (a fixed seed, a fixed answer)
    lane = Lane(ctx, "L", spec, customs=Deterministic(value=2.0), cold_chain=lambda m: m == "kit:a")
    to = _Receiver(ctx)
    sent = lane.send([Lot("A", "kit:a", 3, None, 50, 0), Lot("B", "kit:b", 2, None, 50, 0)], to, 0.0)
    assert sent == 5
    states = [("kit:a", "awaiting_dispatch"), ("kit:b", "awaiting_dispatch"), ("kit:a", "in_transit"),
              ("kit:b", "in_transit")]
    ctx.env.run(until=1)  # left at once (no dispatch calendar); on the way until day 5
    assert list(lane.holdings()) == [(*k, q) for k, q in zip(states, (0, 0, 3, 2))] and lane.in_transit == 5
    ctx.env.run(until=6)  # at the border from day 5, released on day 7
    states += [("kit:a", "in_customs"), ("kit:b", "in_customs")]
    assert list(lane.holdings()) == [(*k, q) for k, q in zip(states, (0, 0, 0, 0, 3, 2))]
    ctx.env.run(until=8)  # day 7: lands with an excursion; the cold kits (A) are held by QA until day 10
    states += [("kit:a", "quarantine")]
    assert list(lane.holdings()) == [(*k, q) for k, q in zip(states, (0, 0, 0, 0, 0, 0, 3))]
    assert to.got == [(7, [("B", 2)], {"kit:a": 0, "kit:b": 2})]
    ctx.env.run(until=11)
    assert list(lane.holdings()) == [(*k, 0.0) for k in states] and lane.in_transit == 0
    assert to.got[1] == (10, [("A", 3)], {"kit:a": 3})
