"""The explorer in a real browser: headless Chromium (Debian's ``chromium``, driven by Playwright — no
browser download) against ``pharmasim explore`` started as a user starts it.

It loads the page, sees the baseline's KPIs, gets the schema's message beside a wrong field, changes a
field, runs a few replications, checks that the KPIs and figures update, downloads the YAML and checks
that ``run_sim.py run`` on it gives the numbers the page showed; two tabs do not mix their runs, closing
one cancels its run, and a typed path outside the start folder is refused.
"""
from __future__ import annotations

import csv
import time

import pytest

from sim.explorer.results import fmt
from sim.scenario import load_scenario
from tests.explorer_support import ROOT, browser, explorer, needs_chromium  # noqa: F401 - browser: a fixture

REPS = 3

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python run_sim.py explore --reps 3`` in a fresh folder holding one scenario file."""
    folder = tmp_path_factory.mktemp("explore")
    (folder / "mine.yaml").write_text((ROOT / "sim" / "data" / "default.yaml").read_text(encoding="utf-8"))
    (folder.parent / "outside.yaml").write_text("name: x\n")
    with explorer(folder, "--reps", str(REPS)) as url:
        yield url, folder, folder / "server.log"


def _field(page, path: str):
    return page.locator(f'input[data-path="{path}"]')


def _box(page, path: str):
    return page.locator(f'label:has(input[data-path="{path}"])')


def _kpi(page, metric: str) -> list[str]:
    row = page.locator("table").first.locator("tr", has=page.locator(f'td:text-is("{metric}")'))
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def test_change_run_compare_and_download(server, browser, tmp_path):
    url, _, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    done = f"{REPS} of {REPS} replications ✓"
    page.get_by_text(done).first.wait_for(timeout=90_000)            # the baseline
    assert _kpi(page, "dosed_fraction")[2] != ""

    # a wrong value: the schema's message beside the field, and nothing runs
    _field(page, "lines[0].qc_time.mean").fill("-3")
    page.get_by_text("expected greater than 0; got -3").wait_for(timeout=10_000)
    assert "expected greater than 0; got -3" in _box(page, "lines[0].qc_time.mean").inner_text()

    # a valid what-if: stock-outs when kits expire sooner
    _field(page, "lines[0].qc_time.mean").fill("30")
    page.get_by_text("Resupply and shelf life").click()              # a closed topic of the common what-ifs
    _field(page, "packaging.shelf_life").fill("540")
    page.wait_for_timeout(500)
    assert "expected" not in _box(page, "lines[0].qc_time.mean").inner_text()
    command = page.locator("[class*=q-code], pre").first.inner_text()
    assert "--set packaging.shelf_life=540" in command
    page.get_by_role("button", name="Run what-if").click()
    page.locator(f"text={done}").nth(1).wait_for(timeout=90_000)
    page.wait_for_timeout(1200)  # the next refresh of the table and figures
    row = _kpi(page, "dosed_fraction")
    whatif, diff, verdict = row[3], row[4], row[5]
    assert whatif and diff and verdict, row
    assert page.locator("svg text", has_text="· what-if").count() >= 4   # each figure overlays the what-if
    assert page.locator("svg text", has_text="· baseline").count() >= 4

    # the downloaded scenario is valid and run_sim.py gives the numbers shown
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download scenario YAML").click()
    yaml_path = tmp_path / "whatif.yaml"
    dl.value.save_as(yaml_path)
    sc = load_scenario(yaml_path)
    assert sc.packaging.shelf_life == 540 and sc.replications == REPS
    out = tmp_path / "run"
    from click.testing import CliRunner
    from sim.cli import cli                       # run_sim.py's command line, in this process
    res = CliRunner().invoke(cli, ["run", str(yaml_path), "--out", str(out), "--no-figures", "--workers", "1"])
    assert res.exit_code == 0, res.output
    with open(out / "summary.csv", newline="") as fh:
        summary = {r["metric"]: r for r in csv.DictReader(fh)}
    for metric in ("dosed_fraction", "total.visits.not_dosed", "cost.total"):
        shown = _kpi(page, metric)[3]
        mean, half = float(summary[metric]["mean"]), float(summary[metric]["half_width"])
        assert shown == f"{fmt(mean)} ± {fmt(half)}", (metric, shown)

    with page.expect_download() as dl:
        page.get_by_role("button", name="Download results (zip)").click()
    import zipfile
    names = zipfile.ZipFile(dl.value.path()).namelist()
    assert {"whatif.yaml", "command.txt", "comparison.csv", "baseline/summary.csv", "whatif/summary.csv"} <= set(names)
    page.close()


def test_tabs_are_isolated_and_closing_one_cancels_its_run(server, browser):
    url, _, log = server
    a = browser.new_page()
    b = browser.new_page()
    a.goto(url)
    b.goto(url)
    b.locator("input[aria-label=replications]").fill("100")          # long enough to be running when closed
    b.get_by_role("button", name="QC capacity").click()             # the tour runs a what-if in tab B
    b.get_by_text("QC capacity: QC release time goes up").wait_for(timeout=10_000)
    assert b.locator('input[data-path="lines[0].qc_time.mean"]').input_value() == "37"
    a.wait_for_timeout(1000)
    assert a.locator('input[data-path="lines[0].qc_time.mean"]').input_value() == "30"
    assert "not run yet" in a.get_by_text("not run yet").first.inner_text()
    b.close()                                                         # before its run can finish
    deadline = time.time() + 30
    while "closed: its what-if run was cancelled" not in log.read_text(encoding="utf-8"):
        assert time.time() < deadline, log.read_text(encoding="utf-8")
        time.sleep(0.3)
    assert "not run yet" in a.get_by_text("not run yet").first.inner_text()
    a.close()


def test_a_path_outside_the_start_folder_is_refused(server, browser):
    url, folder, _ = server
    page = browser.new_page()
    page.goto(url)
    box = page.locator("input[aria-label=scenario]")
    for text in ("../outside.yaml", str(folder.parent / "outside.yaml")):
        box.fill(text)
        box.press("Enter")
        page.get_by_role("button", name="Open").click()
        page.get_by_text("outside the folders this explorer was started with").wait_for(timeout=10_000)
        page.get_by_role("button", name="Close").click()
    # a file inside it opens
    box.fill("mine.yaml")
    box.press("Enter")
    page.get_by_role("button", name="Open").click()
    page.get_by_text("phase3-small-molecule (mine.yaml)").wait_for(timeout=10_000)
    page.close()
