"""A regional depot (hub) stocking several label groups under dedicated stock, reordering each group by
its own trigger and level (sim/clinical/hub_groups.py): hand-computed traces."""
from __future__ import annotations

import pytest

from sim.core.errors import ScenarioError
from sim.model import run_replication
from tests.test_clinical_base import model, scenario
from tests.test_labels import EU, US, two_sites


def hub_for_both(hub_kits: int = 0, **hub) -> dict:
    """The two-site scenario of tests/test_labels.py (10 kits at the central depot, 6 EU + 4 USA by the
    packaging plan; the German site doses 3 patients on days 10, 20, 30, the US site 6 on days 10 ... 60;
    each site keeps 1 kit, reordering at 0) with both countries supplied by one hub a day from the central
    depot: trigger 2 / level 5 per group, USA's own trigger 1 / level 3."""
    d = two_sites()
    d["network"]["depots"] = [{"name": "hub", "country": "DE", "lane": {"transit_time": 1}, "trigger": 2,
                               "level": 5, "initial_kits": hub_kits,
                               "label_groups": {US: {"trigger": 1, "level": 3}}, **hub}]
    for c in d["network"]["countries"]:
        c["depot"] = "hub"
    return d


def _on_way(hub) -> dict[tuple[str | None, str], float]:
    return {key: qty for key, qty in hub.by_group.expected.items() if qty}


def _labels(shelf) -> list[tuple[str | None, float]]:
    return [(lot.label, lot.qty) for lot in shelf.stocks["kit"].lots]


def test_one_hub_two_groups_by_hand():
    """Day 0: the hub's EU position 0 <= 2 orders 5 EU, its USA position 0 <= 1 orders 3 USA, in one
    shipment (central keeps 1 EU + 1 USA); both sites' first orders wait for it.  Day 1 it lands: the
    German site is sent an EU kit, the US site a USA kit (hub: 4 EU, 2 USA).  Day 10, both first patients
    dosed, both sites reorder: hub USA 1 <= 1 orders 2 but the central depot has 1 (on the way, day 11).
    Day 20: hub EU 2 <= 2 orders 3, gets the last EU kit.  Then USA has no kits left anywhere: the US site
    doses 4 (days 10-40) and misses days 50 and 60 while 3 EU kits sit unused -- exactly as without a hub
    (tests/test_labels.py); every group's kits reached only its own sites."""
    mdl = model(hub_for_both())
    hub, central = mdl.network.depots["hub"], mdl.network.central
    mdl.ctx.run(0.5)
    assert _on_way(hub) == {(EU, "kit"): 5, (US, "kit"): 3}
    assert _labels(central.shelf) == [(EU, 1), (US, 1)]
    assert mdl.ctx.counters["shipments"].total == 1 and mdl.network.lanes["central->hub"].in_transit == 8
    mdl.ctx.run(2.5)  # the sites' kits arrived on day 2
    sites = {s.name: s for s in mdl.network.sites}
    assert _labels(sites["T.DE-01"].shelf) == [(EU, 1)] and _labels(sites["T.US-01"].shelf) == [(US, 1)]
    assert sorted(_labels(hub.shelf)) == [(EU, 4), (US, 2)]
    assert hub.by_group.expected[EU, "kit"] == 0 and hub.by_group.expected[US, "kit"] == 0
    mdl.ctx.run(10.5)
    assert hub.by_group.expected[US, "kit"] == 1 and hub.by_group.expected[EU, "kit"] == 0
    assert _labels(central.shelf) == [(EU, 1)] and central._short == {"hub": hub}  # USA short by 1
    mdl.ctx.run(20.5)
    assert hub.by_group.expected[EU, "kit"] == 1 and _labels(central.shelf) == []
    mdl.run()
    m = mdl.results().metrics
    assert m["total.resupplied.hub.EU"] == 6 and m["total.resupplied.hub.USA"] == 4
    assert m["total.dispensed.kits"] == 7 and m["total.visits.out_of_stock"] == 2
    assert m["site.T.US-01.randomised"] == 6 and m["trial.T.visits_not_dosed"] == 2
    acc = mdl.check_conservation()["kit:kit"]  # raises if a kit went missing
    assert acc["held:on_hand.EU"] == 3 and acc.get("held:on_hand.USA", 0) == 0


def test_unlabelled_hub_kits_count_for_every_group():
    """The hub starts with 3 unlabelled kits: both positions are 3, above the triggers, so no order on
    day 0.  The German site's first kit (unlabelled, FEFO) leaves EU at 2 <= 2: order 3 EU.  The US site's
    leaves 1 unlabelled: USA 1 <= 1 orders 2 USA, while EU is 1 + 3 on the way > 2.  Two shipments."""
    mdl = model(hub_for_both(hub_kits=3))
    hub = mdl.network.depots["hub"]
    mdl.ctx.run(0.5)
    assert _on_way(hub) == {(EU, "kit"): 3, (US, "kit"): 2}
    assert _labels(hub.shelf) == [(None, 1)]
    assert mdl.network.lanes["central->hub"].in_transit == 5
    mdl.ctx.run(1.5)
    assert mdl.ctx.counters["shipments"].total == 2 + 2  # to the hub twice, to each site once
    assert mdl.ctx.counters["resupplied.hub.EU"].total == 3 and mdl.ctx.counters["resupplied.hub.USA"].total == 2
    mdl.run()
    mdl.check_conservation()


