"""Time to first result in the explorer: from `run_sim.py explore` launched to the baseline's KPIs in a
headless Chromium page (Debian's /usr/bin/chromium through Playwright), and to all 20 replications.

    python bench/bench_explore.py [WHAT-IF BUTTON LABEL] [--runs cold,warm] [--browser-first]

Each run launches the explorer afresh.  ``cold``: with a new, empty run cache (the baseline is
computed); ``warm``: with the cache the cold run left (the baseline, and a what-if asked before, are
read from it); ``nocache``: ``--no-cache``.  With a button label (a guided what-if), each run then clicks
it and times the what-if's 20 replications.  ``--browser-first`` starts Chromium before the explorer
(as for a user whose browser is already open) instead of after the server answers.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PORT = 8741


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("label", nargs="?", help="a what-if button to click once the baseline is done")
    ap.add_argument("--runs", default="cold,warm", help="comma-separated: cold, warm, nocache")
    ap.add_argument("--browser-first", action="store_true", help="start Chromium before the explorer")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-explore-cache-", ignore_cleanup_errors=True) as cache, sync_playwright() as p:
        for run in args.runs.split(","):
            print(f"{run:>7}: {measure(p, cache, run, args.label, args.browser_first)}", flush=True)


def measure(p, cache: str, run: str, label: str | None, browser_first: bool) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NICEGUI_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["PHARMASIM_CACHE_DIR"] = cache
    if run == "cold":
        shutil.rmtree(cache, ignore_errors=True)
    extra = ["--no-cache"] if run == "nocache" else []
    t0 = time.time()
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS) if browser_first else None
    proc = subprocess.Popen([sys.executable, "run_sim.py", "explore", "--port", str(PORT), *extra], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{PORT}/"
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    t_up = time.time() - t0
    try:
        browser = browser or p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1150})
        page.goto(url)
        t_page = time.time() - t0
        row = page.locator("table").first.locator("tr", has=page.locator('td:text-is("dosed_fraction")'))
        cell = row.locator("td").nth(2)
        cell.wait_for(timeout=120000)
        while not cell.inner_text().strip():
            time.sleep(0.05)
        t_first = time.time() - t0
        page.get_by_text("20 of 20 replications ✓").first.wait_for(timeout=180000)
        t_all = time.time() - t0
        text = (f"server up {t_up:.1f} s; page loaded {t_page:.1f} s; first partial KPIs {t_first:.1f} s; "
                f"20 of 20 baseline replications {t_all:.1f} s")
        if label:
            t1 = time.time()
            page.get_by_role("button", name=label).click()
            page.locator("text=20 of 20 replications ✓").nth(1).wait_for(timeout=240000)
            text += f"; what-if: 20 replications {time.time() - t1:.1f} s after the click"
        browser.close()
        return text
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    main()
