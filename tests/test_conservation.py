"""Every unit of material and every patient is accounted for, on randomly generated scenarios."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.core.conservation import Ledger, check
from sim.core.errors import ConservationError
from sim.model import SupplyChainModel, run_replication
from sim.scenario import parse_scenario

pos = st.floats(0.2, 30, allow_nan=False)
dist = st.one_of(
    pos.map(lambda v: v),
    pos.map(lambda m: {"dist": "exponential", "mean": m}),
    st.tuples(pos, st.floats(0.1, 1.0)).map(lambda t: {"dist": "lognormal", "mean": t[0], "sd": t[0] * t[1]}),
    st.tuples(pos, pos).map(lambda t: {"dist": "uniform", "low": min(t), "high": min(t) + max(t) + 0.1}),
)


@st.composite
def scenarios(draw):
    n_lines = draw(st.integers(1, 3))
    lines = []
    for i in range(n_lines):
        common = {"name": f"L{i}", "material": "api", "qc_time": draw(dist),
                  "qc_failure_prob": draw(st.floats(0, 0.5)), "start": draw(st.floats(0, 50))}
        if draw(st.booleans()):
            lines.append({**common, "kind": "batch", "batch_size": draw(st.floats(100, 5000)),
                          "material_per_batch": draw(st.floats(0, 20)), "cycle_time": draw(dist),
                          "batches": draw(st.one_of(st.none(), st.integers(0, 10)))})
        else:
            fails = draw(st.booleans())
            lines.append({**common, "kind": "continuous", "rate": draw(st.floats(50, 2000)),
                          "lot_size": draw(st.floats(100, 5000)), "material_per_unit": draw(st.floats(0, 0.01)),
                          "time_between_failures": draw(dist) if fails else None,
                          "time_to_repair": draw(dist) if fails else None,
                          "lots": draw(st.one_of(st.none(), st.integers(0, 10)))})
    trigger = draw(st.integers(0, 4))
    dnd = draw(st.floats(0, 20))
    window = draw(st.floats(0, 5))
    gaps = draw(st.lists(st.floats(window + 0.5, 40), min_size=0, max_size=5))
    visits = [draw(st.floats(0, 20))]
    for g in gaps:
        visits.append(visits[-1] + g)
    return {
        "horizon": draw(st.floats(50, 400)), "period": 7,
        "suppliers": [{"name": "s", "material": "api", "lead_time": draw(dist),
                       "order_quantity": draw(st.floats(1, 100)), "reorder_point": draw(st.floats(0, 50)),
                       "initial_stock": draw(st.floats(0, 100))}],
        "lines": lines,
        "packaging": {"units_per_kit": draw(st.integers(1, 60)), "time": draw(dist),
                      "packers": draw(st.integers(1, 3)), "shelf_life": draw(st.floats(20, 400))},
        "depot": {"initial_kits": draw(st.integers(0, 50)), "initial_shelf_life": draw(st.floats(5, 300))},
        "trials": [{"name": "T", "target_patients": draw(st.integers(1, 80)),
                    "visits": visits,
                    "kits_per_visit": draw(st.integers(1, 3)), "dosing_window": window,
                    "resupply": {"trigger": trigger, "level": trigger + draw(st.integers(1, 6)),
                                 "do_not_ship": dnd + draw(st.floats(0, 30)), "do_not_dispense": dnd},
                    "regions": [{"name": f"R{j}", "sites": draw(st.integers(1, 4)), "activation": draw(dist),
                                 "enrollment_rate": draw(st.floats(0.01, 1.0)), "transit_time": draw(dist)}
                                for j in range(draw(st.integers(1, 2)))]}],
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 2**32 - 1))
def test_conservation_on_random_scenarios(d, seed):
    sc = parse_scenario(d)
    r = run_replication(sc, seed=seed)  # raises ConservationError on any imbalance
    acc = r.accounting
    assert r.metrics["trial.T.enrolled"] <= d["trials"][0]["target_patients"]
    for what in ("patient", "visit"):  # people and visits balance like material does
        row = acc.get(what, {})
        total = {kind: sum(v for k, v in row.items() if k.startswith(kind)) for kind in ("in:", "out:", "held:")}
        assert total["in:"] == total["out:"] + total["held:"]
    dispensed = r.metrics.get("total.dispensed.kits", 0.0)  # the statistic agrees with the ledger
    assert dispensed == sum(row.get("out:dispensed", 0.0) for m, row in acc.items() if m.startswith("kit"))


def test_violation_is_detected(deterministic):
    model = SupplyChainModel(deterministic, seed=1)
    model.run()
    model.check_conservation()
    model.depot.shelf.stocks["kit"].lots[0].qty -= 3  # a kit vanishes without a record
    with pytest.raises(ConservationError, match="kit:kit: in 110 - out 0 = 110 but 107 held"):
        model.check_conservation()


def test_ledger_check_by_hand():
    class Holder:
        def holdings(self):
            yield "x", "on_hand", 4.0
            yield "x", "in_transit", 1.0

    led = Ledger()
    led.inflow("x", "made", 10)
    led.outflow("x", "expired", 5)
    assert check(led, [Holder()])["x"] == {"in:made": 10, "out:expired": 5, "held:on_hand": 4, "held:in_transit": 1}
    led.outflow("x", "lost", 1)
    with pytest.raises(ConservationError):
        check(led, [Holder()])
