"""Line behaviour computed by hand: products contending for a line, reserved slots, maintenance,
end-of-run release through a QC lab, deviations and rework; and production planning."""
from __future__ import annotations

import math

import numpy as np

import pytest

from sim.core.context import Context
from sim.model import SupplyChainModel, run_replication
from sim.supply.tech_transfer import transfer
from sim.scenario import load_scenario
from sim.scenario.forecast import forecast_batches
from sim.scenario.supply import ResidenceTimeDiversion, TechTransfer
from tests.mfg_support import ROOT_SCENARIOS, assert_close, scenario

ALMOST_SURE = 1 - 1e-12


def release_times(model) -> list[float]:
    return [round(b, 9) for a, b, what in model.lines[0].qc_log if what == "released"]


def gantt(model, i: int = 0) -> list[tuple[float, float, str, str]]:
    return [(a, b, s, lbl) for a, b, s, lbl in model.lines[i].clock.log if s != "idle"]


def test_two_products_contend_for_one_line_first_come_first_served():
    sc = scenario([{"name": "ml", "kind": "batch", "changeover": 1, "product_changeover": 4, "products": [
        {"product": "a", "bom": {"api": 1}, "batch_size": 10, "cycle_time": 2, "plan": {"batches": 2, "campaign": 1}},
        {"product": "b", "bom": {"api": 1}, "batch_size": 20, "cycle_time": 3, "plan": {"batches": 1}}]}],
        horizon=20, kit_types=[{"name": "kit", "product": "a"}])
    model = SupplyChainModel(sc, seed=1)
    model.run()
    # a 0-2 | clean 2-3 | a 3-5 | product changeover 5-9 | b 9-12
    assert gantt(model) == [(0, 2, "production", "a"), (2, 3, "changeover", ""), (3, 5, "production", "a"),
                            (5, 9, "changeover", ""), (9, 12, "production", "b")]
    m = model.results().metrics
    assert m["changeovers.ml"] == 2 and m["total.released.ml"] == 40


def test_batches_start_only_inside_reserved_slots():
    sc = scenario([{"name": "bl", "kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 10,
                    "cycle_time": 10, "batches": 4, "slots": [{"start": 0, "end": 15}, {"start": 30, "end": 100}]}],
                  horizon=100)
    model = SupplyChainModel(sc, seed=1)
    model.run()
    assert release_times(model) == [10, 20, 40, 50]  # the third batch waits for the slot opening at 30
    m = model.results().metrics
    assert m["availability.bl"] == pytest.approx(1.0)  # closed time is not planned production time


def test_continuous_line_pauses_at_slot_end_and_restarts():
    sc = scenario([{"name": "cl", "kind": "continuous", "material": "api", "material_per_unit": 0.01, "rate": 10,
                    "lot_size": 100, "lots": 3, "startup_time": 1,
                    "slots": [{"start": 0, "end": 15}, {"start": 20, "end": 60}]}], horizon=60)
    model = SupplyChainModel(sc, seed=1)
    model.run()
    # start-up 0-1, lot 1 1-11, lot 2 11-15 | closed 15-20 | start-up 20-21, lot 2 21-27, lot 3 27-37
    assert release_times(model) == [11, 27, 37]
    assert model.results().metrics["total.diverted.cl"] == 20


def test_planned_maintenance_stops_the_line():
    sc = scenario([{"name": "cl", "kind": "continuous", "material": "api", "material_per_unit": 0.01, "rate": 10,
                    "lot_size": 10, "restart_after_stop": False, "maintenance": {"interval": 3, "duration": 2}}],
                  horizon=20)
    model = SupplyChainModel(sc, seed=1)
    model.run()
    assert release_times(model) == [1, 2, 3, 6, 7, 8, 11, 12, 13, 16, 17, 18]
    assert model.results().metrics["availability.cl"] == pytest.approx(1.0)  # maintenance is a planned stop


