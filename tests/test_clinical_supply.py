"""Dispensing, resupply, expiry and distribution: hand-written traces and exact accounting."""
from __future__ import annotations

import math

import pytest

from sim.core.errors import ScenarioError

from sim.model import run_replication
from sim.clinical.lanes import next_dispatch
from test_clinical_base import base_dict, model, scenario, trial_dict

pytestmark = pytest.mark.pure_python  # replaces methods or subclasses model classes (tests/conftest.py)


def _trace(d: dict, site_index: int = 0):
    """Run *d*; return (site on-hand steps, shipments (time, kits) to that site, metrics)."""
    mdl = model(d)
    site = mdl.sites[site_index]
    steps, ships = [], []
    for stock in site.shelf.stocks.values():
        stock.watchers.append(lambda t, q: steps.append((t, q)))
    send = site.lane.send

    def spy(lots, to, ordered, urgent=False):
        if to is site:
            ships.append((mdl.ctx.now, sum(l.qty for l in lots)))
        return send(lots, to, ordered, urgent)

    site.lane.send = spy
    mdl.run()
    mdl.check_conservation()
    return steps, ships, mdl.results().metrics


def _one_site(rate: float, activation: float, transit: float, **trial) -> dict:
    region = {"name": "R", "sites": 1, "activation": activation, "enrollment_rate": rate, "transit_time": transit}
    tr = trial_dict(regions=[], **trial)
    tr["sites"] = [{"country": "X", "count": 1, "startup": activation, "recruitment_rate": rate,
                    "arrivals": "regular"}]
    lane = {"transit_time": transit}
    return base_dict(trials=[tr], network={"countries": [{"name": "X", "lane": lane}]})


def test_trigger_resupply_matches_hand_trace():
    # Site opens day 10; patients every 10 days from day 20 (target 3); visits 0, 7, 14; trigger 1,
    # level 3; transit 2.  After the last randomisation (day 40) only what is still needed is sent.
    d = _one_site(0.1, 10, 2, target_patients=3, visits=[0, 7, 14], resupply={"trigger": 1, "level": 3})
    steps, ships, m = _trace(d)
    assert ships == [(10, 3), (27, 2), (34, 2), (40, 2)]
    assert steps == [(12, 3), (20, 2), (27, 1), (29, 3), (30, 2), (34, 1), (36, 3), (37, 2), (40, 1),
                     (42, 3), (44, 2), (47, 1), (54, 0)]
    assert m["total.dispensed.kits"] == 9 and m["total.visits.not_dosed"] == 0
    assert m["total.destroyed.kits"] == 0
    assert m["trial.T.last_patient_in"] == 40 and m["trial.T.last_patient_last_visit"] == 54


def test_predictive_policy_matches_hand_trace():
    # Predictive: cover the next 7 days, ship for the next 21; initial shipment 2; transit 1.5;
    # patients at days 5 and 10 (target 2), visits 0, 14, 28, 42.
    d = _one_site(0.2, 0, 1.5, target_patients=2, visits=[0, 14, 28, 42],
                  resupply={"policy": "predictive", "short_window": 7, "prediction_window": 21, "initial": 2})
    steps, ships, m = _trace(d)
    assert ships == [(0, 2), (12, 3), (31, 3)]
    assert steps == [(1.5, 2), (5, 1), (10, 0), (13.5, 3), (19, 2), (24, 1), (32.5, 4), (33, 3), (38, 2),
                     (47, 1), (52, 0)]
    assert m["total.dispensed.kits"] == 8 and m["total.visits.not_dosed"] == 0


def test_buffer_prediction_keeps_a_buffer_for_new_patients():
    d = _one_site(0.2, 0, 1.5, target_patients=2, visits=[0, 14, 28, 42],
                  resupply={"policy": "buffer_prediction", "short_window": 7, "prediction_window": 21, "buffer": 2})
    steps, ships, m = _trace(d)
    assert ships[0] == (0, 2)  # the buffer alone, before anyone is randomised
    assert m["total.visits.not_dosed"] == 0 and m["total.dispensed.kits"] == 8


