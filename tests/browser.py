"""Shared pieces of the real-browser tests: `streamlit run app.py` on a loopback port and headless Debian Chromium
driven by Playwright, with every non-loopback request refused."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from tests.servers import free_port, stop, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]



@contextlib.contextmanager
def running_app(tmp_path, extra_env: dict):
    """`streamlit run app.py` as a user would start it, on a free loopback port; yields its URL."""
    port = free_port()
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "ASSISTANT_CHAT_DB": str(tmp_path / "chat.db"),
           **extra_env}
    log_path = tmp_path / "streamlit.log"
    log = log_path.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
                             "--server.port", str(port), "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/_stcore/health", proc, lambda: log_path.read_text(errors="replace"), 120)
        yield url
    finally:
        stop(proc, grace_s=20)
        log.close()



@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed at /usr/bin/chromium (Debian package 'chromium', in requirements-system.txt)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")

        def loopback_only(route):
            host = urlparse(route.request.url).hostname or ""
            if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", loopback_only)
        page.set_default_timeout(60_000)
        try:
            yield page
        finally:
            browser.close()


def settle(page) -> None:
    """Wait until the app has finished its run: no running indicator and no stale (greyed) elements left."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
                           " && !document.querySelector('[data-stale=\"true\"]')")
