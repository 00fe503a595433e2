"""Regulatory and quality gates by hand: a country's approval gates site activation and shipments into
it; import testing / QP certification holds each imported shipment; failed shipments are destroyed."""
from __future__ import annotations

import math

import numpy as np

from sim.model import run_replication
from sim.scenario import parse_scenario
from tests.conftest import scenario_dict


def _scenario(approval=None, release=None, horizon=60, target=5):
    """Central depot (100 kits) -> 1 day -> regional hub in DE (trigger 2, level 10) -> 2 days -> one DE
    site, start-up 5 days, a patient every 2 days from activation, dosed within 10 days of the visit."""
    d = scenario_dict(horizon=horizon)
    d["depot"] = {"name": "central", "initial_kits": 100}
    hub = {"name": "eu-hub", "country": "DE", "lane": {"transit_time": 1}, "trigger": 2, "level": 10}
    if release is not None:
        hub["import_release"] = release
    country = {"name": "DE", "depot": "eu-hub", "site_startup": 5, "lane": {"transit_time": 2}}
    if approval is not None:
        country["approval"] = approval
    d["network"] = {"depots": [hub], "countries": [country]}
    t = d["trials"][0]
    del t["regions"]
    t["sites"] = [{"country": "DE", "count": 1, "recruitment_rate": 0.5, "arrivals": "regular"}]
    t.update(target_patients=target, visits=[{"day": 0, "window": 10}], resupply={"trigger": 1, "level": 4})
    return parse_scenario(d)


def test_approval_and_import_testing_by_hand():
    """Approval on day 20: the hub orders then (not at 0), its shipment lands at 21 and is tested until 24;
    the site, ready at 5, activates at 20; patients come at 22, 24, 26, 28, 30; its kits leave the hub at
    24 and arrive at 26: the first two patients are dosed late (inside their window), three on the day."""
    m = run_replication(_scenario(approval=20, release={"time": 3, "testers": 1}), 1, 0).metrics
    assert m["site.t.DE-01.activated"] == 20 and m["trial.t.first_patient_in"] == 22
    assert m["delay.import_release.eu-hub.mean"] == 3 and m["total.import_rejected.eu-hub"] == 0
    assert (m["total.visits.dosed"], m["total.visits.dosed_on_time"], m["visits.dosed_late"]) == (5, 3, 2)
    free = run_replication(_scenario(), 1, 0).metrics
    assert free["site.t.DE-01.activated"] == 5 and "delay.import_release.eu-hub.mean" not in free


def test_failed_import_tests_destroy_their_shipments():
    """Each imported shipment fails with probability 0.4, whatever its size: the kits rejected are 40 % of
    those shipped to the hub (4 SE across replications), and every kit is still accounted for
    (conservation is checked in each run)."""
    sc = _scenario(release={"time": 1, "failure_prob": 0.4}, horizon=400, target=100)
    shares = []
    for r in range(12):
        m = run_replication(sc, 2, r).metrics
        shares.append(m["total.import_rejected.eu-hub"] / m["total.shipped.kits_to_depots"])
    shares = np.array(shares)
    assert abs(np.nanmean(shares) - 0.4) <= 4 * np.nanstd(shares, ddof=1) / math.sqrt(len(shares))


def test_a_recall_withdraws_a_batchs_kits_everywhere_and_later_arrivals_too():
    """The deterministic chain (a batch every 4 days from day 0): the batches started on days 0-10 are
    recalled on day 30.  Their kits leave every shelf then; after it no patient gets one (the
    genealogy says which batch each dose came from); every kit is still accounted for."""
    from sim.core.genealogy import LOT_COLUMNS, upstream
    d = scenario_dict(horizon=80)
    d["trials"][0]["regions"][0].update(activation=1, sites=2)
    d["trials"][0]["target_patients"] = 40
    d["recalls"] = [{"day": 30, "line": "line", "made_between": [0, 10]}]
    res = run_replication(parse_scenario(d), 1, 0, trace=True)
    assert res.metrics["total.recalled.kits"] > 0
    lots = {row[0]: dict(zip(LOT_COLUMNS, row)) for row in res.genealogy.lots}

    def batch_start(lot: str) -> float:
        return next(link.row["made"] for link in upstream(lot, lots)
                    if link.row is not None and link.row["place"] == "line.line")

    late = [d for d in res.genealogy.doses if d[1] > 30]
    assert late and all(not 0 <= batch_start(d[4]) <= 10 for d in late)
    early = [d for d in res.genealogy.doses if d[1] <= 30]
    assert any(0 <= batch_start(d[4]) <= 10 for d in early)  # before the recall, they were dosed
    no_recall = run_replication(parse_scenario({**d, "recalls": []}), 1, 0).metrics
    assert "total.recalled.kits" not in no_recall