def test_ample_supply_without_expiry_doses_every_visit_and_conserves_kits_and_patients():
    arms = [{"name": "A", "ratio": 2, "kits": {"act": 1}}, {"name": "P", "ratio": 1, "kits": {"pbo": 2}}]
    kit_types = [{"name": "act", "product": "dp"}, {"name": "pbo", "product": "dp"}]
    tr = trial_dict(target_patients=60, arms=arms, screen_failure=0.2, screening_time=7, dropout_hazard=0.002,
                    visits=[{"day": 0, "window": 4}, {"day": 14, "window": 3}, {"day": 28, "window": 3}, 42], dosing_window=2,
                    resupply={"trigger": 20, "level": 30}, regions=[])
    tr["sites"] = [{"country": "X", "count": 4, "startup": {"dist": "uniform", "low": 0, "high": 30},
                    "recruitment_rate": {"dist": "gamma", "mean": 0.1, "sd": 0.05}},
                   {"country": "X", "count": 2, "startup": 5, "recruitment_rate": 0.05, "direct_to_patient": True}]
    d = base_dict(horizon=800, trials=[tr], kit_types=kit_types,
                  network={"countries": [{"name": "X", "lane": {"transit_time": {"dist": "uniform", "low": 1, "high": 3}}}]})
    for rep in range(3):
        res = run_replication(scenario(d), 5, rep)  # raises on any leak
        m, acc = res.metrics, res.accounting
        assert m["total.visits.not_dosed"] == 0 and m["dosed_fraction"] == 1.0
        assert m["trial.T.enrolled"] == 60 + m["trial.T.over_enrolled"] and m["trial.T.active"] == 0
        assert m["trial.T.screened"] == m["trial.T.screen_failed"] + m["trial.T.completed"] + m["trial.T.dropped"]
        assert acc["patient"]["in:screened"] == m["trial.T.screened"]
        assert acc["patient"].get("held:active", 0) == 0 and acc["patient"].get("held:screening", 0) == 0
        kits = {k: v for k, v in acc.items() if k.startswith("kit:")}
        initial = sum(v["in:initial"] for v in kits.values())
        gone = sum(v.get("out:dispensed", 0) + v.get("out:destroyed", 0) for v in kits.values())
        held = sum(v2 for v in kits.values() for k2, v2 in v.items() if k2.startswith("held:"))
        assert initial == 200000 and gone + held == initial
        assert sum(v.get("out:dispensed", 0) for v in kits.values()) == m["total.dispensed.kits"]
        assert m["total.dispensed.kits"] == m["total.visits.dosed"] + sum(
            v.get("out:dispensed", 0) for k, v in kits.items() if k == "kit:pbo") / 2  # placebo takes 2 per visit
        assert m["trial.T.arm.A.randomised"] + m["trial.T.arm.P.randomised"] == m["trial.T.enrolled"]


def test_expiry_do_not_ship_and_do_not_dispense_windows():
    # 100 kits expiring on day 60; do-not-ship 20 days, do-not-dispense 10 days; one visit per patient,
    # a patient every 5 days from day 5.  Shipments stop after day 40, dispensing after day 50.
    d = _one_site(0.2, 0, 1, target_patients=20, visits=[0],
                  resupply={"trigger": 2, "level": 4, "do_not_ship": 20, "do_not_dispense": 10})
    d["depot"] = {"initial_kits": 100, "initial_shelf_life": 60}
    steps, ships, m = _trace(d)
    assert ships == [(0, 4), (10, 2), (20, 2), (30, 2), (40, 2)]
    assert m["total.visits.dosed"] == 10 and m["total.visits.out_of_stock"] == 10
    assert m["total.visits.missed_dispensing"] == 0 and m["risk.out_of_stock"] == 1.0
    assert m["total.expired.sites"] == 2 and m["total.expired.depot"] == 88