def test_room_cuts_the_order_in_proportion_to_each_groups_want():
    """A hub with room for 6 kits wants 5 EU + 3 USA on day 0: 6 fit, split 6 x 5/8 = 3.75 and
    6 x 3/8 = 2.25 by largest remainder -> 4 EU, 2 USA."""
    mdl = model(hub_for_both(storage={"capacity": 6}))
    hub = mdl.network.depots["hub"]
    mdl.ctx.run(0.5)
    assert _on_way(hub) == {(EU, "kit"): 4, (US, "kit"): 2}
    assert hub.expected["kit"] == 6


def test_hub_levels_per_group_errors_name_the_field():
    d = hub_for_both()
    d["network"]["depots"][0]["label_groups"] = {"JP": {"trigger": 1, "level": 3}}
    with pytest.raises(ScenarioError, match=r"network.depots\[0\].label_groups: 'JP' is no label group this "
                                            r"depot serves \(serves: \['EU', 'USA'\]\)"):
        scenario(d)
    d["network"]["depots"][0]["label_groups"] = {US: {"trigger": 3, "level": 3}}
    with pytest.raises(ScenarioError, match=r"label_groups.USA.level: 3 for kit type 'kit' must exceed the "
                                            r"trigger 3"):
        scenario(d)
    d["network"]["depots"][0]["label_groups"] = {US: {"trigger": {"vial": 1}, "level": 3}}
    with pytest.raises(ScenarioError, match=r"label_groups.USA.trigger: 'vial' is no kit type"):
        scenario(d)
    d = hub_for_both()
    d["labels"]["pooling"] = "pooled"
    with pytest.raises(ScenarioError, match=r"network.depots\[0\].label_groups: a group's own trigger / level "
                                            r"needs label groups with labels.pooling: by_label_group"):
        scenario(d)
    del d["network"]["depots"][0]["label_groups"]
    assert run_replication(scenario(d), 7, 0).metrics["total.visits.not_dosed"] == 0  # pooled: one stock
    d = hub_for_both()
    d["labels"]["jit"] = {"trigger": 1, "level": 3, "depots": ["nowhere"]}
    with pytest.raises(ScenarioError, match=r"labels.jit.depots\[0\]: 'nowhere' is no regional depot "
                                            r"\(regional depots: \['hub'\]\)"):
        scenario(d)
    d["labels"]["jit"]["depots"], d["labels"]["pooling"] = ["hub"], "pooled"
    del d["network"]["depots"][0]["label_groups"]
    with pytest.raises(ScenarioError, match=r"labels.jit.depots\[0\]: 'hub' can label just in time only if "
                                            r"supplied from the central depot under pooling: by_label_group"):
        scenario(d)


def test_a_hub_labels_just_in_time_for_its_own_groups():
    """Just in time (trigger 1, level 3, lead 2 days, one line per depot), both sites below a hub that
    labels for itself (trigger 2, level 6 kits in all).  The central depot labels nothing (no site takes
    its kits): its 10 kits stay bulk.  Day 0: the hub orders 6 unlabelled kits.  Day 1 they land in its
    bulk: EU labels 3 (days 1-3), USA 3 (queued, days 3-5).  Day 3 the German site is sent an EU kit, day 5
    the US site a USA kit.  Day 10 both first patients dosed: each group at the hub falls to 1 but its bulk
    is empty; the hub's kits (1 + 1 + 0 + 0 on the way) are 2 <= 2: it orders 4 more.  Day 11 they land:
    EU labels 2 (days 11-13), USA 2 (13-15)."""
    d = hub_for_both()
    d["labels"]["jit"] = {"trigger": 1, "level": 3, "lead_time": 2, "depots": ["hub"]}
    d["network"]["depots"][0]["level"] = 6
    del d["network"]["depots"][0]["label_groups"]
    mdl = model(d)
    hub, lab = mdl.network.depots["hub"], mdl.network.labelling
    line = hub.labelling
    mdl.ctx.run(0.5)
    assert hub.expected["kit"] == 6 and _labels(lab.bulk) == [(None, 4)] and lab.in_labelling == {}
    mdl.ctx.run(1.5)
    assert line.in_labelling[EU, "kit"] == 3 and line.in_labelling[US, "kit"] == 3 and _labels(line.bulk) == []
    mdl.ctx.run(3.5)
    assert _labels(hub.shelf) == [(EU, 2)] and mdl.network.lanes["hub->DE"].in_transit == 1
    mdl.ctx.run(5.5)
    assert sorted(_labels(hub.shelf)) == [(EU, 2), (US, 2)]
    mdl.ctx.run(10.5)
    assert hub.expected["kit"] == 4 and _labels(lab.bulk) == []
    mdl.ctx.run(11.5)
    assert line.in_labelling[EU, "kit"] == 2 and line.in_labelling[US, "kit"] == 2
    acc = mdl.check_conservation()["kit:kit"]
    assert acc["held:labelling"] == 4 and acc["held:on_hand.EU"] == 1 + 1  # the hub's and the German site's
    mdl.run()
    m = mdl.results().metrics
    assert m["total.labelled.kits"] == 10 and m["total.labelled_for.EU"] + m["total.labelled_for.USA"] == 10
    mdl.check_conservation()
