"""Simulation optimisation: Kim-Nelson selection meets its guarantee on normal outputs (with and without
common random numbers), and the whole optimiser finds the textbook base-stock level; resume re-runs
nothing; a wrong optimisation file is named."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats

from sim.cli import cli
from sim.optimise.selection import kn_select
from sim.scenario import load_scenario
from tests.optimise_support import CASES


@pytest.mark.parametrize("shared", [0.0, 2.0])
def test_kn_selects_the_best_with_the_stated_probability(shared):
    """Slippage configuration: 5 normal systems, the best delta = 0.5 below the others, sd 1; 400
    macro-replications.  KN promises P(correct) >= 0.95; allow 3 SE below it.  With a shared noise term
    (common random numbers, sd 2) the paired procedure keeps the guarantee."""
    rng = np.random.default_rng(11)
    means, correct, used = np.array([0.0, 0.5, 0.5, 0.5, 0.5]), 0, []
    for _ in range(400):
        common = rng.normal(0, 1, 2000) * shared
        noise = rng.normal(0, 1, (5, 2000))
        sel = kn_select(lambda i, r: means[i] + common[r] + noise[i, r], 5, 0.5, 0.05, n0=10, max_reps=2000)
        correct += sel.best == 0
        used.append(sum(sel.replications.values()))
    pcs = correct / 400
    assert pcs >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / 400), pcs
    assert np.mean(used) < 5 * 2000  # it stops long before the cap


def _files(tmp_path, **search):
    """The shipped base-stock case (scenarios/optimise/base-stock.yaml), copied to *tmp_path*."""
    (tmp_path / "base-stock-scenario.yaml").write_text((CASES / "base-stock-scenario.yaml").read_text())
    o = yaml.safe_load((CASES / "base-stock.yaml").read_text())
    o["search"].update(search)
    (tmp_path / "opt.yaml").write_text(yaml.safe_dump(o))
    return tmp_path / "opt.yaml"


def test_the_optimiser_finds_the_cheapest_base_stock_meeting_a_fill_rate_and_resumes(tmp_path):
    """Poisson demand 2 a day, lead time 5: the fill rate of base stock S is P(D <= S - 1), D ~ Poisson(10),
    and stock on hand grows with S, so the optimum is the smallest S with that at least 0.9: S* = 15.
    The search (12 candidates x 4 replications) and the selection (3 finalists) find it; --resume then
    re-runs nothing."""
    s_star = next(s for s in range(1, 40) if stats.poisson(10).cdf(s - 1) >= 0.9)
    assert s_star == 15
    opt = _files(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["optimise", str(opt), "--out", str(out), "--workers", "1", "--progress"])
    assert res.exit_code == 0, res.output
    assert f"best: materials.m.policy.level = {s_star}" in res.output
    assert "search 12/12 candidates" in res.output and "in contention" in res.output  # the progress line
    summary = json.loads((out / "optimisation.json").read_text())
    assert summary["best"] == {"materials.m.policy.level": 15} and summary["feasible"]
    assert "Kim-Nelson" in summary["guarantee"] and summary["replications"] > 0
    assert load_scenario(out / "best.yaml").materials[0].policy.level == 15  # a ready scenario file
    rows = (out / "candidates.csv").read_text().splitlines()
    assert rows[1].startswith("15,") and rows[1].endswith("True,True,True")  # chosen, finalist, feasible
    assert (out / "tradeoff.png").is_file()
    again = CliRunner().invoke(cli, ["optimise", str(opt), "--out", str(out), "--workers", "1", "--resume"])
    assert again.exit_code == 0 and "0 replications run" in again.output


@pytest.mark.parametrize("change, message", [
    ({"variables": [{"path": "materials.m.policy.nothing", "low": 1, "high": 2}]}, "variables[0]"),
    ({"objective": {}}, "objective"),
    ({"variables": [{"path": "materials.m.policy.level", "low": 5, "high": 1}]}, "low <= high"),
])
def test_a_wrong_optimisation_file_is_named(tmp_path, change, message):
    opt = _files(tmp_path)
    data = yaml.safe_load(opt.read_text())
    data.update(change)
    opt.write_text(yaml.safe_dump(data))
    res = CliRunner().invoke(cli, ["optimise", str(opt), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output


def test_a_wrong_scheduler_is_named_before_anything_runs(tmp_path):
    res = CliRunner().invoke(cli, ["optimise", str(_files(tmp_path)), "--out", str(tmp_path / "o"),
                                   "--scheduler", "ftp://nowhere"])
    assert res.exit_code == 2 and "expected tcp://HOST:PORT or 'local'" in res.output
    assert not (tmp_path / "o").exists()
