"""The KPI report: every KPI is a catalogued metric, the page is self-contained and shows the folder's
numbers, a comparison shows its paired differences, and an unfinished folder is refused."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sim.cli import cli
from sim.metrics import lookup
from sim.report.kpis import KPIS
from sim.report.tables import number
from tests.conftest import scenario_dict


def _rows(path: Path) -> dict[str, dict]:
    with open(path, newline="") as fh:
        return {r["metric"]: r for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    d = scenario_dict(horizon=120)
    d["trials"][0]["regions"][0]["activation"] = 20
    (tmp / "s.yaml").write_text(yaml.safe_dump(d))
    run = CliRunner().invoke(cli, ["run", str(tmp / "s.yaml"), "--reps", "3", "--out", str(tmp / "run"),
                                   "--workers", "1"])
    assert run.exit_code == 0, run.output
    cmp = CliRunner().invoke(cli, ["compare", str(tmp / "s.yaml"), str(tmp / "s.yaml"), "--set-b",
                                   "trials.t.regions.r.enrollment_rate=0.2", "--reps", "3", "--workers", "1",
                                   "--out", str(tmp / "cmp"), "--no-figures"])
    assert cmp.exit_code == 0, cmp.output
    return tmp


def test_every_kpi_is_a_catalogued_metric():
    for k in KPIS:
        concrete = re.sub(r"<[a-z_]+>", "x", k.pattern)
        entry = lookup(concrete)
        assert entry is not None and entry.pattern == k.pattern, k.pattern


def test_report_of_a_run_is_one_self_contained_page_with_its_numbers(folders):
    res = CliRunner().invoke(cli, ["report", str(folders / "run")])
    assert res.exit_code == 0, res.output
    html = (folders / "run" / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", html)  # nothing fetched from outside
    assert html.count('src="data:image/png;base64,') >= 3  # throughput, inventory, delays ... embedded
    for group in ("patient service", "time to market", "supplier performance", "quality and compliance",
                  "cost of quality", "resource utilisation"):
        assert f"<h2>{group}</h2>" in html
    s = _rows(folders / "run" / "summary.csv")["dosed_fraction"]
    expected = f"{number(float(s['mean']))} [{number(float(s['ci_low']))}, {number(float(s['ci_high']))}]"
    assert expected in html
    md = (folders / "run" / "kpis.md").read_text(encoding="utf-8")
    chain = md.split("## time-to-market chain")[1].split("\n## ")[0]
    days = [float(ln.split(" | ")[1].split(" [")[0].replace(",", "")) for ln in chain.splitlines()
            if ln.startswith("| ") and not ln.startswith("| milestone") and " | – " not in ln]
    assert len(days) >= 2 and days == sorted(days)  # milestones in the order they are reached
    assert "## patient service" in md and f"| visits dosed within the window | fraction | {expected} |" in md
    tex = (folders / "run" / "kpis.tex").read_text(encoding="utf-8")
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 1
    body = [ln for ln in tex.splitlines() if ln.endswith(r"\\") and "multicolumn" not in ln]
    assert body and all(ln.count(" & ") == 2 for ln in body)  # KPI, unit, one scenario


def test_report_of_a_comparison_shows_the_paired_differences(folders):
    res = CliRunner().invoke(cli, ["report", str(folders / "cmp"), "--out", str(folders / "cmp-report"),
                                   "--no-figures"])
    assert res.exit_code == 0, res.output
    md = (folders / "cmp-report" / "kpis.md").read_text(encoding="utf-8")
    diff = _rows(folders / "cmp" / "comparison.csv")["dosed_fraction"]
    cell = f"{number(float(diff['difference']))} [{number(float(diff['ci_low']))}, {number(float(diff['ci_high']))}]"
    line = next(ln for ln in md.splitlines() if ln.startswith("| visits dosed within the window |"))
    assert cell in line and line.count("|") == 6  # KPI, unit, A, B, B - A
    assert "s-b − s-a" in md


def test_report_refuses_an_unfinished_or_foreign_folder(folders, tmp_path):
    res = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "no summary.csv" in res.output
    marker = folders / "run" / ".pharmasim.json"
    text = marker.read_text()
    marker.write_text(text.replace('"complete"', '"running"'))
    try:
        res = CliRunner().invoke(cli, ["report", str(folders / "run")])
        assert res.exit_code == 2 and "did not finish" in res.output
    finally:
        marker.write_text(text)
