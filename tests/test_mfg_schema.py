"""Bad supply-side input: one clear problem per line naming the field path, the value and what was expected."""
from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.core.errors import ScenarioError
from sim.scenario import dump_scenario, load_scenario, parse_scenario
from tests.mfg_support import base_dict

ROOT = Path(__file__).resolve().parents[1]

BATCH = {"name": "bl", "kind": "batch", "material": "api", "material_per_batch": 1, "batch_size": 10,
         "cycle_time": 2}
MULTI = {"name": "ml", "kind": "batch", "products": [
    {"product": "a", "bom": {"api": 1}, "batch_size": 10, "cycle_time": 2},
    {"product": "b", "bom": {"api": 2}, "batch_size": 10, "cycle_time": 3}]}
CONT = {"name": "cl", "kind": "continuous", "material": "api", "material_per_unit": 0.1, "rate": 5,
        "lot_size": 10}
LAB = {"name": "lab", "analysts": 1, "tests": [{"name": "assay", "time": 1}]}


def named(expected: str | tuple[str, ...], found: list[str]) -> bool:
    """Some problem contains every expected piece (pydantic's own wording may vary slightly)."""
    pieces = (expected,) if isinstance(expected, str) else expected
    return any(all(x in p for x in pieces) for p in found)


def problems(d: dict) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(d, "x.yaml")
    return err.value.problems


def with_line(line: dict, **top) -> dict:
    return base_dict([line], **top)


@pytest.mark.parametrize("d,expected", [
    (with_line(dict(MULTI, products=[dict(MULTI["products"][0], bom={"api": 1, "solvent": 3})])),
     "lines[0].products[0].bom.solvent: unknown material 'solvent': no supplier supplies it and no line makes it"),
    (with_line(dict(BATCH, bom={"excipient": 4})),
     "lines[0].bom.excipient: unknown material 'excipient'"),
    (with_line(dict(CONT, rate=-5)), ("lines[0].rate: expected", "greater than 0; got -5")),
    (with_line(dict(MULTI, products=[dict(MULTI["products"][1], rate=-1)])), "lines[0].products[0].rate: unknown field"),
    (with_line(dict(MULTI, products=[])), "lines[0].products: a line must make at least one product; got []"),
    (with_line({k: v for k, v in BATCH.items() if k != "batch_size"}),
     "lines[0].batch_size: required field is missing (or list the line's `products`)"),
    (with_line(dict(MULTI, batch_size=5)), "lines[0]: give product fields either on the line or in `products`"),
    (with_line(dict(BATCH, qc_lab="lab")), "lines[0].qc_lab: unknown QC lab 'lab' (qc_labs: [])"),
    (with_line(dict(BATCH, qc_lab="lab", qc_tests=["sterility"]), qc_labs=[LAB]),
     "lines[0].qc_tests: lab 'lab' has no test 'sterility' (tests: ['assay'])"),
    (with_line(dict(CONT, qc_lab="lab"), qc_labs=[LAB]), "lines[0].release: real-time release does not use a QC lab"),
    (with_line(dict(CONT, release="end_of_run")), "lines[0].release: end-of-run release needs runs of finite length"),
    (with_line(dict(BATCH, product="api")), "lines[0].product: 'api' is also a supplied raw material"),
    (with_line(dict(BATCH, rework_yield=1.5)), ("lines[0].rework_yield: expected", "less than or equal to 1; got 1.5")),
    (with_line(dict(BATCH, slots=[{"start": 10, "end": 5}])), "lines[0].slots[0].end: expected after start (10); got 5"),
    (with_line(dict(BATCH, plan={"policy": "make_to_stock"})), "lines[0].plan.reorder_point: required by the make_to_stock production plan"),
    (with_line(dict(BATCH, plan={"policy": "make_to_forecast", "trials": ["P9"]})),
     "lines[0].plan.trials[0]: unknown trial 'P9'"),
    (with_line(dict(BATCH, time_to_repair=1)),
     "lines[0].time_between_failures: required with time_to_repair (give both, or neither)"),
])
def test_each_supply_problem_is_named(d, expected):
    found = problems(d)
    assert named(expected, found), found


def test_make_to_forecast_upstream_of_make_to_stock_is_refused():
    d = base_dict([
        {"name": "api-line", "kind": "batch", "products": [
            {"product": "ds", "bom": {"api": 1}, "batch_size": 10, "cycle_time": 1,
             "plan": {"policy": "make_to_forecast"}}]},
        {"name": "dp-line", "kind": "batch", "products": [
            {"product": "dp", "bom": {"ds": 1}, "batch_size": 10, "cycle_time": 1,
             "plan": {"policy": "make_to_stock", "reorder_point": 5, "campaign": 2}}]}])
    (p,) = problems(d)
    assert p.startswith("lines[1].products[0].plan: 'dp' is make_to_stock")


