"""The metric catalogue (sim/metrics.py) names every metric and series a run reports, and nothing else."""
from __future__ import annotations

from pathlib import Path

import pytest

from sim.metrics import CATALOGUE, DuplicateMetricError, lookup, markdown, merge
from sim.model import run_replication
from sim.scenario import load_default, load_scenario
from tests.mfg_support import scenario

ROOT = Path(__file__).resolve().parents[1]


def _corner_cases():
    """A scenario reporting what no shipped scenario does: incoming QC without a lab, a final
    product that no kit type is packed from, one whose shelf life (half a day from its batch start)
    ends before it is packed, and cold storage that fails."""
    line = {"name": "l", "kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 10,
            "cycle_time": 1, "batches": 2}
    other = {**line, "name": "l2", "product": "other"}
    return scenario([line, other], horizon=20,
                    materials=[{"name": "api", "policy": {"kind": "sQ", "reorder_point": 0, "order_quantity": 10},
                                "incoming_qc": {"time": 1}, "retest_period": 3}],
                    kit_types=[{"name": "kit", "product": "drug_product", "shelf_life": 0.5}],
                    network={"storage_excursions": {"interval": 5}})


@pytest.fixture(scope="module")
def reported() -> tuple[set[str], set[str]]:
    scenarios = [load_default(), _corner_cases()] + [load_scenario(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))]
    metrics: set[str] = set()
    series: set[str] = set()
    for sc in scenarios:
        res = run_replication(sc, rep=0)
        metrics |= set(res.metrics)
        series |= set(res.series)
    return metrics, series


def test_every_reported_name_is_catalogued(reported):
    metrics, series = reported
    assert [n for n in sorted(metrics) if lookup(n) is None] == []
    assert [n for n in sorted(series) if lookup(n, "series") is None] == []


def test_every_catalogue_entry_is_reported_somewhere(reported):
    metrics, series = reported
    hit = {lookup(n).pattern for n in metrics} | {("series", lookup(n, "series").pattern) for n in series}
    unused = [m.pattern for m in CATALOGUE if (m.pattern if m.table == "metrics" else ("series", m.pattern)) not in hit]
    assert unused == []


def test_catalogue_patterns_are_unique():
    keys = [(m.table, m.pattern) for m in CATALOGUE]
    assert len(keys) == len(set(keys))


def test_lookup_prefers_the_most_specific_pattern():
    assert lookup("utilisation.qc.lab-1").pattern == "utilisation.qc.<lab>"
    assert lookup("utilisation.dp-batch").pattern == "utilisation.<line>"
    assert lookup("total.released.dp-batch").unit == "units"
    assert lookup("first_release.cdmo.cdmo-eu").producer == "supply network"
    assert lookup("no.such.metric") is None


def test_merge_refuses_a_duplicate_name():
    assert merge([("a", {"x": 1}), ("b", {"y": 2})]) == {"x": 1, "y": 2}
    with pytest.raises(DuplicateMetricError, match="'x' reported by both a and b"):
        merge([("a", {"x": 1}), ("b", {"x": 2})])


def test_results_readme_tables_are_generated_from_the_catalogue():
    text = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    assert markdown() in text
    assert markdown("series") in text


def test_metrics_command_looks_a_name_up_and_prints_the_tables():
    from click.testing import CliRunner

    from sim.cli import cli
    run = CliRunner().invoke
    res = run(cli, ["metrics", "total.released.dp-batch"])
    assert res.exit_code == 0 and res.output.startswith("total.released.<line>") and "units" in res.output
    res = run(cli, ["metrics", "utilisation"])
    assert {line.split()[0] for line in res.output.splitlines()} == {
        "utilisation.<line>", "utilisation.qc.<lab>", "utilisation.qa.<lab>", "utilisation.packaging",
        "utilisation.cro.<cro>", "utilisation.slots.<trial>"}
    assert run(cli, ["metrics", "--markdown"]).output == markdown() + "\n"
    assert run(cli, ["metrics", "--series", "--markdown"]).output == markdown("series") + "\n"
    res = run(cli, ["metrics", "no-such-thing"])
    assert res.exit_code == 1 and "no metrics entry matches 'no-such-thing'" in res.output
