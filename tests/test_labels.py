"""Label groups, pooling, just-in-time labelling and the US / EU expiry rules, against hand-computed traces
and the Poisson formula of a single-period pooling problem (sim/clinical/labelling.py)."""
from __future__ import annotations

import math

import pytest

from sim.clinical.labelling import plan_split
from sim.core.errors import ScenarioError
from sim.model import run_replication
from tests.test_clinical_base import base_dict, model, scenario, trial_dict

EU, US = "EU", "USA"


def two_sites(caps=(3, 6), rate=0.1, kits=10, shares=(0.6, 0.4), arrivals="regular", transit=1.0, target=None,
              resupply=None, **labels) -> dict:
    """A German site (label group EU) and a US site (group USA), one each, patients coming every 10 days
    (or Poisson), one kit at the only visit; the central depot starts with *kits* kits."""
    tr = trial_dict(regions=[], target_patients=target or sum(caps), visits=[0],
                    resupply=resupply or {"trigger": 0, "level": 1})
    tr["sites"] = [{"country": c, "count": 1, "startup": 0, "recruitment_rate": rate, "arrivals": arrivals,
                    **({"cap": cap} if cap else {})} for c, cap in zip(("DE", "US"), caps)]
    countries = [{"name": c, "lane": {"transit_time": transit}} for c in ("DE", "US")]
    d = base_dict(trials=[tr], network={"countries": countries})
    d["depot"] = {"initial_kits": kits, "initial_shelf_life": 1e5}
    d["labels"] = {"groups": [{"name": EU, "countries": ["DE"], "share": shares[0]},
                              {"name": US, "countries": ["US"], "share": shares[1], "expiry_on_label": False}],
                   **labels}
    return d


def test_packaging_plan_split_is_whole_kits_by_largest_remainder():
    assert plan_split(10, [(EU, 0.6), (US, 0.4)]) == [(EU, 6), (US, 4)]
    assert plan_split(7, [(EU, 0.6), (US, 0.4)]) == [(EU, 4), (US, 3)]  # 4.2 / 2.8: the spare kit to US
    assert plan_split(1, [(EU, 3), (US, 2)]) == [(EU, 1), (US, 0)]
    assert plan_split(5, [(EU, 1), (US, 1)]) == [(EU, 3), (US, 2)]  # a tie: the first group


def test_dedicated_label_groups_strand_stock_that_pooling_uses():
    """10 kits split 60/40: 6 EU, 4 USA.  The German site doses 3 patients (days 10, 20, 30), the US site 6
    (days 10 ... 60).  Dedicated: the US site runs out after 4 (days 50 and 60 not dosed, *out of stock*:
    the 3 EU kits left at the depot cannot go there); pooled: all 9 dosed, 1 kit left."""
    d = two_sites()
    mdl = model(d)
    mdl.run()
    acc = mdl.check_conservation()["kit:kit"]
    m = mdl.results().metrics
    assert m["total.labelled_for.EU"] == 6 and m["total.labelled_for.USA"] == 4
    assert m["site.T.DE-01.randomised"] == 3 and m["site.T.US-01.randomised"] == 6
    assert m["total.dispensed.kits"] == 7 and m["total.visits.not_dosed"] == 2
    assert m["total.visits.out_of_stock"] == 2 and m["total.visits.missed_dispensing"] == 0
    assert acc["held:on_hand.EU"] == 3 and acc.get("held:on_hand.USA", 0) == 0  # the stranded kits, by group
    d["labels"]["pooling"] = "pooled"
    m = run_replication(scenario(d), 7, 0).metrics
    assert m["total.dispensed.kits"] == 9 and m["total.visits.not_dosed"] == 0