def test_missed_dispensing_versus_out_of_stock():
    # Patients every 2 days, kits take 5 days to arrive, no window: the first misses have kits upstream.
    d = _one_site(0.5, 0, 5, target_patients=10, visits=[0], resupply={"trigger": 0, "level": 1})
    m = run_replication(scenario(d), 1, 0).metrics
    assert m["total.visits.missed_dispensing"] > 0 and m["total.visits.out_of_stock"] == 0
    assert m["risk.missed_dispensing"] == 1.0 and m["risk.out_of_stock"] == 0.0
    d["depot"] = {"initial_kits": 0}
    m = run_replication(scenario(d), 1, 0).metrics
    assert m["total.visits.out_of_stock"] == 10 and m["total.visits.missed_dispensing"] == 0
    assert m["total.patients.not_dosed"] == 10 and m["stockouts"] == 10


def test_relabelling_extends_shelf_life_at_the_depot():
    # 50 kits expire on day 100; relabelled 20 days before (once, +50 days).  The site's first kit
    # expires on site at day 100 and is replaced by a relabelled one; the patient comes on day 140.
    d = _one_site(1 / 140, 0, 1, target_patients=1, visits=[0], resupply={"trigger": 0, "level": 1})
    d["depot"] = {"initial_kits": 50, "initial_shelf_life": 100}
    d["kit_types"] = [{"name": "kit", "relabel": {"lead": 20, "extension": 50}}]
    m = run_replication(scenario(d), 1, 0).metrics
    assert m["total.relabelled.kits"] == 49
    assert m["total.expired.sites"] == 1 and m["total.dispensed.kits"] == 1
    assert m["total.expired.depot"] == 48 and m["total.visits.not_dosed"] == 0


def test_next_dispatch_calendar():
    assert next_dispatch(1.5, None) == 1.5
    assert next_dispatch(1.5, [0]) == 7.0  # Tuesday noon -> next Monday
    assert next_dispatch(7.25, [0, 3]) == 7.25  # Monday: leaves today
    assert next_dispatch(8.0, [0, 3]) == 10.0  # Tuesday -> Thursday
    assert next_dispatch(13.9, [6]) == 13.9


def _delivery(d: dict) -> float:
    return run_replication(scenario(d), 1, 0).metrics["delay.order_to_delivery.mean"]


def test_dispatch_days_and_customs_delay_deliveries():
    d = _one_site(0.01, 1.5, 1, target_patients=1, visits=[0], resupply={"trigger": 0, "level": 1})
    assert _delivery(d) == 1.0
    d["network"]["countries"][0]["lane"]["dispatch_days"] = ["mon"]
    assert _delivery(d) == 6.5  # waits from Tuesday noon to Monday, then one day in transit
    d["network"]["countries"][0]["customs"] = 10
    assert _delivery(d) == 16.5  # central depot abroad: import release
    d["network"]["central_country"] = "X"
    assert _delivery(d) == 6.5  # central depot in the same country: no customs


def test_cold_chain_excursions_lose_only_cold_chain_kits_and_cost_is_counted():
    d = _one_site(0.1, 0, 2, target_patients=5, visits=[0], dosing_window=0,
                  arms=[{"name": "A", "kits": {"cold": 1, "amb": 1}}], resupply={"trigger": 1, "level": 3})
    d["kit_types"] = [{"name": "cold", "temperature": "2-8C"}, {"name": "amb"}]
    lane = d["network"]["countries"][0]["lane"]
    lane.update(excursion_prob=0.999999, cost_per_shipment=100, cost_per_kit=2)
    res = run_replication(scenario(d), 1, 0)
    m, acc = res.metrics, res.accounting
    assert m["total.lost.kits"] == acc["kit:cold"]["out:lost"] > 0
    assert "out:lost" not in acc["kit:amb"]
    assert m["total.visits.dosed"] == 0 and m["total.visits.missed_dispensing"] == 5
    assert m["total.cost.shipping"] == 100 * m["total.shipments"] + 2 * m["total.shipped.kits"]
    assert m["total.excursions"] == m["total.shipments"]