def test_end_of_run_release_waits_for_the_run_then_queues_in_the_lab():
    sc = scenario([{"name": "cl", "kind": "continuous", "material": "api", "material_per_unit": 0.01, "rate": 10,
                    "lot_size": 10, "lots": 3, "shutdown_time": 0.5, "release": "end_of_run", "qc_lab": "lab"}],
                  qc_labs=[{"name": "lab", "analysts": 1, "tests": [{"name": "assay", "time": 1}]}], horizon=20)
    model = SupplyChainModel(sc, seed=1)
    model.run()
    # lots made by 1, 2, 3; shut-down 3-3.5; tests one at a time 3.5-4.5, 4.5-5.5, 5.5-6.5
    assert release_times(model) == [4.5, 5.5, 6.5]
    m = model.results().metrics
    assert m["delay.qc_wait.lab.mean"] == pytest.approx((0 + 1 + 2) / 3)
    assert m["delay.cycle_time.cl.mean"] == pytest.approx(4.5)  # lots started at 0, 1, 2


def test_deviation_and_rework_by_hand():
    """Batch 0-10; QC 10-14 (fails) with the deviation investigation 10-13 alongside (hidden behind the
    tests) -> rework 14-19 (80 % recovered) -> retest 19-23 -> fails."""
    sc = scenario([{"name": "bl", "kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 100,
                    "cycle_time": 10, "batches": 1, "qc_time": 4, "qc_failure_prob": ALMOST_SURE,
                    "deviation_prob": ALMOST_SURE, "investigation_time": 3,
                    "rework_prob": ALMOST_SURE, "rework_time": 5, "rework_yield": 0.8}], horizon=40)
    model = SupplyChainModel(sc, seed=1)
    model.run()
    assert model.lines[0].qc_log == [(10, 23, "rejected")]
    acc = model.check_conservation()["drug_product"]
    assert acc["out:rework_loss"] == pytest.approx(20) and acc["out:rejected"] == pytest.approx(80)
    m = model.results().metrics
    assert m["reworked.bl"] == 1 and m["quality.bl"] == 0


def test_make_to_forecast_batches_by_hand():
    """10 patients x 3 visits x 28 units = 840, +20 % = 1008 units; DP 100/batch, 10 % QC failures -> 90
    good per batch -> 12 batches (+1 engineering).  API: 13 x 5 kg = 65 kg; 20 kg batches at mean
    yield 0.9 -> 4 batches."""
    sc = scenario([
        {"name": "api-line", "kind": "batch", "products": [
            {"product": "ds", "bom": {"api": 1}, "batch_size": 20, "cycle_time": 1,
             "yield_fraction": {"dist": "uniform", "low": 0.8, "high": 1.0}, "plan": {"policy": "make_to_forecast"}}]},
        {"name": "dp-line", "kind": "batch", "qc_failure_prob": 0.1, "products": [
            {"product": "dp", "bom": {"ds": 5}, "batch_size": 100, "cycle_time": 1,
             "plan": {"policy": "make_to_forecast", "overage": 0.2},
             "tech_transfer": {"duration": 1, "engineering_batches": 1}}]}],
        trials=[{"name": "t", "target_patients": 10, "visits": [0, 28, 56], "resupply": {"trigger": 1, "level": 2},
                 "regions": [{"name": "r", "sites": 1, "activation": 1e6, "enrollment_rate": 0.1,
                              "transit_time": 1}]}],
        packaging={"units_per_kit": 28, "time": 0, "shelf_life": 1e6}, horizon=200)
    assert forecast_batches(sc) == {("api-line", "ds"): 4, ("dp-line", "dp"): 12}
    m = run_replication(sc, seed=2).metrics
    assert m["batches.api-line"] == 4 and m["batches.dp-line"] == 13  # every planned batch made by day 200
    assert 4 * 20 * 0.8 <= m["total.released.api-line"] <= 4 * 20


