"""A real browser (Debian's headless Chromium driven by Playwright) against `streamlit run app.py`: a conversation
survives a page reload."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_server(tmp_path):
    """The app started as a user would start it, answering from a replay file, on a free loopback port."""
    replies = tmp_path / "replies.jsonl"
    replies.write_text(json.dumps({"content": "巴黎是法国的首都。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "ASSISTANT_REPLAY_FILE": str(replies), "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
           "ASSISTANT_CHAT_DB": str(tmp_path / "chat.db")}
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
                             "--server.port", str(port), "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("streamlit exited: " + (tmp_path / "streamlit.log").read_text()[-2000:])
                time.sleep(0.2)
        else:
            pytest.fail("streamlit did not start: " + (tmp_path / "streamlit.log").read_text()[-2000:])
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
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


def test_a_conversation_survives_a_page_reload(app_server, browser_page):
    page = browser_page
    page.goto(app_server)
    sidebar = page.get_by_test_id("stSidebar")
    # With ASSISTANT_REPLAY_FILE set the page starts on the replay provider (the documented test hook).
    page.get_by_text("replay · replay").wait_for()

    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("法国的首都是哪里？")
    box.press("Enter")
    page.get_by_text("巴黎是法国的首都。").wait_for()
    page.wait_for_url(re.compile(r"[?&]c=[0-9a-f]{32}"))
    assert re.search(r"[?&]u=[0-9a-f]{32}", page.url)
    before = page.url

    page.reload()
    page.get_by_text("巴黎是法国的首都。").wait_for()
    page.get_by_test_id("stChatMessage").filter(has_text="法国的首都是哪里？").wait_for()
    assert page.url == before
    conversation_button = sidebar.get_by_role("button", name="法国的首都是哪里？")
    conversation_button.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-after-reload.png"), full_page=True)

    # Another browser (no cookies, no link) gets its own empty list, not this conversation.
    other = page.context.browser.new_context().new_page()
    other.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
    other.goto(app_server)
    other.get_by_text("还没有保存的对话。").wait_for()
    assert other.get_by_text("巴黎是法国的首都。").count() == 0
    assert re.search(r"[?&]u=[0-9a-f]{32}", other.url) and other.url.split("u=")[1][:32] != before.split("u=")[1][:32]
