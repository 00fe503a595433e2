"""Lot genealogy (--trace): a hand-computed chain, every dose accounted for and traced to a delivery or
initial stock, the same results as an untraced run, and the trace command walking up and down."""
from __future__ import annotations

import math

import yaml
from click.testing import CliRunner

from sim.cli import cli
from sim.core.genealogy import LOT_COLUMNS, upstream
from sim.model import run_replication
from sim.scenario import load_scenario, parse_scenario
from tests.conftest import scenario_dict

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def _deterministic():
    d = scenario_dict()
    d["trials"][0]["regions"][0]["activation"] = 1
    return d


def test_genealogy_of_the_deterministic_chain_by_hand():
    """20 kg of API on hand, reorder point 10, order 50, lead time 5; a batch takes 10 kg and 4 days,
    QC 3 days, packing 1 day, 100 units a kit, shelf life 1000 days from the batch start.  The first
    batch starts at 0 on 10 kg split off the initial lot (api-1.1), is released at 4 + 3 = 7 and packed
    at 8 into 10 kits expiring at 0 + 1000; the order placed at 0 arrives at 5."""
    res = run_replication(parse_scenario(_deterministic()), 1, 0, trace=True)
    lots = {row[0]: dict(zip(LOT_COLUMNS, row)) for row in res.genealogy.lots}
    assert lots["api-1"]["qty"] == 20 and lots["api-1"]["parents"] == "" and "initial" in lots["api-1"]["place"]
    assert (lots["api-2"]["parents"], lots["api-2"]["created"], lots["api-2"]["qty"]) == ("PO:sup", 5.0, 50.0)
    dp = lots["line-3"]
    assert (dp["parents"], dp["made"], dp["created"], dp["qty"], dp["cdmo"]) == ("api-1.1", 0.0, 7.0, 1000.0, "cdmo")
    kit = lots["KIT-4"]
    assert (kit["parents"], kit["created"], kit["expiry"], kit["qty"]) == ("line-3", 8.0, 1000.0, 10)
    first = res.genealogy.doses[0]
    assert [link.lot for link in upstream(first[4], lots)] == [first[4], "KIT-4", "line-3", "api-1.1", "api-1"]


def test_every_dose_traces_back_to_a_delivery_or_initial_stock_and_none_is_lost():
    """Conservation in the genealogy: the doses recorded are the kits dispensed, and each dose's chain
    ends at lots with no parent (initial stock) or a purchase order (a supplier's delivery)."""
    for sc in (parse_scenario(_deterministic()), load_scenario(ROOT / "scenarios" / "mfg_multistage.yaml")):
        res = run_replication(sc, None, 0, trace=True)
        g = res.genealogy
        assert sum(d[5] for d in g.doses) == res.metrics["total.dispensed.kits"] > 0
        lots = {row[0]: dict(zip(LOT_COLUMNS, row)) for row in g.lots}
        for lot in {d[4] for d in g.doses}:
            chain = upstream(lot, lots)
            roots = [link for link in chain if link.row is not None and
                     (link.row["parents"] == "" or link.row["parents"].startswith("PO:"))]
            assert roots, lot
            assert all(link.row is not None or link.lot.rpartition(".")[0] for link in chain)
            made = [link.row for link in chain if link.row is not None and link.row["place"].startswith("line.")]
            assert made and all(r["created"] >= r["made"] for r in made)  # released after the batch began


def test_a_traced_replication_gives_the_same_results():
    sc = load_scenario(ROOT / "scenarios" / "mfg_multistage.yaml")
    a, b = run_replication(sc, 7, 1), run_replication(sc, 7, 1, trace=True)
    assert a.genealogy is None and b.genealogy is not None
    assert a.metrics.keys() == b.metrics.keys()
    assert all(a.metrics[k] == b.metrics[k] or (math.isnan(a.metrics[k]) and math.isnan(b.metrics[k]))
               for k in a.metrics)


def test_trace_command_walks_from_a_patient_up_and_from_a_lot_down(tmp_path):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(_deterministic()))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "s.yaml"), "--reps", "2", "--seed", "1", "--out",
                                   str(out), "--no-figures", "--workers", "1", "--trace"])
    assert res.exit_code == 0, res.output
    assert (out / "trace" / "lots.csv").is_file() and (out / "trace" / "doses.csv").is_file()
    up = CliRunner().invoke(cli, ["trace", str(out), "PAT-6"])
    assert up.exit_code == 0, up.output
    assert "made by line (cdmo) from day 0.0, released day 7.0" in up.output
    assert "api-1  20 api at material.api (initial stock)" in up.output
    down = CliRunner().invoke(cli, ["trace", str(out), "api-1"])
    assert down.exit_code == 0 and "to 5 patients" in down.output  # every dose of rep 0 came from api-1
    missing = CliRunner().invoke(cli, ["trace", str(out), "PAT-999999"])
    assert missing.exit_code == 1 and "no patient or lot" in missing.output