def test_make_to_forecast_counts_each_arms_kits_and_each_kit_types_units():
    """Two arms 2:1 over 4 visits; the active arm takes 2 'big' kits (10 units) per visit, placebo 1 'small'
    kit (4 units).  Per patient: 2/3 x 4 x 2 x 10 + 1/3 x 4 x 1 x 4 = 53.33 + 5.33 = 58.67 units; 30 patients
    -> 1760 units; DP batches of 100 with no losses -> 18 (the compact fields alone would say
    30 x 4 x 1 x 28 = 3360 units -> 34 batches)."""
    sc = scenario([
        {"name": "dp-line", "kind": "batch", "products": [
            {"product": "dp", "bom": {"api": 1}, "batch_size": 100, "cycle_time": 1,
             "plan": {"policy": "make_to_forecast"}}]}],
        kit_types=[{"name": "big", "units_per_kit": 10}, {"name": "small", "units_per_kit": 4}],
        trials=[{"name": "t", "target_patients": 30, "visits": [0, 28, 56, 84],
                 "arms": [{"name": "active", "ratio": 2, "kits": {"big": 2}},
                          {"name": "placebo", "ratio": 1, "kits": {"small": 1}}],
                 "resupply": {"trigger": 1, "level": 2},
                 "regions": [{"name": "r", "sites": 1, "activation": 1e6, "enrollment_rate": 0.1,
                              "transit_time": 1}]}],
        packaging={"units_per_kit": 28, "time": 0, "shelf_life": 1e6}, horizon=50)
    assert forecast_batches(sc) == {("dp-line", "dp"): 18}


def test_make_to_stock_triggers_campaigns_on_the_downstream_position():
    """API made to stock (reorder point 30 kg, campaigns of 2 x 40 kg) feeds a DP line using 10 kg a day."""
    sc = scenario([
        {"name": "api-line", "kind": "batch", "qc_time": 1, "changeover": 0.5, "products": [
            {"product": "ds", "bom": {"api": 1}, "batch_size": 40, "cycle_time": 2,
             "plan": {"policy": "make_to_stock", "reorder_point": 30, "campaign": 2, "review_period": 1}}]},
        {"name": "dp-line", "kind": "batch", "products": [
            {"product": "dp", "bom": {"ds": 10}, "batch_size": 100, "cycle_time": 1}]}], horizon=200)
    model = SupplyChainModel(sc, seed=1)
    model.run()
    api, dp = model.lines
    assert api.batches_made.value % 2 == 0 or api.clock.state == "production"  # whole campaigns
    assert api.changeovers.value >= 5  # many campaigns, each triggered by the reorder point
    # the API line can make 20 kg/day, the DP line needs 10: make-to-stock keeps it fed
    assert dp.batches_made.value >= 150
    assert model.supply.stores["ds"].qty <= 30 + 2 * 40


def test_tech_transfer_attempts_are_geometric():
    ctx = Context(horizon=1e9, warmup=0, period=1e9, seed=5, rep=0)
    spec = TechTransfer(duration=10, failure_prob=0.4)
    attempts = []

    def many():
        for _ in range(400):
            attempts.append((yield from transfer(ctx, "tt", spec)))

    ctx.env.process(many())
    ctx.env.run()
    assert ctx.now == pytest.approx(10 * sum(attempts))
    groups = [attempts[i::4] for i in range(4)]
    assert_close([sum(g) / len(g) for g in groups], 1 / (1 - 0.4), rel=0.08)


def test_multistage_example_time_to_first_release_and_reproducibility():
    sc = load_scenario(ROOT_SCENARIOS / "mfg_multistage.yaml")
    a, b = run_replication(sc, seed=7, rep=1), run_replication(sc, seed=7, rep=1)
    assert a.metrics.keys() == b.metrics.keys()
    assert all(a.metrics[k] == b.metrics[k] or (math.isnan(a.metrics[k]) and math.isnan(b.metrics[k]))
               for k in a.metrics)
    m = a.metrics
    # each CDMO's first release follows its tech transfer, qualification batches and QC
    assert m["first_release.cdmo.cdmo-api"] > m["tech_transfer.api-reactor.api.days"] + 2 * 18
    assert m["first_release.dp-tablets.tablets"] > m["first_release.cdmo.cdmo-api"]  # made from that API
    assert m["first_release.cdmo.cdmo-dp"] == m["first_release.dp-tablets.tablets-low-dose"]  # bought-in API
    assert 0 < m["oee.api-reactor"] < 1 and 0 <= m["otif.precursor-eu"] <= 1
    assert m["cost.quality"] == pytest.approx(m["cost.testing"] + m["cost.scrap"] + m["cost.rework"]
                                              + m["cost.rejected_incoming"])