def test_regional_depot_replenishment_and_conservation():
    tr = trial_dict(target_patients=40, regions=[],
                    sites=[{"country": "DE", "count": 4, "startup": 20, "recruitment_rate": 0.1}])
    net = {"central_country": "US",
           "countries": [{"name": "US"}, {"name": "DE", "depot": "eu", "customs": 3, "lane": {"transit_time": 2}}],
           "depots": [{"name": "eu", "country": "DE", "lane": {"transit_time": 10, "dispatch_days": ["tue"]},
                       "trigger": 30, "level": 60}]}
    d = base_dict(trials=[tr], network=net)
    mdl = model(d)
    mdl.run()
    mdl.check_conservation()
    m = mdl.results().metrics
    assert m["total.shipped.kits_to_depots"] >= 60  # first replenishment at day 0, up to the level
    assert mdl.network.lanes["central->eu"].spec.transit_time.value == 10
    assert m["total.visits.not_dosed"] == 0 and m["total.dispensed.kits"] == 120
    assert m["delay.order_to_delivery.mean"] == 2.0  # eu depot is in DE: no customs to DE sites
    assert m["inventory.depot.eu.mean"] > 0


def test_a_country_named_like_a_depot_does_not_ship_over_the_depot_lane():
    """Both lanes would be called central->eu; sharing one would mix their times, costs and streams."""
    tr = trial_dict(regions=[], sites=[{"country": "eu", "count": 1, "startup": 20, "recruitment_rate": 0.1}])
    net = {"countries": [{"name": "eu"}],
           "depots": [{"name": "eu", "lane": {"transit_time": 10}, "trigger": 30, "level": 60}]}
    with pytest.raises(ScenarioError, match=r"network.countries\[0\].name: 'eu' is also the name of a depot"):
        model(base_dict(trials=[tr], network=net))  # refused when the scenario is read, before any run


def test_two_trials_share_one_depot_and_the_shortage():
    t1 = trial_dict(name="A", target_patients=30)
    t2 = trial_dict(name="B", target_patients=30, regions=[
        {"name": "R2", "sites": 3, "activation": 10, "enrollment_rate": 0.1, "transit_time": 3}])
    d = base_dict(trials=[t1, t2], depot={"initial_kits": 150})
    res = run_replication(scenario(d), 2, 0)
    m = res.metrics
    assert m["trial.A.enrolled"] == 30 and m["trial.B.enrolled"] == 30
    assert m["total.dispensed.kits"] <= 150 and m["total.visits.not_dosed"] >= 180 - 150
    assert m["total.visits.dosed"] + m["total.visits.not_dosed"] == 180
    assert m["trial.A.visits_not_dosed"] + m["trial.B.visits_not_dosed"] == m["total.visits.not_dosed"]
    assert m["trial.A.patients_not_dosed"] + m["trial.B.patients_not_dosed"] == m["total.patients.not_dosed"]


def test_direct_to_patient_homes_are_supplied_and_cleared():
    tr = trial_dict(target_patients=12, visits=[{"day": 3, "window": 2}, 31, 59], regions=[],
                    sites=[{"country": "X", "count": 2, "startup": 0, "recruitment_rate": 0.2,
                            "direct_to_patient": True}])
    d = base_dict(trials=[tr], network={"countries": [{"name": "X", "home_lane": {"transit_time": 2}}]})
    mdl = model(d)
    mdl.run()
    acc = mdl.check_conservation()
    m = mdl.results().metrics
    assert m["total.visits.dosed"] == 36 and m["total.visits.not_dosed"] == 0
    assert all(not s.homes for s in mdl.sites)  # every home closed once its patient finished
    assert acc["kit:kit"]["out:dispensed"] == 36
    assert mdl.network.lanes["central->X.home"].in_transit == 0
    assert "inventory.homes_total" in mdl.ctx.levels