def test_jit_labelling_order_fires_and_arrives_by_hand():
    """Just in time, trigger 1, level 3, lead 2 days, one line: the 10 kits start as bulk.  Day 0: both
    groups are at 0 <= 1, so EU labels 3 (on the line days 0-2) and USA 3 (queued, days 2-4).  Each site's
    first kit (ordered on day 0) leaves when its group's kits are labelled: DE on day 2, US on day 4, each
    dropping its group to 2 labelled kits.  Day 10, both patients dosed; both sites reorder: each group
    falls to 1 <= trigger and orders 2 more (EU on the line 10-12, USA 12-14)."""
    d = two_sites(caps=(2, 2), jit={"trigger": 1, "level": 3, "lead_time": 2})
    mdl = model(d)
    lab = mdl.network.labelling
    mdl.ctx.run(1)
    acc = mdl.check_conservation()["kit:kit"]
    assert acc["held:unlabelled_bulk"] == 4 and acc["held:labelling"] == 6
    mdl.ctx.run(3.5)
    acc = mdl.check_conservation()["kit:kit"]
    assert acc["held:on_hand.EU"] == 2 + 1 and acc["held:labelling"] == 3  # 2 at the depot, 1 at the DE site
    mdl.ctx.run(5.5)
    assert mdl.check_conservation()["kit:kit"]["held:on_hand.USA"] == 3
    mdl.ctx.run(11)
    assert lab.in_labelling[EU, "kit"] == 2 and lab.in_labelling[US, "kit"] == 2
    mdl.run()
    m = mdl.results().metrics
    assert mdl.ctx.tallies["jit_labelling"].n == 4
    assert m["delay.jit_labelling.mean"] == pytest.approx((2 + 4 + 2 + 4) / 4)
    assert m["total.labelled.kits"] == 10 and m["total.labelled_for.EU"] == 5
    assert m["total.visits.not_dosed"] == 0 and m["total.dispensed.kits"] == 4


def test_jit_labelling_rate_cost_and_two_lines():
    """Two lines, 1 day lead + 3 kits at 3 a day: both day-0 orders run at once and end on day 2; each
    labelled kit costs 0.5."""
    d = two_sites(caps=(1, 1), jit={"trigger": 1, "level": 3, "lead_time": 1, "rate": 3, "lines": 2,
                                    "cost_per_kit": 0.5})
    mdl = model(d)
    mdl.ctx.run(2.5)
    acc = mdl.check_conservation()["kit:kit"]
    assert acc["held:labelling"] == 0 and acc["held:unlabelled_bulk"] == 4
    mdl.run()
    m = mdl.results().metrics
    assert m["total.cost.labelling"] == 0.5 * m["total.labelled.kits"]


def _poisson_loss(lam: float, n: int) -> float:
    """E[(D - n)+] for D ~ Poisson(lam)."""
    p, cdf_part = math.exp(-lam), 0.0
    for k in range(n + 1):
        cdf_part += (n - k) * p
        p *= lam / (k + 1)
    return lam - n + cdf_part


def test_pooling_against_the_poisson_formula():
    """Single-period pooling: 40 kits, two sites each with Poisson(20) patients over 200 days (no cap),
    each needing one kit; the sites hold nothing (predictive, windows 0: a kit is sent when a patient
    comes, in no time).  Dedicated 20 + 20: the dosed are min(D1, 20) + min(D2, 20) in every replication; pooled:
    min(D1 + D2, 40).  Over the replications the shortfall matches the Poisson loss function:
    2 E[(D - 20)+] = 3.55 dedicated, E[(D1 + D2 - 40)+] = 2.52 pooled (the √2 of safety stock), within
    3 standard errors over 60 replications each; and pooled never doses fewer (common random numbers)."""
    base = two_sites(caps=(None, None), rate=0.1, kits=40, shares=(0.5, 0.5), arrivals="poisson", transit=0.0,
                     target=100000, resupply={"policy": "predictive", "short_window": 0, "prediction_window": 0})
    base["horizon"] = 200
    short = {"by_label_group": [], "pooled": []}
    for pooling in short:
        base["labels"]["pooling"] = pooling
        sc = scenario(base)
        for rep in range(60):
            m = run_replication(sc, 3, rep).metrics
            d1, d2 = m["site.T.DE-01.randomised"], m["site.T.US-01.randomised"]
            dosed = min(d1, 20) + min(d2, 20) if pooling == "by_label_group" else min(d1 + d2, 40)
            assert m["total.dispensed.kits"] == dosed
            short[pooling].append(d1 + d2 - dosed)
    dedicated, pooled = 2 * _poisson_loss(20, 20), _poisson_loss(40, 40)
    # E[(D - n)+] = n P(D = n) when D ~ Poisson(n): 2 * 20 P(D = 20) and 40 P(D = 40)
    assert dedicated == pytest.approx(3.5534, abs=1e-4) and pooled == pytest.approx(2.5179, abs=1e-4)
    for pooling, expect in (("by_label_group", dedicated), ("pooled", pooled)):
        xs = short[pooling]
        mean = sum(xs) / len(xs)
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
        assert abs(mean - expect) < 3 * sd / math.sqrt(len(xs)), (pooling, mean, expect)
    assert all(a >= b for a, b in zip(short["by_label_group"], short["pooled"]))  # same patients (CRN)