def test_a_starved_continuous_line_shuts_down_and_diverts_again_on_restart():
    """35 kg at day 0, 100 more ordered when the store empties (day 2.5), arriving 10 days later.
    Start-up 0-0.5 (5 units diverted), lots 0.5-3.5, starved from 3.5; after idle_shutdown = 2 days it
    shuts down (5.5-5.75), restarts when the material comes (12.5): another 5 units diverted, lots from
    13.  Without idle_shutdown it waits running, and only the first start-up is diverted."""
    line = {"name": "cl", "kind": "continuous", "material": "api", "material_per_unit": 1, "rate": 10,
            "lot_size": 10, "startup_time": 0.5, "shutdown_time": 0.25, "idle_shutdown": 2}
    sup = [{"name": "sup", "material": "api", "lead_time": 10, "order_quantity": 100, "reorder_point": 0,
            "initial_stock": 35}]
    model = SupplyChainModel(scenario([line], horizon=20, suppliers=sup), seed=1)
    model.run()
    assert gantt(model) == [(0, 0.5, "startup", "drug_product"), (0.5, 3.5, "production", "drug_product"),
                            (3.5, 5.5, "waiting_material", "api"), (5.5, 5.75, "shutdown", ""),
                            (5.75, 12.5, "waiting_material", "api"), (12.5, 13, "startup", "drug_product")]
    m = model.results().metrics
    assert m["total.diverted.cl"] == 10 and m["total.released.cl"] == 90  # 3 lots + 6 (14..19)
    line.pop("idle_shutdown")
    m = run_replication(scenario([line], horizon=20, suppliers=sup), seed=1).metrics
    assert m["total.diverted.cl"] == 5 and m["total.released.cl"] == 100  # lots 13.5..19.5 without a restart


def test_make_to_forecast_counts_repeated_visits():
    """The biologic trial: infusions on days 0 and 21, then every 21 days for 364 days: days 0, 21, 42, ...,
    357 = 18 visits (the review's ~18 infusions), not the 2 listed; the default trial lists its 13."""
    from sim.scenario import load_default
    from sim.scenario.forecast import kits_per_patient, visits_per_patient
    bio = load_scenario(ROOT_SCENARIOS / "clinical_phase3_biologic.yaml").trials[0]
    assert visits_per_patient(bio) == 18
    kits = kits_per_patient(bio, ["MAB", "PBO"])
    ratios = bio.integer_ratios()
    assert sum(kits.values()) == pytest.approx(18 * sum(
        sum(a.kits.values()) * r for a, r in zip(bio.arms, ratios)) / sum(ratios))
    assert visits_per_patient(load_default().trials[0]) == 13


def test_overlapping_batches_separate_flow_time_from_capacity():
    """Cycle 10 days, takt 4: batches start at 0, 4, 8 and leave the train at 10, 14, 18 (flow time 10,
    capacity one per 4 days); without a takt they leave at 10, 20, 30."""
    line = {"name": "bl", "kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 100,
            "cycle_time": 10, "batches": 3}
    for takt, released in ((4, [10, 14, 18]), (None, [10, 20, 30])):
        spec = dict(line, takt_time=takt) if takt else line
        model = SupplyChainModel(scenario([spec], horizon=40), seed=1)
        model.run()
        assert [t for t, _, _ in model.lines[0].qc_log] == released
        m = model.results().metrics
        assert m["delay.cycle_time.bl.mean"] == 10 and m["total.released.bl"] == 300
        assert m["utilisation.bl"] == pytest.approx((3 * takt if takt else 30) / 40)