def test_same_seed_same_results_other_replication_differs():
    d = base_dict(trials=[trial_dict(screen_failure=0.3, dosing_window=2)])
    a = run_replication(scenario(d), 3, 0).metrics
    b = run_replication(scenario(d), 3, 0).metrics
    c = run_replication(scenario(d), 3, 1).metrics
    assert a == pytest.approx(b, nan_ok=True) and list(a) == list(b)
    assert a["trial.T.last_patient_in"] != c["trial.T.last_patient_in"]


def test_do_not_count_makes_the_trigger_policy_look_ahead():
    """DNC >= DND: a kit stops counting DNC - DND days before it becomes undispensable (the same
    look-ahead the predictive policies use), so its replacement is ordered in time; DNC < DND is an
    error naming the field."""
    from sim.clinical.resupply import TriggerPolicy
    from sim.scenario.clinical import TriggerResupply
    spec = TriggerResupply(trigger=1, level=3, do_not_ship=40, do_not_dispense=10, do_not_count=25)
    assert TriggerPolicy(spec).expiry_lookahead == 15
    assert TriggerPolicy(TriggerResupply(trigger=1, level=3)).expiry_lookahead == 0
    d = _one_site(0.2, 0, 1, target_patients=20, visits=[0],
                  resupply={"trigger": 2, "level": 4, "do_not_ship": 20, "do_not_dispense": 10,
                            "do_not_count": 5})
    with pytest.raises(ScenarioError, match=r"do_not_count: expected at least do_not_dispense \(10\)"):
        scenario(d)
    # with DNC 20 the 100 kits expiring on day 60 stop counting on day 40 = the last day they may be
    # shipped (DNS 20): the trace of the DNS/DND test is unchanged, no kit is shipped that would not count
    d = _one_site(0.2, 0, 1, target_patients=20, visits=[0],
                  resupply={"trigger": 2, "level": 4, "do_not_ship": 20, "do_not_dispense": 10,
                            "do_not_count": 20})
    d["depot"] = {"initial_kits": 100, "initial_shelf_life": 60}
    steps, ships, m = _trace(d)
    assert ships[-1][0] <= 40 and m["total.visits.dosed"] == 10


def test_excursion_kits_are_quarantined_and_mostly_released():
    """Every shipment has an excursion; its cold kits are held 5 days for QA.  Released (probability 1):
    none is lost and each cold kit reaches the site 5 days after its ambient partner; never released
    (probability 0, but an assessment): all are destroyed after the hold, as before without one."""
    d = _one_site(0.1, 0, 2, target_patients=5, visits=[0], dosing_window=10,
                  arms=[{"name": "A", "kits": {"cold": 1, "amb": 1}}], resupply={"trigger": 1, "level": 3})
    d["kit_types"] = [{"name": "cold", "temperature": "2-8C"}, {"name": "amb"}]
    lane = d["network"]["countries"][0]["lane"]
    lane.update(excursion_prob=0.999999, excursion_assessment=5, excursion_release_prob=1.0)
    res = run_replication(scenario(d), 1, 0)  # checks conservation, the quarantine state included
    m = res.metrics
    assert m["total.lost.kits"] == 0 and m["total.excursions"] == m["total.shipments"] > 0
    assert m["total.visits.dosed"] == 5  # a 10-day window covers the 5-day hold
    lane["excursion_release_prob"] = 0.0
    res = run_replication(scenario(d), 1, 0)
    m, acc = res.metrics, res.accounting
    assert m["total.lost.kits"] == acc["kit:cold"]["out:lost"] > 0 and "out:lost" not in acc["kit:amb"]
    assert m["total.visits.dosed"] == 0


