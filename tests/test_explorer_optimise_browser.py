"""The explorer's Optimise panel in a real browser (headless Chromium via Playwright, as
tests/test_explorer_browser.py): on the newsvendor scenario, choose the packaging quantity as the
decision variable, a weighted objective and a tiny budget, start, see the progress and the candidates
table fill, and download a best.yaml that is a valid scenario."""
from __future__ import annotations

import shutil

import pytest

from sim.scenario import load_scenario
from tests.explorer_support import ARGS, CHROMIUM, ROOT, explorer, needs_chromium, playwright_api

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python run_sim.py explore newsvendor-scenario.yaml --reps 3`` in a fresh folder."""
    folder = tmp_path_factory.mktemp("explore-optimise")
    shutil.copy(ROOT / "scenarios" / "optimise" / "newsvendor-scenario.yaml", folder)
    with explorer(folder, "newsvendor-scenario.yaml", "--reps", "3") as url:
        yield url


def test_start_an_optimisation_see_its_progress_and_download_the_best(server, tmp_path):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(server)
        page.get_by_text("3 of 3 replications ✓").first.wait_for(timeout=90_000)   # the baseline
        page.get_by_text("Optimise: the best setting").click()
        box = page.locator("input[aria-label^='decision variable']")
        box.fill("lines.pack-run.batch_size")
        box.press("Enter")
        page.locator("input[aria-label=type]").click()
        page.get_by_role("option", name="integer").click()
        page.locator("input[aria-label=low]").fill("10")
        page.locator("input[aria-label=high]").fill("35")
        page.get_by_role("button", name="Add").click()
        page.get_by_text("lines.pack-run.batch_size: integer from 10 to 35").wait_for(timeout=10_000)
        objective = page.locator("input[aria-label^='objective']")
        objective.fill("{total.packaged.kits: 1, total.visits.not_dosed: 4}")
        objective.press("Enter")
        for label, value in (("candidates", "6"), ("reps per candidate", "3"), ("finalists", "2"),
                             ("indifference zone", "1"), ("first reps (KN)", "5"), ("max reps per finalist", "30")):
            page.locator(f"input[aria-label='{label}']").fill(value)
        page.get_by_role("button", name="Start optimisation").click()
        page.locator("text=/of 6 candidates, \\d+ replications/").wait_for(timeout=60_000)      # progress
        page.locator("text=/6 of 6 candidates, .*✓/").wait_for(timeout=120_000)               # the answer
        page.wait_for_timeout(800)                                                            # the table's refresh
        table = page.locator("table", has_text="configuration").last
        assert "← best" in table.inner_text()
        page.screenshot(path=str(tmp_path / "optimise.png"), full_page=True)
        with page.expect_download() as dl:
            page.get_by_role("button", name="Download best.yaml").click()
        dl.value.save_as(tmp_path / "best.yaml")
        browser.close()
    assert 10 <= load_scenario(tmp_path / "best.yaml").lines[0].batch_size <= 35