def test_us_label_extended_by_irt_update_eu_label_by_a_depot_campaign():
    """Kits expire on day 100; the rule extends them by 50 days, 20 days before expiry, with a 5-day QA
    hold at 10 a kit.  The 6 EU kits at the depot go through the campaign (days 80-85, on hold, cost 60);
    the 4 USA kits are updated in the IRT on day 80 (no hold, no cost).  At the sites (each got 1 kit on
    day 0; patients come on day 120): the US site's kit is updated there and dosed; the German site's
    kit expires on day 100 (EU sites cannot extend) and its patient gets a relabelled kit from the depot."""
    d = two_sites(caps=(1, 1), rate=1 / 120)
    d["depot"]["initial_shelf_life"] = 100
    d["kit_types"] = [{"name": "kit", "relabel": {"lead": 20, "extension": 50, "hold": 5, "cost_per_kit": 10}}]
    mdl = model(d)
    mdl.ctx.run(82)
    acc = mdl.check_conservation()["kit:kit"]
    assert acc["held:relabel_hold"] == 5 and acc["held:on_hand.USA"] == 4  # EU: 6 - 1 at the site
    mdl.run()
    m = mdl.results().metrics
    assert m["total.relabelled.kits"] == 5 and m["total.cost.relabelling"] == 50
    assert m["total.expiry_updates.kits"] == 4  # 3 at the depot, 1 at the US site
    assert m["total.expired.sites"] == 1 and m["total.visits.not_dosed"] == 0
    assert m["total.dispensed.kits"] == 2


def test_label_errors_name_the_field():
    d = two_sites()
    d["labels"]["groups"][1]["countries"] = ["DE"]
    with pytest.raises(ScenarioError) as err:
        scenario(d)
    text = str(err.value)
    assert "trials[0].sites[0]" in text and "2 label groups" in text and "trials[0].sites[1]" in text
    d = two_sites()
    d["labels"]["groups"][0]["countries"] = ["FR"]
    with pytest.raises(ScenarioError, match=r"labels.groups\[0\].countries: 'FR' is not in network.countries"):
        scenario(d)
    d = two_sites(jit={"trigger": 5, "level": 3})
    with pytest.raises(ScenarioError, match=r"labels.groups\[0\]: expected a just-in-time level at least"):
        scenario(d)
    d = two_sites(pooling="by_country")
    with pytest.raises(ScenarioError, match=r"labels.pooling: expected 'pooled' or 'by_label_group'"):
        scenario(d)