def test_products_made_from_each_other_are_refused():
    d = base_dict([
        {"name": "l1", "kind": "batch", "products": [{"product": "x", "bom": {"y": 1}, "batch_size": 1, "cycle_time": 1}]},
        {"name": "l2", "kind": "batch", "products": [{"product": "y", "bom": {"x": 1}, "batch_size": 1, "cycle_time": 1}]}])
    assert any("made, through its bills of materials, from itself" in p for p in problems(d))


@pytest.mark.parametrize("change,expected", [
    (lambda d: d["suppliers"].append(dict(d["suppliers"][0], name="sup2")),
     "suppliers: material 'api' has 2 suppliers ['sup', 'sup2']; add a `materials` entry"),
    (lambda d: d["suppliers"][0].pop("order_quantity"),
     "suppliers[0].order_quantity: required field is missing (or give material 'api' a policy under `materials`)"),
    (lambda d: d.update(materials=[{"name": "api", "policy": {"kind": "sS", "reorder_point": 5, "order_up_to": 3}}]),
     "materials[0].policy.order_up_to: expected more than reorder_point (5); got 3"),
    (lambda d: d.update(materials=[{"name": "api", "policy": {"kind": "Ss", "level": 3}}]),
     ("materials[0].policy", "'Ss'", "'base_stock'")),
    (lambda d: d.update(materials=[{"name": "api", "policy": {"kind": "base_stock", "level": -3}}]),
     ("materials[0].policy.level: expected", "greater than or equal to 0; got -3")),
    (lambda d: d.update(materials=[{"name": "talc", "policy": {"kind": "base_stock", "level": 3}}]),
     "materials[0].name: 'talc' has no supplier"),
    (lambda d: d.update(materials=[{"name": "api", "policy": {"kind": "base_stock", "level": 3}, "allocation": "split"}]),
     "materials[0].shares: required for allocation 'split'"),
    (lambda d: d.update(materials=[{"name": "api", "policy": {"kind": "base_stock", "level": 3}, "sources": ["acme"]}]),
     "materials[0].sources[0]: 'acme' does not supply 'api'"),
    (lambda d: d.update(materials=[{"name": "api", "policy": {"kind": "base_stock", "level": 3},
                                    "incoming_qc": {"lab": "lab", "test": "nmr"}}], qc_labs=[LAB]),
     "materials[0].incoming_qc.test: lab 'lab' has no test 'nmr'"),
    (lambda d: d["suppliers"][0].update(on_time_prob=1.2), ("suppliers[0].on_time_prob: expected", "less than or equal to 1; got 1.2")),
    (lambda d: d["suppliers"][0].update(capacity={"quantity": 0}), ("suppliers[0].capacity.quantity: expected", "greater than 0; got 0")),
    (lambda d: d.update(qc_labs=[dict(LAB, analysts=0)]), ("qc_labs[0].analysts: expected", "greater than or equal to 1; got 0")),
])
def test_each_material_problem_is_named(change, expected):
    d = with_line(BATCH)
    change(d)
    found = problems(d)
    assert named(expected, found), found


def test_several_cross_reference_problems_are_listed_separately():
    d = with_line(dict(BATCH, bom={"x": 1}, qc_lab="nolab"))
    found = problems(d)
    assert len(found) == 2 and all(p.startswith("lines[0].") for p in found)


def test_cli_exit_2_names_file_and_bom_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(with_line(dict(BATCH, bom={"solvent": 3}))))
    res = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), "validate", str(bad)],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{bad}: invalid scenario (1 problem)" in res.stderr
    assert "lines[0].bom.solvent: unknown material 'solvent'" in res.stderr


def test_example_scenarios_validate_and_round_trip():
    files = sorted((ROOT / "scenarios").glob("mfg_*.yaml"))
    assert len(files) >= 2
    for f in files:
        sc = load_scenario(f)
        assert parse_scenario(yaml.safe_load(dump_scenario(sc))) == sc
    d = copy.deepcopy(with_line(MULTI))
    d["kit_types"] = [{"name": "kit", "product": "a"}]
    assert parse_scenario(yaml.safe_load(dump_scenario(parse_scenario(d)))) == parse_scenario(d)