def test_emergency_shipment_reaches_a_waiting_patient_in_time():
    """The site opens on day 0 (a Monday) and orders its first kit (trigger 0, level 1) on a 6-day lane:
    it arrives on day 6; the patient comes on day 2 with a 3-day window.  Routinely the kit comes too
    late: not dosed.  An emergency courier (1 day, 500 a shipment), sent when the patient finds no kit,
    brings one on day 3: dosed after a day's wait, one emergency shipment, its cost counted apart."""
    d = _one_site(0.5, 0, 6, target_patients=1, visits=[0], dosing_window=3,
                  resupply={"trigger": 0, "level": 1, "initial": 0})
    lane = d["network"]["countries"][0]["lane"]
    lane["dispatch_days"] = ["mon"]
    m = run_replication(scenario(d), 1, 0).metrics
    assert m["total.visits.dosed"] == 0 and m.get("total.emergency_shipments", 0) == 0
    lane["emergency"] = {"transit_time": 1, "cost_per_shipment": 500}
    m = run_replication(scenario(d), 1, 0).metrics
    assert m["total.visits.dosed"] == 1 and m["total.emergency_shipments"] == 1
    assert m["total.cost.emergency_shipping"] == 500 and m["delay.patient_kit_wait.mean"] == 1


def test_relabelling_waits_for_stability_data_and_holds_the_kits():
    """As above, but the stability time point supporting the extension comes on day 90 (not 80) and the
    relabel campaign holds the 49 depot kits for 5 days (90-95) at 10 a kit: on day 92 they are on QA
    hold (counted in conservation), from 95 back on the shelf expiring on day 150."""
    d = _one_site(1 / 140, 0, 1, target_patients=1, visits=[0], resupply={"trigger": 0, "level": 1})
    d["depot"] = {"initial_kits": 50, "initial_shelf_life": 100}
    d["kit_types"] = [{"name": "kit", "relabel": {"lead": 20, "extension": 50, "available_from": 90,
                                                  "hold": 5, "cost_per_kit": 10}}]
    mdl = model(d)
    mdl.ctx.run(92)
    acc = mdl.check_conservation()["kit:kit"]
    assert acc["held:relabel_hold"] == 49 and acc.get("held:on_hand", 0) == 1  # the site's kit
    mdl.ctx.run(96)
    assert [l.expiry for l in mdl.depot.shelf.stocks["kit"].lots] == [150]
    mdl.run()
    mdl.check_conservation()
    m = mdl.results().metrics
    assert m["total.relabelled.kits"] == 49 and m["total.cost.relabelling"] == 490
    assert m["total.dispensed.kits"] == 1 and m["total.visits.not_dosed"] == 0


def test_storage_excursions_quarantine_cold_kits_on_the_shelf():
    """Cold storage fails every 10 days at the depot and the site; the cold kits on the shelf are quarantined
    3 days.
    One patient comes on day 11 (window 3) and needs a cold and an ambient kit: released (probability
    1), the site's cold kit is back on day 13 and the patient is dosed after 2 days' wait; destroyed
    (probability 0), the patient gets a kit only from a new shipment."""
    d = _one_site(1 / 11, 0, 1, target_patients=1, visits=[0], dosing_window=3,
                  arms=[{"name": "A", "kits": {"cold": 1, "amb": 1}}], resupply={"trigger": 0, "level": 1})
    d["kit_types"] = [{"name": "cold", "temperature": "2-8C"}, {"name": "amb"}]
    d["network"]["storage_excursions"] = {"interval": 10, "assessment": 3, "release_prob": 1.0, "at": "both"}
    mdl = model(d)
    mdl.ctx.run(12)
    acc = mdl.check_conservation()
    assert acc["kit:cold"]["held:storage_quarantine"] > 0 and "held:storage_quarantine" not in acc["kit:amb"]
    mdl.run()
    m = mdl.results().metrics
    assert m["total.visits.dosed"] == 1 and m["delay.patient_kit_wait.mean"] == 2
    assert m["total.storage_excursions"] > 0 and m["total.lost.kits"] == 0
    # only site fridges fail: the depot ships a fresh cold kit on day 11, there on day 12 (1-day lane)
    d["network"]["storage_excursions"]["at"] = "sites"
    assert run_replication(scenario(d), 1, 0).metrics["delay.patient_kit_wait.mean"] == 1
    d["network"]["storage_excursions"]["release_prob"] = 0.0
    res = run_replication(scenario(d), 1, 0)
    assert res.metrics["total.lost.kits"] == res.accounting["kit:cold"]["out:lost"] > 0