def test_a_regional_depot_is_sent_only_its_groups_kits():
    """The German site is supplied by an EU hub (trigger 2, level 8, one day from the central depot): on
    day 0 the hub orders 8 and is sent the 6 EU kits only, never the USA ones (a hub serving both groups:
    tests/test_hub_groups.py)."""
    d = two_sites()
    d["network"]["depots"] = [{"name": "eu-hub", "country": "DE", "lane": {"transit_time": 1}, "trigger": 2,
                               "level": 8}]
    d["network"]["countries"][0]["depot"] = "eu-hub"
    mdl = model(d)
    mdl.ctx.run(0.5)
    hub = mdl.network.depots["eu-hub"]
    assert hub.expected["kit"] == 6  # and 1 USA kit on its way to the US site
    assert mdl.check_conservation()["kit:kit"]["held:in_transit"] == 7
    mdl.ctx.run(1.5)
    assert {lot.label for lot in hub.shelf.stocks["kit"].lots} == {EU}
    mdl.run()
    m = mdl.results().metrics
    assert m["total.dispensed.kits"] == 7 and m["total.visits.out_of_stock"] == 2  # as without the hub
    d["network"]["countries"][1]["depot"] = "eu-hub"
    d["labels"]["pooling"] = "pooled"
    assert run_replication(scenario(d), 7, 0).metrics["total.visits.not_dosed"] == 0


def test_dedicated_stock_per_study_when_two_trials_share_a_kit_type():
    """Two trials in Germany share the kit type; a label group per trial (the protocol number is on the
    label): 10 kits split 60/40, trial T needs 3, trial T2 needs 6 -> T2 short by 2; pooled, nobody is."""
    t1 = trial_dict(regions=[], target_patients=3, visits=[0], resupply={"trigger": 0, "level": 1})
    t2 = trial_dict(regions=[], name="T2", target_patients=6, visits=[0], resupply={"trigger": 0, "level": 1})
    for t in (t1, t2):
        t["sites"] = [{"country": "DE", "count": 1, "startup": 0, "recruitment_rate": 0.1, "arrivals": "regular"}]
    d = base_dict(trials=[t1, t2], network={"countries": [{"name": "DE", "lane": {"transit_time": 1}}]})
    d["depot"] = {"initial_kits": 10, "initial_shelf_life": 1e5}
    d["labels"] = {"groups": [{"name": "T-DE", "countries": ["DE"], "trials": ["T"], "share": 0.6},
                              {"name": "T2-DE", "countries": ["DE"], "trials": ["T2"], "share": 0.4}]}
    m = run_replication(scenario(d), 7, 0).metrics
    assert m["trial.T.visits_not_dosed"] == 0 and m["trial.T2.visits_not_dosed"] == 2
    d["labels"]["pooling"] = "pooled"
    assert run_replication(scenario(d), 7, 0).metrics["total.visits.not_dosed"] == 0


def test_unlabelled_kits_are_extended_for_free():
    """Just in time, trigger 0, level 1: each group gets one kit labelled for its site and one for the
    depot's shelf on day 0, so 6 of the 10 kits (expiring on day 100) stay unlabelled.  On day 80 those 6
    gain the 50 days without a campaign (the date is printed when they are labelled); the USA kits at the
    depot and the US site are updated in the IRT; the EU kit at the depot goes on its 5-day relabel hold,
    which still counts as the group's stock (no new labelling order); the EU kit at the German site is
    not extended."""
    d = two_sites(caps=(1, 1), rate=1 / 200, jit={"trigger": 0, "level": 1})
    d["depot"]["initial_shelf_life"] = 100
    d["kit_types"] = [{"name": "kit", "relabel": {"lead": 20, "extension": 50, "hold": 5, "cost_per_kit": 10}}]
    mdl = model(d)
    mdl.ctx.run(81)
    lab = mdl.network.labelling
    assert [(lot.qty, lot.expiry) for lot in lab.bulk.stocks["kit"].lots] == [(6, 150)]
    acc = mdl.check_conservation()["kit:kit"]
    assert acc["held:relabel_hold"] == 1 and acc["held:on_hand.EU"] == 1 and acc["held:on_hand.USA"] == 2
    m = mdl.ctx.counters
    assert m["expiry_updates.kits"].total == 6 + 2 and m["relabelled.kits"].total == 1
    assert m["labelled.kits"].total == 4