def test_make_to_forecast_time_phased_campaigns():
    """10 patients x 3 visits x 28 units = 840 units -> 9 batches of 100 (no losses), in campaigns of 4
    every 30 days: 4 batches from day 0 (1-day cycle: 0-4), 4 from day 30 (30-34), 1 from day 60; all at
    once they would run 0-9."""
    line = {"name": "dp", "kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 100,
            "cycle_time": 1, "plan": {"policy": "make_to_forecast", "campaign": 4, "campaign_interval": 30}}
    trial = {"name": "t", "target_patients": 10, "visits": [0, 28, 56], "resupply": {"trigger": 1, "level": 2},
             "regions": [{"name": "r", "sites": 1, "activation": 1e6, "enrollment_rate": 0.1, "transit_time": 1}]}
    pack = {"units_per_kit": 28, "time": 0, "shelf_life": 1e6}
    sc = scenario([line], trials=[trial], packaging=pack, horizon=100)
    model = SupplyChainModel(sc, seed=1)
    model.run()
    assert [t for t, _, _ in model.lines[0].qc_log] == [1, 2, 3, 4, 31, 32, 33, 34, 61]
    line["plan"].pop("campaign_interval")
    model = SupplyChainModel(scenario([line], trials=[trial], packaging=pack, horizon=100), seed=1)
    model.run()
    assert [t for t, _, _ in model.lines[0].qc_log] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    with pytest.raises(Exception, match="campaign: required with campaign_interval"):
        scenario([dict(line, plan={"policy": "make_to_forecast", "campaign_interval": 30})], trials=[trial],
                 packaging=pack)


def test_make_to_forecast_phased_by_the_demand_curve_and_shelf_life():
    """One site activated on day 10 randomises 1 patient a day up to 20; visits on days 0 and 10, a kit
    of 10 units each: demand D(t) = 10 (R(t) + R(t - 10)), R(t) = min(20, (t - 10)+), 400 units = 8
    batches of 50.  Lead time 5, shelf life 30, at most 3 batches a campaign:
    campaign 1 when D first exceeds 0 (day 10) - 5 = day 5; its kits last to day 35, D(35) = 350 -> 7
    batches, capped at 3 (150 units); campaign 2 when D exceeds 150 (D = 10 (2t - 30): day 22.5) - 5 =
    17.5, D(47.5) = 400 -> 5, capped at 3; campaign 3 when D exceeds 300 (day 30) - 5 = 25: the 2 left."""
    from sim.scenario.resolve import resolve
    line = {"name": "dp", "kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 50,
            "cycle_time": 1, "plan": {"policy": "make_to_forecast", "campaign": 3, "time_phased": {"lead_time": 5}}}
    trial = {"name": "t", "target_patients": 20, "visits": [0, 10], "resupply": {"trigger": 1, "level": 2},
             "regions": [{"name": "r", "sites": 1, "activation": 10, "enrollment_rate": 1, "transit_time": 1}]}
    pack = {"units_per_kit": 10, "time": 0, "shelf_life": 30}
    sc = scenario([line], trials=[trial], packaging=pack, horizon=100)
    assert resolve(sc).phasing["dp", "drug_product"] == ((5, 3), (17.5, 3), (25, 2))
    model = SupplyChainModel(sc, seed=1)
    model.run()
    assert [t for t, _, _ in model.lines[0].qc_log] == [6, 7, 8, 18.5, 19.5, 20.5, 26, 27]
    with pytest.raises(Exception, match=r"lines\[0\].plan.time_phased.lead_time: expected less than the kits' "
                                        r"shelf life less do-not-dispense \(5 - 0 days\)"):
        scenario([line], trials=[trial], packaging=dict(pack, shelf_life=5), horizon=100)


