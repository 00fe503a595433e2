"""Starting ``pharmasim explore`` for the browser tests, as a user starts it, and Debian's Chromium
(a module importing this is skipped without Playwright; mark it ``pytestmark = needs_chromium``)."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="the test extra's playwright is not installed")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install "
                                                             "chromium); the browser tests need it")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def explorer(folder: Path, *args: str) -> Iterator[str]:
    """``python run_sim.py explore ARGS --port P`` run in *folder* (its log: folder/server.log); yields
    its address once it answers, and stops it at the end."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NICEGUI_"))}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PHARMASIM_CACHE_DIR"] = str(folder / ".run-cache")  # the user's own cache is not touched
    log = open(folder / "server.log", "w+", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_sim.py"), "explore", *args, "--port", str(port)],
                            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                log.seek(0)
                pytest.fail(f"the explorer did not start: {log.read()[-2000:]}")
            time.sleep(0.3)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for a test module (import this fixture into it)."""
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
