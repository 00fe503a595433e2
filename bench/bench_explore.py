"""Time to first result in the explorer: from `run_sim.py explore` launched to the baseline's KPIs in a
headless Chromium page (Debian's /usr/bin/chromium through Playwright), and to all 20 replications.

    python bench/bench_explore.py [WHAT-IF BUTTON LABEL]

With a button label (a guided what-if), it then clicks it and times the what-if's 20 replications.
"""
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PORT = 8741


def main() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NICEGUI_"))}
    env["PYTHONPATH"] = str(ROOT)
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "run_sim.py", "explore", "--port", str(PORT)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{PORT}/"
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    t_up = time.time() - t0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1150})
            page.goto(url)
            t_page = time.time() - t0
            row = page.locator("table").first.locator("tr", has=page.locator('td:text-is("dosed_fraction")'))
            cell = row.locator("td").nth(2)
            cell.wait_for(timeout=120000)
            while not cell.inner_text().strip():
                time.sleep(0.1)
            t_first = time.time() - t0
            page.get_by_text("20 of 20 replications ✓").first.wait_for(timeout=180000)
            t_all = time.time() - t0
            print(f"server up {t_up:.1f} s; page loaded {t_page:.1f} s; first partial KPIs {t_first:.1f} s; "
                  f"20 of 20 baseline replications {t_all:.1f} s")
            if len(sys.argv) > 1:
                t1 = time.time()
                page.get_by_role("button", name=sys.argv[1]).click()
                page.locator("text=20 of 20 replications ✓").nth(1).wait_for(timeout=240000)
                print(f"what-if: 20 replications {time.time() - t1:.1f} s after the click")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    main()
