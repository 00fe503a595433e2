"""The run cache as a user meets it (headless Chromium, as tests/test_explorer_browser.py): a second
``explore`` with the same cache shows the finished baseline in the page as first sent — the same
numbers as the first session computed — and a what-if asked before is back at the click; with
``--no-cache`` the baseline is computed again."""
from __future__ import annotations

import json

from tests.explorer_support import browser, explorer, needs_chromium  # noqa: F401 - browser: a fixture

pytestmark = needs_chromium
REPS = 2
DONE = f"{REPS} of {REPS} replications ✓"


def _kpi(page, metric: str) -> str:
    row = page.locator("table").first.locator("tr", has=page.locator(f'td:text-is("{metric}")'))
    return row.locator("td").nth(2).inner_text().strip()


def test_a_second_session_shows_the_cached_baseline_at_page_load(tmp_path, browser):
    first = {}
    with explorer(tmp_path, "--reps", str(REPS)) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_text(DONE).first.wait_for(timeout=90_000)
        page.wait_for_timeout(700)                                    # the table's next refresh
        first = {m: _kpi(page, m) for m in ("dosed_fraction", "cost.total")}
        page.get_by_role("button", name="QC capacity").click()         # a tour what-if, computed
        page.locator(f"text={DONE}").nth(1).wait_for(timeout=90_000)
        page.wait_for_timeout(700)
        whatif = page.locator("table").first.inner_text()
        page.close()
    assert first["dosed_fraction"] and (tmp_path / ".run-cache").is_dir()

    with explorer(tmp_path, "--reps", str(REPS)) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        # in the page as sent: no replication runs, no refresh is waited for
        assert page.get_by_text(DONE).first.is_visible()
        assert {m: _kpi(page, m) for m in first} == first
        page.get_by_role("button", name="QC capacity").click()
        page.locator(f"text={DONE}").nth(1).wait_for(timeout=5_000)  # the what-if: from the cache too
        page.wait_for_timeout(700)
        assert page.locator("table").first.inner_text() == whatif
        page.locator("svg text", has_text="· what-if").first.wait_for(timeout=10_000)   # the figures follow
        page.close()

    # with --no-cache the entries are neither read nor written: marked entries (every replication's
    # KPIs set to 0.5 and 7) would show if read, and stay marked (whether the baseline is done by the time
    # the page loads depends on the machine's speed, so that is not what is checked)
    entries = sorted((tmp_path / ".run-cache").glob("*/entry.json"))
    assert entries
    for path in entries:
        data = json.loads(path.read_text(encoding="utf-8"))
        for m in data["metrics"].values():
            m["dosed_fraction"], m["cost.total"] = 0.5, 7.0
        path.write_text(json.dumps(data), encoding="utf-8")
    marked = {path: path.read_bytes() for path in entries}
    with explorer(tmp_path, "--reps", str(REPS), "--no-cache") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_text(DONE).first.wait_for(timeout=90_000)       # computed again
        page.wait_for_timeout(700)
        assert {m: _kpi(page, m) for m in first} == first           # the numbers computed, not the marked ones
        page.close()
    assert {path: path.read_bytes() for path in entries} == marked