def test_expected_enrollment_curve_against_the_closed_form():
    """Sites activated after an exponential delay of mean 50 days, each randomising 0.1 x (1 - 0.2) a day:
    E[(t - X)+] = t - 50 (1 - exp(-t/50)), so 20 sites have 1.6 (t - 50 (1 - exp(-t/50))) patients by day
    t (target 600 not reached; sampled with 4,000 draws: within 3 %); a cap of 4 a site subtracts the same ramp shifted by 4/0.08
    = 50 days; and the demand curve ends at the make-to-forecast total (every visit of every patient)."""
    from sim.scenario.phasing import demand_curve, expected_randomised
    from sim.scenario.forecast import trial_demand_units
    trial = {"name": "t", "target_patients": 600, "visits": [0, 30, 60], "screen_failure": 0.2,
             "resupply": {"trigger": 1, "level": 2},
             "regions": [{"name": "r", "sites": 20, "activation": {"dist": "exponential", "mean": 50},
                          "enrollment_rate": 0.1, "transit_time": 1}]}
    sc = scenario([{"name": "dp", "kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 50,
                    "cycle_time": 1}], trials=[trial], horizon=2000)
    t = sc.trials[0]
    days = np.array([25.0, 50.0, 100.0])
    ramp = days - 50 * (1 - np.exp(-days / 50))
    activation = t.regions[0].activation
    got = expected_randomised(t, [(20, 0.1, None, activation)], days)
    assert got == pytest.approx(1.6 * ramp, rel=0.03)
    late = np.maximum(days - 50, 0)
    shifted = late - 50 * (1 - np.exp(-late / 50))
    capped = expected_randomised(t, [(20, 0.1, 4, activation)], days)
    assert capped == pytest.approx(1.6 * (ramp - shifted), rel=0.03)
    _, curve = demand_curve(sc, "drug_product", None)
    assert curve[-1] == pytest.approx(trial_demand_units(sc, None, "drug_product"), rel=1e-9)


def test_output_around_a_breakdown_is_diverted():
    """Rate 10 a day, lots of 100 (10 days of operation); a breakdown every 5 operating days (1 day's
    repair), each diverting 0.2 days of output (2 units) from the lot being made.  Lot 1 runs 0-11 with
    the breakdown at 5 (98 good); lot 2 11-23 with those at 11 and 17 (96); lot 3 23-35 with those at
    23 and 29 (96); the one at 35 falls in lot 4, unfinished at day 40."""
    line = {"name": "cl", "kind": "continuous", "material": "api", "material_per_unit": 0, "rate": 10,
            "lot_size": 100, "time_between_failures": 5, "time_to_repair": 1, "restart_after_stop": False,
            "disturbance_diversion": 0.2}
    model = SupplyChainModel(scenario([line], horizon=40), seed=1)
    model.run()
    assert [t for t, _, _ in model.lines[0].qc_log] == [11, 23, 35]
    m = model.results().metrics
    assert m["total.released.cl"] == 98 + 96 + 96 and m["total.diverted.cl"] == 10
    assert m["total.breakdowns.cl"] == 6


def test_diversion_window_from_the_residence_time_distribution():
    """One stirred tank (exponential RTD) of mean 0.1 day and tolerance 2 %: the disturbed material
    leaves between 0.1 ln(1/0.99) and 0.1 ln(100) days after the upset (0.05 day) begins and ends, so
    0.05 + 0.1 (ln 100 - ln(1/0.99)) = 0.509512 days, 5.09512 units, per breakdown.  Same timing as
    the fixed-window case: five breakdowns fall in the three finished lots."""
    rtd = {"mean_residence_time": 0.1, "tanks": 1, "tolerance": 0.02, "upset": 0.05}
    window = 0.05 + 0.1 * (math.log(100) - math.log(1 / 0.99))
    line = {"name": "cl", "kind": "continuous", "material": "api", "material_per_unit": 0, "rate": 10,
            "lot_size": 100, "time_between_failures": 5, "time_to_repair": 1, "restart_after_stop": False,
            "disturbance_diversion": rtd}
    model = SupplyChainModel(scenario([line], horizon=40), seed=1)
    model.run()
    m = model.results().metrics
    assert m["total.diverted.cl"] == pytest.approx(5 * 10 * window, rel=1e-9)
    assert m["total.released.cl"] == pytest.approx(300 - 5 * 10 * window, rel=1e-9)
    # Tanks in series: the window between the Erlang quantiles (scipy's gamma as the reference);
    # many tanks approach plug flow, whose window is the upset alone.
    from scipy.stats import gamma
    spec = ResidenceTimeDiversion(mean_residence_time=0.01, tanks=3, tolerance=0.05)
    ref = gamma.ppf(0.975, 3, scale=0.01 / 3) - gamma.ppf(0.025, 3, scale=0.01 / 3)
    assert spec.window() == pytest.approx(ref, rel=1e-9)
    plug = ResidenceTimeDiversion(mean_residence_time=0.01, tanks=1000, tolerance=0.05, upset=0.02)
    assert 0.02 < plug.window() < 0.02 + 0.01 * 0.13