def test_relabelling_at_sites_where_allowed():
    """As in the depot relabelling test, but the rule applies at sites too: the site's kit (expiring
    on day 100) is relabelled there on day 80 and dosed on day 140; no kit expires at the site, and the
    depot's 49 are relabelled as before (50 relabelled in all, each kit once: max_extension)."""
    d = _one_site(1 / 140, 0, 1, target_patients=1, visits=[0], resupply={"trigger": 0, "level": 1})
    d["depot"] = {"initial_kits": 50, "initial_shelf_life": 100}
    d["kit_types"] = [{"name": "kit", "relabel": {"lead": 20, "extension": 50, "at_sites": True}}]
    m = run_replication(scenario(d), 1, 0).metrics
    assert m["total.relabelled.kits"] == 50 and m["total.expired.sites"] == 0
    assert m["total.dispensed.kits"] == 1 and m["total.visits.not_dosed"] == 0
    assert m["total.expired.depot"] == 49


def test_extension_only_for_the_campaigns_the_stability_data_cover():
    """Two lines make the same product (one batch each, started on day 0, so the kits expire on day 100);
    the extension names line 'la' only: on day 95 la's kits expire on day 150, lb's still on day 100."""
    from sim.model import SupplyChainModel
    from tests.mfg_support import scenario as mfg_scenario
    line = {"kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 10, "cycle_time": 1,
            "batches": 1}
    kit = {"name": "kit", "product": "drug_product",
           "relabel": {"lead": 10, "extension": 50, "lines": ["la"]}}
    sc = mfg_scenario([dict(line, name="la"), dict(line, name="lb")], horizon=95, kit_types=[kit],
                      packaging={"units_per_kit": 1, "time": 0, "shelf_life": 100})
    mdl = SupplyChainModel(sc, seed=1)
    mdl.run()
    assert sorted((l.line, l.expiry) for l in mdl.depot.shelf.stocks["kit"].lots) == [("la", 150), ("lb", 100)]
    kit["relabel"]["lines"] = ["nope"]
    with pytest.raises(ScenarioError, match=r"kit_types\[0\].relabel.lines: 'nope' is no line"):
        mfg_scenario([dict(line, name="la")], kit_types=[kit])
    # Named batches: of la's two batches (made on days 0 and 1, expiring on days 100 and 101), only the
    # one made by day 0.5 is covered.
    kit["relabel"].update(lines=None, made_between=[0, 0.5])
    sc = mfg_scenario([dict(line, name="la", batches=2)], horizon=95, kit_types=[kit],
                      packaging={"units_per_kit": 1, "time": 0, "shelf_life": 100})
    mdl = SupplyChainModel(sc, seed=1)
    mdl.run()
    assert sorted(l.expiry for l in mdl.depot.shelf.stocks["kit"].lots) == [101, 150]
    kit["relabel"]["made_between"] = [5, 1]
    with pytest.raises(ScenarioError, match=r"made_between: expected \[first, last\]"):
        mfg_scenario([dict(line, name="la")], kit_types=[kit])
